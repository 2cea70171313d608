import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import { alertmanagerSources, silenceInAlertmanager } from '../../src/state/alertmanager.js';
import { createAppStore } from '../../src/state/store.js';
import { App, type ConsoleActions } from '../../src/ui/App.js';
import { KEY_TABLE } from '../../src/ui/keys.js';
import { createHostHistory } from '../../src/ui/useHostHistory.js';
import { AlertmanagerServer } from '../helpers/alertmanager.js';
import { HttpReceiver } from '../helpers/notify-receivers.js';
import { freePort } from '../helpers/redis.js';
import { renderApp } from '../helpers/render.js';

// Issue #25 (part B) in the console: the alerts of a real Alertmanager (Debian's, on loopback) in the
// Alerts pane beside opsdeck's own — marked `am:` and `AM active` / `AM silenced`, a silence (made
// through Alertmanager's API) named with its creator, end and comment —, the alert opsdeck itself
// sent (same id and host labels) not shown twice, `a` on an Alertmanager alert answered with "silence
// it in Alertmanager", and an unreachable Alertmanager one WARNING check, never an exception.

describe('Alertmanager alerts in the Alerts pane (real Alertmanager)', () => {
  const hook = new HttpReceiver();
  const am = new AlertmanagerServer();
  beforeAll(async () => {
    await hook.start();
    await am.start(`http://127.0.0.1:${hook.port}/am`);
  }, 30_000);
  afterAll(async () => {
    await am.stop();
    await hook.stop();
  });

  it('shows them marked, with their silence; leaves out the one opsdeck sent; a points to s; s silences one in Alertmanager', async () => {
    const soon = new Date(Date.now() + 10 * 60_000).toISOString();
    // startsAt given: Alertmanager takes an alert posted with only endsAt as starting then.
    const startsAt = new Date(Date.now() - 5 * 60_000).toISOString();
    await am.post([
      { labels: { alertname: 'HighLatency', instance: 'db1:9100', severity: 'critical' }, annotations: { summary: 'p99 latency 3.2 s on db1' }, startsAt, endsAt: soon },
      { labels: { alertname: 'DiskFilling', instance: 'db2:9100', severity: 'warning' }, annotations: { summary: 'disk 91 % on db2' }, startsAt, endsAt: soon },
      // What this host's opsdeck itself sent for its check http:api: shown once, as opsdeck's own.
      { labels: { alertname: 'opsdeck_http', id: 'http:api', kind: 'http', host: hostname(), instance: hostname(), severity: 'critical' }, annotations: { summary: 'api answered HTTP 500' }, startsAt, endsAt: soon },
    ]);
    await am.silence({ alertname: 'DiskFilling' }, 'alice', 'resizing the volume', 60 * 60_000);

    const config = validate({ name: 'fleet', alertmanager: { url: am.url, interval: '1s' } }, 'test');
    const store = createAppStore();
    const now = Date.now();
    store.getState().actions.setChecks([
      { id: 'system:health', kind: 'system', target: 'stack', status: 'ok', value: 100, message: '' },
      { id: 'http:api', kind: 'http', target: 'http://127.0.0.1/api', status: 'critical', message: 'api answered HTTP 500' },
    ]);
    store.getState().actions.setAlerts([{ checkId: 'http:api', state: 'firing', failStreak: 3, passStreak: 0, status: 'critical', message: 'api answered HTTP 500', since: now - 60_000, firedAt: now - 30_000 }]);
    const [source] = alertmanagerSources(config, store);
    if (!source) throw new Error('no Alertmanager source for a configured alertmanager:');
    // Alertmanager marks an alert silenced when it processes it: read until it says so.
    let results = await source.run();
    for (let i = 0; i < 50 && !store.getState().amAlerts.some((a) => a.external.silence); i++) {
      await new Promise((r) => setTimeout(r, 100));
      results = await source.run();
    }
    expect(results).toEqual([expect.objectContaining({ id: `alertmanager:127.0.0.1:${am.port}`, kind: 'alertmanager', status: 'ok' })]);
    expect(store.getState().amAlerts.map((a) => a.checkId).sort()).toEqual(['am:DiskFilling@db2', 'am:HighLatency@db1']);

    const calls: string[] = [];
    const actions: ConsoleActions = {
      containerAction: () => Promise.reject(new Error('unused')),
      follow: () => Promise.resolve({ stop: () => undefined }),
      refresh: () => undefined,
      ack: (a) => void calls.push(`ack:${a.checkId}`),
      silence: (a) => void calls.push(`silence:${a.checkId}`),
      acks: () => ({ acknowledged: false }),
      audit: () => undefined,
      history: () => [],
      restore: () => ({ answer: () => undefined }),
      runbook: () => ({ answer: () => undefined }),
      // The console's own action (src/cli/console.ts): a silence made in the real Alertmanager.
      silenceExternal: (a, ms) => silenceInAlertmanager(config, a, ms, 'tester'),
    };
    const { history } = createHostHistory(store, 2000);
    const ui = renderApp(<App store={store} config={config} keys={KEY_TABLE} readOnly={false} history={history} actions={actions} hostname="box" />, { columns: 160, rows: 40 });
    try {
      const f = await ui.waitFor((x) => x.includes('am:HighLatency') && x.includes('am:DiskFilling'));
      expect(f).toContain('Alerts (3 firing)');
      // The header's health is this stack's; Alertmanager's active CRITICAL alerts are counted beside it.
      expect(f.split('\n')[0]).toContain('AM 1 CRITICAL');
      const row = (text: string) => f.split('\n').find((l) => l.includes(text)) ?? '';
      expect(row('am:HighLatency')).toContain('AM active');
      expect(row('am:HighLatency')).toContain('p99 latency');
      expect(row('am:DiskFilling')).toContain('AM silenced');
      // opsdeck's own alert once, as its own (no am: row for it).
      expect(f.split('\n').filter((l) => l.includes('api answered HTTP 500'))).toHaveLength(1);
      expect(row('http:api')).not.toContain('AM ');

      // Order: opsdeck's critical, Alertmanager's critical, Alertmanager's warning. The silenced one
      // selected, its whole message under the list names the silence.
      await ui.press('A');
      await ui.press('j');
      await ui.press('j');
      const detail = (await ui.waitFor((x) => x.includes('▸ am:DiskFilling@db2'))).replace(/\s+/g, ' ');
      expect(detail).toContain('disk 91 % on db2 — silenced by alice until');
      expect(detail).toContain('resizing the volume');
      // a (acknowledge) on an Alertmanager alert acts on nothing here: it says where to silence it.
      await ui.press('k');
      await ui.press('a');
      await ui.waitFor((x) => x.includes("am:HighLatency@db1 is Alertmanager's: nothing to acknowledge here; s silences it in Alertmanager"));
      expect(calls).toEqual([]);

      // s on it: the dialog shows exactly what the silence matches; 1 (the first duration) creates it in Alertmanager.
      await ui.press('s');
      const dialog = (await ui.waitFor((x) => x.includes('Silence am:HighLatency@db1 in Alertmanager for:'))).replace(/[│╭╮╰╯─]/g, '').replace(/\s+/g, ' ');
      expect(dialog).toContain('matchers: alertname="HighLatency", instance="db1:9100", severity="critical"');
      await ui.press('1');
      await ui.waitFor((x) => x.includes('am:HighLatency@db1 silenced in Alertmanager (silence'), 10_000);
      expect(calls).toEqual([]);
      // Alertmanager holds it silenced by that silence: read again, the row says so.
      for (let i = 0; i < 50 && !store.getState().amAlerts.some((a) => a.checkId === 'am:HighLatency@db1' && a.external.silence); i++) {
        await new Promise((r) => setTimeout(r, 100));
        await source.run();
      }
      const after = await ui.waitFor((x) => (x.split('\n').find((l) => l.includes('am:HighLatency')) ?? '').includes('AM silenced'));
      expect(after).toContain('am:HighLatency');
      const held = (await am.alerts()).find((a) => a.labels.alertname === 'HighLatency');
      expect(held?.status.state).toBe('suppressed');

      // The silenced DiskFilling: Enter shows its labels and silence (no probe history: it is not
      // opsdeck's check), and s says it is already silenced before adding a second silence.
      for (let i = 0; i < 4 && !ui.frame().includes('▸ am:DiskFilling@db2'); i++) await ui.press('j');
      await ui.waitFor((x) => x.includes('▸ am:DiskFilling@db2'));
      await ui.press('\r');
      const details = (await ui.waitFor((x) => x.includes('labels:'))).replace(/[│╭╮╰╯─]/g, '').replace(/\s+/g, ' ');
      expect(details).toContain('Alertmanager: suppressed');
      expect(details).toContain('silenced by alice until');
      expect(details).toContain('alertname="DiskFilling"');
      expect(details).toContain('instance="db2:9100"');
      expect(details).not.toContain('probe history');
      await ui.press('\x1b');
      await ui.waitFor((x) => !x.includes('labels:'));
      await ui.press('s');
      const again = (await ui.waitFor((x) => x.includes('Silence am:DiskFilling@db2 in Alertmanager for:'))).replace(/[│╭╮╰╯─]/g, '').replace(/\s+/g, ' ');
      expect(again).toContain('already silenced by alice until');
      expect(again).toContain('this adds a second silence beside it');
      await ui.press('\x1b');
    } finally {
      ui.unmount();
    }
  }, 30_000);

  it('an unreachable Alertmanager is one WARNING check, and the alerts last read stay, marked stale', async () => {
    const down = await freePort();
    const config = validate({ name: 'fleet', alertmanager: { url: `http://user:pw-secret-99@127.0.0.1:${down}`, timeout: '500ms', interval: '1s' } }, 'test');
    const store = createAppStore();
    store.getState().actions.setAmAlerts([
      { checkId: 'am:HighLatency@db1', state: 'firing', failStreak: 0, passStreak: 0, status: 'critical', message: 'p99', since: 0, external: { source: 'alertmanager', state: 'active', fingerprint: 'abc', labels: { alertname: 'HighLatency' }, inhibited: false } },
    ]);
    const [source] = alertmanagerSources(config, store);
    const results = await source?.run();
    expect(results).toEqual([expect.objectContaining({ id: `alertmanager:127.0.0.1:${down}`, kind: 'alertmanager', status: 'warning' })]);
    expect(results?.[0]?.message).toContain('connection refused');
    expect(JSON.stringify(results)).not.toContain('pw-secret-99');
    expect(store.getState().amAlerts[0]?.external.stale).toBe(true);
  });
});
