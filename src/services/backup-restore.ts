// Over 300 lines, knowingly: the file-level building blocks of a restore (extract, safety copy,
// swap, put back, stages, temp-file sweeping, holders) that must agree on file names and order;
// row-level merges live in merge.ts.

import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, copyFileSync, type Stats, createReadStream, createWriteStream, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { Failure } from '../domain/errors.js';
import { extractFrames, FrameMismatch, storedLayout } from './backup-frames.js';

// File-level building blocks of a restore (issue #4). Order matters everywhere: docs/FACTS.md §4 —
// replacing a database must not leave its old -wal/-shm beside the new file (old WAL pages would
// be applied to it), and a copy is only trusted after fsync and a rename.

/** Files SQLite keeps beside a database. */
export const SIDECARS = ['-wal', '-shm', '-journal'] as const;

import { pausePoint } from './pause.js';
import { alive } from './process.js';

export { pausePoint };

/** fsyncs a file or a directory (a rename is durable only once its directory is synced). */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Turns a file-system or SQLite error into a one-line Failure naming what failed (backups,
 * restores and config copies alike; `context` words the not-a-database case and the fallback code).
 */
export function fsError(e: unknown, what: string, context: 'backup' | 'restore' = 'restore'): Failure {
  if (e instanceof Failure) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'SQLITE_FULL') return new Failure('no-space', `${what}: no space left on the device (partial files removed)`);
  if (code === 'EROFS' || code === 'SQLITE_READONLY') return new Failure('read-only-fs', `${what}: the file system is read-only`);
  if (code === 'SQLITE_NOTADB' && context === 'backup') return new Failure('invalid', `${what}: the source is not a SQLite database`);
  if ((code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') && context === 'restore') return new Failure('invalid', `${what}: not a readable SQLite database`);
  if (code === 'EACCES' || code === 'EPERM') return new Failure('permission', `${what}: permission denied`);
  return new Failure(context, `${what}: ${(e as Error).message}`);
}

/** fsyncs a file on libuv's threadpool (the event loop, and a check beside it, keep running). */
async function fsyncAsync(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Decompresses a stored backup to `dst`, checking its SHA-256 on the way: written to `dst.<pid>.part`,
 * and renamed only when the checksum matches, so `dst` existing means it is complete. For a restore
 * (`context` 'restore', the default) the copy is fsynced before the rename; `backup verify` extracts
 * to a scratch file it deletes afterwards and skips that.
 *
 * `check` (issue #27) runs on the `.part` once its checksum matched, beside its fsync (the check
 * reads the pages from memory while they go to the disk): a check that throws leaves no `dst`, so
 * what a restore swaps in has always passed it.
 */
export async function extractVerified(file: string, sha256: string, dst: string, label: string, context: 'backup' | 'restore' = 'restore', check?: (part: string) => Promise<void>): Promise<void> {
  if (!existsSync(file)) throw new Failure('not-found', `${label}: ${file} is missing`);
  const mismatch = () =>
    new Failure('corrupt', `${label}: checksum mismatch (the stored file is damaged or truncated)${context === 'restore' ? '; it cannot be restored' : ''}`);
  // The pid in the name: a killed run's `.part` is found and removed by the next run (issue #13).
  const part = `${dst}.${process.pid}.part`;
  const hash = createHash('sha256');
  let first = true;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const mid = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!first || process.env.OPSDECK_TEST_PAUSE_AT !== 'extract:mid') return cb(null, chunk);
      // Test hook, in the middle of the copy: half of the first chunk reaches the file first.
      first = false;
      const half = chunk.length >> 1;
      this.push(chunk.subarray(0, half));
      setTimeout(() => {
        pausePoint('extract:mid');
        cb(null, chunk.subarray(half));
      }, 100);
    },
  });
  // A framed extract's periodic flushes, still going when it returns (settled before the fsync, and
  // before the .part is removed).
  let flushed: Promise<void> | undefined;
  try {
    // Issue #27: a backup in brotli frames (its manifest says `br-frames-1`) decompresses frames side
    // by side (src/services/backup-frames.ts); a one-stream backup (made before) as it always did.
    const layout = storedLayout(file);
    if (layout) flushed = (await extractFrames(file, layout, part, hash, context === 'restore')).flushed;
    else {
      // 256 KiB decompressed chunks, 1 MiB write buffer: the 16 KiB defaults cost ~10 % on a 1 GB
      // restore (bench:backup); 1 MiB / 4 MiB took 5.50, 4.37, 7.20 s where 256 KiB / 1 MiB took 4.35,
      // 3.59, 4.82 s (927 MiB, three alternating rounds on a 2-core VM, issue #27): chunks that stay in
      // the CPU's cache between brotli and the hash/write.
      // 0600 until it is put in place: swapIn gives it the database's own mode and owner.
      const brotli = createBrotliDecompress({ chunkSize: 1 << 18 });
      await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), tap, brotli, mid, createWriteStream(part, { highWaterMark: 1 << 20, mode: 0o600 })).catch((e: unknown) => {
        // Not a brotli stream at all, with the checksum matching (checked below): a framed file whose
        // manifest lost its format — never damage to report as a failure to write.
        if (!isFsError(e)) throw new FrameMismatch('it is not one brotli stream, and its manifest names no format');
        throw e;
      });
      // Node's decoder ends at the end of the first stream and ignores what follows: a one-stream
      // backup is that stream, whole (a framed file whose manifest lost its format would otherwise
      // restore as its first frame).
      if (brotli.bytesWritten !== statSync(file).size) throw new FrameMismatch('it holds more than one brotli stream, and its manifest names no format');
    }
    if (hash.digest('hex') !== sha256) throw mismatch();
    if (context === 'restore' || check) {
      // Both to their end before either's failure is said (never a rename, nor a removal, mid-fsync).
      const [synced, checked] = await Promise.allSettled([context === 'restore' ? (flushed ?? Promise.resolve()).then(() => fsyncAsync(part)) : undefined, check?.(part)]);
      if (checked.status === 'rejected') throw new CheckFailed(checked.reason);
      if (synced.status === 'rejected') throw synced.reason;
    }
    // (a kill here, checked and fsynced but not renamed: the next run sweeps the .part and extracts again)
    if (check) pausePoint('extract:checked');
    renameSync(part, dst);
    if (context === 'restore') fsyncPath(dirname(dst));
  } catch (e) {
    await flushed?.catch(() => undefined);
    rmSync(part, { force: true });
    if (e instanceof CheckFailed) throw e.reason;
    if (e instanceof Failure) throw e;
    if (e instanceof FrameMismatch) {
      if ((await sha256Of(file)) !== sha256) throw mismatch();
      throw new Failure('corrupt', `${label}: the stored file does not match its manifest (${e.message})${context === 'restore' ? '; it cannot be restored' : ''}`);
    }
    // A truncated or altered stream usually fails to decompress before the checksum is known:
    // hash the whole stored file to tell damage from a failure to write.
    if (!isFsError(e) && (await sha256Of(file)) !== sha256) throw mismatch();
    throw fsError(e, `${label} into ${dirname(dst)}`, context);
  }
}

