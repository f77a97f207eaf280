// Test helper: a real worker pool (the built dist/ code, forking real sandbox worker processes) in the test's own process, with its log kept; compile checks and deploys on it.

import { resolveLimits } from '../../src/core/limits.js';
import type { Limits } from '../../src/core/limits.js';
import { bindHandle } from '../../src/api/control/bind.js';
import type { CheckSpec, WorkerPool } from '../../src/api/supervisor/worker-pool.js';
import type { Teardown } from './service.js';
import { freePort, startService } from './service.js';

type PoolModule = typeof import('../../src/api/supervisor/worker-pool.js');

/** One line the pool logged. */
export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly obj: Record<string, unknown>;
  readonly msg: string;
}

/** A pool started by {@link startPool}, and what it logged. */
export interface TestPool {
  readonly pool: WorkerPool;
  readonly lines: LogLine[];
  /** Deploys `source` on slot 0 listening on a free port of 127.0.0.1; returns the port. */
  deploy(source: string, httpdid: number): Promise<number>;
}

/** What a check of `source` sends: the limits given over the defaults, no variables, no egress. */
export function checkSpec(source: string, limits: Partial<Limits> = {}): CheckSpec {
  return { source, limits: Object.freeze({ ...resolveLimits(undefined), ...limits }), exposeErrors: false, env: '{}', egress: null };
}

/**
 * Starts a pool of `size` workers (the pool the service runs, from dist/: its worker entry point
 * is dist/host/worker/main.js), closed at the test's end.
 */
export async function startPool(t: Teardown, size = 1): Promise<TestPool> {
  const mod = (await import(new URL('../../dist/api/supervisor/worker-pool.js', import.meta.url).href)) as PoolModule;
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (obj: object, msg: string): void => {
      lines.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  const pool = await mod.WorkerPool.start(size, { info: at('info'), warn: at('warn'), error: at('error') }, { rssLimitMb: 0 });
  const handles: Array<{ close(): void }> = [];
  t.teardown(async () => {
    await pool.close();
    for (const h of handles) h.close();
  });
  const deploy = async (source: string, httpdid: number): Promise<number> => {
    const port = await freePort();
    const handle = bindHandle('127.0.0.1', 4, port);
    handles.push(handle);
    await pool.deploy(0, { httpdid, port, handle, ...checkSpec(source) });
    return port;
  };
  return { pool, lines, deploy };
}

/** The error a compile check rejects with: its code and message (null: it passed). */
export async function checkError(pool: WorkerPool, spec: CheckSpec): Promise<{ code: string; message: string } | null> {
  try {
    await pool.check(spec);
    return null;
  } catch (err) {
    const e = err as { code?: unknown; message: string };
    return { code: String(e.code), message: e.message };
  }
}

/** The 422's code and message a `POST /servers` of `source` with `limits` gets from a real service (started for it, stopped at the test's end). */
export async function postError(t: Teardown, source: string, limits: Partial<Limits> = {}): Promise<{ status: number; code: string; message: string }> {
  const svc = await startService(t);
  const r = await svc.api('POST', '/servers', { host: '127.0.0.1', port: await freePort(), source, limits });
  return { status: r.status, code: String(r.body?.error?.code), message: String(r.body?.error?.message) };
}
