import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buckets } from '../../src/domain/retention.js';
import { openStateDb } from '../../src/state/statedb.js';
import { killAt, runCli, seedTrading, removePrivateCli, type Scenario } from '../helpers/restore-fixture.js';

afterAll(() => removePrivateCli());

// backup create/verify/prune through the built CLI, against real files: configuration files copied
// when they change, verification results in the state database, and prune over a simulated year.

function setup(backupExtra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bcli-'));
  const db = join(dir, 'trading.db');
  seedTrading(db, 50);
  const appConf = join(dir, 'app.env');
  writeFileSync(appConf, 'A=1\n');
  const config = join(dir, 'opsdeck.yaml');
  writeFileSync(config, `databases:\n  - name: trading\n    path: ${db}\nbackup:\n  dir: ${join(dir, 'backups')}\n  config_files: [app.env]\n${backupExtra}`);
  const env = { XDG_CONFIG_HOME: dir, OPSDECK_STATE_DIR: join(dir, 'state') };
  const run = (args: string[]) => runCli(['--config', config, ...args], { env, cwd: dir });
  return { dir, db, appConf, run };
}

const modeOf = (f: string) => (statSync(f).mode & 0o777).toString(8);

describe.concurrent('backup CLI: nothing left behind, nothing opened up (issue #13)', () => {
  it('a backup create killed with SIGKILL leaves a .tmp named by its pid; the next create removes it', async () => {
    const { dir, run } = setup();
    const bdir = join(dir, 'backups', 'trading');
    const s = { dir, env: { XDG_CONFIG_HOME: dir, OPSDECK_STATE_DIR: join(dir, 'state') } } as unknown as Scenario;
    let before: string[] = [];
    for (let i = 0; i < 2; i++) {
      const k = await killAt('backup:compressed', ['--config', join(dir, 'opsdeck.yaml'), 'backup', 'create'], s);
      expect(k.paused, k.stderr).toBe(true);
      // Each killed run's .tmp is there; the one before it was removed by the next run.
      const left = readdirSync(bdir).filter((f) => f.endsWith('.tmp'));
      expect(left).toHaveLength(1);
      expect(left[0]).toMatch(/^\.trading-\d{8}T\d{6}Z-\d+\.db\.br\.tmp$/);
      expect(left).not.toEqual(before);
      before = left;
    }
    expect((await run(['backup', 'create'])).code).toBe(0);
    expect(readdirSync(bdir).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(readdirSync(bdir).filter((f) => f.endsWith('.db.br'))).toHaveLength(1);
  });

  it('a 0600 database is backed up 0600 in a 0700 folder; a 0600 config file is copied 0600', async () => {
    const { dir, db, appConf, run } = setup();
    chmodSync(db, 0o600);
    chmodSync(appConf, 0o600);
    const r = await run(['backup', 'create', '--verify']);
    expect(r.code, r.stderr).toBe(0);
    const bdir = join(dir, 'backups', 'trading');
    expect(modeOf(bdir)).toBe('700');
    for (const f of readdirSync(bdir)) expect([f, modeOf(join(bdir, f))]).toEqual([f, '600']);
    const cdir = join(dir, 'backups', '_config');
    expect(modeOf(cdir)).toBe('700');
    for (const f of readdirSync(cdir)) expect([f, modeOf(join(cdir, f))]).toEqual([f, '600']);
  });
});

describe.concurrent('backup CLI', () => {
  it('copies configuration files only when their content changed', async () => {
    const { dir, appConf, run } = setup();
    const first = JSON.parse((await run(['backup', 'create', '--json'])).stdout) as { configFiles: { source: string; stored: string }[] };
    expect(first.configFiles.map((c) => c.source)).toEqual([appConf]);
    const again = JSON.parse((await run(['backup', 'create', '--json'])).stdout) as { configFiles: unknown[] };
    expect(again.configFiles).toEqual([]);
    writeFileSync(appConf, 'A=2\n');
    await new Promise((r) => setTimeout(r, 1100)); // the copies are named by the second
    const changed = await run(['backup', 'create']);
    expect(changed.stdout).toMatch(new RegExp(`config file ${appConf} changed: copied to .*/backups/_config/app\\.env\\.\\d{8}T\\d{6}Z`));
    const stored = readdirSync(join(dir, 'backups', '_config')).filter((f) => f.startsWith('app.env.')).sort();
    expect(stored).toHaveLength(2);
    expect(readFileSync(join(dir, 'backups', '_config', stored[1]!), 'utf8')).toBe('A=2\n');
  });

  it('verification results are recorded in the state database', async () => {
    const { dir, run } = setup();
    expect((await run(['backup', 'create'])).code).toBe(0);
    expect((await run(['backup', 'verify'])).code).toBe(0);
    const db = await openStateDb(join(dir, 'state'));
    const rows = db.prepare('SELECT database, ok, message FROM backup_verifications').all();
    db.close();
    expect(rows).toEqual([{ database: 'trading', ok: 1, message: 'ok: checksum, integrity_check and foreign_key_check pass' }]);
  });

  it('prune --read-only is refused before it prints anything, and audited', async () => {
    const { dir, run } = setup('  keep_last: 0\n  keep_hourly: 0\n');
    expect((await run(['backup', 'create'])).code).toBe(0);
    expect((await run(['backup', 'verify'])).code).toBe(0);
    const r = await run(['--read-only', 'backup', 'prune', '--yes']);
    // Nothing to prune yet: the refusal is only needed when something would be deleted.
    expect(r.code).toBe(0);
    // A year of backups: now something would be deleted.
    const bdir = join(dir, 'backups', 'trading');
    const m = readdirSync(bdir).find((f) => f.endsWith('.json'))!;
    const base = JSON.parse(readFileSync(join(bdir, m), 'utf8')) as { id: string; createdAt: string };
    // Three more the same day, minutes older: the daily rule keeps only the newest of that day.
    for (let i = 1; i <= 3; i++) {
      const id = `old-${i}`;
      writeFileSync(join(bdir, `${id}.json`), JSON.stringify({ ...base, id, createdAt: new Date(Date.parse(base.createdAt) - i * 60_000).toISOString() }));
      copyFileSync(join(bdir, `${base.id}.db.br`), join(bdir, `${id}.db.br`));
    }
    const p = await run(['--read-only', 'backup', 'prune', '--yes']);
    expect(p.code).toBe(1);
    // Nothing printed that reads as done (issue #12: the "delete …" lines came before the refusal).
    expect(p.stdout).toBe('');
    expect(p.stderr).toBe('opsdeck: backup prune deletes files; refused in --read-only mode (nothing deleted; --dry-run shows the 3 it would delete)\n');
    expect(readdirSync(bdir).filter((f) => f.startsWith('old-'))).toHaveLength(6);
    const db = await openStateDb(join(dir, 'state'));
    expect(db.prepare("SELECT outcome FROM audit WHERE action = 'backup.prune'").all()).toEqual([{ outcome: 'refused' }]);
    db.close();
  });

  it('prune over a simulated year of daily backups keeps exactly 7 daily / 4 weekly / 12 monthly', async () => {
    // keep_last and keep_hourly off: this is the daily/weekly/monthly rules alone (with their
    // defaults, 24 and 48, one backup a day keeps 48 days: restic counts hours that have a backup).
    const { dir, run } = setup('  keep_last: 0\n  keep_hourly: 0\n');
    expect((await run(['backup', 'create'])).code).toBe(0);
    expect((await run(['backup', 'verify'])).code).toBe(0);
    const bdir = join(dir, 'backups', 'trading');
    const real = readdirSync(bdir).find((f) => f.endsWith('.json'))!;
    const base = JSON.parse(readFileSync(join(bdir, real), 'utf8')) as { id: string; createdAt: string };
    // Local time, 03:00 every day, newest 2025-11-23.
    const days = Array.from({ length: 365 }, (_, i) => new Date(2025, 10, 23 - i, 3, 0).getTime());
    for (const t of days) {
      const id = `trading-${buckets(t).day}`;
      writeFileSync(join(bdir, `${id}.json`), JSON.stringify({ ...base, id, createdAt: new Date(t).toISOString() }));
      copyFileSync(join(bdir, `${base.id}.db.br`), join(bdir, `${id}.db.br`));
    }
    // Only the simulated year remains (verified, like the real one they copy).
    rmSync(join(bdir, `${base.id}.json`));
    rmSync(join(bdir, `${base.id}.db.br`));
    const dry = await run(['backup', 'prune', '--dry-run', '--json']);
    const plan = JSON.parse(dry.stdout) as { delete: string[] };
    expect(plan.delete).toHaveLength(365 - 21);
    const r = await run(['backup', 'prune', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const kept = readdirSync(bdir).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort().reverse();
    expect(kept).toEqual([
      'trading-2025-11-23', 'trading-2025-11-22', 'trading-2025-11-21', 'trading-2025-11-20', 'trading-2025-11-19', 'trading-2025-11-18',
      'trading-2025-11-17', 'trading-2025-11-16', 'trading-2025-11-09', 'trading-2025-11-02', 'trading-2025-10-31', 'trading-2025-09-30', 'trading-2025-08-31',
      'trading-2025-07-31', 'trading-2025-06-30', 'trading-2025-05-31', 'trading-2025-04-30', 'trading-2025-03-31', 'trading-2025-02-28',
      'trading-2025-01-31', 'trading-2024-12-31',
    ].sort().reverse());
    expect(readdirSync(bdir).filter((f) => f.endsWith('.db.br'))).toHaveLength(kept.length);
  });

  it('prune and list keep every backup taken before an open sqlite alert (issue #10), and prune again once it resolved', async () => {
    const { dir, run } = setup('  keep_last: 1\n  keep_hourly: 0\n  keep_daily: 0\n  keep_weekly: 0\n  keep_monthly: 0\n');
    expect((await run(['backup', 'create', '--verify'])).code).toBe(0);
    const bdir = join(dir, 'backups', 'trading');
    const real = readdirSync(bdir).find((f) => f.endsWith('.json'))!;
    const base = JSON.parse(readFileSync(join(bdir, real), 'utf8')) as { id: string; createdAt: string };
    const t0 = Date.parse(base.createdAt);
    // Five older copies, 1 to 5 minutes before the newest (a 1-minute schedule).
    for (let i = 1; i <= 5; i++) {
      const id = `old-${i}`;
      writeFileSync(join(bdir, `${id}.json`), JSON.stringify({ ...base, id, createdAt: new Date(t0 - i * 60_000).toISOString() }));
      copyFileSync(join(bdir, `${base.id}.db.br`), join(bdir, `${id}.db.br`));
    }
    // Rows were lost 2.5 minutes before the newest backup: the monitor's alert fired then and is
    // still open. Written into the state database's alert history as the monitor writes it.
    const state = await openStateDb(join(dir, 'state'));
    const alert = (event: string, at: number) =>
      state.prepare('INSERT INTO alert_events (at, check_id, event, status, message) VALUES (?, ?, ?, ?, ?)').run(at, 'sqlite:trading:rows', event, 'critical', 'rows lost');
    alert('fired', t0 - 150_000);
    const dry = async () => (JSON.parse((await run(['backup', 'prune', '--dry-run', '--json'])).stdout) as { delete: string[] }).delete.sort();
    expect(await dry()).toEqual(['old-1', 'old-2']);
    const list = JSON.parse((await run(['backup', 'list', '--json'])).stdout) as { backups: { id: string; tier: string }[] };
    expect(list.backups.find((b) => b.id === 'old-3')?.tier).toMatch(/^taken before open alert sqlite:trading:rows \(fired \d{4}-\d\d-\d\d \d\d:\d\d\)$/);
    expect(list.backups.find((b) => b.id === 'old-1')?.tier).toBe('expired');
    expect(list.backups.find((b) => b.id === base.id)?.tier).toBe('last 1/1, newest verified');
    const r = await run(['backup', 'prune', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(bdir).filter((f) => f.endsWith('.json')).sort()).toEqual([`${base.id}.json`, 'old-3.json', 'old-4.json', 'old-5.json'].sort());
    // Resolved: the hold ends, and the policy applies to the older ones too.
    alert('resolved', t0 + 10_000);
    state.close();
    expect(await dry()).toEqual(['old-3', 'old-4', 'old-5']);
  });
});

describe('a backup folder alone names its database (issue #11)', () => {
  it('backup verify ID --dir DIR and restore --backup ID --dir DIR work without --db or a config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bdir-'));
    const db = join(dir, 'orders.db');
    seedTrading(db, 20);
    const env = { OPSDECK_STATE_DIR: join(dir, 'state') };
    const bdir = join(dir, 'kept');
    const created = await runCli(['backup', 'create', '--db', db, '--dir', bdir, '--json'], { env, cwd: dir });
    expect(created.code, created.stderr).toBe(0);
    const id = (JSON.parse(created.stdout) as { created: { id: string }[] }).created[0]?.id ?? '';
    expect(id).toMatch(/^orders-/);
    const verified = await runCli(['backup', 'verify', id, '--dir', bdir], { env, cwd: dir });
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(new RegExp(`OK\\s+${id}`));
    const restored = await runCli(['restore', '--backup', id, '--dir', bdir, '--yes'], { env, cwd: dir });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`orders (${db}) from backup ${id}`);
  });
});

describe('backup list with no configuration while a demo runs (issue #11)', () => {
  it('names the --config of the demo instead of a bare usage error', async () => {
    const home = mkdtempSync(join(tmpdir(), 'opsdeck-bl-'));
    const demo = join(home, 'data', 'opsdeck', 'demo');
    (await import('node:fs')).mkdirSync(demo, { recursive: true });
    writeFileSync(join(demo, 'opsdeck.yaml'), 'name: demo\n');
    const r = await runCli(['backup', 'list'], { env: { XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config'), HOME: home }, cwd: home });
    expect(r.code).toBe(64);
    expect(r.stderr).toBe(`opsdeck: no database configured: pass --db NAME|PATH (the demo's databases: --config ${join(demo, 'opsdeck.yaml')})\n`);
  });
});