/** An error of the file system (a write, a read), not of a decoder. */
function isFsError(e: unknown): boolean {
  const errno = (e as NodeJS.ErrnoException).errno;
  return typeof (e as NodeJS.ErrnoException).syscall === 'string' || (typeof errno === 'number' && errno > 0 && !/^(ERR_|Z_)/.test(String((e as NodeJS.ErrnoException).code)));
}

/** What the caller's check threw: passed on as it is. */
class CheckFailed extends Error {
  constructor(readonly reason: unknown) {
    super('the check of the copy failed');
  }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Removes the files of `dir` whose name matches `pattern` and whose pid (the pattern's first group)
 * names no running process: temporary files of a killed opsdeck (issue #13: four SIGKILLs during
 * `backup create` left 654 MB of `.tmp` files that no later run removed). A name with the pattern's
 * `legacy` form (no pid: written before temporary names carried one) is removed once it is an hour
 * old: no backup or restore step leaves its temporary file unwritten that long.
 */
export function sweepDead(dir: string, pattern: RegExp, legacy?: RegExp, now = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = pattern.exec(n);
    let dead = !!m && !alive(Number(m[1]));
    if (!m && legacy?.test(n)) {
      try {
        dead = now - statSync(join(dir, n)).mtimeMs > LEGACY_TEMP_AGE_MS;
      } catch {
        dead = false;
      }
    }
    if (!dead) continue;
    rmSync(join(dir, n), { force: true });
    removed.push(n);
  }
  return removed;
}

/** How old a temporary file without a pid in its name must be to be removed. */
export const LEGACY_TEMP_AGE_MS = 3_600_000;


/**
 * Removes what a killed restore left beside a database (issue #13: SIGKILL during the verify step,
 * then `--rollback`, left `.<db>.restore-<run>.part`): the `.part` of a decompression whose process
 * is gone. Run by every restore, resume and rollback before it starts.
 */
export function sweepRestoreTemps(dbPath: string): string[] {
  const base = basename(dbPath).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return sweepDead(dirname(dbPath), new RegExp(`^\\.${base}\\.restore-.+\\.(\\d+)\\.part$`), new RegExp(`^\\.${base}\\.restore-.+\\.part$`));
}

/** A hard link `to` → `from`'s file; false where the file systems differ or links are not supported (then copy). */
function tryLink(from: string, to: string): boolean {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
    return true;
  } catch (e) {
    if (['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK'].includes((e as NodeJS.ErrnoException).code ?? '')) return false;
    throw e;
  }
}

