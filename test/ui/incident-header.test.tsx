import chalk from 'chalk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import type { IncidentBanner } from '../../src/state/incident-report.js';
import { createAppStore } from '../../src/state/store.js';
import { App, type ConsoleActions } from '../../src/ui/App.js';
import { KEY_TABLE } from '../../src/ui/keys.js';
import { createHostHistory } from '../../src/ui/useHostHistory.js';
import { cells, renderApp } from '../helpers/render.js';

// Issue #18 in the console: the header's open incident (class, RTO clock counting down, RPO status,
// red once breached) and the I / N dialogs, rendered through Ink with plain values in the store.

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);
const MIN = 60_000;

/** The styles of the cell where `text` starts in the frame's rows. */
function styleAt(frame: string, text: string): string | undefined {
  for (const row of cells(frame)) {
    const chars = row.map((c) => c.split('|')[0]).join('');
    const i = chars.indexOf(text);
    if (i >= 0) return row[i]?.split('|')[1];
  }
  return undefined;
}

function setup(banner: IncidentBanner | undefined, clock: { now: number }, size: { columns: number; rows: number; hostname: string } = { columns: 120, rows: 40, hostname: 'box' }, name = 'trading') {
  const config = validate({ name }, 'test');
  const store = createAppStore();
  store.getState().actions.setChecks([{ id: 'system:health', kind: 'system', target: 'stack', status: 'ok', value: 100, message: '' }]);
  store.getState().actions.setIncident(banner);
  const calls: string[] = [];
  const actions: ConsoleActions = {
    containerAction: () => Promise.reject(new Error('unused')),
    follow: () => Promise.resolve({ stop: () => undefined }),
    refresh: () => undefined,
    ack: () => undefined,
    silence: () => undefined,
    acks: () => ({ acknowledged: false }),
    audit: (action, target, outcome) => calls.push(`audit:${action}:${target}:${outcome}`),
    history: () => [],
    restore: () => ({ answer: () => undefined }),
    runbook: () => ({ answer: () => undefined }),
    declareIncident: (severity, title) => (calls.push(`declare:${severity}:${title}`), { ok: true, text: `INC-1 declared (${severity}): its RTO clock runs` }),
    noteIncident: (id, text) => (calls.push(`note:${id}:${text}`), { ok: true, text: `note added to ${id}` }),
  };
  const { history } = createHostHistory(store, 2000);
  const r = renderApp(<App store={store} config={config} keys={KEY_TABLE} readOnly={false} history={history} actions={actions} hostname={size.hostname} now={() => clock.now} />, { columns: size.columns, rows: size.rows });
  /** Draws a frame now (a store change), as the monitor's next result would. */
  const redraw = () => store.getState().actions.setChecks([{ id: 'system:health', kind: 'system', target: 'stack', status: 'ok', value: 100, message: `${clock.now}` }]);
  return { ...r, store, calls, redraw };
}

const banner = (over: Partial<IncidentBanner> = {}): IncidentBanner => ({
  id: 'INC-3', severity: 'P1', title: 'api down', deadline: T0 + 240 * MIN,
  rpo: { rpoMs: 15 * MIN, worst: { database: 'trading', ageMs: 5 * MIN }, breached: false }, ...over,
});

describe('the header clock (issue #18)', () => {
  // Ink colours through chalk, which finds no colour terminal under the test runner: turn it on to see red.
  const level = chalk.level;
  beforeAll(() => void (chalk.level = 1));
  afterAll(() => void (chalk.level = level));

  it('shows the class, the RTO counting down and the RPO; red once the RTO is breached', async () => {
    const clock = { now: T0 };
    const ui = setup(banner(), clock);
    let f = await ui.waitFor((x) => x.includes('INC-3 P1'));
    expect(f).toContain('RTO 4h left');
    expect(f).toContain('RPO 5m/15m');
    expect(styleAt(ui.frames.at(-1) ?? '', 'RTO 4h left')).not.toContain('[31m');
    clock.now = T0 + 61_000;
    ui.redraw();
    f = await ui.waitFor((x) => x.includes('RTO 3h 58m left'));
    clock.now = T0 + 241 * MIN;
    ui.redraw();
    f = await ui.waitFor((x) => x.includes('RTO BREACHED +1m'));
    expect(styleAt(ui.frames.at(-1) ?? '', 'RTO BREACHED')).toContain('[31m');
    ui.unmount();
  });

  it('an RPO breach is red; no open incident, no banner', async () => {
    const clock = { now: T0 };
    const ui = setup(banner({ rpo: { rpoMs: 15 * MIN, worst: { database: 'trading' }, breached: true } }), clock);
    await ui.waitFor((x) => x.includes('RPO trading: no verified backup'));
    expect(styleAt(ui.frames.at(-1) ?? '', 'RPO trading')).toContain('[31m');
    ui.store.getState().actions.setIncident(undefined);
    const f = await ui.waitFor((x) => !x.includes('INC-3'));
    expect(f).not.toContain('RTO');
    ui.unmount();
  });
});

