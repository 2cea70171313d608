import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ExitError, UsageError } from '../domain/errors.js';
import { formatBytes } from '../domain/format.js';
import { listBackups } from '../services/backup.js';
import { extractVerified } from '../services/backup-restore.js';
import { out, outJson } from './output.js';

/**
 * `opsdeck backup extract ID --to FILE` (issue #27): the database of a backup, whatever its format
 * (one brotli stream, or `br-frames-1`), written to a new file after its SHA-256 matched — the way
 * to get a database out of a backup by hand. It writes a new file only (never over one, never the
 * live database), so nothing refuses it, --read-only included.
 */
export async function extractCommand(dirs: readonly { dir: string }[], id: string | undefined, to: string | undefined, json: boolean): Promise<number> {
  if (!id) throw new UsageError('backup extract needs a backup id (opsdeck backup list shows them)');
  if (!to) throw new UsageError('backup extract needs --to FILE (a new file: it is never overwritten)');
  const dst = resolve(to);
  if (existsSync(dst)) throw new ExitError(1, 'exists', `refused: ${dst} exists; backup extract writes a new file only`);
  const found = dirs.flatMap((t) => listBackups(t.dir).filter((m) => m.id === id).map((m) => ({ m, dir: t.dir })));
  const hit = found[0];
  if (!hit) throw new ExitError(1, 'not-found', `backup ${id}: not found in ${dirs.map((t) => t.dir).join(', ') || 'any backup folder'}`);
  await extractVerified(join(hit.dir, `${id}.db.br`), hit.m.sha256, dst, `backup ${id}`);
  const bytes = statSync(dst).size;
  if (json) outJson({ extracted: { id, to: dst, bytes, format: hit.m.format ?? 'brotli' } });
  else out(`extracted backup ${id} (${hit.m.format ?? 'one brotli stream'}, checksum ok) to ${dst}: ${formatBytes(bytes)}; it is a SQLite database file — check it with sqlite3 ${dst} 'PRAGMA integrity_check'`);
  return 0;
}