/** What a database holds, as a restore checks it. */
export interface DbReport {
  integrity: string[];
  /** Undefined when not counted (`check: 'none'`). */
  fkViolations: number | undefined;
  tables: string[];
  rowCounts: Record<string, number>;
}

/** A quoted SQL identifier. */
export const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * integrity_check (or quick_check), foreign_key_check, user tables and the row counts of the
 * given (or all) tables. `check: 'fk'` leaves the integrity pragma out; `check: 'none'` (issue #27: a backup verified when it was made, whose
 * checksum still matches) runs neither pragma: `integrity` is empty and `fkViolations` undefined.
 */
export async function inspectDatabase(path: string, tables?: readonly string[], check: 'integrity' | 'quick' | 'fk' | 'none' = 'integrity'): Promise<DbReport> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    const pragma = check === 'quick' ? 'quick_check' : 'integrity_check';
    // 'fk': foreign_key_check and the counts only (the caller runs quick_check elsewhere, issue #27).
    const integrity = check === 'none' || check === 'fk' ? [] : (db.pragma(pragma) as Record<string, string>[]).map((r) => String(r[pragma]));
    const fkViolations = check === 'none' ? undefined : (db.pragma('foreign_key_check') as unknown[]).length;
    const all = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    const rowCounts: Record<string, number> = {};
    for (const t of tables ?? all) if (all.includes(t)) rowCounts[t] = (db.prepare(`SELECT count(*) AS n FROM ${q(t)}`).get() as { n: number }).n;
    return { integrity, fkViolations, tables: all, rowCounts };
  } finally {
    db.close();
  }
}

/** What a safety copy holds; written last, so its presence means the copy is complete. */
export interface SafetyManifest {
  dbPath: string;
  at: string;
  /** Suffixes copied: '' for the main file, '-wal', '-shm', '-journal'. */
  files: string[];
  /** True when there was no database file to copy (a restore after the file was lost). */
  missing: boolean;
  /** The main file was hard-linked, not copied (`safetyCopy`'s `link`, issue #27). */
  linked?: boolean;
}

/**
 * Copies the database as it is — main file and any -wal/-shm/-journal, even when corrupted — to
 * `dir`: each file to a `.part`, fsynced, renamed; `safety.json` last.
 *
 * `link` (issue #27, only for a whole-file restore with no other process holding the file): the
 * main file is hard-linked instead of copied when `dir` is on the same file system — the swap then
 * renames the restored file over the name, and the old file's bytes live on under the safety copy's
 * name without being copied (a 927 MiB copy was a fifth of the restore). Until the swap both names
 * are the one file; nothing writes it in between but SQLite folding its own -wal into it (the same
 * content; the -wal is copied as well). Another file system (EXDEV) or no link support: a copy.
 */
