import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { latestConfigCopies, restoreConfigFiles } from '../../src/services/backup-config.js';
import { listFilesBackups, restoreFilesBackup, verifyFilesBackup, type FilesManifest } from '../../src/services/backup-files.js';
import { runCli } from '../helpers/cli.js';
import { seedTrading } from '../helpers/restore-fixture.js';
import { Watcher } from '../helpers/watch.js';

// Files backups (issue #17): report files named by backup.files globs are stored as one set with
// checksums and modes, restored byte-identical, verified, listed, pruned by retention, and
// scheduled like database backups — through the built CLI and the real file system.

const watchers: Watcher[] = [];
afterEach(async () => {
  for (const w of watchers.splice(0)) await w.kill('SIGKILL');
});

/** A workspace: a database, nested report files (one 0600), a config file, opsdeck.yaml. */
function setup(backupExtra = '', top = '', files = '["reports/**/*.csv"]') {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bfiles-'));
  seedTrading(join(dir, 'trading.db'), 20);
  mkdirSync(join(dir, 'reports', '2026', 'q4'), { recursive: true });
  writeFileSync(join(dir, 'reports', 'daily.csv'), 'day,pnl\n1,10\n');
  writeFileSync(join(dir, 'reports', '2026', 'q4', 'summary.csv'), 'q,pnl\n4,99\n');
  writeFileSync(join(dir, 'reports', '2026', 'q4', 'private.csv'), 'salary\n100\n');
  chmodSync(join(dir, 'reports', '2026', 'q4', 'private.csv'), 0o600);
  writeFileSync(join(dir, 'reports', 'notes.txt'), 'not a csv\n');
  writeFileSync(join(dir, 'app.env'), 'A=1\n');
  const config = join(dir, 'opsdeck.yaml');
  writeFileSync(config, `${top}state_dir: state\ndatabases:\n  - name: trading\n    path: trading.db\nbackup:\n  dir: backups\n  config_files: [app.env]\n  files: ${files}\n${backupExtra}`);
  const run = (args: string[]) => runCli(['--config', config, ...args], { cwd: dir });
  return { dir, config, run, fdir: join(dir, 'backups', '_files') };
}

