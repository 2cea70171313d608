import { appendFileSync, chmodSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cloneScenario, integrityOf, killAt, makeTemplate, rowsOf, type Scenario, removePrivateCli } from '../helpers/restore-fixture.js';

afterAll(() => removePrivateCli());

// Fault injection (issue #4): a real SIGKILL of the restore process at every step boundary, in the
// middle of the copy, after the copy's check before its rename (issue #27: the check before the
// swap), between the sidecar removal and the rename, and inside an uncommitted stage.
// Then `--resume` must leave exactly the backup's rows and `--rollback` exactly the old rows —
// the old rows partly live in a hot -wal, so a sloppy swap or safety copy would lose them.

let template: Scenario;
beforeAll(async () => {
  template = await makeTemplate();
});

const WHOLE_POINTS = [
  'before:choose', 'after:choose', 'before:verify', 'extract:mid', 'extract:checked', 'after:verify', 'before:stop-writers', 'after:stop-writers',
  'before:safety-copy', 'safety-copy:mid', 'safety-copy:mid-wal', 'after:safety-copy', 'before:swap', 'swap:sidecars', 'swap:rename', 'after:swap', 'before:check',
  'after:check', 'before:start-writers', 'after:start-writers', 'before:health', 'after:health',
];

const STAGED_POINTS = ['before:stage:critical', 'stage:critical:uncommitted', 'after:stage:critical', 'stage:normal:uncommitted', 'after:stage:normal'];

function expectIntact(s: Scenario, expected: 'backup' | 'old') {
  expect(integrityOf(s.db)).toBe('ok');
  expect(rowsOf(s.db)).toEqual(expected === 'backup' ? s.backupSet : s.oldSet);
}

