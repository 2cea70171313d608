import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertmanagerServer, type AmApiAlert } from '../helpers/alertmanager.js';
import { runCli } from '../helpers/cli.js';
import { HttpReceiver, until } from '../helpers/notify-receivers.js';
import { Watcher } from '../helpers/watch.js';

// Issue #25 (part B): opsdeck's alerts reach a real Prometheus Alertmanager (Debian's
// prometheus-alertmanager on loopback, one for the file) through the `alertmanager` notify channel.
// A check is broken in the test (a tiny HTTP server answering 500, its URL holding a token), `watch`
// (built CLI, 1 s interval) posts the firing alert, Alertmanager's API shows it active with opsdeck's
// labels and re-sent (updatedAt moves); the check fixed, the resolved alert reaches Alertmanager: it
// leaves its list of alerts long before its endsAt would have, and Alertmanager itself notifies
// "resolved" (its webhook receiver here). SIGKILLed while firing, fixed while down, started again:
// the resolved alert still reaches Alertmanager (the outbox and the facts kept in the state database).

const TOKEN = 's3cr3t-check-token-1234';
const AM_PASSWORD = 'am-basic-pass-5678';

/** A check target whose health the test switches. */
class Flaky {
  healthy = new Map<string, boolean>();
  port = 0;
  private server: Server | undefined;
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const name = (req.url ?? '/').split('?')[0]?.slice(1) ?? '';
      res.writeHead(this.healthy.get(name) ? 200 : 500).end(this.healthy.get(name) ? 'ok' : 'broken');
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

/** Polls an async condition until it holds (never a fixed sleep). */
async function untilAsync<T>(f: () => Promise<T | undefined | false>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Alertmanager's own notifications (webhook payloads). */
interface Hooked {
  status: string;
  alerts: { status: string; labels: Record<string, string> }[];
}

describe('the alertmanager notify channel against a real Alertmanager', () => {
  const hook = new HttpReceiver();
  const am = new AlertmanagerServer();
  const flaky = new Flaky();
  beforeAll(async () => {
    await hook.start();
    await flaky.start();
    await am.start(`http://127.0.0.1:${hook.port}/am`);
  }, 30_000);
  afterAll(async () => {
    await am.stop();
    await flaky.stop();
    await hook.stop();
  });

  const writeConfig = (dir: string, name: string, resend = '5s', cluster = 'test') => {
    const file = join(dir, 'opsdeck.yaml');
    const amUrl = `http://opsdeck:${AM_PASSWORD}@127.0.0.1:${am.port}`;
    writeFileSync(
      file,
      [
        `name: am-${name}`,
        'interval: 1s',
        'failure_threshold: 1',
        'recovery_threshold: 1',
        'thresholds: {cpu: 100, memory: 100, disk: 100}',
        `state_dir: ${join(dir, 'state')}`,
        'endpoints:',
        `  - {name: ${name}, url: "http://127.0.0.1:${flaky.port}/${name}?token=${TOKEN}", timeout: 500ms}`,
        'notify:',
        '  group_wait: 0s',
        '  retry_initial: 200ms',
        '  channels:',
        `    - {name: am, type: alertmanager, url: "${amUrl}", labels: {cluster: ${cluster}}, resend_every: ${resend}, generator_url: "https://ops.example/opsdeck?check={{id}}"}`,
        '',
      ].join('\n'),
    );
    return file;
  };
  const find = (list: AmApiAlert[], id: string) => list.find((a) => a.labels.id === id);
  const hooked = (id: string, status: string) =>
    hook.requests.some((r) => r.path.startsWith('/am') && (JSON.parse(r.body) as Hooked).alerts.some((a) => a.labels.id === id && a.status === status));

  it('fires into Alertmanager with opsdeck labels, re-sends while firing, resolves when fixed; no secret reaches it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-am-fire-'));
    const config = writeConfig(dir, 'api');
    flaky.healthy.set('api', false);
    const watch = new Watcher(config);
    try {
      const first = await untilAsync(async () => find(await am.alerts(), 'http:api'), 'the firing alert in Alertmanager', 30_000);
      expect(first.status.state).toBe('active');
      expect(first.labels).toMatchObject({ alertname: 'opsdeck_http', id: 'http:api', kind: 'http', host: hostname(), instance: hostname(), cluster: 'test' });
      expect(['critical', 'warning']).toContain(first.labels.severity);
      expect(first.labels.target).toContain(`127.0.0.1:${flaky.port}/api`);
      expect(first.annotations.summary).toContain('HTTP 500');
      expect(first.generatorURL).toBe('https://ops.example/opsdeck?check=http%3Aapi');
      // endsAt: 4 re-send periods (5 s) ahead, not Alertmanager's resolve_timeout.
      expect(Date.parse(first.endsAt) - Date.parse(first.updatedAt)).toBeGreaterThan(10_000);
      expect(Date.parse(first.endsAt) - Date.parse(first.updatedAt)).toBeLessThanOrEqual(21_000);
      // Re-sent while it fires: Alertmanager's updatedAt moves on.
      await untilAsync(async () => {
        const a = find(await am.alerts(), 'http:api');
        return a && Date.parse(a.updatedAt) > Date.parse(first.updatedAt) + 1000 ? a : undefined;
      }, 'the alert re-sent', 20_000);
      await until(() => hooked('http:api', 'firing'), 'Alertmanager to notify the firing alert', 10_000);

      // The channel's labels changed while it fires: the re-sends keep the labels it fired with, so
      // Alertmanager still has one alert, not a second (before: cluster=prod arrived as a new alert).
      const changedAt = Date.now();
      writeConfig(dir, 'api', '5s', 'prod');
      await untilAsync(async () => {
        const a = find(await am.alerts(), 'http:api');
        return a && Date.parse(a.updatedAt) > changedAt + 1500 ? a : undefined;
      }, 'a re-send after the labels changed', 20_000);
      const mine = (await am.alerts()).filter((a) => a.labels.id === 'http:api');
      expect(mine.map((a) => a.labels.cluster)).toEqual(['test']);

      flaky.healthy.set('api', true);
      await untilAsync(async () => !find(await am.alerts(), 'http:api'), 'the alert resolved in Alertmanager', 15_000);
      await until(() => hooked('http:api', 'resolved'), 'Alertmanager to notify it resolved', 10_000);
      // No secret in anything Alertmanager received and passed on.
      const seen = JSON.stringify(hook.requests.map((r) => r.body)) + JSON.stringify(first);
      expect(seen).not.toContain(TOKEN);
      expect(seen).not.toContain(AM_PASSWORD);
    } finally {
      await watch.stop();
    }
  }, 90_000);