const modeOf = (f: string) => statSync(f).mode & 0o777;
const snapshot = (dir: string, rels: string[]) => rels.map((r) => ({ r, bytes: readFileSync(join(dir, r), 'utf8'), mode: modeOf(join(dir, r)) }));
const REPORTS = ['reports/daily.csv', 'reports/2026/q4/summary.csv', 'reports/2026/q4/private.csv'];

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000, detail: () => unknown = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(detail())}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.concurrent('files backups (issue #17)', () => {
  it('backup create stores the files set with checksums and modes; restoreFilesBackup brings deleted and changed files back byte-identical, then changes nothing', async () => {
    const { dir, run, fdir } = setup();
    const before = snapshot(dir, REPORTS);
    const r = await run(['backup', 'create', '--verify', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { created: { id: string }[]; filesBackup: FilesManifest; verified: { id: string; ok: boolean }[] };
    expect(doc.created.map((c) => c.id)).toEqual([expect.stringMatching(/^trading-/)]);
    const m = doc.filesBackup;
    expect(m.id).toMatch(/^files-\d{8}T\d{6}Z$/);
    // Only the globbed files, nested paths kept relative to the config's folder; notes.txt is not a csv.
    expect(m.files.map((f) => f.relative).sort()).toEqual([...REPORTS].sort());
    expect(m.files.find((f) => f.relative.endsWith('private.csv'))).toMatchObject({ source: join(dir, 'reports/2026/q4/private.csv'), mode: 0o600, size: 11 });
    expect(doc.verified.find((v) => v.id === m.id)?.ok).toBe(true);
    // The stored copies keep their modes and bytes, in a 0700 folder.
    expect(modeOf(fdir)).toBe(0o700);
    expect(modeOf(join(fdir, m.id, 'reports/2026/q4/private.csv'))).toBe(0o600);
    expect(readFileSync(join(fdir, m.id, 'reports/daily.csv'), 'utf8')).toBe('day,pnl\n1,10\n');
    expect(readdirSync(fdir).filter((f) => f.startsWith('.'))).toEqual([]);
    // Damage: one deleted with its folder, one changed, one loosened.
    rmSync(join(dir, 'reports', '2026'), { recursive: true });
    writeFileSync(join(dir, 'reports', 'daily.csv'), 'day,pnl\n1,-5000\n');
    // What a killed restore left beside a file (its pid is gone) is swept.
    writeFileSync(join(dir, 'reports', 'daily.csv.99999999.part'), 'half');
    const [stored] = listFilesBackups(fdir);
    expect(stored?.id).toBe(m.id);
    const res = await restoreFilesBackup(fdir, stored!);
    expect(res.restored.sort()).toEqual(REPORTS.map((x) => join(dir, x)).sort());
    expect(res.unchanged).toEqual([]);
    expect(snapshot(dir, REPORTS)).toEqual(before);
    expect(readdirSync(join(dir, 'reports')).filter((f) => f.endsWith('.part'))).toEqual([]);
    // Again: nothing to do.
    expect(await restoreFilesBackup(fdir, stored!)).toEqual({ restored: [], unchanged: expect.arrayContaining(REPORTS.map((x) => join(dir, x))) as string[] });
    // `only`: one file by its relative path; a mode change alone is restored too.
    chmodSync(join(dir, 'reports/2026/q4/private.csv'), 0o644);
    writeFileSync(join(dir, 'reports', 'daily.csv'), 'changed again\n');
    expect(await restoreFilesBackup(fdir, stored!, { only: ['reports/2026/q4/private.csv'] })).toEqual({ restored: [join(dir, 'reports/2026/q4/private.csv')], unchanged: [] });
    expect(modeOf(join(dir, 'reports/2026/q4/private.csv'))).toBe(0o600);
    expect(readFileSync(join(dir, 'reports', 'daily.csv'), 'utf8')).toBe('changed again\n');
    await expect(restoreFilesBackup(fdir, stored!, { only: ['reports/missing.csv'] })).rejects.toThrow(/holds no reports\/missing\.csv/);
  });

  it('verify detects a tampered stored copy; a restore refuses to put it back', async () => {
    const { dir, run, fdir } = setup();
    expect((await run(['backup', 'create', '--files', '--verify'])).code).toBe(0);
    // --files: the files set only, no database backup.
    expect(existsSync(join(dir, 'backups', 'trading'))).toBe(false);
    const [m] = listFilesBackups(fdir);
    writeFileSync(join(fdir, m!.id, 'reports/2026/q4/summary.csv'), 'q,pnl\n4,1000000\n');
    const v = await run(['backup', 'verify', '--files']);
    expect(v.code).toBe(2);
    expect(v.stdout).toContain(`FAILED  ${m!.id}: reports/2026/q4/summary.csv: sha256 differs from the manifest`);
    expect(listFilesBackups(fdir)[0]?.verify?.ok).toBe(false);
    // A missing copy is named too.
    rmSync(join(fdir, m!.id, 'reports/daily.csv'));
    const again = await verifyFilesBackup(fdir, listFilesBackups(fdir)[0]!);
    expect(again.verify?.message).toMatch(/summary\.csv: sha256 differs.*; reports\/daily\.csv: missing/);
    writeFileSync(join(dir, 'reports/2026/q4/summary.csv'), 'live\n');
    await expect(restoreFilesBackup(fdir, m!, { only: ['reports/2026/q4/summary.csv'] })).rejects.toThrow(/does not match its sha256/);
    expect(readFileSync(join(dir, 'reports/2026/q4/summary.csv'), 'utf8')).toBe('live\n');
    // Without --files and --db, verify checks the newest database backup (none here) and the set.
    const all = await run(['backup', 'verify', '--json']);
    expect((JSON.parse(all.stdout) as { verified: { id: string; ok: boolean }[] }).verified).toEqual([expect.objectContaining({ id: m!.id, ok: false })]);
  });

  it('list shows the sets; prune removes the sets retention lets go (keep_last 1), never the newest verified; --db leaves them alone', async () => {
    const { run, fdir } = setup('  keep_last: 1\n  keep_hourly: 0\n  keep_daily: 0\n  keep_weekly: 0\n  keep_monthly: 0\n');
    expect((await run(['backup', 'create', '--files', '--verify'])).code).toBe(0);
    const [newest] = listFilesBackups(fdir);
    // Two older sets, an hour and a day before (the stored folders copied, manifests re-dated).
    for (const [i, ago] of [[1, 3_600_000], [2, 86_400_000]] as const) {
      const id = `files-old${i}`;
      cpSync(join(fdir, newest!.id), join(fdir, id), { recursive: true });
      writeFileSync(join(fdir, `${id}.json`), JSON.stringify({ ...newest, id, createdAt: new Date(Date.parse(newest!.createdAt) - ago).toISOString() }));
    }
    const list = JSON.parse((await run(['backup', 'list', '--json'])).stdout) as { backups: { id: string; database: string; kind?: string; files?: number; tier: string; verified: boolean; offHost: string }[] };
    expect(list.backups.map((b) => b.id)).toEqual([newest!.id, 'files-old1', 'files-old2']);
    expect(list.backups[0]).toMatchObject({ database: '_files', kind: 'files', files: 3, tier: 'last 1/1, newest verified', verified: true, offHost: 'none' });
    expect(list.backups[1]?.tier).toBe('expired');
    const text = await run(['backup', 'list']);
    expect(text.stdout).toMatch(new RegExp(`^${newest!.id} .* verified  last 1/1, newest verified  off-host: none  \\(3 files\\)$`, 'm'));
    // --db narrows to the database: its (empty) folder, no sets.
    expect((await run(['backup', 'prune', '--db', 'trading', '--dry-run'])).stdout).toBe('nothing to prune\n');
    const p = await run(['backup', 'prune', '--yes', '--json']);
    expect(p.code, p.stderr).toBe(0);
    expect((JSON.parse(p.stdout) as { deleted: string[] }).deleted.sort()).toEqual(['files-old1', 'files-old2']);
    expect(readdirSync(fdir).sort()).toEqual([newest!.id, `${newest!.id}.json`].sort());
  });

  it('configuration files: latestConfigCopies and restoreConfigFiles put the newest stored version back, idempotently', async () => {
    const { dir, run } = setup();
    expect((await run(['backup', 'create', '--db', 'trading'])).code).toBe(0);
    const cdir = join(dir, 'backups', '_config');
    expect(latestConfigCopies(cdir).map((c) => c.source)).toEqual([join(dir, 'app.env')]);
    writeFileSync(join(dir, 'app.env'), 'A=broken\n');
    expect(restoreConfigFiles(cdir)).toEqual({ restored: [join(dir, 'app.env')], unchanged: [] });
    expect(readFileSync(join(dir, 'app.env'), 'utf8')).toBe('A=1\n');
    expect(restoreConfigFiles(cdir, { only: ['app.env'] })).toEqual({ restored: [], unchanged: [join(dir, 'app.env')] });
    rmSync(join(dir, 'app.env'));
    expect(restoreConfigFiles(cdir).restored).toEqual([join(dir, 'app.env')]);
    expect(() => restoreConfigFiles(cdir, { only: ['other.env'] })).toThrow(/no stored copy of other\.env/);
  });

  it('absolute globs and !exclusions: a file outside the config folder is stored under _abs/; excluded files are not stored', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'opsdeck-bfiles-out-'));
    writeFileSync(join(outside, 'export.log'), 'exported\n');
    writeFileSync(join(outside, 'skip.log'), 'skip\n');
    const { run, fdir } = setup('', '', `["reports/**/*.csv", "!reports/2026/q4/private.csv", "${outside}/*.log", "!${outside}/skip.log"]`);
    const r = await run(['backup', 'create', '--files', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const m = (JSON.parse(r.stdout) as { filesBackup: FilesManifest }).filesBackup;
    expect(m.files.map((f) => f.relative).sort()).toEqual([`_abs${outside}/export.log`, 'reports/2026/q4/summary.csv', 'reports/daily.csv']);
    expect(readFileSync(join(fdir, m.id, `_abs${outside}/export.log`), 'utf8')).toBe('exported\n');
  });

  it('a files set that fails beside a database: the database is still backed up and verified, exit 1 with the one-line error; alone it fails as a database would', async () => {
    const { dir, run } = setup('', '', '["exports/*.csv"]');
    const r = await run(['backup', 'create', '--verify', '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { created: { id: string }[]; verified: { ok: boolean }[]; filesError: string };
    expect(doc.created).toHaveLength(1);
    expect(doc.verified.map((v) => v.ok)).toEqual([true]);
    expect(doc.filesError).toBe(`files backup failed: backup.files: no file matches exports/*.csv (relative to ${dir})`);
    expect(r.stderr).toBe(`opsdeck: files backup failed: backup.files: no file matches exports/*.csv (relative to ${dir})\n`);
    const alone = await run(['backup', 'create', '--files']);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toBe(`opsdeck: backup.files: no file matches exports/*.csv (relative to ${dir})\n`);
  });

  it('without backup.files, --files is a usage error naming the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bfiles-'));
    writeFileSync(join(dir, 'opsdeck.yaml'), 'state_dir: state\n');
    const r = await runCli(['--config', join(dir, 'opsdeck.yaml'), 'backup', 'create', '--files'], { cwd: dir });
    expect(r.code).toBe(64);
    expect(r.stderr).toBe(`opsdeck: --files: backup.files is not set in ${join(dir, 'opsdeck.yaml')} (expected a list of globs, relative to the configuration file's folder)\n`);
  });
});

