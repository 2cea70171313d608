import { chmodSync, existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Failure } from '../../domain/errors.js';
import { extractVerified, holdersOf, safetyCopy, swapIn } from '../../services/backup-restore.js';
import type { BackupManifest } from '../../services/backup.js';
import { safetyRoot } from '../../state/safety-copies.js';

// A database file put back whole from one verified backup (issue #17: an update rolled back,
// a database lost in a full-system recovery). Used only where nothing can have been written
// since the backup — an update's services stopped before it was taken, or a file that is gone or
// unreadable — so nothing committed is lost; what was there is kept first as a safety copy in
// `<state dir>/safety/<run id>` (`backup list` shows it), and a process still holding the file
// open stops it before anything changes. The restore wizard (`opsdeck restore`) is the way back
// for a live database with rows worth merging.

/** What put a database back. */
export interface PutBack {
  /** The safety copy of what was there before (undefined when there was no file). */
  safety?: string;
  note: string;
}

/**
 * Replaces `dbPath` by the backup `m` stored in `dir`: refused while a process holds the file,
 * a safety copy of the current file first (kept when a killed run already made it: a second run
 * must not overwrite it with what the first one put back), the stored file checked against its
 * checksum while it is decompressed beside the database, then swapped in atomically.
 */
export async function putBackFromBackup(opts: { dbPath: string; dir: string; m: BackupManifest; runId: string; stateDir: string | undefined; label: string }): Promise<PutBack> {
  const { dbPath, m } = opts;
  const holders = holdersOf(dbPath);
  if (holders.length) throw new Failure('busy', `${opts.label}: ${holders.map((h) => `pid ${h.pid} (${h.command})`).join(', ')} holds ${dbPath} open; stop it first (nothing was changed)`);
  let safety: string | undefined;
  // A -wal left beside a lost main file can hold committed rows: it is kept too.
  if (['', '-wal', '-shm', '-journal'].some((s) => existsSync(`${dbPath}${s}`))) {
    if (!opts.stateDir) throw new Failure('params', `${opts.label}: no state folder for the safety copy of ${dbPath}; nothing was changed`);
    safety = join(safetyRoot(opts.stateDir), `${opts.runId}-${m.database}`);
    if (!existsSync(join(safety, 'safety.json'))) safetyCopy(dbPath, safety);
  }
  const tmp = join(dirname(dbPath), `.${basename(dbPath)}.restore-${opts.runId}`);
  const stored = join(opts.dir, `${m.id}.db.br`);
  await extractVerified(stored, m.sha256, tmp, `backup ${m.id}`);
  // A database that is gone has no mode to keep: the stored backup has the source's (copyMode), never executable.
  if (!existsSync(dbPath)) chmodSync(tmp, statSync(stored).mode & 0o666);
  await swapIn(tmp, dbPath, 'put-back');
  return { ...(safety ? { safety } : {}), note: `${dbPath} is backup ${m.id} (${m.createdAt}) again${safety ? `; what was there is kept in ${safety}` : ''}` };
}
