import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import { parseListenAddr } from '../../src/config/schema-metrics.js';
import { registerSecrets, SecretRegistry } from '../../src/config/secrets.js';
import type { Alert } from '../../src/domain/alerts.js';
import type { CheckResult } from '../../src/domain/check.js';
import type { ContainerInfo } from '../../src/domain/observations.js';
import { EventBus } from '../../src/engine/events.js';
import { serveMetrics } from '../../src/services/metrics-server.js';
import { AckStore } from '../../src/state/acks.js';
import { IncidentStore } from '../../src/state/incidents.js';
import { checkHost, createMetrics, staleAfterMs } from '../../src/state/metrics.js';
import { openStateDb } from '../../src/state/statedb.js';
import { createAppStore } from '../../src/state/store.js';
import { parsePromText, samples } from '../helpers/prom-text.js';

// The exporter of issue #25 (part A) in-process: a real store, bus and state database fed as the
// monitor feeds them, a clock of our own; each scrape parsed strictly as Prometheus text.

const T0 = Date.UTC(2026, 11, 3, 3, 0, 0);
const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

async function setup(extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-metrics-unit-'));
  const db = await openStateDb(join(dir, 'state'));
  const config = validate({ interval: 1, refresh: 1, metrics: { host: 'db1' }, backup: { dir: join(dir, 'backups') }, ...extra }, 'test');
  const store = createAppStore();
  const bus = new EventBus();
  let t = T0;
  const m = createMetrics({ store, config: () => config, stateDb: db, bus, now: () => t });
  closers.push(() => {
    m.off();
    db.close();
  });
  /** Records results as the monitor does: into the store, then each on the bus. */
  const report = (...results: CheckResult[]) => {
    store.getState().actions.setChecks(results);
    for (const result of results) bus.emit({ type: 'check.result', at: t, result });
  };
  const scrape = async () => parsePromText((await m.render()).body);
  return { db, config, store, report, scrape, m, advance: (ms: number) => (t += ms), now: () => t };
}

const check = (id: string, over: Partial<CheckResult> = {}): CheckResult => ({ id, kind: 'http', target: 'http://127.0.0.1:8080/health', status: 'ok', message: 'fine', ...over });

