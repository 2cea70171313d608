import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openStateDb } from '../../src/state/statedb.js';
import { cliPath, removePrivateCli, runCli, seedTrading } from '../helpers/restore-fixture.js';
import { Watcher } from '../helpers/watch.js';

// Scheduled backups (issue #10) run by real `opsdeck watch` processes on one state directory:
// the lease holder starts `opsdeck backup create --verify --prune` children; a slot is never
// backed up twice, and a crashed holder's duty moves to the other watch.

afterAll(() => removePrivateCli());
const watchers: Watcher[] = [];
afterEach(async () => {
  for (const w of watchers.splice(0)) await w.kill('SIGKILL');
});

function workspace(backup: string) {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-sched-'));
  seedTrading(join(dir, 'trading.db'), 50);
  const config = join(dir, 'opsdeck.yaml');
  writeFileSync(
    config,
    `interval: 1s
thresholds: {cpu: 100, memory: 100, disk: 100}
state_dir: state
databases:
  - name: trading
    path: trading.db
    critical_tables: [strategies, trades]
backup:
${backup}`,
  );
  return { dir, config };
}

interface Manifest {
  id: string;
  createdAt: string;
  verify?: { ok: boolean };
}
const manifests = (dir: string): Manifest[] => {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Manifest)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  } catch {
    return [];
  }
};

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000, detail: () => unknown = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(detail())}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What the state database and both watches say, for a failure message. */
function diagnose(dir: string, ...ws: Watcher[]) {
  const db = new Database(join(dir, 'state', 'state.db'), { readonly: true });
  try {
    return { runs: db.prepare('SELECT * FROM backup_runs').all(), leases: db.prepare('SELECT * FROM leases').all(), watches: ws.map((w) => ({ pid: w.pid, events: w.events, stderr: w.errors })) };
  } finally {
    db.close();
  }
}

/** `backup` lines of a watch's --json output. */
const backupEvents = (w: Watcher) => (w.events as unknown as { event: string; outcome?: string; backup?: string; message?: string }[]).filter((e) => e.event === 'backup');