  it('SIGKILLed while firing, fixed while down: the resolved alert reaches Alertmanager when watch starts again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-am-kill-'));
    // A long re-send period: the alert's endsAt (4 min) is far off, so only opsdeck's resolved message can end it.
    const config = writeConfig(dir, 'orders', '1m');
    flaky.healthy.set('orders', false);
    const first = new Watcher(config);
    await untilAsync(async () => find(await am.alerts(), 'http:orders'), 'the firing alert in Alertmanager', 30_000);
    // Alertmanager tells "resolved" only of what it told firing: let it notify first (group_wait 1 s).
    await until(() => hooked('http:orders', 'firing'), 'Alertmanager to notify the firing alert', 10_000);
    await first.kill('SIGKILL');
    flaky.healthy.set('orders', true);
    const before = find(await am.alerts(), 'http:orders');
    expect(before?.status.state).toBe('active');
    expect(Date.parse(before?.endsAt ?? '') - Date.now()).toBeGreaterThan(2 * 60_000);

    const second = new Watcher(config);
    try {
      await untilAsync(async () => !find(await am.alerts(), 'http:orders'), 'the resolved alert in Alertmanager after the restart', 30_000);
      await until(() => hooked('http:orders', 'resolved'), 'Alertmanager to notify it resolved', 10_000);
      const db = new Database(join(dir, 'state', 'state.db'), { readonly: true });
      try {
        const rows = db.prepare("SELECT kind, status FROM notify_outbox WHERE channel = 'am' ORDER BY id").all() as { kind: string; status: string }[];
        expect(rows).toEqual([{ kind: 'firing', status: 'sent' }, { kind: 'resolved', status: 'sent' }]);
        expect(db.prepare('SELECT count(*) FROM notify_alerts').pluck().get()).toBe(0);
      } finally {
        db.close();
      }
    } finally {
      await second.stop();
    }
  }, 90_000);

  it('notify test posts a test alert that ends within minutes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-am-test-'));
    const config = writeConfig(dir, 'probe');
    const r = await runCli(['notify', 'test', 'am', '--yes', '--config', config]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const a = await untilAsync(async () => find(await am.alerts(), 'test:am'), 'the test alert', 10_000);
    expect(a.labels).toMatchObject({ alertname: 'opsdeck_test', severity: 'info', host: hostname() });
    expect(Date.parse(a.endsAt) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    expect(r.stdout).not.toContain(AM_PASSWORD);

    // A url that answers the POST with 200 but is not Alertmanager (a plain web hook): not delivered.
    const wrong = join(dir, 'wrong.yaml');
    writeFileSync(wrong, readFileSync(config, 'utf8').replace(/url: "http:\/\/opsdeck:[^"]*"/, `url: "http://127.0.0.1:${hook.port}/not-am"`));
    const w = await runCli(['notify', 'test', 'am', '--yes', '--config', wrong]);
    expect(w.code).not.toBe(0);
    expect(w.stdout + w.stderr).toContain('took the POST but does not answer as Alertmanager');
  }, 30_000);
});