describe.concurrent('whole-file restore killed with SIGKILL', () => {
  it.each(WHOLE_POINTS)('killed at %s: --resume gives exactly the backup', async (point) => {
    const s = cloneScenario(template);
    const k = await killAt(point, ['--config', s.config, 'restore', '--db', 'trading', '--yes', '--accept-loss'], s);
    expect(k.paused, k.stderr).toBe(true);
    // At rest, right after the kill: the old database or the restored one, never a mix.
    expect(integrityOf(s.db)).toBe('ok');
    expect([s.oldSet, s.backupSet]).toContainEqual(rowsOf(s.db));
    const r = await cli(s, ['restore', '--db', 'trading', '--resume', '--yes', '--accept-loss']);
    expect(r.code, r.stderr).toBe(0);
    expectIntact(s, 'backup');
  });

  it.each(WHOLE_POINTS)('killed at %s: --rollback gives exactly the old database', async (point) => {
    const s = cloneScenario(template);
    const k = await killAt(point, ['--config', s.config, 'restore', '--db', 'trading', '--yes', '--accept-loss'], s);
    expect(k.paused, k.stderr).toBe(true);
    const r = await cli(s, ['restore', '--db', 'trading', '--rollback', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expectIntact(s, 'old');
    // The run is closed: nothing left to resume.
    expect((await cli(s, ['restore', '--db', 'trading', '--resume', '--yes', '--accept-loss'])).code).toBe(1);
  });
});

describe('a rollback after the writers ran again', () => {
  it('keeps the rows written since the restore: the old database comes back with them merged in, named, and the file as it was kept', async () => {
    const s = cloneScenario(template);
    const k = await killAt('after:start-writers', ['--config', s.config, 'restore', '--db', 'trading', '--yes', '--accept-loss'], s, async () => {
      // The writer, started again by the restore, commits three trades before the restore dies.
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(s.db);
      db.exec("INSERT INTO trades (id, strategy_id, qty, note) VALUES (1001, 1, 1, 'since'), (1002, 2, 2, 'since'), (1003, 3, 3, 'since')");
      db.close();
    });
    expect(k.paused, k.stderr).toBe(true);
    const r = await cli(s, ['restore', '--db', 'trading', '--rollback', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kept the rows written since the restore: trades: 3 rows \(id 1001–1003\) merged back/);
    const rows = rowsOf(s.db);
    const since = (rows.trades as { id: number; note: string }[]).filter((t) => t.note === 'since').map((t) => t.id);
    expect(since).toEqual([1001, 1002, 1003]);
    // Everything else is exactly the old database.
    expect({ ...rows, trades: (rows.trades as { note: string }[]).filter((t) => t.note !== 'since') }).toEqual(s.oldSet);
    expect(readdirSync(join(s.env.OPSDECK_STATE_DIR as string, 'safety', readdirSync(join(s.env.OPSDECK_STATE_DIR as string, 'safety'))[0] ?? '', 'before-rollback'))).toContain(basename(s.db));
  });
});

describe.concurrent('staged restore killed with SIGKILL', () => {
  it.each(STAGED_POINTS)('killed at %s: --resume gives the backup rows, --rollback the old ones', async (point) => {
    const a = cloneScenario(template);
    const b = cloneScenario(template);
    for (const s of [a, b]) {
      const k = await killAt(point, ['--config', s.config, 'restore', '--db', 'trading', '--tables', 'all', '--yes', '--accept-loss'], s);
      expect(k.paused, k.stderr).toBe(true);
      // At rest: each stage whole or not at all (critical tables together, then normal ones).
      const now = rowsOf(s.db);
      const critical = { strategies: now.strategies, trades: now.trades };
      expect([{ strategies: s.oldSet.strategies, trades: s.oldSet.trades }, { strategies: s.backupSet.strategies, trades: s.backupSet.trades }]).toContainEqual(critical);
      expect([s.oldSet.market_data, s.backupSet.market_data]).toContainEqual(now.market_data);
    }
    const r = await cli(a, ['restore', '--db', 'trading', '--resume', '--yes', '--accept-loss']);
    expect(r.code, r.stderr).toBe(0);
    expectIntact(a, 'backup');
    const rb = await cli(b, ['restore', '--db', 'trading', '--rollback', '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    expectIntact(b, 'old');
  });

  it('a stage killed before its commit is not applied at all; the one before it is whole', async () => {
    const s = cloneScenario(template);
    const k = await killAt('stage:normal:uncommitted', ['--config', s.config, 'restore', '--db', 'trading', '--tables', 'all', '--yes', '--accept-loss'], s);
    expect(k.paused).toBe(true);
    const now = rowsOf(s.db);
    expect(integrityOf(s.db)).toBe('ok');
    expect(now.trades).toEqual(s.backupSet.trades);
    expect(now.strategies).toEqual(s.backupSet.strategies);
    expect(now.market_data).toEqual(s.oldSet.market_data);
  });
});

describe.concurrent('a rollback killed with SIGKILL is finished by running it again', () => {
  it.each(['rollback:start', 'rollback:copy', 'rollback:sidecars', 'rollback:rename'])('killed at %s', async (point) => {
    const t = cloneScenario(template);
    const k1 = await killAt('after:swap', ['--config', t.config, 'restore', '--db', 'trading', '--yes', '--accept-loss'], t);
    expect(k1.paused).toBe(true);
    const k2 = await killAt(point, ['--config', t.config, 'restore', '--db', 'trading', '--rollback', '--yes'], t);
    expect(k2.paused, k2.stderr).toBe(true);
    // Resume is refused once a rollback started.
    const res = await cli(t, ['restore', '--db', 'trading', '--resume', '--yes', '--accept-loss']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/a rollback was started/);
    const r = await cli(t, ['restore', '--db', 'trading', '--rollback', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expectIntact(t, 'old');
  });
});

describe('an unfinished restore is a CRITICAL finding of check until it is finished', () => {
  it('check --json names the run and the commands; after --resume the finding is gone', async () => {
    const s = cloneScenario(template);
    const k = await killAt('after:safety-copy', ['--config', s.config, 'restore', '--db', 'trading', '--yes', '--accept-loss'], s);
    expect(k.paused, k.stderr).toBe(true);
    const before = await cli(s, ['check', '--json']);
    expect(before.code, before.stderr).toBe(2);
    const finding = (JSON.parse(before.stdout) as { checks: { id: string; status: string; message: string }[] }).checks.find((c) => c.id === 'journal:restore:trading');
    expect(finding?.status).toBe('critical');
    // The printed command works from any folder: it names the configuration the restore used.
    expect(finding?.message).toMatch(/unfinished .*opsdeck restore --config \/\S+\.yaml --db trading --resume, or --rollback \(safety copy: \//);
    // --dry-run beside --resume / --rollback shows the plan and changes nothing (it used to take the
    // unattended path and really roll back).
    const dryBack = await cli(s, ['restore', '--db', 'trading', '--rollback', '--dry-run']);
    expect(dryBack.code, dryBack.stderr).toBe(0);
    expect(dryBack.stdout).toMatch(/^rollback of restore \S+ \(trading\) — dry run, nothing changed:\n {2}1\. put back /);
    const dryOn = await cli(s, ['restore', '--db', 'trading', '--resume', '--dry-run']);
    expect(dryOn.stdout).toMatch(/^resume of restore \S+ \(trading\) — dry run, nothing changed:\n {2}1\. restore the whole file: /m);
    expectIntact(s, 'old');
    expect((await cli(s, ['check', '--json'])).stdout).toContain('journal:restore:trading');
    const r = await cli(s, ['restore', '--db', 'trading', '--resume', '--yes', '--accept-loss']);
    // The strategy written after the backup is lost by the whole-file restore: named, and given up
    // only because --accept-loss says so.
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/given up, recorded in the state database: .*strategies: 1 rows given up \(ids 6\)/);
    const after = await cli(s, ['check', '--json']);
    const ids = (JSON.parse(after.stdout) as { checks: { id: string; status: string; message: string }[] }).checks;
    expect(ids.map((c) => c.id)).not.toContain('journal:restore:trading');
    expect(ids.find((c) => c.id === 'sqlite:trading:rows')?.status).toBe('ok');
  });
});

describe('a restore that is still running', () => {
  it('is a WARNING "in progress" finding, and --resume / --rollback beside it are refused; once killed it is CRITICAL', async () => {
    const s = cloneScenario(template);
    let during: { check: { status?: string; message?: string }; resume: { code: number | null; stderr: string }; rollback: { code: number | null } } | undefined;
    const k = await killAt('after:safety-copy', ['--config', s.config, 'restore', '--db', 'trading', '--yes', '--accept-loss'], s, async () => {
      const c = await cli(s, ['check', '--json']);
      const check = (JSON.parse(c.stdout) as { checks: { id: string; status: string; message: string }[] }).checks.find((x) => x.id === 'journal:restore:trading') ?? {};
      during = { check, resume: await cli(s, ['restore', '--db', 'trading', '--resume', '--yes']), rollback: await cli(s, ['restore', '--db', 'trading', '--rollback', '--yes']) };
    });
    expect(k.paused, k.stderr).toBe(true);
    expect(during?.check.status).toBe('warning');
    expect(during?.check.message).toMatch(/is in progress \(pid \d+, /);
    expect(during?.resume.code).toBe(1);
    expect(during?.resume.stderr).toMatch(/is running right now \(pid \d+\)/);
    expect(during?.rollback.code).toBe(1);
    const after = await cli(s, ['check', '--json']);
    expect((JSON.parse(after.stdout) as { checks: { id: string; status: string }[] }).checks.find((x) => x.id === 'journal:restore:trading')?.status).toBe('critical');
    expect((await cli(s, ['restore', '--db', 'trading', '--resume', '--yes', '--accept-loss'])).code).toBe(0);
    expectIntact(s, 'backup');
  });
});

describe('the monitor loop and an interrupted restore', () => {
  it("the journal alert fires while the run is open and resolves after --resume (it does not stay 'resolving')", async () => {
    const { Watcher } = await import('../helpers/watch.js');
    const s = cloneScenario(template, 'interval: 1s\nthresholds: {cpu: 100, memory: 100, disk: 100}\n');
    const k = await killAt('after:swap', ['--config', s.config, 'restore', '--db', 'trading', '--yes', '--accept-loss'], s);
    expect(k.paused, k.stderr).toBe(true);
    const w = new Watcher(s.config, s.env);
    try {
      await w.waitFor('fired', 'journal:restore:trading', 30_000);
      expect((await cli(s, ['restore', '--db', 'trading', '--resume', '--yes', '--accept-loss'])).code).toBe(0);
      await w.waitFor('resolved', 'journal:restore:trading', 30_000);
    } finally {
      await w.stop();
    }
  });
});

describe.concurrent('after a restore: nothing left behind, nothing opened up, safety copies bounded (issue #13)', () => {
  const leftovers = (s: Scenario) => readdirSync(dirname(s.db)).filter((f) => f.startsWith(`.${basename(s.db)}.restore-`));
  const modeOf = (f: string) => (statSync(f).mode & 0o777).toString(8);

  it('killed in the verify step, then --rollback: no .restore-*.part is left beside the database', async () => {
    const s = cloneScenario(template);
    const k = await killAt('extract:mid', ['--config', s.config, 'restore', '--db', 'trading', '--yes', '--accept-loss'], s);
    expect(k.paused, k.stderr).toBe(true);
    // The killed decompression's file carries its pid.
    expect(leftovers(s)).toEqual([expect.stringMatching(/^\.trading\.db\.restore-trading-\d{8}T\d{6}Z-[0-9a-f]{4}\.\d+\.part$/)]);
    const r = await cli(s, ['restore', '--db', 'trading', '--rollback', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(leftovers(s)).toEqual([]);
  });

  it('a 0600 database is restored 0600; its safety copy is 0600 in a 0700 folder', async () => {
    const s = cloneScenario(template);
    chmodSync(s.db, 0o600);
    const r = await cli(s, ['restore', '--db', 'trading', '--yes', '--accept-loss']);
    expect(r.code, r.stderr).toBe(0);
    expectIntact(s, 'backup');
    expect(modeOf(s.db)).toBe('600');
    const safety = join(s.env.OPSDECK_STATE_DIR as string, 'safety');
    expect(modeOf(safety)).toBe('700');
    const [run] = readdirSync(safety);
    expect(modeOf(join(safety, run as string))).toBe('700');
    for (const f of readdirSync(join(safety, run as string))) expect([f, modeOf(join(safety, run as string, f))]).toEqual([f, '600']);
  });

  it('keeps the newest keep_safety_copies safety copies; backup list shows them and why', async () => {
    const s = cloneScenario(template);
    appendFileSync(s.config, '  keep_safety_copies: 1\n  keep_safety_days: 0\n');
    const safety = join(s.env.OPSDECK_STATE_DIR as string, 'safety');
    for (let i = 0; i < 2; i++) {
      const r = await cli(s, ['restore', '--db', 'trading', '--yes', '--accept-loss']);
      expect(r.code, r.stderr).toBe(0);
    }
    const kept = readdirSync(safety);
    expect(kept).toHaveLength(1);
    const list = await cli(s, ['backup', 'list', '--db', 'trading']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/safety copies in .*safety \(restores keep the newest 1 of each database, any under 0d, and every unfinished run's\):/);
    expect(list.stdout).toMatch(new RegExp(`${kept[0] ?? '?'} .* completed  kept: newest 1`));
  });
});
