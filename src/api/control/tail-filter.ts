// The filters of a tail (`GET /servers/:httpdid/tail?status=5xx&outcome=exception&search=TEXT&sample=0.1`): which entries a follower is sent.

import { IsoError } from '../../core/errors.js';
import { OUTCOMES, type Outcome } from '../../core/outcome.js';
import type { TailEntry } from './tail-hub.js';

/** The query of a tail, as the API received it (strings checked by its schema, then here). */
export interface TailQuery {
  /** Comma-separated statuses: `NNN` or a class `Nxx` (`5xx`, `404`, `4xx,500`). */
  readonly status?: string;
  /** Comma-separated outcomes (`exception`, `timeout,memory`). */
  readonly outcome?: string;
  /** Text an entry must contain (case-insensitive): in its method, path, request id, detail, stack or console lines. */
  readonly search?: string;
  /** Fraction of requests shown (0 < sample ≤ 1), each drawn at random. */
  readonly sample?: number;
}

/** Decides whether an entry is shown. */
export type TailFilter = (e: TailEntry) => boolean;

const STATUS = /^[1-5](?:xx|[0-9]{2})$/;

/** Parses a tail's query. @throws IsoError 400 for a status or outcome that is not one. */
export function tailFilter(q: TailQuery, random: () => number = Math.random): TailFilter {
  const statuses = q.status === undefined ? null : q.status.split(',').map((s) => s.trim());
  for (const s of statuses ?? []) {
    if (!STATUS.test(s)) throw new IsoError('ISO_ERR_API_BAD_REQUEST', `querystring.status must be statuses (NNN) or classes (Nxx) separated by commas, got ${JSON.stringify(s)}`);
  }
  const outcomes = q.outcome === undefined ? null : q.outcome.split(',').map((s) => s.trim());
  for (const o of outcomes ?? []) {
    if (!(OUTCOMES as readonly string[]).includes(o))
      throw new IsoError('ISO_ERR_API_BAD_REQUEST', `querystring.outcome must be outcomes (${OUTCOMES.join(', ')}) separated by commas, got ${JSON.stringify(o)}`);
  }
  const sample = q.sample ?? 1;
  if (!(sample > 0 && sample <= 1)) throw new IsoError('ISO_ERR_API_BAD_REQUEST', 'querystring.sample must be a fraction over 0 and at most 1');
  const search = q.search === undefined || q.search === '' ? null : q.search.toLowerCase();
  const byRequest = statuses !== null || outcomes !== null;
  return (e) => {
    if (e.kind === 'console') return !byRequest && (search === null || e.message.toLowerCase().includes(search));
    if (statuses !== null && !statuses.some((s) => statusMatches(s, e.status))) return false;
    if (outcomes !== null && !outcomes.includes(e.outcome as Outcome)) return false;
    if (search !== null && !requestText(e).includes(search)) return false;
    return sample >= 1 || random() < sample;
  };
}

function statusMatches(pattern: string, status: number): boolean {
  return pattern.endsWith('xx') ? Math.floor(status / 100) === Number(pattern[0]) : Number(pattern) === status;
}

/** The searchable text of a request entry, lower-cased. */
function requestText(e: Extract<TailEntry, { kind: 'request' }>): string {
  let text = `${e.method} ${e.path} ${e.requestId} ${e.detail ?? ''} ${e.stack ?? ''}`;
  for (const l of e.logs) text += ` ${l.message}`;
  return text.toLowerCase();
}
