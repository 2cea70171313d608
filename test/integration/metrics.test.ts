import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { docker, runContainer } from '../helpers/docker-engine.js';
import { parsePromText, samples } from '../helpers/prom-text.js';
import { freePort } from '../helpers/redis.js';

// Issue #25 (part A) on the real parts: the built CLI's `opsdeck watch --metrics-addr` (1 s interval)
// watching a real HTTP endpoint we break and fix, a real container on the private engine and a real
// SQLite database with a verified backup; a real Prometheus (Debian's `prometheus`) scraping it
// every second with the example rules loaded; promtool on the example rules.

const SECRET = 'tok-5ecret-3c9d71';
const PASSWORD = 'pa55w0rd-9x2k';
const EXAMPLES = resolve(import.meta.dirname, '../../examples/prometheus');
const INSTALL = 'apt-get install --no-install-recommends prometheus (or bash .ci/run)';

/** Fails loudly (never skips) when Prometheus's binaries are missing. */
function requireProm(name: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${name} is not installed; the Prometheus tests need it. Run: ${INSTALL}`);
  }
}

/** Polls `probe` every 200 ms until it returns a value (not undefined), or fails naming `what`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${last instanceof Error ? last.message : JSON.stringify(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits for a child's exit, SIGKILL after 10 s. */
async function stopChild(c: ChildProcess | undefined): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

let api: Server;
let apiMode: 'ok' | 'error' = 'error';
let apiPort = 0;
let metricsPort = 0;
let promPort = 0;
let watch: ChildProcess | undefined;
let prom: ChildProcess | undefined;
let watchOut = '';
let promOut = '';
let dir = '';
let config = '';
const dockerHost = inject('dockerHost');
const project = `opsdeck-metrics-${process.pid}`;
const container = `${project}-web`;

const metricsUrl = () => `http://127.0.0.1:${metricsPort}/metrics`;
const scrape = async () => parsePromText(await (await fetch(metricsUrl())).text());
const promQuery = async (q: string) => {
  const r = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  return r.data.result;
};

beforeAll(async () => {
  const prometheus = requireProm('prometheus');
  dir = mkdtempSync(join(tmpdir(), 'opsdeck-metrics-'));
  api = createServer((_req, res) => (apiMode === 'ok' ? res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}') : res.writeHead(500).end('broken')));
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiPort = (api.address() as { port: number }).port;
  [metricsPort, promPort] = [await freePort(), await freePort()];
  runContainer(dockerHost, container, ['--network', 'none', '--label', `com.docker.compose.project=${project}`], ['sleep', '3600']);

  const db = new Database(join(dir, 'trading.db'));
  db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, qty INTEGER); INSERT INTO orders (qty) VALUES (1), (2);');
  db.close();
  config = join(dir, 'opsdeck.yaml');
  writeFileSync(
    config,
    [
      'interval: 1s',
      'refresh: 1s',
      'failure_threshold: 1',
      'recovery_threshold: 1',
      'thresholds: {cpu: 100, memory: 100, disk: 100}',
      `state_dir: ${join(dir, 'state')}`,
      // The flag must win: this address is the API's own port, in use.
      `metrics: {addr: "127.0.0.1:${apiPort}", host: fleet-a-test}`,
      `docker: {host: "${dockerHost}", compose_project: ${project}, all_containers: true}`,
      'endpoints:',
      '  - name: api',
      `    url: http://ops:${PASSWORD}@127.0.0.1:${apiPort}/health?token=\${API_TOKEN}`,
      '    critical: true',
      'databases:',
      `  - name: trading`,
      `    path: ${join(dir, 'trading.db')}`,
      '    critical: false',
      `backup: {dir: ${join(dir, 'backups')}}`,
      '',
    ].join('\n'),
  );
  const backup = await runCli(['--config', config, 'backup', 'create', '--db', 'trading', '--verify'], { env: { API_TOKEN: SECRET } });
  expect(backup.code, backup.stderr).toBe(0);

  watch = spawn(process.execPath, [CLI, 'watch', '--json', '--config', config, '--metrics-addr', `127.0.0.1:${metricsPort}`], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, API_TOKEN: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  watch.stdout?.on('data', (d: Buffer) => (watchOut += d.toString()));
  watch.stderr?.on('data', (d: Buffer) => (watchOut += d.toString()));
  await until('watch says where it serves its metrics', async () => {
    if (watch?.exitCode !== null) throw new Error(`watch exited ${watch?.exitCode}: ${watchOut}`);
    return watchOut.includes(`"event":"metrics","url":"http://127.0.0.1:${metricsPort}/metrics"`) ? true : undefined;
  });

  const promConfig = join(dir, 'prometheus.yml');
  writeFileSync(
    promConfig,
    [
      'global: {scrape_interval: 1s, evaluation_interval: 1s}',
      `rule_files: ["${join(EXAMPLES, 'opsdeck-rules.yml')}"]`,
      'scrape_configs:',
      '  - job_name: opsdeck',
      `    static_configs: [{targets: ["127.0.0.1:${metricsPort}"]}]`,
      '',
    ].join('\n'),
  );
  prom = spawn(prometheus, [`--config.file=${promConfig}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  prom.stdout?.on('data', (d: Buffer) => (promOut += d.toString()));
  prom.stderr?.on('data', (d: Buffer) => (promOut += d.toString()));
  await until('Prometheus is ready', async () => {
    if (prom?.exitCode !== null) throw new Error(`prometheus exited ${prom?.exitCode}: ${promOut}`);
    return (await fetch(`http://127.0.0.1:${promPort}/-/ready`)).ok ? true : undefined;
  });
});

afterAll(async () => {
  await stopChild(prom);
  await stopChild(watch);
  api?.closeAllConnections();
  await new Promise<void>((r) => (api ? api.close(() => r()) : r()));
  try {
    docker(dockerHost, 'rm', '-f', container);
  } catch {
    // already removed by its test
  }
});

describe('opsdeck watch --metrics-addr (Prometheus)', () => {
  it('serves the Prometheus text format: host gauges, checks with the target redacted, containers, backups; anything else 404', async () => {
    const all = await until('http:api and the container in /metrics', async () => {
      const s = await scrape();
      return samples(s, 'opsdeck_check_status', { id: 'http:api' }).length && samples(s, 'opsdeck_container_running', { name: container }).length ? s : undefined;
    });
    const res = await fetch(metricsUrl());
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = await res.text();
    expect(body).not.toContain(PASSWORD);
    expect(body).not.toContain(SECRET);
    expect(samples(all, 'opsdeck_check_status', { id: 'http:api' })[0]?.labels).toEqual({ id: 'http:api', kind: 'http', target: `http://ops:***@127.0.0.1:${apiPort}/health?token=***`, host: 'fleet-a-test' });
    for (const name of ['opsdeck_host_memory_used_bytes', 'opsdeck_host_memory_total_bytes', 'opsdeck_host_load1']) expect(samples(all, name)[0]?.value, name).toBeGreaterThan(0);
    expect(samples(all, 'opsdeck_host_filesystem_size_bytes', { mount: '/' })[0]?.value).toBeGreaterThan(0);
    expect(samples(all, 'opsdeck_container_running', { name: container, host: 'fleet-a-test' })[0]?.value).toBe(1);
    expect(samples(all, 'opsdeck_container_memory_usage_bytes', { name: container })[0]?.value).toBeGreaterThan(0);
    const age = samples(all, 'opsdeck_backup_age_seconds', { database: 'trading' })[0]?.value;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(600);
    // The CPU ratio needs two samples; it comes on a later scrape.
    await until('opsdeck_host_cpu_usage_ratio', async () => {
      const v = samples(await scrape(), 'opsdeck_host_cpu_usage_ratio')[0]?.value;
      return v !== undefined && v >= 0 && v <= 1 ? v : undefined;
    });
    expect((await fetch(`http://127.0.0.1:${metricsPort}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics/x`)).status).toBe(404);
  });

  it('Prometheus scraping every 1 s reads http:api CRITICAL (2) while the API answers 500, the example rule OpsdeckAlertFiring fires, and 0 once it is fixed', async () => {
    apiMode = 'error';
    const broken = await until('opsdeck_check_status{id="http:api"} = 2 in Prometheus', async () => {
      const r = await promQuery('opsdeck_check_status{id="http:api"}');
      return r[0]?.value[1] === '2' ? r[0] : undefined;
    });
    expect(broken.metric).toMatchObject({ job: 'opsdeck', id: 'http:api', kind: 'http', host: 'fleet-a-test', target: `http://ops:***@127.0.0.1:${apiPort}/health?token=***` });
    const firing = await until('OpsdeckAlertFiring for http:api', async () => {
      const r = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      return r.data.alerts.find((a) => a.labels.alertname === 'OpsdeckAlertFiring' && a.labels.id === 'http:api' && a.state === 'firing');
    });
    expect(firing.labels).toMatchObject({ severity: 'critical', host: 'fleet-a-test' });
    // Every example rule loaded and evaluates without error against the real series.
    const rules = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
    const all = rules.data.groups.flatMap((g) => g.rules);
    expect(all.length).toBeGreaterThan(10);
    expect(all.filter((r) => r.health === 'err')).toEqual([]);

    apiMode = 'ok';
    await until('opsdeck_check_status{id="http:api"} = 0 in Prometheus', async () => {
      const r = await promQuery('opsdeck_check_status{id="http:api"}');
      return r[0]?.value[1] === '0' ? true : undefined;
    });
    const fixed = await promQuery('opsdeck_alert_firing{id="http:api"}');
    expect(JSON.stringify(fixed)).not.toContain(SECRET);
  });

  it('a container removed from the engine leaves /metrics', async () => {
    expect(samples(await scrape(), 'opsdeck_container_running', { name: container })).toHaveLength(1);
    docker(dockerHost, 'rm', '-f', container);
    await until('the removed container gone from /metrics', async () => (samples(await scrape(), 'opsdeck_container_running', { name: container }).length === 0 ? true : undefined));
    // Its container: check leaves after 3 of the longest intervals (12 s here): test/unit/metrics.test.ts shows that on a clock of its own.
  });

  it('an address in use: one line naming it and what to do; exit 64 for --metrics-addr, 78 (naming the field) for metrics.addr', async () => {
    const flag = await runCli(['--config', config, 'watch', '--metrics-addr', `127.0.0.1:${metricsPort}`], { env: { API_TOKEN: SECRET } });
    expect(flag.code).toBe(64);
    expect(flag.stderr).toBe(`opsdeck: --metrics-addr: 127.0.0.1:${metricsPort} is already in use (another opsdeck watch or exporter?); choose another port, or stop what listens there (ss -ltnp)\n`);
    const other = join(dir, 'busy.yaml');
    writeFileSync(other, [`state_dir: ${join(dir, 'state-busy')}`, `metrics: {addr: "127.0.0.1:${metricsPort}"}`, ''].join('\n'));
    const cfg = await runCli(['--config', other, 'watch']);
    expect(cfg.code).toBe(78);
    expect(cfg.stderr).toMatch(new RegExp(`^opsdeck: ${other.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: metrics\\.addr: 127\\.0\\.0\\.1:${metricsPort} is already in use .*\\n$`));
    const bad = await runCli(['--config', other, 'watch', '--metrics-addr', '9464']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toBe('opsdeck: --metrics-addr: expected HOST:PORT such as 127.0.0.1:9464 (an IPv6 address in brackets: [::1]:9464), got "9464"\n');
  });

  it('the example rules pass promtool check rules, and promtool test rules proves they fire', () => {
    const promtool = requireProm('promtool');
    expect(execFileSync(promtool, ['check', 'rules', join(EXAMPLES, 'opsdeck-rules.yml')], { encoding: 'utf8' })).toMatch(/SUCCESS: \d+ rules found/);
    expect(execFileSync(promtool, ['test', 'rules', join(EXAMPLES, 'opsdeck-rules.test.yml')], { encoding: 'utf8' })).toMatch(/SUCCESS/);
    expect(execFileSync(promtool, ['check', 'config', join(EXAMPLES, 'prometheus.yml')], { encoding: 'utf8' })).toMatch(/is valid prometheus config file syntax/);
  });
});
