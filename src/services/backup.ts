import { accessSync, constants as fsConstants, existsSync, mkdirSync, renameSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { redactSecrets } from '../config/secrets.js';
import type { BackupConfig } from '../config/schema.js';
import type { OffHostCopy } from '../domain/copy-template.js';
import { Failure } from '../domain/errors.js';
import { applyRetention, retentionPolicy, type RetentionHold } from '../domain/retention.js';
import { compressFrames, type FramesFormat } from './backup-frames.js';
import { extractVerified, fsError, fsyncPath, pausePoint, sweepDead } from './backup-restore.js';

export { sweepDead } from './backup-restore.js';
// Read at the console's start without the rest of this module (issue #27 point 4): ./backup-list.ts.
export { backupDir, listBackups } from './backup-list.js';
import { listBackups } from './backup-list.js';
import { placeUnique } from './place-unique.js';

/** What is known about one stored backup; saved as `<id>.json` beside `<id>.db.br`. */
export interface BackupManifest {
  id: string;
  database: string;
  sourcePath: string;
  createdAt: string;
  /** Size of the stored (compressed) file. */
  sizeBytes: number;
  /** Size of the database snapshot before compression. */
  rawBytes: number;
  sha256: string;
  sqliteVersion: string;
  pageCount: number;
  rowCounts: Record<string, number>;
  /** Highest rowid of each configured table at backup time. */
  maxRowids: Record<string, number>;
  /** Foreign-key violations the source already had (a warning at verify time, not a failure). */
  foreignKeyViolations: number;
  verify?: { at: string; ok: boolean; message: string };
  /**
   * How the file is stored (issue #27): `br-frames-1` — independent brotli frames of `frameBytes`
   * (after a header frame), `frames` their stored sizes (src/services/backup-frames.ts). Absent: one
   * brotli stream (every backup made before).
   */
  format?: FramesFormat;
  frameBytes?: number;
  frames?: number[];
  /** The off-host copy made after it verified (issue #17: `backup.copy_command`). */
  offHost?: OffHostCopy;
}

/**
 * Where a transient full-size copy goes (the snapshot before compression, the file verify checks):
 * RAM-backed /dev/shm when it has room and the copy is under a quarter of free memory, else
 * `fallback`. Writing 1 GB to disk and reading it back doubled backup and verify times
 * (bench:backup); the copy is deleted right after either way.
 */
export function scratchDir(bytes: number, fallback: string): string {
  sweepScratch('/dev/shm');
  sweepScratch(fallback);
  try {
    const s = statfsSync('/dev/shm');
    if (s.bavail * s.bsize > bytes * 1.2 && bytes < freemem() / 4) return '/dev/shm';
  } catch {
    // no /dev/shm (macOS): use the fallback
  }
  return fallback;
}

/**
 * Removes scratch copies a killed opsdeck left in /dev/shm (`.opsdeck-<id>-<pid>.snapshot|verify`,
 * the snapshot's `-journal`/`-wal`/`-shm` that SQLite keeps beside it mid-copy (issue #13), or the
 * `.verify[.<pid>].part` still being decompressed, whose process is gone): a SIGKILL mid-backup must
 * not keep a database-sized file in RAM.
 */
export function sweepScratch(dir = '/dev/shm'): void {
  sweepDead(dir, /^\.opsdeck-.+-(\d+)\.(?:snapshot|verify)(?:\.\d+\.part|\.part|-journal|-wal|-shm)?$/);
}

/** Temporary files `backup create` writes in a backup folder: `.<id>-<pid>.db.br.tmp`, `.<id>-<pid>.json.tmp`. */
export function sweepBackupTemps(dir: string, now = Date.now()): string[] {
  return sweepDead(dir, /^\..+-(\d+)\.(?:db\.br|json)\.tmp$/, /^\..+\.(?:db\.br|json)\.tmp$/, now);
}

/**
 * The mode a copy of `source` gets (issue #13: a 0600 database was stored 0644): the source's
 * permission bits, never more, never executable; 0600 when the source cannot be read.
 */
export function copyMode(source: string): number {
  try {
    return statSync(source).mode & 0o666;
  } catch {
    return 0o600;
  }
}

/** A backup retention lets go of: its id, folder and stored size. */
export interface PrunePlanned {
  id: string;
  database: string;
  dir: string;
  sizeBytes: number;
}

/**
 * What `backup prune` deletes (one plan for the CLI and the disk-pressure runbook, issue #16): the
 * backups of each database's folder that the configured retention lets go, never one a hold (an open
 * `sqlite:` alert) keeps.
 */
export function planPrune(targets: readonly { name: string; dir: string }[], backup: Pick<BackupConfig, 'keep_last' | 'keep_hourly' | 'keep_daily' | 'keep_weekly' | 'keep_monthly'>, holdsOf: (database: string) => RetentionHold[]): PrunePlanned[] {
  const policy = retentionPolicy(backup);
  return targets.flatMap((t) => {
    const all = listBackups(t.dir);
    const items = all.map((m) => ({ id: m.id, createdAt: Date.parse(m.createdAt), verified: !!m.verify?.ok }));
    const remove = new Set(applyRetention(items, policy, holdsOf(t.name)).remove);
    return all.filter((m) => remove.has(m.id)).map((m) => ({ id: m.id, database: t.name, dir: t.dir, sizeBytes: m.sizeBytes }));
  });
}

/** Deletes planned backups (the file, then its manifest; a missing one is fine: idempotent), `done` after each; their ids. */
export function prunePlanned(plan: readonly Pick<PrunePlanned, 'id' | 'dir'>[], done?: (id: string) => void): string[] {
  for (const p of plan) {
    rmSync(join(p.dir, `${p.id}.db.br`), { force: true });
    rmSync(join(p.dir, `${p.id}.json`), { force: true });
    done?.(p.id);
  }
  return plan.map((p) => p.id);
}

/**
 * Writes a manifest with its text fields redacted (issue #12: the source path can hold a secret).
 * The checksum, ids and table names are left alone: they are read back.
 */
function writeManifest(dir: string, m: BackupManifest, mode = copyMode(join(dir, `${m.id}.db.br`))): void {
  const tmp = join(dir, `.${m.id}-${process.pid}.json.tmp`);
  rmSync(tmp, { force: true });
  const stored: BackupManifest = {
    ...m,
    sourcePath: redactSecrets(m.sourcePath),
    ...(m.verify ? { verify: { ...m.verify, message: redactSecrets(m.verify.message) } } : {}),
    ...(m.offHost ? { offHost: { ...m.offHost, message: redactSecrets(m.offHost.message), ...(m.offHost.where ? { where: redactSecrets(m.offHost.where) } : {}) } } : {}),
  };
  writeFileSync(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode });
  fsyncPath(tmp);
  renameSync(tmp, join(dir, `${m.id}.json`));
}

