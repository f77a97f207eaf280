// `isohttpd dev [FILE]`: a local loop. Starts an embedded service on a temporary data dir, deploys the handler, prints its URL, redeploys it on every save (debounced; a source that does not compile is printed with its code frame while the last good version serves on), streams its tail, and stops everything on Ctrl-C.

import { type ChildProcess, spawn } from 'node:child_process';
import { type FSWatcher, mkdtempSync, rmSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type Language, languageOfFile } from '../core/language.js';
import { intOption, parseArgs, SERVER_NAME, stringOption, UsageError } from './args.js';
import { ApiClient, ApiError } from './client.js';
import { codeFrame } from './code-frame.js';
import { EXIT } from './exit-codes.js';
import { LIMIT_OPTIONS, limitFlagsHelp, limitsFromFlags } from './limit-flags.js';
import { loadProject, PROJECT_FILE, type Project } from './project.js';
import { printable } from './table.js';
import { tailLine } from './tail.js';

/** Quiet time after the last change to the file before it is redeployed, ms (editors write a file in several steps). */
export const DEV_DEBOUNCE_MS = 150;

/** Longest wait for the embedded service to listen, ms. */
const START_TIMEOUT_MS = 20_000;

export const DEV_USAGE = `usage: isohttpd dev [FILE] [--port P] [--host H] [--name NAME] [--project F] [LIMIT FLAGS]

A local loop: starts an embedded service on a temporary data dir (its own API on a free port of
127.0.0.1), deploys FILE (default: the entry of ./${PROJECT_FILE}) with error details on, prints its
URL, and redeploys it each time the file is saved (after ${DEV_DEBOUNCE_MS} ms without another change).
A source that does not compile is printed with its code frame; the last good version serves on.
Every request is printed as \`isohttpd tail\` prints it. Ctrl-C stops the service and removes its data dir.
  --port P     the handler's port (default: the project's, else a free one)
  --host H     its host (default 127.0.0.1)
  --name NAME  its name (default: the project's, else the file's name)
LIMIT FLAGS:
${limitFlagsHelp()}

example: isohttpd dev handler.js --port 8787
`;

interface Plan {
  readonly file: string;
  readonly name: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly language: Language;
  readonly body: Record<string, unknown>;
}

