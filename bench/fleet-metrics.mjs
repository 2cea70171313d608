// npm run bench:fleet:metrics — the Prometheus endpoint of `opsdeck watch` (issue #25, part A):
// GET /metrics over loopback with 200 containers, median and p95 of 50 scrapes. Target: median
// < 50 ms. The state is built in-process, as the monitor builds it (not 200 real containers): the
// store is fed 200 container observations (list + stats) and the matching container:<name> check
// results plus a host's, a few endpoints' and the system's, each result also told on the event bus;
// the real exporter (src/state/metrics.ts, bundled from src/ with esbuild) and HTTP server
// (src/services/metrics-server.ts) answer. References measured in the same run, on the same series:
// (1) prom-client's bare registry serializing the same gauges already set (no collect, no HTTP) —
// the floor of the text format; (2) JSON.stringify of the same data.
// bench/fleet.mjs (issue #25, part C) calls this file; BENCH_CONTAINERS and BENCH_SCRAPES change the sizes.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Gauge, Registry } from 'prom-client';

const CONTAINERS = Number(process.env.BENCH_CONTAINERS ?? 200);
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 50);
const TARGET_MS = 50;

const root = resolve(import.meta.dirname, '..');
mkdirSync(join(root, '.tmp'), { recursive: true });
const out = mkdtempSync(join(root, '.tmp', 'bench-fleet-metrics-'));
await build({
  entryPoints: { metrics: join(root, 'src/state/metrics.ts'), server: join(root, 'src/services/metrics-server.ts'), store: join(root, 'src/state/store.ts'), events: join(root, 'src/engine/events.ts'), load: join(root, 'src/config/load.ts') },
  bundle: true, platform: 'node', format: 'esm', target: 'node20', outdir: out, external: ['better-sqlite3', 'prom-client'], splitting: true, logLevel: 'error',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
const mod = async (n) => import(pathToFileURL(join(out, `${n}.js`)).href);
const { createMetrics } = await mod('metrics');
const { serveMetrics } = await mod('server');
const { createAppStore } = await mod('store');
const { EventBus } = await mod('events');
const { validate } = await mod('load');

// The state: what the monitor holds after a Docker run over 200 containers.
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bench-fleet-metrics-'));
const config = validate({ interval: 30, metrics: { host: 'bench' }, backup: { dir: join(dir, 'backups') }, databases: [{ name: 'trading', path: join(dir, 'trading.db') }] }, 'bench');
const store = createAppStore();
const bus = new EventBus();
const now = Date.now();
const containers = [];
const stats = {};
const checks = [];
for (let i = 0; i < CONTAINERS; i++) {
  const name = `svc-${String(i).padStart(3, '0')}`;
  containers.push({ id: `c${i}`, name, image: 'busybox', state: i % 17 === 0 ? 'exited' : 'running', health: 'none', restartCount: i % 5, exitCode: 0, pid: 1000 + i, tty: false, labels: {} });
  stats[`c${i}`] = { cpuPercent: (i % 100) * 1.7, memUsedBytes: 20e6 + i * 1e5, memLimitBytes: i % 2 ? 256e6 : undefined, memPercent: 10, source: 'cgroup' };
  checks.push({ id: `container:${name}`, kind: 'container', target: name, status: i % 17 === 0 ? 'critical' : 'ok', value: (i % 100) * 1.7, threshold: 80, message: 'running' });
}
checks.push(
  { id: 'docker:engine', kind: 'docker', target: 'unix:///var/run/docker.sock', status: 'ok', message: 'engine 24.0' },
  { id: 'host:cpu', kind: 'host', target: 'bench', status: 'ok', value: 12.5, threshold: 80, message: 'cpu' },
  { id: 'host:memory', kind: 'host', target: 'bench', status: 'ok', value: 40.1, threshold: 90, message: 'memory' },
  { id: 'host:disk:/', kind: 'host', target: '/', status: 'ok', value: 51.2, threshold: 85, message: 'disk' },
  ...['api', 'web', 'auth'].map((n) => ({ id: `http:${n}`, kind: 'http', target: `http://127.0.0.1:8080/${n}/health`, status: 'ok', value: 12, threshold: 2000, message: 'ok' })),
  { id: 'system:health', kind: 'system', target: 'stack', status: 'ok', value: 92, threshold: 50, message: 'health' },
);
const { actions } = store.getState();
actions.setEnvelope('host', { data: { hostname: 'bench', takenAt: now, cpuCount: 2, cpuPercent: 12.5, load: [0.5, 0.4, 0.3], memory: { totalBytes: 8e9, usedBytes: 3.2e9, percent: 40 }, filesystems: [{ mount: '/', device: '/dev/sda1', type: 'ext4', sizeBytes: 100e9, usedBytes: 51e9, percent: 51.2 }], network: { rxBytes: 0, txBytes: 0 }, uptimeSec: 1000, source: 'proc' } }, now);
actions.setEnvelope('docker', { data: { endpoint: 'unix:///var/run/docker.sock', version: '24.0', containers, stats } }, now);
actions.setChecks(checks);
actions.setAlerts(checks.filter((c) => c.status !== 'ok').map((c) => ({ checkId: c.id, state: 'firing', failStreak: 3, passStreak: 0, status: c.status, message: c.message, firedAt: now })));
// The exporter hears the bus from its start, as in watch (where it is made before the monitor).
const exporter = createMetrics({ store, config: () => config, bus });
for (const result of checks) bus.emit({ type: 'check.result', at: now, result });
const served = await serveMetrics({ host: '127.0.0.1', port: 0 }, () => exporter.render());
if (!served.ok) throw new Error(served.error.message);
const url = `http://127.0.0.1:${served.value.address.port}/metrics`;

// Reference 1: the same series set on plain gauges of a bare registry, serialized (no collect, no HTTP).
const bare = new Registry();
const first = await exporter.registry.getMetricsAsJSON();
for (const m of first) {
  const labelNames = [...new Set(m.values.flatMap((v) => Object.keys(v.labels)))];
  const g = new Gauge({ name: `${m.name}`, help: m.help, labelNames, registers: [bare] });
  for (const v of m.values) g.set(v.labels, v.value);
}
const seriesCount = first.reduce((n, m) => n + m.values.length, 0);
// Reference 2: JSON.stringify of the same data (the store's checks, containers and stats).
const data = { checks: store.getState().checks, docker: store.getState().docker, host: store.getState().host, alerts: store.getState().alerts };

const time = async (fn) => {
  for (let i = 0; i < 5; i++) await fn(); // warm-up
  const t = [];
  for (let i = 0; i < SCRAPES; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  const q = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
  return { median: q(0.5), p95: q(0.95) };
};
let bytes = 0;
// A scrape as Prometheus makes it: one GET on a kept-alive connection, the whole body read.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const get = () => new Promise((ok, fail) => {
  httpGet(url, { agent }, (res) => {
    let n = 0;
    res.on('data', (d) => (n += d.length));
    res.on('end', () => ok(n));
  }).on('error', fail);
});
// In-process first: its warm-up also warms the code the HTTP scrapes run.
const render = await time(() => exporter.render());
const scrape = await time(async () => {
  bytes = await get();
});
const ref = await time(() => bare.metrics());
const json = await time(async () => JSON.stringify(data));

const fmt = (x) => `${x.toFixed(2)} ms`;
console.log(`${CONTAINERS} containers, ${checks.length} checks: ${seriesCount} series, ${(bytes / 1024).toFixed(0)} KiB a scrape; ${SCRAPES} scrapes after 5 warm-up`);
console.log(`GET /metrics over loopback (collect + serialize + HTTP): median ${fmt(scrape.median)}, p95 ${fmt(scrape.p95)}  (target median < ${TARGET_MS} ms)`);
console.log(`exporter render in-process (collect + serialize):        median ${fmt(render.median)}, p95 ${fmt(render.p95)}`);
console.log(`reference, prom-client bare registry, same series set:   median ${fmt(ref.median)}, p95 ${fmt(ref.p95)}  (render / reference ${(render.median / ref.median).toFixed(2)}×)`);
console.log(`reference, JSON.stringify of the same data:              median ${fmt(json.median)}, p95 ${fmt(json.p95)}`);
agent.destroy();
await served.value.close();
exporter.off();
rmSync(out, { recursive: true, force: true });
rmSync(dir, { recursive: true, force: true });
const pass = scrape.median < TARGET_MS;
console.log(pass ? 'PASS' : 'FAIL (scrape median)');
process.exitCode = pass ? 0 : 1;
