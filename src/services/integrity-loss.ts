import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { quarantineTable, type TableLoss } from '../domain/integrity.js';
import { size, subtract, type Range } from '../domain/ranges.js';
import type { BackupManifest } from './backup.js';
import { extractVerified, q } from './backup-restore.js';
import { scratchDir } from './backup.js';
import { openDatabase, userTables } from './integrity.js';
import { integerKey, islands } from './row-tracker.js';

// The loss assessment of issue #22: which rows of the newest verified backup are missing from the
// database now, per table, as id ranges (the row-loss ledger's ranges, src/domain/ranges.ts) and,
// where a timestamp column is configured, the times those ranges cover. It reads a snapshot, never
// the live file, so the writers' WAL is not held back while it scans.

/** At most this many ranges per table get their timestamps looked up (one indexed query each). */
const TIMED_RANGES = 50;

/**
 * Compares the snapshot `snap` with a verified backup (extracted to scratch, checksum checked,
 * removed afterwards): every table of the backup, its ids missing now (integer key) or how many
 * fewer rows it has (no integer key).
 */
export async function assessLoss(snap: string, backupDir: string, m: BackupManifest, timestamp: Record<string, string>): Promise<TableLoss[]> {
  const file = join(scratchDir(m.rawBytes, backupDir), `.opsdeck-${m.id}-${process.pid}.verify`);
  await extractVerified(join(backupDir, `${m.id}.db.br`), m.sha256, file, `backup ${m.id}`, 'backup');
  try {
    const db = await openDatabase(snap, true);
    try {
      db.prepare('ATTACH DATABASE ? AS b').run(file);
      const live = userTables(db);
      return userTables(db, 'b').map((t) => tableLoss(db, t, live.includes(t), timestamp[t]));
    } finally {
      db.close();
    }
  } finally {
    for (const sfx of ['', '-journal', '-wal', '-shm']) rmSync(`${file}${sfx}`, { force: true });
  }
}

type Db = Awaited<ReturnType<typeof openDatabase>>;

function tableLoss(db: Db, t: string, present: boolean, tsColumn: string | undefined): TableLoss {
  const count = (schema: string) => (db.prepare(`SELECT count(*) AS n FROM ${schema}.${q(t)}`).get() as { n: number }).n;
  const key = integerKey(db, t, 'b');
  if (!present) return { table: t, ...(key ? { key, missing: islands(db, t, key, undefined, undefined, 'b') } : { missing: [] }), count: count('b'), tableMissing: true };
  if (!key) return { table: t, missing: [], count: Math.max(0, count('b') - count('main')) };
  // Rows `db repair` moved into the quarantine table are not lost: they are in the file, and a merge
  // of them would duplicate them.
  const qt = quarantineTable(t);
  const inQuarantine = (db.prepare('SELECT 1 FROM pragma_table_info(?) WHERE name = ?').get(qt, key)) ? islands(db, qt, key) : [];
  const missing = subtract(subtract(islands(db, t, key, undefined, undefined, 'b'), islands(db, t, key)), inQuarantine);
  const loss: TableLoss = { table: t, key, missing, count: size(missing) };
  if (tsColumn && missing.length && (db.prepare('SELECT 1 FROM pragma_table_info(?, ?) WHERE name = ?').get(t, 'b', tsColumn))) loss.times = { column: tsColumn, ranges: timesOf(db, t, key, tsColumn, missing) };
  return loss;
}

function timesOf(db: Db, t: string, key: string, column: string, missing: readonly Range[]): [string | number | null, string | number | null][] {
  const st = db.prepare(`SELECT min(${q(column)}) AS lo, max(${q(column)}) AS hi FROM b.${q(t)} WHERE ${q(key)} BETWEEN ? AND ?`);
  return missing.slice(0, TIMED_RANGES).map(([lo, hi]) => {
    const r = st.get(lo, hi) as { lo: string | number | null; hi: string | number | null };
    return [r.lo, r.hi];
  });
}