/** Records the result of a backup's off-host copy in its manifest (redacted); the manifest as it is now. */
export function recordOffHost(dir: string, m: BackupManifest, offHost: OffHostCopy): BackupManifest {
  const next = { ...m, offHost };
  writeManifest(dir, next);
  return next;
}

/** `id`, then `id-2`, `id-3`… */
const withSuffix = (id: string, n: number) => (n === 1 ? id : `${id}-${n}`);

/**
 * A consistent snapshot of a live SQLite database (the backup API in a single step), written to a temp file in the backup folder,
 * compressed, fsynced, then renamed into place with its manifest. Partial files never remain.
 */
export async function createBackup(opts: { db: string; name: string; dir: string; tables: string[]; now?: Date }): Promise<BackupManifest> {
  if (!existsSync(opts.db)) throw new Failure('not-found', `database ${opts.name}: ${opts.db} does not exist`);
  try {
    // A new backup folder is the operator's alone (issue #13: backups of a 0600 database sat in a
    // 0755 folder); an existing one is left as it is.
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    // Fail before the snapshot when the folder cannot be written (read-only mount, permissions).
    accessSync(opts.dir, fsConstants.W_OK);
  } catch (e) {
    throw fsError(e, `backup folder ${opts.dir}`, 'backup');
  }
  // What a killed `backup create` left here (its pid is gone) goes first.
  sweepBackupTemps(opts.dir);
  // The backup and its manifest keep the source's permissions or stricter.
  const mode = copyMode(opts.db);
  const now = opts.now ?? new Date();
  const id = `${opts.name}-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  let sourceBytes = 0;
  try {
    sourceBytes = statSync(opts.db).size;
  } catch {
    // checked above; a race leaves 0 and the backup folder as scratch
  }
  let placed: string | undefined;
  const snap = join(scratchDir(sourceBytes, opts.dir), `.opsdeck-${id}-${process.pid}.snapshot`);
  const tmp = join(opts.dir, `.${id}-${process.pid}.db.br.tmp`);
  const { default: Database } = await import('better-sqlite3');
  try {
    const src = new Database(opts.db, { readonly: true, fileMustExist: true, timeout: 10_000 });
    try {
      // The online backup API copying every page in one step: one read transaction, so a write
      // from another connection cannot restart it (docs/FACTS.md §4 — with 100-page steps a busy
      // writer restarts it forever), and a page copy is cheaper than VACUUM INTO's rebuild.
      // The scratch copy is made 0600 before SQLite writes into it (its -journal takes the same mode):
      // /dev/shm is shared by every user of the machine.
      writeFileSync(snap, '', { mode: 0o600 });
      await src.backup(snap, { progress: () => 0x7fffffff });
    } finally {
      src.close();
    }
    const s = new Database(snap);
    let info;
    try {
      // The page copy keeps the source's WAL flag; a backup is a plain rollback-journal file (as
      // VACUUM INTO makes), so a restored database has no -wal until its application opens it.
      s.pragma('journal_mode = DELETE');
      const rowCounts: Record<string, number> = {};
      const maxRowids: Record<string, number> = {};
      for (const t of opts.tables) {
        try {
          const r = s.prepare(`SELECT count(*) AS n, coalesce(max(rowid), 0) AS m FROM "${t.replace(/"/g, '""')}"`).get() as { n: number; m: number };
          rowCounts[t] = r.n;
          maxRowids[t] = r.m;
        } catch {
          // a configured table missing from the database is simply absent from the manifest
        }
      }
      info = {
        rowCounts,
        maxRowids,
        pageCount: Number(s.pragma('page_count', { simple: true })),
        sqliteVersion: (s.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v,
        foreignKeyViolations: (s.pragma('foreign_key_check') as unknown[]).length,
      };
    } finally {
      s.close();
    }
    const rawBytes = statSync(snap).size;
    const { sha256, size, layout } = await compressFrames(snap, tmp, mode);
    pausePoint('backup:compressed');
    // `<id>-2`, `-3`… when a backup of the same second is there (placeUnique: never replaced).
    const n = placeUnique(tmp, (k) => join(opts.dir, `${withSuffix(id, k)}.db.br`), (k) => existsSync(join(opts.dir, `${withSuffix(id, k)}.json`)));
    placed = withSuffix(id, n);
    const m: BackupManifest = { id: placed, database: opts.name, sourcePath: opts.db, createdAt: now.toISOString(), sizeBytes: size, rawBytes, sha256, ...info, ...layout };
    writeManifest(opts.dir, m, mode);
    return m;
  } catch (e) {
    // Only what this backup made: under a name another backup holds, never that one's file.
    for (const f of [tmp, ...(placed ? [join(opts.dir, `${placed}.db.br`), join(opts.dir, `.${placed}-${process.pid}.json.tmp`)] : [])]) rmSync(f, { force: true });
    if (e instanceof Failure) throw e;
    throw fsError(e, `backup of ${opts.name} into ${opts.dir}`, 'backup');
  } finally {
    rmSync(snap, { force: true });
  }
}

