// Test helper: clients that keep a tenant server busy with GETs (half of them keep-alive) while a test changes it, and what each was answered.

import http from 'node:http';

/** `GET path` through `agent`: the body of a 200; rejects with the status and body otherwise. */
export function getText(port: number, agent: http.Agent, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${String(res.statusCode)}: ${body}`))));
    });
    req.on('error', reject);
  });
}

/** What the clients saw once stopped: each client's answers in order, and every failure. */
export interface LoadReport {
  readonly answers: string[][];
  readonly failures: string[];
}

/** Starts `count` clients (every other one keep-alive, one socket each) sending `GET /` one after the other until `stop()`. */
export function loadClients(port: number, count = 4): { stop(): Promise<LoadReport> } {
  let stopped = false;
  const answers: string[][] = [];
  const failures: string[] = [];
  const clients = Array.from({ length: count }, async (_, i) => {
    const agent = new http.Agent({ keepAlive: i % 2 === 0, maxSockets: 1 });
    const mine: string[] = [];
    answers.push(mine);
    while (!stopped) {
      try {
        mine.push(await getText(port, agent));
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    agent.destroy();
  });
  return {
    async stop(): Promise<LoadReport> {
      stopped = true;
      await Promise.all(clients);
      return { answers, failures };
    },
  };
}