describe('the header at 80 columns with an incident open', () => {
  it('keeps the stack name and the incident whole; the host name and clock give way', async () => {
    const clock = { now: T0 };
    const ui = setup(banner(), clock, { columns: 80, rows: 24, hostname: 'a-rather-long-host-name.example.internal' });
    const f = await ui.waitFor((x) => x.includes('INC-3 P1'));
    const first = f.split('\n')[0] ?? '';
    expect(first).toMatch(/^ trading /);
    expect(first).toContain('RTO 4h left');
    expect(first).toContain('RPO 5m/15m');
    expect(first).not.toContain('a-rather-long-host-name.example.internal');
    ui.unmount();
  });

  it('never cuts a word: the clock stays clear of "health", the oldest alert is whole or not there (operator trial: "…health", "o…")', async () => {
    const clock = { now: T0 };
    for (const [columns, hostname, name] of [[80, 'box', 'opsdeck-demo'], [80, 'a-rather-long-host-name.example.internal', 'trading'], [72, 'box', 'opsdeck-demo'], [100, 'ip-10-0-12-34.eu-west-1.compute.internal', 'opsdeck-demo']] as const) {
      const ui = setup(banner(), clock, { columns, rows: 24, hostname }, name);
      ui.store.getState().actions.setChecks([
        { id: 'system:health', kind: 'system', target: 'stack', status: 'warning', value: 75, message: '' },
        { id: 'http:api', kind: 'http', target: 'api', status: 'critical', message: 'down' },
      ]);
      ui.store.getState().actions.setAlerts([{ checkId: 'http:api', state: 'firing', failStreak: 3, passStreak: 0, status: 'critical', message: 'down', since: T0 - 3 * MIN, firedAt: T0 - 2 * MIN }]);
      const f = await ui.waitFor((x) => x.includes('INC-3 P1') && x.includes('health 75%'));
      const first = f.split('\n')[0] ?? '';
      expect(first, `${columns} columns: ${first}`).not.toContain('…');
      expect(first).toMatch(/ health 75%/);
      expect(first).toContain(`RPO 5m/15m`);
      // At 100 columns there is room for the oldest alert (whole); narrower, it may give way, never cut.
      if (columns >= 100) expect(first).toMatch(/oldest( alert)? 3m/);
      ui.unmount();
    }
  });
});

describe('I and N in the console (issue #18)', () => {
  it('I opens the dialog, typed text is the title (q does not quit), enter declares and says what the action answered', async () => {
    const clock = { now: T0 };
    const ui = setup(undefined, clock);
    await ui.waitFor((x) => x.includes('health 100%'));
    await ui.press('I');
    await ui.waitFor((x) => x.includes('Declare an incident'));
    await ui.press('\x1b[A'); // ↑: P1
    for (const c of 'db q') await ui.press(c);
    await ui.waitFor((x) => x.includes('title> db q'));
    await ui.press('\r');
    await ui.waitFor((x) => x.includes('INC-1 declared (P1): its RTO clock runs'));
    expect(ui.calls).toEqual(['declare:P1:db q']);
    ui.unmount();
  });

  it('N notes the open incident', async () => {
    const clock = { now: T0 };
    const ui = setup(banner(), clock);
    await ui.waitFor((x) => x.includes('INC-3 P1'));
    await ui.press('N');
    await ui.waitFor((x) => x.includes('Note on INC-3 (P1):'));
    for (const c of 'ok') await ui.press(c);
    await ui.press('\r');
    await ui.waitFor((x) => x.includes('note added to INC-3'));
    expect(ui.calls).toEqual(['note:INC-3:ok']);
    ui.unmount();
  });
});