/** A free TCP port of `host` (bound, then let go). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function plan(args: readonly string[]): Promise<Plan> {
  const parsed = parseArgs(args, { port: 'value', host: 'value', name: 'value', project: 'value', help: 'flag', ...LIMIT_OPTIONS }, 'dev');
  const o = parsed.options;
  if (parsed.positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[1])} for dev`);
  let file = parsed.positionals[0];
  let project: Project | undefined;
  const projectFile = stringOption(o, 'project');
  if (file === undefined || projectFile !== undefined) {
    const loaded = await loadProject(projectFile ?? PROJECT_FILE).catch((err: unknown) => {
      if (projectFile === undefined && err instanceof UsageError && /ENOENT/.test(err.message)) throw new UsageError(`dev needs FILE, or a ${PROJECT_FILE} in the current directory`);
      throw err;
    });
    project = loaded.project;
    file ??= loaded.entryPath;
  }
  const fromFile = path
    .basename(file)
    .replace(/\.[^.]*$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 63);
  const name = stringOption(o, 'name') ?? project?.name ?? (SERVER_NAME.test(fromFile) ? fromFile : 'dev');
  if (!SERVER_NAME.test(name)) throw new UsageError(`--name must be lower case letters, digits and hyphens, starting with a letter (at most 63), not ${JSON.stringify(name)}`);
  const flags = limitsFromFlags(o);
  const limits = project?.limits === undefined && flags === undefined ? undefined : { ...project?.limits, ...flags };
  const language = project?.language ?? languageOfFile(file);
  const body: Record<string, unknown> = { exposeErrors: project?.exposeErrors ?? true };
  if (limits !== undefined) body['limits'] = limits;
  if (project?.vars !== undefined) body['vars'] = project.vars;
  if (project?.egress !== undefined) body['egress'] = project.egress;
  return { file, name, host: stringOption(o, 'host') ?? project?.host ?? '127.0.0.1', port: intOption(o, 'port') ?? project?.port, language, body };
}

/** Starts `isohttpd serve` on `dataDir` (one worker, the API on a free loopback port) and resolves with its API URL. */
function startService(dataDir: string, err: (s: string) => void): Promise<{ child: ChildProcess; url: string }> {
  const cli = new URL('../cli.js', import.meta.url);
  const child = spawn(process.execPath, [cli.pathname, 'serve', '--data-dir', dataDir, '--api-host', '127.0.0.1', '--api-port', '0', '--workers', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ISOHTTPD_LOG_LEVEL: 'warn', ISOHTTPD_URL: '', ISOHTTPD_TOKEN: '' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the embedded service did not start within ${START_TIMEOUT_MS / 1000} s:\n${out}`)), START_TIMEOUT_MS);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`the embedded service exited (${String(code)}) before it listened:\n${out}`));
    };
    child.once('exit', onExit);
    child.stderr?.on('data', (d: Buffer) => err(d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      const text = d.toString();
      if (out.length < 65536) out += text;
      for (const line of text.split('\n')) {
        const m = /API listening on (http:\/\/\S+)/.exec(line);
        if (m?.[1] !== undefined) {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve({ child, url: m[1] });
          continue;
        }
        // The service's own warnings and errors (pino JSON lines), one line each.
        try {
          const o = JSON.parse(line) as { level?: number; msg?: string };
          if ((o.level ?? 0) >= 40 && typeof o.msg === 'string') err(`isohttpd dev: service: ${printable(o.msg)}\n`);
        } catch {
          // not a log line
        }
      }
    });
  });
}

/** Runs `isohttpd dev`; resolves with the exit code once stopped (Ctrl-C: 0). */
export async function devCommand(args: readonly string[], io: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown } } = process): Promise<number> {
  const out = (s: string): void => void io.stdout.write(s);
  const err = (s: string): void => void io.stderr.write(s);
  if (args.includes('--help') || args.includes('-h')) {
    out(DEV_USAGE);
    return EXIT.ok;
  }
  let p: Plan;
  let source: string;
  try {
    p = await plan(args);
    source = await readFile(p.file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${p.file}: ${e.code ?? e.message}`, false);
    });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`isohttpd: ${e.message}${e.hint ? ' (see isohttpd dev --help)' : ''}\n`);
    return EXIT.usage;
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'isohttpd-dev-'));
  let child: ChildProcess | null = null;
  let watcher: FSWatcher | null = null;
  let stopping = false;
  const stop = async (): Promise<void> => {
    stopping = true;
    watcher?.close();
    const c = child;
    if (c !== null && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const force = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(force);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const started = await startService(dataDir, err);
    child = started.child;
    const client = new ApiClient(started.url, undefined);
    const port = p.port ?? (await freePort(p.host));
    const created = (await client.call('POST', '/servers', { name: p.name, host: p.host, port, source, language: p.language, ...p.body })) as { httpdid: number; version: number };
    const shown = p.host.includes(':') ? `[${p.host}]` : p.host;
    out(`isohttpd dev: serving ${p.name} (${path.relative(process.cwd(), p.file) || p.file}) on http://${shown}:${port}/ — edit and save to redeploy; Ctrl-C to stop\n`);
    const done = new Promise<number>((resolve) => {
      const onSignal = (): void => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        void stop().then(() => {
          out('isohttpd dev: stopped\n');
          resolve(EXIT.ok);
        });
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      child?.once('exit', (code, signal) => {
        if (stopping) return;
        // Ctrl-C in a terminal reaches the whole process group: the service stops (exit 0) as this does.
        if (code === 0) {
          void stop().then(() => {
            out('isohttpd dev: stopped\n');
            resolve(EXIT.ok);
          });
          return;
        }
        err(`isohttpd dev: the embedded service exited (${signal ?? String(code)})\n`);
        void stop().then(() => resolve(EXIT.unreachable));
      });
    });
    // The tail: every request as it is answered.
    void client
      .stream(`/servers/${created.httpdid}/tail`, (line) => {
        const o = JSON.parse(line) as { end?: unknown };
        if (o.end === undefined) out(tailLine(line));
      })
      .catch((e: unknown) => {
        if (!stopping) err(`isohttpd dev: the tail broke: ${(e as Error).message}\n`);
      });
    let last = source;
    let version = created.version;
    let timer: NodeJS.Timeout | null = null;
    let deploying = Promise.resolve();
    const redeploy = async (): Promise<void> => {
      let next: string;
      try {
        next = await readFile(p.file, 'utf8');
      } catch {
        return; // renamed away mid-save: the next event brings it back
      }
      if (next === last || stopping) return;
      last = next;
      try {
        const s = (await client.call('PUT', `/servers/${created.httpdid}`, { source: next, language: p.language })) as { version: number };
        if (s.version !== version) out(`isohttpd dev: redeployed ${p.name} (version ${s.version})\n`);
        version = s.version;
      } catch (e) {
        if (e instanceof ApiError && e.status === 422) {
          err(`isohttpd dev: ${path.basename(p.file)}: ${printable(e.message)}\n${codeFrame(next, e.message)}isohttpd dev: version ${version} (the last good one) serves on\n`);
        } else err(`isohttpd dev: redeploy failed: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    };
    const dir = path.dirname(path.resolve(p.file));
    const base = path.basename(p.file);
    // The directory, not the file: an editor that saves by renaming a new file over it keeps being seen.
    watcher = watch(dir, (_event, changed) => {
      if (changed !== null && changed !== base) return;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        deploying = deploying.then(redeploy);
      }, DEV_DEBOUNCE_MS);
    });
    return await done;
  } catch (e) {
    await stop();
    if (e instanceof ApiError) {
      err(`isohttpd: ${e.status}${e.code === undefined ? '' : ` ${e.code}`}: ${printable(e.message)}\n`);
      if (e.status === 422) err(codeFrame(source, e.message));
      return e.status === 422 ? EXIT.invalidSource : EXIT.apiError;
    }
    err(`isohttpd: ${(e as Error).message}\n`);
    return EXIT.unreachable;
  }
}
