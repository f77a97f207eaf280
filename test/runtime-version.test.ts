// The service and every sandbox worker run on Node.js 24 or newer, as each process reads its own version (isohttpd_process_info on /metrics).

import t from 'tap';
import { startService } from './helpers/service.js';

const MIN_MAJOR = 24;
const INFO = /^isohttpd_process_info\{role="(control|worker)",pid="(\d+)",node="([\d.]+)",v8="([^"]+)"\} 1$/gm;

t.test('control process and workers report Node >= 24', async (t) => {
  const svc = await startService(t, ['--workers', '2']);
  t.match(svc.output(), /API listening on \S+ \(Node\.js 2\d\.\d+\.\d+,/, 'the start line names the Node version');
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const rows = [...text.matchAll(INFO)].map((m) => ({ role: m[1], pid: Number(m[2]), node: m[3] ?? '', v8: m[4] ?? '' }));
  const control = rows.filter((r) => r.role === 'control');
  const workers = rows.filter((r) => r.role === 'worker');
  t.equal(control.length, 1, 'one control process');
  t.equal(control[0]?.pid, svc.proc.pid, 'the control row is the service process');
  t.equal(workers.length, 2, 'one row per worker');
  t.equal(new Set(workers.map((w) => w.pid)).size, 2, 'distinct worker pids');
  for (const r of rows) {
    t.ok(Number(r.node.split('.')[0]) >= MIN_MAJOR, `${r.role} ${r.pid} runs Node ${r.node}`);
    t.match(r.v8, /^\d+\.\d+\./, `${r.role} ${r.pid} reports V8 ${r.v8}`);
  }
  // The workers are forked from the control process's own binary: same version.
  t.ok(
    workers.every((w) => w.node === control[0]?.node),
    "workers run the control process's Node",
  );
  t.notMatch(svc.output(), /ExperimentalWarning/, 'no experimental warning (node:sqlite) on the service output');
});