export function safetyCopy(dbPath: string, dir: string, opts: { link?: boolean } = {}): SafetyManifest {
  try {
    // The copies keep the database's mode (copyFile does); their folder is the operator's alone.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    rmSync(join(dir, 'safety.json'), { force: true });
    const files: string[] = [];
    const name = basename(dbPath);
    // A sidecar holds the database's pages too: no copy is wider than the main file's mode.
    const mainMode = statOrUndefined(dbPath)?.mode ?? 0o600;
    let linked = false;
    for (const suffix of ['', ...SIDECARS]) {
      const src = `${dbPath}${suffix}`;
      if (!existsSync(src)) continue;
      if (suffix === '' && opts.link && tryLink(src, join(dir, name))) {
        pausePoint('safety-copy:mid'); // (a kill here leaves no safety.json: the step runs again)
        files.push(suffix);
        linked = true;
        continue;
      }
      const part = join(dir, `${name}${suffix}.part`);
      copyFileSync(src, part);
      chmodSync(part, statSync(src).mode & mainMode & 0o666);
      pausePoint(`safety-copy:mid${suffix}`);
      fsyncPath(part);
      renameSync(part, join(dir, `${name}${suffix}`));
      files.push(suffix);
    }
    const m: SafetyManifest = { dbPath, at: new Date().toISOString(), files, missing: !files.includes(''), ...(linked ? { linked } : {}) };
    rmSync(join(dir, 'safety.json.part'), { force: true });
    writeFileSync(join(dir, 'safety.json.part'), `${JSON.stringify(m, null, 2)}\n`, { mode: 0o600 });
    fsyncPath(join(dir, 'safety.json.part'));
    renameSync(join(dir, 'safety.json.part'), join(dir, 'safety.json'));
    fsyncPath(dir);
    return m;
  } catch (e) {
    for (const f of existsSync(dir) ? readdirSync(dir) : []) if (f.endsWith('.part')) rmSync(join(dir, f), { force: true });
    throw fsError(e, `safety copy of ${dbPath} into ${dir}`);
  }
}

/**
 * Folds a database's -wal (or hot -journal) into its main file, so that removing the sidecars
 * afterwards loses nothing: opening and checkpointing with TRUNCATE (a hot journal is rolled back
 * on open). Best effort: a corrupted file is left as it is (the safety copy has everything).
 */