describe('scheduled backups', () => {
  it('two watches on one state directory run each scheduled backup once; a crashed holder hands over at once', async () => {
    const { dir, config } = workspace('  dir: backups\n  schedule: 2s\n');
    const bdir = join(dir, 'backups', 'trading');
    const bin = await cliPath();
    const a = new Watcher(config, {}, bin);
    const b = new Watcher(config, {}, bin);
    watchers.push(a, b);
    const verified = () => manifests(bdir).filter((m) => m.verify?.ok);
    await until('two verified backups', () => verified().length >= 2);
    // While they run, the RPO check names the schedule.
    const check = JSON.parse((await runCli(['check', '--json', '--config', config])).stdout) as { checks: { id: string; message: string }[] };
    expect(check.checks.find((c) => c.id === 'backup:trading')?.message).toMatch(/^last verified backup \d+s ago \(RPO 24h\); (next scheduled in \d+s|scheduled backup (due now|running for \d+s))$/);
    // Exactly one of them holds the lease and has run every backup so far.
    const holder = backupEvents(a).length > 0 ? a : b;
    const other = holder === a ? b : a;
    expect(backupEvents(other)).toEqual([]);
    expect(other.running, JSON.stringify(diagnose(dir, a, b))).toBe(true);
    await holder.kill('SIGKILL');
    const atKill = verified().length;
    await until('two more verified backups, by the other watch', () => verified().length >= atKill + 2 && backupEvents(other).filter((e) => e.outcome === 'ok').length >= 1, 30_000, () => diagnose(dir, a, b));
    await other.stop();
    // A child that was running when its watch stopped (or was killed) finishes on its own and
    // records its run itself: wait for every run to have an outcome.
    const state = await openStateDb(join(dir, 'state'));
    await until('every run recorded', () => (state.prepare('SELECT count(*) AS n FROM backup_runs WHERE outcome IS NULL').get() as { n: number }).n === 0);
    const all = manifests(bdir);
    expect(all.every((m) => m.verify?.ok), JSON.stringify(all)).toBe(true);
    // Each slot once: no two backups within one schedule period (due = newest verified + 2 s).
    const times = all.map((m) => Date.parse(m.createdAt));
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(2000);
    // Every backup is audited as a scheduled create, by one of the two watches, both of which ran some.
    const audit = state.prepare("SELECT target, detail FROM audit WHERE action = 'backup.create' AND outcome = 'ok' ORDER BY id").all() as { target: string; detail: string }[];
    const runs = state.prepare('SELECT outcome, backup_id AS backupId, pid FROM backup_runs ORDER BY id').all() as { outcome: string | null; backupId: string | null; pid: number }[];
    state.close();
    expect(audit.map((r) => r.target).sort()).toEqual(all.map((m) => m.id).sort());
    const by = new Set(audit.map((r) => /^scheduled by watch pid (\d+) \(every 2s\)$/.exec(r.detail)?.[1]));
    expect(by).toEqual(new Set([String(a.pid), String(b.pid)]));
    // Every run succeeded and names its backup — also the one whose watch was killed under it.
    expect(runs.map((r) => r.outcome)).toEqual(runs.map(() => 'ok'));
    expect(runs.map((r) => r.backupId).sort()).toEqual(all.map((m) => m.id).sort());
    expect(new Set(runs.map((r) => r.pid))).toEqual(new Set([a.pid, b.pid]));
  }, 90_000);

  it('a failed scheduled backup is a warning with its one-line error, audited, and retried after a delay, not every interval', async () => {
    // backup.dir is a regular file: creating <dir>/trading fails (ENOTDIR) — a real file-system fault.
    const { dir, config } = workspace('  dir: not-a-dir\n  schedule: 1m\n');
    writeFileSync(join(dir, 'not-a-dir'), 'x');
    const w = new Watcher(config);
    watchers.push(w);
    const failed = await until('a failed scheduled backup', () => backupEvents(w).find((e) => e.outcome === 'failed'));
    expect(failed.message).toMatch(/not-a-dir/);
    // Three more intervals: no second attempt (the retry waits a minute).
    await new Promise((r) => setTimeout(r, 3000));
    expect(backupEvents(w).filter((e) => e.outcome === 'started')).toHaveLength(1);
    const check = JSON.parse((await runCli(['check', '--json', '--config', config])).stdout) as { checks: { id: string; status: string; message: string }[] };
    const rpo = check.checks.find((c) => c.id === 'backup:trading');
    expect(rpo?.status).toBe('warning');
    expect(rpo?.message).toMatch(/^scheduled backup failed \d+s ago: .*not-a-dir.*; no verified backup of trading; retry in \d+s$/);
    await w.stop();
    const state = await openStateDb(join(dir, 'state'));
    const audit = state.prepare("SELECT outcome, detail FROM audit WHERE action = 'backup.create'").all() as { outcome: string; detail: string }[];
    state.close();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.outcome).toBe('failed');
    expect(audit[0]?.detail).toMatch(/^scheduled by watch pid \d+ \(every 1m\): .*not-a-dir/);
  }, 60_000);

  it('a backup due while the configuration file does not load is postponed, not failed, and runs once the file loads again (an operator trial: a typo of a few seconds left a failed backup on screen for a minute)', async () => {
    const { dir, config } = workspace('  dir: backups\n  schedule: 4s\n');
    const first = await runCli(['backup', 'create', '--verify', '--config', config]);
    expect(first.code, first.stderr).toBe(0);
    const good = readFileSync(config, 'utf8');
    const w = new Watcher(config);
    watchers.push(w);
    // Running (it holds the scheduler's lease), then the file breaks: the watch keeps its configuration.
    await until('the scheduler lease', () => w.lines.some((l) => l.includes('lease-taken') && l.includes('backup-scheduler')), 30_000, () => w.lines);
    writeFileSync(config, good.replace('interval: 1s', 'interval: banana'));
    const postponed = await until('a postponed scheduled backup', () => backupEvents(w).find((e) => e.outcome === 'postponed'), 30_000, () => backupEvents(w));
    expect(postponed.message).toMatch(/^scheduled backup of trading postponed: the configuration file does not load now \(.*interval.*\); it starts once the file loads$/);
    // Said once, however many intervals pass; nothing failed, nothing started since.
    const at = backupEvents(w).indexOf(postponed);
    await new Promise((r) => setTimeout(r, 2500));
    expect(backupEvents(w).slice(at + 1)).toEqual([]);
    writeFileSync(config, good);
    await until('the backup, once the file loads', () => backupEvents(w).find((e) => e.outcome === 'ok'), 30_000, () => backupEvents(w));
    await w.stop();
    const state = await openStateDb(join(dir, 'state'));
    const runs = state.prepare('SELECT outcome FROM backup_runs').all() as { outcome: string | null }[];
    state.close();
    expect(runs.map((r) => r.outcome)).not.toContain('failed');
    expect(runs.map((r) => r.outcome)).toContain('ok');
  }, 90_000);
});
