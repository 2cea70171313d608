import { execFileSync, spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRunChecks } from '../../src/engine/findings.js';
import { openStateDb } from '../../src/state/statedb.js';
import { cli, cloneScenario, integrityOf, killAt, makeTemplate, rowsOf, runCli, seedTrading, type Scenario, removePrivateCli } from '../helpers/restore-fixture.js';

// The restore command against real SQLite files: whole-file and staged restores bring back exactly
// the backup's rows; bad input (unknown db / backup / table, a damaged backup, an open database,
// a full disk, read-only file systems, --read-only, no terminal) is refused with one line and
// nothing lost. ENOSPC and read-only are real tmpfs mounts (tests run as root).

const require = createRequire(import.meta.url);
let template: Scenario;
const mounts: string[] = [];

function mountTmpfs(path: string, size: string) {
  mkdirSync(path, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]);
  mounts.push(path);
}

beforeAll(async () => {
  template = await makeTemplate();
});
afterAll(async () => {
  await removePrivateCli();
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', [m]);
    } catch {
      // already unmounted
    }
  }
});

const backupId = (s: Scenario) => (readdirSync(join(s.dir, 'backups', 'trading')).find((f) => f.endsWith('.json')) ?? '').replace(/\.json$/, '');

describe.concurrent('restore brings back exactly the backup', () => {
  it('whole file: rows equal the backup, integrity ok, stale -wal gone, safety copy holds the old rows', async () => {
    const s = cloneScenario(template);
    const r = await cli(s, ['restore', '--db', 'trading', '--yes', '--accept-loss', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { status: string; safetyCopy: string; steps: { id: string; status: string }[] };
    expect(doc.status).toBe('completed');
    expect(doc.steps.every((x) => x.status === 'done')).toBe(true);
    // The stale -wal of the old file is gone: the database stays in WAL mode (issue #22's trial),
    // so a -wal may be there again, empty or holding only frames of the restored file.
    expect(existsSync(`${s.db}-wal`) ? statSync(`${s.db}-wal`).size : 0).toBe(0);
    const mode = new Database(s.db, { readonly: true });
    expect(mode.pragma('journal_mode', { simple: true })).toBe('wal');
    mode.close();
    expect(integrityOf(s.db)).toBe('ok');
    expect(rowsOf(s.db)).toEqual(s.backupSet);
    expect(rowsOf(join(doc.safetyCopy, 'trading.db'))).toEqual(s.oldSet);
    expect(readdirSync(join(s.dir, 'data')).filter((f) => f.includes('.restore-'))).toEqual([]);
  });

  it('issue #27: a backup verified when made is checked by its SHA-256 only; --full-verify, and an unverified backup, get integrity_check', async () => {
    type Doc = { status: string; safetyCopy: string; steps: { id: string; status: string; note?: string; detail: string }[] };
    const verifyNote = (d: Doc) => d.steps.find((x) => x.id === 'verify')?.note ?? '';
    const quick = cloneScenario(template);
    const full = cloneScenario(template);
    const unverified = cloneScenario(template);
    // The unverified one: its manifest as `backup create` leaves it before `backup verify`.
    const mf = join(unverified.dir, 'backups', 'trading', `${backupId(unverified)}.json`);
    const m = JSON.parse(readFileSync(mf, 'utf8')) as Record<string, unknown>;
    delete m.verify;
    writeFileSync(mf, JSON.stringify(m));
    const [a, b, c] = await Promise.all([
      cli(quick, ['restore', '--db', 'trading', '--yes', '--accept-loss', '--json']),
      cli(full, ['restore', '--db', 'trading', '--yes', '--accept-loss', '--json', '--full-verify']),
      cli(unverified, ['restore', '--db', 'trading', '--backup', backupId(unverified), '--yes', '--accept-loss', '--json']),
    ]);
    for (const r of [a, b, c]) expect(r.code, r.stderr).toBe(0);
    const [da, db, dc] = [a, b, c].map((r) => JSON.parse(r.stdout) as Doc) as [Doc, Doc, Doc];
    expect(verifyNote(da)).toMatch(/checksum ok \(the SHA-256 of the backup verified .*not run again; --full-verify runs them\), quick_check of the copy ok/);
    expect(verifyNote(db)).toMatch(/^checksum ok, integrity_check ok/);
    expect(verifyNote(dc)).toMatch(/^checksum ok, integrity_check ok/);
    // Each way restores the same rows; the whole file's copy is checked before the swap (quick_check,
    // or integrity_check when checked in full), and the check step proves the file in place is it.
    for (const [s, d, pragma] of [[quick, da, 'quick_check'], [full, db, 'integrity_check'], [unverified, dc, 'integrity_check']] as const) {
      expect(d.status).toBe('completed');
      expect(d.steps.find((x) => x.id === 'check')?.note).toMatch(new RegExp(`^${pragma} of the copy ok before the swap; the file in place is that copy \\(its header, (wal|rollback journal)\\) and opens, \\d+ tables match the backup's row counts`));
      expect(rowsOf(s.db)).toEqual(s.backupSet);
    }
    // The safety copy of a whole-file restore is a hard link of the old file (same file system), not a
    // copy: the swap renamed the restored file over the name, the old rows are in the safety copy.
    expect(da.steps.find((x) => x.id === 'safety-copy')?.note).toMatch(/^linked trading\.db \(same file system/);
    expect((JSON.parse(readFileSync(join(da.safetyCopy, 'safety.json'), 'utf8')) as { linked?: boolean }).linked).toBe(true);
    expect(rowsOf(join(da.safetyCopy, 'trading.db'))).toEqual(quick.oldSet);
    // The expected duration of the byte-bound steps is in their details before they run (the dry run shows them).
    const dry = JSON.parse((await cli(quick, ['restore', '--db', 'trading', '--dry-run', '--json'])).stdout) as Doc;
    for (const id of ['verify', 'safety-copy', 'check']) expect(dry.steps.find((x) => x.id === id)?.detail).toMatch(/ — expected (under 1 s|≈ \d+ s) \(/);
  });

  it('--tables critical restores only the critical tables, in one stage', async () => {
    const s = cloneScenario(template);
    const r = await cli(s, ['restore', '--db', 'trading', '--tables', 'critical', '--yes', '--accept-loss']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout, r.stdout + r.stderr).toMatch(/restore critical tables: restored strategies \(5 rows\), trades \(300 rows\)/);
    const now = rowsOf(s.db);
    expect(now.trades).toEqual(s.backupSet.trades);
    expect(now.strategies).toEqual(s.backupSet.strategies);
    expect(now.market_data).toEqual(s.oldSet.market_data);
    expect(integrityOf(s.db)).toBe('ok');
  });

  it('--tables all: critical stage first, then normal; the result equals the backup', async () => {
    const s = cloneScenario(template);
    const r = await cli(s, ['restore', '--db', 'trading', '--tables', 'all', '--yes', '--accept-loss']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.indexOf('restore critical tables')).toBeLessThan(r.stdout.indexOf('restore normal tables'));
    expect(rowsOf(s.db)).toEqual(s.backupSet);
  });

  it('a table dropped by accident comes back with its schema and indexes', async () => {
    const s = cloneScenario(template);
    const db = new Database(s.db);
    db.exec('DROP TABLE trades');
    db.close();
    const r = await cli(s, ['restore', '--db', 'trading', '--tables', 'trades', '--yes', '--accept-loss']);
    expect(r.code, r.stderr).toBe(0);
    expect(rowsOf(s.db).trades).toEqual(s.backupSet.trades);
    const check = new Database(s.db, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type='index' AND name='trades_strategy'").get()).toBeTruthy();
    check.close();
  });

  it('a deleted database file is restored (the safety copy records that there was none)', async () => {
    const s = cloneScenario(template);
    execFileSync('rm', ['-f', s.db, `${s.db}-wal`, `${s.db}-shm`]);
    const r = await cli(s, ['restore', '--db', 'trading', '--yes', '--accept-loss']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no database file existed/);
    expect(rowsOf(s.db)).toEqual(s.backupSet);
  });

  it('works with no config at all: --db PATH --dir DIR', async () => {
    const s = cloneScenario(template);
    const r = await cli({ ...s, config: join(s.dir, 'none.yaml') }, ['restore', '--db', s.db, '--dir', join(s.dir, 'backups', 'trading'), '--yes', '--accept-loss']).catch(() => undefined);
    // --config pointing at a missing file is a config error; run without --config instead.
    expect(r?.code).toBe(78);
    const ok = await runCli(['restore', '--db', s.db, '--dir', join(s.dir, 'backups', 'trading'), '--yes', '--accept-loss'], { env: s.env, cwd: s.dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(rowsOf(s.db)).toEqual(s.backupSet);
  });

  it('--dry-run shows the ten steps and changes nothing; allowed under --read-only', async () => {
    const s = cloneScenario(template);
    const r = await cli(s, ['--read-only', 'restore', '--db', 'trading', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => /^ {2}\d+\. /.test(l))).toHaveLength(10);
    expect(rowsOf(s.db)).toEqual(s.oldSet);
  });
});

describe.concurrent('restore refuses bad input with one line and loses nothing', () => {
  it.each<[string, (s: Scenario) => string[], number, RegExp]>([
    ['an unknown database', () => ['restore', '--db', 'nope', '--yes', '--accept-loss'], 64, /^opsdeck: --db nope: no configured database of that name and no such file \(expected one of: trading, or the path of a SQLite file\)\n$/],
    ['an unknown backup id', () => ['restore', '--db', 'trading', '--backup', 'trading-19990101T000000Z', '--yes', '--accept-loss'], 1, /^opsdeck: backup trading-19990101T000000Z: not found in .*backups\/trading \(newest: trading-\d{8}T\d{6}Z(?:-\d+)?\)\n$/],
    ['a table not in the backup', () => ['restore', '--db', 'trading', '--tables', 'trades,nope', '--yes', '--accept-loss'], 1, /^opsdeck: table nope is not in backup trading-\S+ \(it has: market_data, strategies, trades\) \(restore of trading stopped; the database was not changed\)\n$/],
    ['no terminal and no --yes', () => ['restore', '--db', 'trading'], 64, /^opsdeck: restore asks before each step: run it in a terminal, or pass --yes \(or --dry-run to preview\)\n$/],
    ['--resume with nothing to resume', () => ['restore', '--db', 'trading', '--resume', '--yes', '--accept-loss'], 1, /^opsdeck: no unfinished restore of trading in the journal; nothing to resume\n$/],
    ['--resume with --rollback', () => ['restore', '--resume', '--rollback'], 64, /^opsdeck: --resume and --rollback exclude each other\n$/],
  ])('%s', async (_name, args, code, msg) => {
    const s = cloneScenario(template);
    const r = await cli(s, args(s));
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code, stderr: expect.stringMatching(msg) as string });
    expect(rowsOf(s.db)).toEqual(s.oldSet);
  });

  it('a backup whose checksum does not match: exit 2, never restored, database untouched', async () => {
    const s = cloneScenario(template);
    const file = join(s.dir, 'backups', 'trading', `${backupId(s)}.db.br`);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from([0xff ^ readFileSync(file)[100]!]), 0, 1, 100);
    closeSync(fd);
    const r = await cli(s, ['restore', '--db', 'trading', '--yes', '--accept-loss']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^opsdeck: backup trading-\S+: checksum mismatch \(the stored file is damaged or truncated\); it cannot be restored \(restore of trading stopped; the database was not changed\)\n$/);
    expect(rowsOf(s.db)).toEqual(s.oldSet);
    expect(readdirSync(join(s.dir, 'data')).filter((f) => f.includes('.restore-'))).toEqual([]);
  });

  it('a backup that failed verification is refused by id', async () => {
    const s = cloneScenario(template);
    const id = backupId(s);
    copyFileSync(join(s.dir, 'backups', 'trading', `${id}.db.br`), join(s.dir, 'keep.br'));
    execFileSync('truncate', ['-s', '100', join(s.dir, 'backups', 'trading', `${id}.db.br`)]);
    expect((await cli(s, ['backup', 'verify', '--db', 'trading'])).code).toBe(2);
    const r = await cli(s, ['restore', '--db', 'trading', '--backup', id, '--yes', '--accept-loss']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/failed verification .* it cannot be restored/);
  });

  it('--read-only refuses, and the refusal is in the audit log', async () => {
    const s = cloneScenario(template);
    const r = await cli(s, ['--read-only', 'restore', '--db', 'trading', '--yes', '--accept-loss']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('opsdeck: restore changes the database and stops services; refused in --read-only mode\n');
    const db = await openStateDb(join(s.dir, 'state'));
    expect(db.prepare("SELECT action, target, outcome FROM audit WHERE action = 'restore'").all()).toEqual([{ action: 'restore', target: 'trading', outcome: 'refused' }]);
    db.close();
  });

  it('a process that still has the database open: refused unless --force', async () => {
    const s = cloneScenario(template);
    const holder = spawn(process.execPath, ['-e', `const D = require(${JSON.stringify(require.resolve('better-sqlite3'))}); const db = new D(${JSON.stringify(s.db)}); db.prepare('SELECT 1').get(); process.stdout.write('open\\n'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((res) => holder.stdout.once('data', () => res()));
      const r = await cli(s, ['restore', '--db', 'trading', '--yes', '--accept-loss']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^opsdeck: refused: ${s.db} is still open in pid ${holder.pid} \\(.*node.*\\); stop it, or pass --force \\(restore of trading stopped; the database was not changed\\)\\n$`));
      expect(rowsOf(s.db)).toEqual(s.oldSet);
      const f = await cli(s, ['restore', '--db', 'trading', '--yes', '--accept-loss', '--force']);
      expect(f.code, f.stderr).toBe(0);
      expect(f.stdout).toMatch(new RegExp(`--force: still open in pid ${holder.pid}`));
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a new restore while one is unfinished is refused; the journal makes it a CRITICAL check finding', async () => {
    const s = cloneScenario(template);
    expect((await killAt('after:swap', ['--config', s.config, 'restore', '--db', 'trading', '--yes', '--accept-loss'], s)).paused).toBe(true);
    const r = await cli(s, ['restore', '--db', 'trading', '--yes', '--accept-loss']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^opsdeck: restore trading-\S+ of trading is unfinished; finish it with --resume or undo it with --rollback \(the console's restore wizard: 4 or 5\) \(safety copy: .*state\/safety\/trading-\S+\)\n$/);
    const db = await openStateDb(join(s.dir, 'state'));
    const checks = openRunChecks(db);
    db.close();
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ id: 'journal:restore:trading', kind: 'journal', status: 'critical', value: 'step 6/10 check pending' });
  });
});

describe('restore on real faulty file systems', () => {
  it('ENOSPC while writing the restored file (2 MB tmpfs): partial file removed, database untouched', async () => {
    const s = cloneScenario(template);
    const small = join(s.dir, 'small');
    mountTmpfs(small, '2m');
    const db = join(small, 'big.db');
    seedTrading(join(s.dir, 'seed.db'), 300, 12_000);
    copyFileSync(join(s.dir, 'seed.db'), db);
    const size = statSync(db).size;
    expect(size).toBeGreaterThan(1_100_000);
    const bdir = join(s.dir, 'bigb');
    const env = s.env;
    expect((await runCli(['backup', 'create', '--db', db, '--dir', bdir], { env, cwd: s.dir })).code).toBe(0);
    const before = rowsOf(db);
    const r = await runCli(['restore', '--db', db, '--dir', bdir, '--yes', '--accept-loss'], { env, cwd: s.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^opsdeck: backup big-\\S+ into ${small}: no space left on the device \\(partial files removed\\) \\(restore of big stopped; the database was not changed\\)\\n$`));
    expect(readdirSync(small).filter((f) => f.includes('.restore-'))).toEqual([]);
    expect(rowsOf(db)).toEqual(before);
  });

  it('ENOSPC while making the safety copy (state dir on a full tmpfs): refused, nothing changed', async () => {
    const s = cloneScenario(template);
    // The state database fits on the 1 MB tmpfs; the 1.3 MB safety copy does not.
    const st = join(s.dir, 'tinystate');
    mountTmpfs(st, '1m');
    const db = join(s.dir, 'big.db');
    seedTrading(db, 300, 12_000);
    const env = { ...s.env, OPSDECK_STATE_DIR: st };
    const bdir = join(s.dir, 'bigb');
    expect((await runCli(['backup', 'create', '--db', db, '--dir', bdir], { env, cwd: s.dir })).code).toBe(0);
    const before = rowsOf(db);
    const r = await runCli(['restore', '--db', db, '--dir', bdir, '--yes', '--accept-loss'], { env, cwd: s.dir });
    expect(r.stderr).toMatch(/^opsdeck: safety copy of .*big\.db into .*: no space left on the device \(partial files removed\) \(restore of big stopped; the database was not changed\)\n$/);
    expect(r.code).toBe(1);
    expect(rowsOf(db)).toEqual(before);
    expect(readdirSync(join(st, 'safety')).flatMap((d) => readdirSync(join(st, 'safety', d)))).toEqual([]);
  });

  it('a read-only backup folder (tmpfs remounted ro) still restores: restore only reads it', async () => {
    const s = cloneScenario(template);
    const ro = join(s.dir, 'robackups');
    mountTmpfs(ro, '4m');
    execFileSync('cp', ['-r', join(s.dir, 'backups', 'trading'), ro]);
    execFileSync('mount', ['-o', 'remount,ro', ro]);
    const r = await cli(s, ['restore', '--db', 'trading', '--dir', join(ro, 'trading'), '--yes', '--accept-loss']);
    expect(r.code, r.stderr).toBe(0);
    expect(rowsOf(s.db)).toEqual(s.backupSet);
  });

  it('a read-only database folder: a clear error, nothing changed', async () => {
    const s = cloneScenario(template);
    const rodir = join(s.dir, 'rodata');
    mountTmpfs(rodir, '4m');
    copyFileSync(s.db, join(rodir, 'x.db'));
    copyFileSync(`${s.db}-wal`, join(rodir, 'x.db-wal'));
    execFileSync('mount', ['-o', 'remount,ro', rodir]);
    const r = await runCli(['restore', '--db', join(rodir, 'x.db'), '--dir', join(s.dir, 'backups', 'trading'), '--yes', '--accept-loss'], { env: s.env, cwd: s.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the file system is read-only .*the database was not changed/);
  });
});
