// npm run bench:notify — notifications (issue #19). (1) Latency: from an alert firing on the bus
// (group wait 0) to a webhook receiver on loopback having the message, over 200 alerts one after
// another — the real notifier, outbox (a real state database, synchronous=FULL WAL) and sender,
// bundled from src/ with esbuild — next to the same POST made directly with fetch in the same run
// (the loopback floor). Target: median < 200 ms. (2) Memory: 10,000 messages queued in the outbox
// and delivered; the heap after a GC at every 1,000 delivered must stay flat (the outbox lives in
// SQLite, the sender reads it 50 rows at a time). Run with --expose-gc (the npm script does).
/* global fetch */
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ALERTS = Number(process.env.BENCH_ALERTS ?? 200);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const TARGET_MS = 200;
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bench-notify-'));
mkdirSync(resolve('.tmp'), { recursive: true });
// Inside the project, so the bundle finds better-sqlite3 in node_modules.
const out = mkdtempSync(join(resolve('.tmp'), 'bench-notify-'));
await build({
  entryPoints: { notifier: resolve('src/state/notifier.ts'), outbox: resolve('src/state/outbox.ts'), statedb: resolve('src/state/statedb.ts'), events: resolve('src/engine/events.ts'), load: resolve('src/config/load.ts') },
  bundle: true, platform: 'node', format: 'esm', target: 'node20', outdir: out, external: ['better-sqlite3', 'nodemailer'], splitting: true, logLevel: 'error',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
const mod = async (n) => import(pathToFileURL(join(out, `${n}.js`)).href);
const { notifierRunner } = await mod('notifier');
const { Outbox } = await mod('outbox');
const { openStateDb } = await mod('statedb');
const { EventBus } = await mod('events');
const { validate } = await mod('load');

// The receiver: resolves the waiter of each key as its request ends.
const waiters = new Map();
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    res.writeHead(200).end('ok');
    const key = req.headers['idempotency-key'];
    const w = waiters.get(key) ?? waiters.get(req.headers['x-bench-id']) ?? waiters.get('next');
    if (w) w(performance.now());
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/hook`;

const db = await openStateDb(join(dir, 'state'));
const bus = new EventBus();
const config = validate({ name: 'bench', interval: 1, notify: { group_wait: 0, channels: [{ name: 'hook', type: 'webhook', url, secret: 'bench-signing-secret' }] } }, 'bench');
const runner = notifierRunner({ bus, stateDb: db, owner: 'watch', config: () => config });
const source = runner.source();
await source.run();
const outbox = new Outbox(db);

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p99: q(0.99) };
};
const fmt = (ms) => `${ms.toFixed(1)} ms`;

// (1) latency: one alert at a time, fired → received.
const lat = [];
for (let i = 0; i < ALERTS; i++) {
  const checkId = `http:bench-${i}`;
  const t0 = performance.now();
  const at = Date.now();
  // The key is made when the message is queued: the next request the receiver ends is this alert's.
  const got = new Promise((r) => waiters.set('next', r));
  bus.emit({ type: 'alert.fired', at, alert: { checkId, state: 'firing', failStreak: 1, passStreak: 0, status: 'critical', message: `${checkId} down`, since: at, firedAt: at } });
  lat.push((await got) - t0);
  waiters.delete('next');
}
const ref = [];
for (let i = 0; i < ALERTS; i++) {
  const t0 = performance.now();
  const got = new Promise((r) => waiters.set(`ref-${i}`, r));
  await fetch(url, { method: 'POST', body: JSON.stringify({ i }), headers: { 'content-type': 'application/json', 'x-bench-id': `ref-${i}` } }).then((r) => r.text());
  ref.push((await got) - t0);
  waiters.delete(`ref-${i}`);
}
const L = stats(lat);
const R = stats(ref);
console.log(`alert fired → webhook received (${ALERTS} alerts, group wait 0): median ${fmt(L.median)}, p99 ${fmt(L.p99)}  (target median < ${TARGET_MS} ms)`);
console.log(`reference, a direct POST to the same receiver:            median ${fmt(R.median)}, p99 ${fmt(R.p99)}`);

// (2) memory over MESSAGES delivered messages.
const heap = () => {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / (1 << 20);
};
if (!globalThis.gc) console.log('(run with node --expose-gc for exact heap figures)');
const sent = () => db.prepare("SELECT count(*) FROM notify_outbox WHERE status = 'sent'").pluck().get();
const base = sent();
const samples = [];
const t0 = performance.now();
for (let n = 0; n < MESSAGES; n += 500) {
  const items = Array.from({ length: Math.min(500, MESSAGES - n) }, (_, k) => ({ channel: 'hook', message: { kind: 'firing', subject: `m-${n + k}`, stack: 'bench', title: `message ${n + k}`, alerts: [{ checkId: `m-${n + k}`, status: 'critical', message: 'x'.repeat(200) }], at: Date.now() } }));
  outbox.enqueue(items, Date.now());
  runner.pump();
  while (sent() - base < n + items.length) await new Promise((r) => setTimeout(r, 20));
  if ((n + items.length) % 1000 === 0) samples.push({ delivered: n + items.length, heapMiB: heap() });
}
const secs = (performance.now() - t0) / 1000;
const first = samples[0];
const last = samples[samples.length - 1];
console.log(`outbox: ${MESSAGES} messages delivered in ${secs.toFixed(1)} s (${(MESSAGES / secs).toFixed(0)}/s); heap after GC: ${samples.map((s) => `${s.delivered / 1000}k ${s.heapMiB.toFixed(1)}`).join(', ')} MiB`);
console.log(`heap growth from ${first.delivered} to ${last.delivered} delivered: ${(last.heapMiB - first.heapMiB).toFixed(2)} MiB (flat: under 2 MiB)`);
runner.off();
source.close?.();
db.close();
server.close();
rmSync(dir, { recursive: true, force: true });
rmSync(out, { recursive: true, force: true });
const okLatency = L.median < TARGET_MS;
const okMemory = last.heapMiB - first.heapMiB < 2;
console.log(okLatency && okMemory ? 'PASS' : `FAIL${okLatency ? '' : ' (latency)'}${okMemory ? '' : ' (memory)'}`);
process.exit(okLatency && okMemory ? 0 : 1);