describe('the Prometheus exporter', () => {
  it('exports every check as status (0 ok, 1 warning, 2 critical, 3 unknown), value and threshold, labelled id, kind, target, host', async () => {
    const { report, scrape, m } = await setup();
    report(
      check('http:api', { status: 'critical', value: 500 }),
      check('host:disk:/', { kind: 'host', target: '/', status: 'warning', value: 91.5, threshold: 85 }),
      check('redis:cache', { kind: 'redis', target: 'redis://127.0.0.1:6379', status: 'unknown', value: 'n/a' }),
      check('sqlite:trading', { kind: 'sqlite', target: '/srv/trading.db' }),
    );
    const all = await scrape();
    const status: Record<string, number> = Object.fromEntries(samples(all, 'opsdeck_check_status').map((s) => [s.labels.id ?? '', s.value]));
    expect(status).toEqual({ 'http:api': 2, 'host:disk:/': 1, 'redis:cache': 3, 'sqlite:trading': 0 });
    expect(samples(all, 'opsdeck_check_status', { id: 'host:disk:/' })[0]?.labels).toEqual({ id: 'host:disk:/', kind: 'host', target: '/', host: 'db1' });
    // A value that is not a number (or absent) has no value series.
    expect(samples(all, 'opsdeck_check_value').map((s) => [s.labels.id, s.value])).toEqual([['http:api', 500], ['host:disk:/', 91.5]]);
    expect(samples(all, 'opsdeck_check_threshold').map((s) => [s.labels.id, s.value])).toEqual([['host:disk:/', 85]]);
    expect((await m.render()).contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('escapes a quote, a backslash and a newline in a label value, and the text parses back to the same id', async () => {
    const { report, m } = await setup();
    const id = 'probe:say "hi"\\now\nnext';
    report(check(id, { kind: 'probe', target: 'a "quoted" target' }));
    const body = (await m.render()).body;
    expect(body).toContain('id="probe:say \\"hi\\"\\\\now\\nnext"');
    const all = parsePromText(body);
    expect(samples(all, 'opsdeck_check_status', { id })[0]?.labels.target).toBe('a "quoted" target');
  });

  it('never exports a secret: URL passwords, credential query values and registered secrets are redacted in labels', async () => {
    const secrets = new SecretRegistry();
    secrets.add('hook-5ecret-0a1b2c');
    registerSecrets(secrets);
    const { report, m } = await setup();
    report(
      check('http:api', { target: 'http://ops:pa55w0rd-9x@127.0.0.1:8080/health?token=tok-77aa11&x=1' }),
      check('http:hook', { target: 'https://hooks.example.org/services/hook-5ecret-0a1b2c' }),
    );
    const body = (await m.render()).body;
    expect(body).not.toMatch(/pa55w0rd|tok-77aa11|hook-5ecret/);
    expect(body).toContain('target="http://ops:***@127.0.0.1:8080/health?token=***&x=1"');
    expect(body).toContain('target="https://hooks.example.org/services/***"');
  });

  it('a check no source reports any more leaves the output after 3 of the longest intervals; a container gone from the engine at once', async () => {
    const { report, scrape, store, advance, config, now } = await setup();
    report(check('http:api'), check('http:old'));
    const container = (name: string, over: Partial<ContainerInfo> = {}): ContainerInfo => ({ id: `id-${name}`, name, image: 'busybox', state: 'running', health: 'none', restartCount: 0, exitCode: 0, pid: 1, tty: false, labels: {}, ...over });
    store.getState().actions.setEnvelope('docker', { data: { endpoint: 'unix:///var/run/docker.sock', containers: [container('web'), container('gone')], stats: {} } }, now());
    expect(samples(await scrape(), 'opsdeck_container_running').map((s) => s.labels.name)).toEqual(['web', 'gone']);
    const stale = staleAfterMs(config);
    expect(stale).toBe(12_000); // 3 × (4 refreshes of 1 s)
    advance(stale - 1000);
    report(check('http:api'));
    store.getState().actions.setEnvelope('docker', { data: { endpoint: 'unix:///var/run/docker.sock', containers: [container('web')], stats: {} } }, now());
    let all = await scrape();
    expect(samples(all, 'opsdeck_check_status').map((s) => s.labels.id).sort()).toEqual(['http:api', 'http:old']);
    expect(samples(all, 'opsdeck_container_running').map((s) => s.labels.name)).toEqual(['web']);
    advance(2000);
    all = await scrape();
    expect(samples(all, 'opsdeck_check_status').map((s) => s.labels.id)).toEqual(['http:api']);
  });

  it('containers: CPU as a ratio of one core, memory, limit, restarts, running; absent while the engine does not answer', async () => {
    const { scrape, store, now } = await setup();
    const info = (name: string, state: ContainerInfo['state'], restartCount: number): ContainerInfo => ({ id: `id-${name}`, name, image: 'busybox', state, health: 'none', restartCount, exitCode: 0, pid: 1, tty: false, labels: {} });
    store.getState().actions.setEnvelope('docker', {
      data: {
        endpoint: 'unix:///var/run/docker.sock',
        containers: [info('web', 'running', 2), info('batch', 'exited', 0)],
        stats: { 'id-web': { cpuPercent: 150, memUsedBytes: 64e6, memLimitBytes: 128e6, memPercent: 50, source: 'cgroup' } },
      },
    }, now());
    const all = await scrape();
    const one = (name: string, c: string) => samples(all, name, { name: c, host: 'db1' })[0]?.value;
    expect([one('opsdeck_container_cpu_usage_ratio', 'web'), one('opsdeck_container_memory_usage_bytes', 'web'), one('opsdeck_container_memory_limit_bytes', 'web'), one('opsdeck_container_restart_count', 'web'), one('opsdeck_container_running', 'web')]).toEqual([1.5, 64e6, 128e6, 2, 1]);
    expect([one('opsdeck_container_cpu_usage_ratio', 'batch'), one('opsdeck_container_running', 'batch')]).toEqual([undefined, 0]);
    store.getState().actions.setEnvelope('docker', { error: { kind: 'unavailable', source: 'docker', message: 'engine gone' } }, now());
    expect(samples(await scrape(), 'opsdeck_container_running')).toEqual([]);
    // A configured host's engine (issue #25, hosts:): its containers carry the host's name, while it answers.
    store.getState().actions.setKeyed('hosts', 'db2', { data: { endpoint: 'ssh://ops@db2:22', containers: [info('api', 'running', 1)], stats: {} } }, now());
    expect(samples(await scrape(), 'opsdeck_container_running').map((x) => [x.labels.name, x.labels.host, x.value])).toEqual([['api', 'db2', 1]]);
    store.getState().actions.setKeyed('hosts', 'db2', { error: { kind: 'unavailable', source: 'docker', message: 'engine gone' } }, now());
    expect(samples(await scrape(), 'opsdeck_container_running')).toEqual([]);
  });

  it('a remote host\'s checks carry its name as the host label (container:web@db2); the rest this machine\'s', () => {
    expect(checkHost({ id: 'container:web@db2', kind: 'container' }, 'db1')).toBe('db2');
    expect(checkHost({ id: 'docker:engine@db2', kind: 'docker' }, 'db1')).toBe('db2');
    expect(checkHost({ id: 'container:web', kind: 'container' }, 'db1')).toBe('db1');
    expect(checkHost({ id: 'host:disk:/mnt/a@b', kind: 'host' }, 'db1')).toBe('db1');
  });

  it('alerts: firing while firing (acknowledged or silenced alike), silenced while silenced; an incident\'s class, RTO left and RPO; backup ages (+Inf: none)', async () => {
    const { db, report, scrape, store, now } = await setup({ databases: [{ name: 'trading', path: '/srv/none.db' }] });
    report(check('http:api', { status: 'critical' }), check('http:web', { status: 'warning' }), check('http:ok'));
    const alert = (checkId: string, state: Alert['state'], status: Alert['status']): Alert => ({ checkId, state, status, failStreak: 3, passStreak: 0, message: 'down', firedAt: now() });
    store.getState().actions.setAlerts([alert('http:api', 'firing', 'critical'), alert('http:web', 'resolving', 'warning'), alert('http:ok', 'resolved', 'ok')]);
    new AckStore(db).silence('http:api', 60_000, now());
    new IncidentStore(db).declare({ severity: 'P2', title: 'api down', actor: 'test', at: now() });
    const all = await scrape();
    expect(samples(all, 'opsdeck_alert_firing').map((s) => [s.labels.id, s.labels.severity, s.labels.host, s.value])).toEqual([['http:api', 'critical', 'db1', 1], ['http:web', 'warning', 'db1', 1]]);
    expect(samples(all, 'opsdeck_alert_silenced').map((s) => [s.labels.id, s.value])).toEqual([['http:api', 1]]);
    expect(samples(all, 'opsdeck_incident_open').map((s) => [s.labels.severity, s.value])).toEqual([['P1', 0], ['P2', 1], ['P3', 0], ['P4', 0]]);
    expect(samples(all, 'opsdeck_incident_rto_remaining_seconds')).toEqual([{ name: 'opsdeck_incident_rto_remaining_seconds', labels: { severity: 'P2' }, value: 7200 }]);
    expect(samples(all, 'opsdeck_incident_rpo_seconds')).toEqual([{ name: 'opsdeck_incident_rpo_seconds', labels: { severity: 'P2' }, value: Infinity }]);
    expect(samples(all, 'opsdeck_backup_age_seconds')).toEqual([{ name: 'opsdeck_backup_age_seconds', labels: { database: 'trading' }, value: Infinity }]);
  });

  it('the endpoint answers GET and HEAD /metrics, 404 elsewhere, 405 to other methods; a port in use is an error naming it', async () => {
    const served = await serveMetrics({ host: '127.0.0.1', port: 0 }, () => Promise.resolve({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'x 1\n' }));
    if (!served.ok) throw new Error(served.error.message);
    const { port } = served.value.address;
    const url = `http://127.0.0.1:${port}`;
    try {
      const get = await fetch(`${url}/metrics`);
      expect([get.status, get.headers.get('content-type'), await get.text()]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8', 'x 1\n']);
      expect((await fetch(`${url}/metrics?x=1`, { method: 'HEAD' })).status).toBe(200);
      expect((await fetch(`${url}/`)).status).toBe(404);
      expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
      const again = await serveMetrics({ host: '127.0.0.1', port }, () => Promise.resolve({ contentType: 'text/plain', body: '' }));
      expect(again.ok ? undefined : again.error).toEqual({ kind: 'invalid', source: `127.0.0.1:${port}`, message: `127.0.0.1:${port} is already in use (another opsdeck watch or exporter?); choose another port, or stop what listens there (ss -ltnp)` });
    } finally {
      await served.value.close();
    }
  });

  it('reads HOST:PORT addresses and says what is expected otherwise', () => {
    expect(parseListenAddr('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddr('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListenAddr('localhost:9464')).toEqual({ host: 'localhost', port: 9464 });
    expect(parseListenAddr('9464')).toMatch(/^expected HOST:PORT such as 127\.0\.0\.1:9464/);
    expect(parseListenAddr('127.0.0.1:70000')).toBe('expected a port from 0 to 65535, got 70000');
    expect(() => validate({ metrics: { addr: 'nowhere' } }, 'opsdeck.yaml')).toThrow(/opsdeck\.yaml: metrics\.addr: expected HOST:PORT/);
  });
});
