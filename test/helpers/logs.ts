// Test helper: waits until a server's logs (GET /servers/:id/logs, as JSON text) match a pattern.

import type { Service } from './service.js';

/** The server's logs as JSON text once they match `pattern`, or as they are after `tries` polls 50 ms apart. */
export async function logsMatching(svc: Service, httpdid: number, pattern: RegExp, tries = 100): Promise<string> {
  let text = '';
  for (let i = 0; i < tries; i++) {
    text = JSON.stringify((await svc.api('GET', `/servers/${httpdid}/logs`)).body);
    if (pattern.test(text)) return text;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return text;
}