/**
 * Verifies a backup: checksum, decompress to a temp file, integrity_check and foreign_key_check.
 * Foreign-key violations the source already had are a warning; more than that is a failure.
 * The result and its time go into the manifest, unless `record` is false (a --read-only verify).
 */
export async function verifyBackup(dir: string, m: BackupManifest, now = new Date(), opts: { record?: boolean } = {}): Promise<BackupManifest> {
  const tmp = join(scratchDir(m.rawBytes, dir), `.opsdeck-${m.id}-${process.pid}.verify`);
  let result: { ok: boolean; message: string };
  try {
    await extractVerified(join(dir, `${m.id}.db.br`), m.sha256, tmp, `backup ${m.id}`, 'backup');
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(tmp, { readonly: true });
    try {
      const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
      const fk = (db.pragma('foreign_key_check') as unknown[]).length;
      if (integrity.length !== 1 || integrity[0] !== 'ok') result = { ok: false, message: `integrity_check failed: ${integrity.slice(0, 3).join('; ')}` };
      else if (fk > m.foreignKeyViolations) result = { ok: false, message: `${fk} foreign-key violations, ${m.foreignKeyViolations} at backup time` };
      else result = { ok: true, message: fk ? `ok (warning: ${fk} foreign-key violations already in the source)` : 'ok: checksum, integrity_check and foreign_key_check pass' };
    } finally {
      db.close();
    }
  } catch (e) {
    if (!(e instanceof Failure) || e.code !== 'corrupt') {
      result = { ok: false, message: e instanceof Failure ? e.message : `not a readable database: ${(e as Error).message}` };
    } else result = { ok: false, message: e.message };
  } finally {
    rmSync(tmp, { force: true });
  }
  const next = { ...m, verify: { at: now.toISOString(), ...result } };
  if (opts.record !== false) writeManifest(dir, next);
  return next;
}