describe('scheduled files backups (issue #17)', () => {
  it('the backup-scheduler lease holder backs up the files set on files_schedule; a failed one is a warning of backup:_files', async () => {
    const { dir, config, fdir } = setup('  files_schedule: 2s\n', 'interval: 1s\nthresholds: {cpu: 100, memory: 100, disk: 100}\n');
    const w = new Watcher(config);
    watchers.push(w);
    const verified = () => listFilesBackups(fdir).filter((m) => m.verify?.ok);
    await until('two verified scheduled files backups', () => verified().length >= 2, 30_000, () => ({ lines: w.lines }));
    // The database has no schedule: only the files set was backed up.
    expect(existsSync(join(dir, 'backups', 'trading'))).toBe(false);
    const times = verified().map((m) => Date.parse(m.createdAt)).sort();
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(2000);
    const events = w.lines.map((l) => JSON.parse(l) as { event?: string; database?: string; outcome?: string }).filter((e) => e.event === 'backup');
    expect(events.some((e) => e.database === '_files' && e.outcome === 'ok')).toBe(true);
    // Now the reports are gone: the next scheduled run fails, and the check says so.
    rmSync(join(dir, 'reports'), { recursive: true });
    await until('a failed scheduled files backup', () => w.lines.some((l) => /"event":"backup".*"database":"_files".*"outcome":"failed"/.test(l)), 30_000, () => w.lines);
    await w.stop();
    const check = JSON.parse((await runCli(['check', '--json', '--config', config], { cwd: dir })).stdout) as { checks: { id: string; status: string; message: string }[] };
    const c = check.checks.find((x) => x.id === 'backup:_files');
    expect(c?.status).toBe('warning');
    expect(c?.message).toMatch(/^scheduled files backup failed \d+s ago: .*no file matches reports\/\*\*\/\*\.csv.*; last verified files backup \d+s ago; retry (in \d+s|due now)$/); // "due now" on a loaded machine
    const state = new Database(join(dir, 'state', 'state.db'), { readonly: true });
    const runs = state.prepare("SELECT outcome FROM backup_runs WHERE database = '_files' ORDER BY id").all() as { outcome: string }[];
    state.close();
    expect(runs.map((r) => r.outcome)).toContain('ok');
    expect(runs.at(-1)?.outcome).toBe('failed');
  }, 90_000);
});
