// Test helper: follows `GET /servers/:httpdid/logs?follow=1` or `GET /servers/:httpdid/tail` over a real connection and collects its NDJSON lines.

import http from 'node:http';

/** One open follow stream. */
export interface Follower {
  readonly status: number;
  readonly contentType: string | undefined;
  /** Every complete line so far, parsed. */
  readonly lines: unknown[];
  readonly response: http.IncomingMessage;
  /** Resolves when the API ends the stream (rejects if the connection breaks). */
  readonly ended: Promise<void>;
  /** Resolves once `pred` holds for the lines, checking each time more arrive; rejects after `withinMs`. */
  waitFor(pred: (lines: unknown[]) => boolean, withinMs: number, what: string): Promise<void>;
}

/** Opens a follow stream and resolves once the answer's head is in. */
export function follow(apiUrl: string, httpdid: number, query = 'follow=1'): Promise<Follower> {
  return stream(`${apiUrl}/servers/${httpdid}/logs?${query}`);
}

/** Opens `GET /servers/:ref/tail` (with a query string such as `status=5xx`) and resolves once the answer's head is in (then every worker tails the server). */
export function tail(apiUrl: string, ref: number | string, query = '', token?: string): Promise<Follower> {
  return stream(`${apiUrl}/servers/${ref}/tail${query === '' ? '' : `?${query}`}`, token);
}

function stream(url: string, token?: string): Promise<Follower> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }, (res) => {
      const lines: unknown[] = [];
      const waiters = new Set<() => void>();
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) !== -1) {
          // Empty lines are keep-alives.
          if (nl > 0) lines.push(JSON.parse(pending.slice(0, nl)));
          pending = pending.slice(nl + 1);
        }
        for (const w of waiters) w();
      });
      const ended = new Promise<void>((res2, rej2) => {
        res.once('end', () => res2());
        res.once('error', rej2);
        res.once('aborted', () => rej2(new Error('aborted')));
      });
      ended.catch(() => undefined);
      const waitFor = (pred: (l: unknown[]) => boolean, withinMs: number, what: string): Promise<void> =>
        new Promise((ok, fail) => {
          const check = (): void => {
            if (!pred(lines)) return;
            clearTimeout(timer);
            waiters.delete(check);
            ok();
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            fail(new Error(`not within ${withinMs} ms: ${what}; lines: ${JSON.stringify(lines).slice(0, 2000)}`));
          }, withinMs);
          waiters.add(check);
          check();
        });
      resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], lines, response: res, ended, waitFor });
    });
    req.once('error', reject);
  });
}
