import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleMaintenance } from '../../src/cli/console-maintenance.js';
import { loadConfigFile } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { capacitySource, hostHistorySeed } from '../../src/state/capacity.js';
import { probeSources } from '../../src/state/probes.js';
import { openStateDb, stateDir } from '../../src/state/statedb.js';
import { createAppStore, type AppStore } from '../../src/state/store.js';
import { App, type ConsoleActions } from '../../src/ui/App.js';
import type { MaintSource } from '../../src/ui/dialogs/MaintenanceDialog.js';
import { sparkline } from '../../src/ui/format/cells.js';
import { KEY_TABLE } from '../../src/ui/keys.js';
import { createHostHistory, type HostHistory } from '../../src/ui/useHostHistory.js';
import { plain, renderApp } from '../helpers/render.js';

// Issue #23 in the console: M opens the maintenance view — the daily log review (per source the
// ERROR/WARN counts of the last 24 h, the top patterns, the ones new since the previous review) and
// each probe's value with a sparkline of its recorded values — computed off the render path by the
// console's real source (src/cli/console-maintenance.ts) over a real log file, a real state database
// and probe values recorded by the real probe source from a real SQLite database.

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-maint-ui-'));
const log = join(dir, 'app.log');
const dbs: BetterSqlite3.Database[] = [];
afterAll(() => {
  for (const d of dbs) d.close();
});

const stamp = () => new Date().toISOString();

async function setup(name: string, o: { readOnly?: boolean; size?: { columns: number; rows: number } } = {}) {
  const shop = join(dir, `${name}-shop.db`);
  const s = new Database(shop);
  s.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT); INSERT INTO orders (status) VALUES ('failed');");
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'interval: 1s',
      `state_dir: ${join(dir, `${name}-state`)}`,
      'databases:',
      `  - {name: shop, path: ${shop}, critical: false}`,
      'logs:',
      `  - {name: app, path: ${log}}`,
      'probes:',
      '  - name: failed-orders',
      '    database: shop',
      "    sql: SELECT count(*) FROM orders WHERE status = 'failed'",
      '    warn_above: 2',
      '    unit: " orders"',
      '',
    ].join('\n'),
  );
  const config: Config = loadConfigFile(file).config;
  const db = await openStateDb(stateDir(config.state_dir));
  dbs.push(db);
  const store = createAppStore();
  // The monitor's probe source, run three times as the failed orders grow: 1, 2, 3 recorded.
  const [probe] = probeSources({ config, stateDb: db, readOnly: false });
  for (let i = 0; i < 3; i++) {
    if (i) s.exec("INSERT INTO orders (status) VALUES ('failed')");
    store.getState().actions.setChecks((await probe?.run()) ?? []);
  }
  s.close();
  const maintenance = consoleMaintenance({ db, store, readOnly: !!o.readOnly, config: () => config });
  return { ui: render(store, config, maintenance, !!o.readOnly, undefined, o.size), db };
}

function render(store: AppStore, config: Config, maintenance: MaintSource, readOnly: boolean, history: HostHistory = createHostHistory(store, 2000).history, size = { columns: 120, rows: 40 }) {
  const actions: ConsoleActions = {
    containerAction: () => Promise.reject(new Error('unused')),
    follow: () => Promise.resolve({ stop: () => undefined }),
    refresh: () => undefined,
    ack: () => undefined,
    silence: () => undefined,
    acks: () => ({ acknowledged: false }),
    audit: () => undefined,
    history: () => [],
    restore: () => ({ answer: () => undefined }),
    runbook: () => ({ answer: () => undefined }),
    maintenance,
  };
  return renderApp(<App store={store} config={config} keys={KEY_TABLE} readOnly={readOnly} history={history} actions={actions} hostname="box" />, size);
}

const reviews = (db: BetterSqlite3.Database) => (db.prepare("SELECT count(*) AS n FROM log_reviews WHERE source = 'log:app'").get() as { n: number }).n;

