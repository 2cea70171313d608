import { stat } from 'node:fs/promises';
import type { RangeSet } from '../domain/ranges.js';
import { fail, ok, type Result } from '../domain/result.js';
import { integerKey, observeRows, type RowObservation } from './row-tracker.js';
import type { SqliteHealth } from '../domain/observations.js';

// Its observation types live in the domain (issue #15); re-exported for the callers of this service.
export type { SqliteHealth };

/** The row ledger's view of the tables to track: known and missing ids per table. */
export type TrackedRows = Record<string, { known: RangeSet; missing: RangeSet }>;

/**
 * Probes a SQLite file: opened read-only with a busy timeout, `PRAGMA quick_check` (the cheap
 * sequential pass; integrity_check is for backups and restores — docs/FACTS.md §4), page and freelist
 * counts, file and WAL sizes. A missing file is not created.
 */
export async function probeSqlite(path: string, timeoutMs = 10_000, countTables: readonly string[] = [], tracked?: TrackedRows): Promise<Result<SqliteHealth>> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('not-found', 'sqlite', `database file ${path} does not exist`);
    if (code === 'EACCES') return fail('auth', 'sqlite', `database file ${path}: permission denied`);
    return fail('unknown', 'sqlite', `database file ${path}: ${(e as Error).message}`);
  }
  if (!st.isFile()) return fail('invalid', 'sqlite', `${path} is not a regular file (expected a SQLite database)`);
  const wal = await stat(`${path}-wal`).catch(() => undefined);
  const t0 = performance.now();
  const { default: Database } = await import('better-sqlite3');
  let db;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: timeoutMs });
    const mode = String(db.pragma('journal_mode', { simple: true }));
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const pageCount = Number(db.pragma('page_count', { simple: true }));
    const freelistCount = Number(db.pragma('freelist_count', { simple: true }));
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    const quick = rows.map((r) => r.quick_check);
    const tableRows: Record<string, number> = {};
    const tableMaxRowid: Record<string, number> = {};
    for (const t of countTables) {
      try {
        const r = db.prepare(`SELECT count(*) AS n, coalesce(max(rowid), 0) AS m FROM "${t.replace(/"/g, '""')}"`).get() as { n: number; m: number };
        tableRows[t] = r.n;
        tableMaxRowid[t] = r.m;
      } catch {
        // A missing table shows up as a missing count.
      }
    }
    const observations: Record<string, RowObservation> = {};
    const conflicts: Record<string, number> = {};
    if (tracked && quick[0] === 'ok') {
      for (const t of countTables) {
        if (tableRows[t] === undefined) continue;
        const key = integerKey(db, t);
        const e = tracked[t];
        if (key) observations[t] = observeRows(db, t, key, e?.known ?? [], e?.missing ?? []);
        const ct = `_opsdeck_conflicts_${t}`;
        if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(ct))
          conflicts[t] = (db.prepare(`SELECT count(*) AS n FROM "${ct.replace(/"/g, '""')}"`).get() as { n: number }).n;
      }
    }
    return ok({
      observations,
      conflicts,
      tableRows,
      tableMaxRowid,
      path,
      sizeBytes: st.size,
      walBytes: wal?.size ?? 0,
      pageSize,
      pageCount,
      freelistCount,
      journalMode: mode,
      quickCheck: quick,
      lastModified: Math.max(st.mtimeMs, wal?.mtimeMs ?? 0),
      latencyMs: performance.now() - t0,
    });
  } catch (e) {
    const err = e as Error & { code?: string };
    const code = err.code ?? '';
    if (code === 'SQLITE_NOTADB') return fail('invalid', 'sqlite', `${path} is not a SQLite database (file is not a database)`);
    if (code.startsWith('SQLITE_CORRUPT')) return fail('invalid', 'sqlite', `${path} is corrupted: ${err.message}`);
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
      return fail('timeout', 'sqlite', `${path} stayed locked for ${timeoutMs} ms (a writer holds it)`);
    if (code === 'SQLITE_CANTOPEN') return fail('unavailable', 'sqlite', `${path} cannot be opened: ${err.message}`);
    return fail('unknown', 'sqlite', `${path}: ${err.message}`);
  } finally {
    db?.close();
  }
}
