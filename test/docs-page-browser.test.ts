// /docs in a real browser: headless Chromium (Debian's, installed by .ci/run) renders Swagger UI from /docs/json, with every tag, operation and schema; the screenshot it takes is kept as docs/api-docs.png when ISOHTTPD_DOCS_SCREENSHOT names a file.

import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startService } from './helpers/service.js';

const BROWSERS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const browser = BROWSERS.find((b) => existsSync(b));

function chromium(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(browser ?? 'chromium', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr }),
    );
  });
}

// CI installs Chromium (.ci/run): there its absence is a failure; elsewhere the test says how to get it.
const skip = browser === undefined && process.env['CI'] === undefined ? 'no Chromium here (apt-get install chromium)' : false;

t.test('Swagger UI renders the document in headless Chromium', { skip }, async (t) => {
  t.ok(browser, `a Chromium binary (${BROWSERS.join(', ')})`);
  const svc = await startService(t);
  const profile = mkdtempSync(path.join(tmpdir(), 'isohttpd-chromium-'));
  t.teardown(() => rmSync(profile, { recursive: true, force: true }));
  const common = [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    `--user-data-dir=${profile}`,
    '--window-size=1400,3000',
    '--virtual-time-budget=15000',
  ];
  const dom = await chromium([...common, '--dump-dom', `${svc.url}/docs`]);
  t.equal(dom.code, 0, `chromium --dump-dom ran: ${dom.stderr.slice(-500)}`);
  t.match(dom.stdout, /isohttpd control API/, 'the title, from /docs/json');
  for (const tag of ['servers', 'versions', 'logs and tail', 'secrets', 'service']) t.match(dom.stdout, new RegExp(`data-tag="${tag}"`), `the ${tag} section`);
  for (const p of ['/servers/{httpdid}/tail', '/servers/{httpdid}/secrets/{name}', '/servers/{httpdid}/rollback']) t.ok(dom.stdout.includes(`data-path="${p}"`), `the operation ${p}`);
  t.match(dom.stdout, /opblock-delete/, 'DELETE operations');
  t.match(dom.stdout, /models|Schemas/i, 'the schemas section');

  // A deep link opens one operation: its statuses, each with its codes and an example.
  const op = await chromium([...common, '--dump-dom', `${svc.url}/docs#/secrets/delete_servers__httpdid__secrets__name_`]);
  t.equal(op.code, 0);
  for (const status of ['204', '400', '401', '404', '422', '429', '500', '503'])
    t.match(op.stdout, new RegExp(`data-code="${status}"`), `the ${status} answer of DELETE /servers/{httpdid}/secrets/{name}`);
  t.match(op.stdout, /ISO_ERR_API_SECRET_NOT_FOUND/, 'with its codes');

  const shot = path.join(profile, 'docs.png');
  const r = await chromium([...common, `--screenshot=${shot}`, `${svc.url}/docs`]);
  t.equal(r.code, 0, `chromium --screenshot ran: ${r.stderr.slice(-500)}`);
  t.ok(existsSync(shot) && statSync(shot).size > 50_000, `a screenshot of the page (${existsSync(shot) ? statSync(shot).size : 0} bytes)`);
  t.same([...readFileSync(shot).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  const keep = process.env['ISOHTTPD_DOCS_SCREENSHOT'];
  if (keep !== undefined && keep !== '') copyFileSync(shot, keep);
});