export async function foldSidecars(path: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  try {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path, { fileMustExist: true, timeout: 10_000 });
    try {
      db.prepare('SELECT count(*) FROM sqlite_master').get();
      if (String(db.pragma('journal_mode', { simple: true })) === 'wal') db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Puts `tmp` in place of `dbPath` atomically. The old sidecars are folded in and removed before the
 * rename: killed at any point, the path holds the whole old database or the whole new one.
 */
export async function swapIn(tmp: string, dbPath: string, label = 'swap'): Promise<void> {
  try {
    // The new file takes the old one's mode and owner: a restore run as root must neither open a
    // 0600 database to everyone nor leave the application unable to write it (issue #13).
    const was = statOrUndefined(dbPath);
    if (was) {
      chmodSync(tmp, was.mode & 0o7777);
      if (process.getuid?.() === 0) chownSync(tmp, was.uid, was.gid);
    }
    await foldSidecars(dbPath);
    pausePoint(`${label}:sidecars`);
    for (const s of SIDECARS) rmSync(`${dbPath}${s}`, { force: true });
    fsyncPath(dirname(dbPath));
    pausePoint(`${label}:rename`);
    renameSync(tmp, dbPath);
    fsyncPath(dirname(dbPath));
  } catch (e) {
    throw fsError(e, `replacing ${dbPath}`);
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Puts a safety copy back: its files are copied beside the database, its -wal or -journal folded
 * into the copy, and the result swapped in like a restore. Idempotent, so an interrupted rollback
 * is finished by running it again.
 */
export async function putBack(safetyDir: string, dbPath: string): Promise<SafetyManifest> {
  const mf = join(safetyDir, 'safety.json');
  if (!existsSync(mf)) throw new Failure('no-safety-copy', `rollback of ${dbPath}: the safety copy in ${safetyDir} is incomplete (no safety.json); nothing was changed`);
  const m = JSON.parse(readFileSync(mf, 'utf8')) as SafetyManifest;
  const name = basename(dbPath);
  const staged = join(dirname(dbPath), `.${name}.rollback`);
  try {
    for (const s of ['', ...SIDECARS]) rmSync(`${staged}${s}`, { force: true });
    if (m.missing) {
      // There was no database before the restore: rolling back removes the restored one.
      for (const s of ['', ...SIDECARS]) rmSync(`${dbPath}${s}`, { force: true });
      fsyncPath(dirname(dbPath));
      return m;
    }
    for (const s of m.files.filter((f) => f !== '-shm')) {
      copyFileSync(join(safetyDir, `${name}${s}`), `${staged}${s}`);
      if (s === '') pausePoint('rollback:copy');
      fsyncPath(`${staged}${s}`);
    }
    await foldSidecars(staged);
    if (existsSync(`${staged}-wal`) || existsSync(`${staged}-journal`)) {
      // Could not be folded (the old file is damaged): put the files back as they were, main file
      // first; a rollback killed between the two renames is finished by running it again.
      for (const s of SIDECARS) rmSync(`${dbPath}${s}`, { force: true });
      renameSync(staged, dbPath);
      for (const s of SIDECARS) if (existsSync(`${staged}${s}`)) renameSync(`${staged}${s}`, `${dbPath}${s}`);
      fsyncPath(dirname(dbPath));
      return m;
    }
    fsyncPath(staged);
    await swapIn(staged, dbPath, 'rollback');
    return m;
  } catch (e) {
    for (const s of ['', ...SIDECARS]) rmSync(`${staged}${s}`, { force: true });
    throw fsError(e, `rollback of ${dbPath} from ${safetyDir}`);
  }
}

/**
 * One stage of a table-level restore: in one transaction, the rows of each table are replaced by
 * the backup's (a table missing from the database is created from the backup's schema). Killed
 * mid-way, SQLite rolls the transaction back: the stage is applied whole or not at all.
 */
export async function restoreTables(dbPath: string, backupFile: string, tables: readonly string[], stage: string): Promise<Record<string, number>> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(dbPath, { timeout: 10_000 });
  try {
    // Parents and children may be restored in different stages; foreign_key_check runs after.
    db.pragma('foreign_keys = OFF');
    db.prepare('ATTACH DATABASE ? AS b').run(backupFile);
    const counts: Record<string, number> = {};
    db.transaction(() => {
      for (const t of tables) {
        const schema = db.prepare("SELECT sql FROM b.sqlite_master WHERE type = 'table' AND name = ?").get(t) as { sql: string } | undefined;
        if (!schema) throw new Failure('not-found', `table ${t} is not in the backup`);
        const live = db.prepare("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?").get(t);
        if (!live) {
          db.exec(schema.sql);
          for (const ix of db.prepare("SELECT sql FROM b.sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL").all(t) as { sql: string }[]) db.exec(ix.sql);
        }
        const cols = (db.prepare(`SELECT name FROM pragma_table_info(?, 'b')`).all(t) as { name: string }[]).map((c) => c.name);
        const liveCols = new Set((db.prepare(`SELECT name FROM pragma_table_info(?, 'main')`).all(t) as { name: string }[]).map((c) => c.name));
        const missing = cols.filter((c) => !liveCols.has(c));
        if (missing.length) throw new Failure('schema', `table ${t}: the database lacks column(s) ${missing.join(', ')} that the backup has; restore the whole file instead`);
        const list = cols.map(q).join(', ');
        db.exec(`DELETE FROM main.${q(t)}`);
        db.exec(`INSERT INTO main.${q(t)} (${list}) SELECT ${list} FROM b.${q(t)}`);
        counts[t] = (db.prepare(`SELECT count(*) AS n FROM main.${q(t)}`).get() as { n: number }).n;
      }
      pausePoint(`stage:${stage}:uncommitted`);
    })();
    return counts;
  } catch (e) {
    throw fsError(e, `stage ${stage} of the restore into ${dbPath}`);
  } finally {
    db.close();
  }
}

/** A process that has a file open. */
export interface Holder {
  pid: number;
  command: string;
}

/**
 * Processes (other than this one) holding a database or its sidecars open, found through
 * /proc/<pid>/fd by device and inode, so processes inside containers count too. Linux only;
 * elsewhere it returns none.
 */
export function holdersOf(dbPath: string): Holder[] {
  const ids = new Set<string>();
  for (const s of ['', ...SIDECARS]) {
    try {
      const st = statSync(`${dbPath}${s}`);
      ids.add(`${st.dev}:${st.ino}`);
    } catch {
      // absent sidecar
    }
  }
  if (ids.size === 0 || !existsSync('/proc/self/fd')) return [];
  const out: Holder[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = readlinkSync(`/proc/${p}/fd/${fd}`);
        if (!link.startsWith('/')) continue;
        const st = statSync(`/proc/${p}/fd/${fd}`);
        if (!ids.has(`${st.dev}:${st.ino}`)) continue;
        let command = '';
        try {
          command = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 80);
        } catch {
          // process ended
        }
        out.push({ pid: Number(p), command });
        break;
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return out;
}