describe('the maintenance view (M, issue #23)', () => {
  it('shows the log review and the probes ("reviewing…" first); R reviews again and marks the new pattern; the review is recorded', async () => {
    writeFileSync(log, [`${stamp()} ERROR order 1234 failed`, `${stamp()} ERROR order 98 failed`, `${stamp()} WARN slow query 350 ms`, `${stamp()} INFO ok`, ''].join('\n'));
    const { ui, db } = await setup('rec');
    await ui.waitFor((x) => x.includes('rec'));
    await ui.press('M');
    let f = await ui.waitFor((x) => x.includes('log app: '));
    // The view opened before the review answered, and said so instead of waiting for it.
    expect(ui.frames.some((x) => plain(x).includes('reviewing…'))).toBe(true);
    expect(f).toContain(`log app: 2 ERROR, 1 WARN in 4 lines · 2 patterns, first review · ${dir}`);
    expect(f).toMatch(/ {5}2 ERROR <ts> ERROR order <n> failed/);
    expect(f).toMatch(/ {5}1 WARN {2}<ts> WARN slow query <n> ms/);
    expect(f).toContain('recorded: the next review compares with it');
    // The probe: the monitor's latest value and the values it recorded, as a sparkline.
    f = await ui.waitFor((x) => x.includes('failed-orders'));
    // Thresholded like any check: 3 is above warn_above 2.
    expect(f).toMatch(/failed-orders +WARNING +3 orders +▃▆█ failed-orders is 3 orders \(> 2 orders\)/);
    expect(f).toContain(sparkline([1, 2, 3], 3));
    for (const line of f.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(reviews(db)).toBe(1);

    // A new kind of line since: R reviews again, and only that pattern is NEW.
    appendFileSync(log, `${stamp()} ERROR ledger 7 out of balance\n`);
    await ui.press('R');
    f = await ui.waitFor((x) => x.includes('1 new'));
    expect(f).toMatch(/NEW {6}1 ERROR <ts> ERROR ledger <n> out of balance/);
    expect(f).not.toMatch(/NEW .*order <n> failed/);
    expect(reviews(db)).toBe(2);

    // Esc closes it; opened again it shows the review it made (no new review).
    await ui.press('\x1b');
    await ui.waitFor((x) => !x.includes('failed-orders'));
    await ui.press('M');
    await ui.waitFor((x) => x.includes('1 new'));
    expect(reviews(db)).toBe(2);
  });

  it('under --read-only the review is shown and not recorded (at 80×24: every line within the terminal)', async () => {
    writeFileSync(log, `${stamp()} ERROR order 5 failed\n`);
    const { ui, db } = await setup('ro', { readOnly: true, size: { columns: 80, rows: 24 } });
    await ui.press('M');
    const f = await ui.waitFor((x) => x.includes('log app: ') && x.includes('failed-orders'));
    expect(f).toContain('1 ERROR, 0 WARN in 1 lines');
    expect(f).toContain('not recorded: --read-only');
    expect(f).toMatch(/failed-orders +WARNING +3 orders/);
    for (const line of f.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(f.split('\n').length).toBeLessThan(24);
    expect(reviews(db)).toBe(0);
  });
});

describe('the host history across a restart (issue #23)', () => {
  it('a console started again shows the CPU, memory and disk history the capacity sampler kept before', async () => {
    const file = join(dir, 'restart.yaml');
    writeFileSync(file, ['name: restart', 'interval: 1s', 'refresh: 60s', `state_dir: ${join(dir, 'restart-state')}`, 'capacity: {sample_every: 1s}', ''].join('\n'));
    const config = loadConfigFile(file).config;
    const db = await openStateDb(stateDir(config.state_dir));
    dbs.push(db);
    // The first console's life: the real sampler (it holds the capacity-sampler lease) every 10 minutes of the last hour.
    const t0 = Date.now();
    let clock = t0 - 50 * 60_000;
    const sampler = capacitySource({ config, stateDb: db, stateDir: stateDir(config.state_dir), owner: 'console', now: () => clock });
    for (; clock < t0; clock += 10 * 60_000) await sampler.run();
    sampler.close?.();

    // Started again: before any new host sample, the history holds the last hour from the samples.
    const seed = hostHistorySeed(db, t0, config.refresh);
    const store = createAppStore();
    const { history } = createHostHistory(store, config.refresh, seed);
    const mount = [...seed.disks.keys()][0] ?? '/';
    expect(history.mem.size).toBeGreaterThanOrEqual(45);
    expect(history.cpu.size).toBeGreaterThanOrEqual(35); // from the second sample on: CPU is a busy share between two
    expect(history.disk(mount).size).toBeGreaterThanOrEqual(45);

    // And the gauges draw it: each sparkline is as long as the pane allows, with one new sample.
    store.getState().actions.setEnvelope('host', { data: {
      hostname: 'box', takenAt: t0, cpuCount: 2, cpuPercent: 10, load: [0, 0, 0], memory: { totalBytes: 100, usedBytes: 40, percent: 40 },
      filesystems: [{ mount, device: 'd', type: 'ext4', sizeBytes: 1e9, usedBytes: 5e8, percent: 50 }], network: { rxBytes: 0, txBytes: 0, rxBytesPerSec: 0, txBytesPerSec: 0 }, uptimeSec: 1, source: 'proc',
    } }, t0);
    const ui = render(store, config, consoleMaintenance({ db, store, readOnly: true, config: () => config }), true, history);
    const f = await ui.waitFor((x) => /^cpu /m.test(x));
    // The sparkline's glyphs: after the gauge's bar and its percentage.
    const glyphs = (row: (l: string) => boolean) => {
      const line = f.split('\n').find(row) ?? '';
      return line.slice(line.indexOf('%') + 1).match(/[▁▂▃▄▅▆▇█]/g)?.length ?? 0;
    };
    expect(glyphs((l) => l.startsWith('cpu '))).toBeGreaterThanOrEqual(20);
    expect(glyphs((l) => l.startsWith('mem '))).toBeGreaterThanOrEqual(20);
    expect(glyphs((l) => l.includes(' free'))).toBeGreaterThanOrEqual(20);
    // The network is not sampled: its history starts with this console.
    expect(glyphs((l) => l.startsWith('net '))).toBeLessThanOrEqual(1);
    ui.unmount();
  });
});
