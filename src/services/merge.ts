import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { Failure } from '../domain/errors.js';
import { intersect, size } from '../domain/ranges.js';
import { quarantineTable } from '../domain/integrity.js';
import { fsError, pausePoint, q } from './backup-restore.js';
import { integerKey, islands } from './row-tracker.js';

// Row-level restores (issue #10): the merge that only inserts the backup's rows missing now, its
// check, and what a replace would lose. Split from backup-restore.ts (file-level building blocks).

/** The columns a merge matches rows on: a configured key, else the declared PRIMARY KEY. */
export function mergeKey(db: BetterSqlite3.Database, table: string, configured: readonly string[] | undefined, schema = 'b'): string[] | undefined {
  if (configured?.length) return [...configured];
  const cols = db.prepare('SELECT name, pk FROM pragma_table_info(?, ?) WHERE pk > 0 ORDER BY pk').all(table, schema) as { name: string; pk: number }[];
  return cols.length ? cols.map((c) => c.name) : undefined;
}

/**
 * The tables a merge covers, parents first: the chosen ones plus, recursively, the tables whose
 * foreign keys point at them with ON DELETE CASCADE (a deleted parent took those rows with it).
 * Read from the backup's schema (attached as `b`).
 */
export function mergeOrder(db: BetterSqlite3.Database, chosen: readonly string[]): { tables: string[]; cascaded: string[] } {
  const all = (db.prepare("SELECT name FROM b.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_opsdeck\\_%' ESCAPE '\\'").all() as { name: string }[]).map((r) => r.name);
  const fks = new Map<string, { parent: string; cascade: boolean }[]>();
  for (const t of all) fks.set(t, (db.prepare('SELECT "table" AS parent, on_delete FROM pragma_foreign_key_list(?, ?)').all(t, 'b') as { parent: string; on_delete: string }[]).map((f) => ({ parent: f.parent, cascade: f.on_delete.toUpperCase() === 'CASCADE' })));
  const set = new Set(chosen);
  const cascaded: string[] = [];
  for (let grew = true; grew; ) {
    grew = false;
    for (const t of all) {
      if (set.has(t)) continue;
      if ((fks.get(t) ?? []).some((f) => f.cascade && set.has(f.parent))) {
        set.add(t);
        cascaded.push(t);
        grew = true;
      }
    }
  }
  // Parents before children (a cycle keeps the remaining order).
  const out: string[] = [];
  const pending = [...set];
  while (pending.length) {
    const i = pending.findIndex((t) => (fks.get(t) ?? []).every((f) => f.parent === t || !pending.includes(f.parent)));
    out.push(...pending.splice(i < 0 ? 0 : i, 1));
  }
  return { tables: out, cascaded };
}

/** What a merge did to one table. */
export interface MergeCount {
  inserted: number;
  /** Backup rows whose key now holds a different row, or that a UNIQUE/CHECK constraint refused. */
  conflicts: number;
  /** Backup rows already present as they are. */
  unchanged: number;
  /** Backup rows whose key waits in `_opsdeck_quarantine_<table>` (`db repair` moved them): not merged back — that would duplicate them; `db repair --undo` puts them back. */
  quarantined: number;
  /** The key values of the rows inserted, when the key is one integer column (the ledger step names those the row-loss check never saw missing). */
  insertedIds?: { key: string; ids: number[] };
}

/** Whether a table exists in the main schema with every one of these columns. */
function hasColumns(db: BetterSqlite3.Database, table: string, cols: readonly string[]): boolean {
  const have = new Set((db.prepare(`SELECT name FROM pragma_table_info(?, 'main')`).all(table) as { name: string }[]).map((c) => c.name));
  return have.size > 0 && cols.length > 0 && cols.every((c) => have.has(c));
}

/** The conflicts table of a merged table. */
export const conflictsTable = (t: string) => `_opsdeck_conflicts_${t}`;

/**
 * A merge restore (issue #10): in one transaction, for each table (parents first), the backup's
 * rows whose key is absent now are inserted; a backup row whose key now holds a different row — an
 * id reused by a newer write — is kept in `_opsdeck_conflicts_<table>` of the same file, tagged with
 * the run, and the live row is left alone. Nothing live is updated or deleted. Idempotent: run again
 * (a resume), it inserts nothing twice and records no conflict twice.
 */
export async function mergeTables(dbPath: string, backupFile: string, tables: readonly string[], keys: Record<string, string[]>, run: { id: string; backupId: string }): Promise<Record<string, MergeCount>> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(dbPath, { timeout: 10_000 });
  try {
    // Parents are merged before children; foreign_key_check runs in the check step.
    db.pragma('foreign_keys = OFF');
    db.prepare('ATTACH DATABASE ? AS b').run(backupFile);
    const counts: Record<string, MergeCount> = {};
    db.transaction(() => {
      for (const t of tables) {
        const key = keys[t];
        if (!key?.length) throw new Failure('no-key', `table ${t}: no PRIMARY KEY and no merge_keys entry; a merge needs a stable key`);
        if (!db.prepare("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?").get(t)) throw new Failure('schema', `table ${t} is not in ${dbPath}; restore it by replacing (--tables ${t}) instead`);
        const cols = (db.prepare(`SELECT name FROM pragma_table_info(?, 'b')`).all(t) as { name: string }[]).map((c) => c.name);
        const liveCols = new Set((db.prepare(`SELECT name FROM pragma_table_info(?, 'main')`).all(t) as { name: string }[]).map((c) => c.name));
        const lacking = cols.filter((c) => !liveCols.has(c));
        if (lacking.length) throw new Failure('schema', `table ${t}: the database lacks column(s) ${lacking.join(', ')} that the backup has; a merge cannot place those rows`);
        const ct = conflictsTable(t);
        const hadConflicts = !!db.prepare("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?").get(ct);
        db.exec(`CREATE TABLE IF NOT EXISTS main.${q(ct)} AS SELECT ${cols.map(q).join(', ')}, '' AS _opsdeck_run, '' AS _opsdeck_backup, '' AS _opsdeck_reason, '' AS _opsdeck_at FROM b.${q(t)} WHERE 0`);
        const list = cols.map(q).join(', ');
        const bList = cols.map((c) => `x.${q(c)}`).join(', ');
        const match = (a: string, b2: string) => key.map((k) => `${a}.${q(k)} IS ${b2}.${q(k)}`).join(' AND ');
        const same = cols.map((c) => `m.${q(c)} IS x.${q(c)}`).join(' AND ');
        const at = new Date().toISOString();
        // A backup row kept apart already (by this run before a kill, or by an earlier merge) is not kept twice.
        // (Compared on the columns the conflicts table has: one an older merge made may lack a column added since.)
        const ctCols = new Set((db.prepare(`SELECT name FROM pragma_table_info(?, 'main')`).all(ct) as { name: string }[]).map((c) => c.name));
        const already = `NOT EXISTS (SELECT 1 FROM main.${q(ct)} c WHERE ${cols.filter((c) => ctCols.has(c)).map((c) => `c.${q(c)} IS x.${q(c)}`).join(' AND ') || '0'})`;
        // Keys reused by a different row: kept apart, the live row untouched.
        const reused = db
          .prepare(`INSERT INTO main.${q(ct)} (${list}, _opsdeck_run, _opsdeck_backup, _opsdeck_reason, _opsdeck_at) SELECT ${bList}, ?, ?, 'key now holds a different row', ? FROM b.${q(t)} x JOIN main.${q(t)} m ON ${match('m', 'x')} WHERE NOT (${same}) AND ${already}`)
          .run(run.id, run.backupId, at).changes;
        // Rows `db repair` moved into quarantine are not missing rows: merging them back would duplicate them.
        const qt = quarantineTable(t);
        const inQuarantine = hasColumns(db, qt, key) ? `EXISTS (SELECT 1 FROM main.${q(qt)} qq WHERE ${match('qq', 'x')})` : undefined;
        const quarantined = inQuarantine ? (db.prepare(`SELECT count(*) AS n FROM b.${q(t)} x WHERE NOT EXISTS (SELECT 1 FROM main.${q(t)} m WHERE ${match('m', 'x')}) AND ${inQuarantine}`).get() as { n: number }).n : 0;
        // Rows missing now: inserted; one a UNIQUE or CHECK constraint refuses is kept apart too.
        const missing = db.prepare(`SELECT ${bList} FROM b.${q(t)} x WHERE NOT EXISTS (SELECT 1 FROM main.${q(t)} m WHERE ${match('m', 'x')})${inQuarantine ? ` AND NOT ${inQuarantine}` : ''}`).raw().all() as unknown[][];
        const insert = db.prepare(`INSERT INTO main.${q(t)} (${list}) VALUES (${cols.map(() => '?').join(', ')})`);
        const keep = db.prepare(`INSERT INTO main.${q(ct)} (${list}, _opsdeck_run, _opsdeck_backup, _opsdeck_reason, _opsdeck_at) VALUES (${cols.map(() => '?').join(', ')}, ?, ?, ?, ?)`);
        let inserted = 0;
        let refused = 0;
        const keyAt = key.length === 1 ? cols.indexOf(key[0]!) : -1;
        const insertedIds: number[] = [];
        for (const row of missing) {
          try {
            db.exec('SAVEPOINT merge_row');
            insert.run(...row);
            db.exec('RELEASE merge_row');
            inserted++;
            if (keyAt >= 0 && Number.isInteger(row[keyAt])) insertedIds.push(row[keyAt] as number);
          } catch (e) {
            db.exec('ROLLBACK TO merge_row');
            db.exec('RELEASE merge_row');
            const code = String((e as { code?: string }).code ?? '');
            if (!code.startsWith('SQLITE_CONSTRAINT')) throw e;
            keep.run(...row, run.id, run.backupId, (e as Error).message, at);
            refused++;
          }
        }
        const total = (db.prepare(`SELECT count(*) AS n FROM b.${q(t)}`).get() as { n: number }).n;
        const conflicts = (db.prepare(`SELECT count(*) AS n FROM main.${q(ct)} WHERE _opsdeck_run = ?`).get(run.id) as { n: number }).n;
        counts[t] = { inserted, conflicts, unchanged: Math.max(0, total - inserted - conflicts - quarantined), quarantined, ...(keyAt >= 0 ? { insertedIds: { key: key[0]!, ids: insertedIds } } : {}) };
        // No conflict: the table this run made is not left behind in the application's database.
        if (!hadConflicts && (db.prepare(`SELECT count(*) AS n FROM main.${q(ct)}`).get() as { n: number }).n === 0) db.exec(`DROP TABLE main.${q(ct)}`);
        if (reused + refused > conflicts) throw new Failure('internal', `merge of ${t}: ${reused + refused} conflicts written, ${conflicts} found`);
      }
      pausePoint('merge:uncommitted');
    })();
    return counts;
  } catch (e) {
    throw fsError(e, `merge into ${dbPath}`);
  } finally {
    db.close();
  }
}

/**
 * After a merge, each backup row of each table must be in the table as it is, kept in the
 * conflicts table (by this run or an earlier merge: the same row is never kept twice), or waiting in
 * quarantine: the count of rows that are none of these (0 when the merge is whole).
 */
export async function unmergedRows(dbPath: string, backupFile: string, tables: readonly string[], keys: Record<string, string[]>, _runId: string): Promise<Record<string, number>> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(dbPath, { readonly: true, timeout: 10_000 });
  try {
    db.prepare('ATTACH DATABASE ? AS b').run(backupFile);
    const out: Record<string, number> = {};
    for (const t of tables) {
      const key = keys[t] ?? [];
      const cols = (db.prepare(`SELECT name FROM pragma_table_info(?, 'b')`).all(t) as { name: string }[]).map((c) => c.name);
      const same = cols.map((c) => `m.${q(c)} IS x.${q(c)}`).join(' AND ');
      const kept = key.map((k) => `c.${q(k)} IS x.${q(k)}`).join(' AND ');
      const ct = conflictsTable(t);
      const hasCt = db.prepare("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?").get(ct);
      // Kept apart (by this run or an earlier merge), or waiting in quarantine (`db repair`): accounted for.
      const qt = quarantineTable(t);
      const quarantined = hasColumns(db, qt, key) ? ` AND NOT EXISTS (SELECT 1 FROM main.${q(qt)} c WHERE ${kept})` : '';
      out[t] = (
        db
          .prepare(`SELECT count(*) AS n FROM b.${q(t)} x WHERE NOT EXISTS (SELECT 1 FROM main.${q(t)} m WHERE ${same})${hasCt ? ` AND NOT EXISTS (SELECT 1 FROM main.${q(ct)} c WHERE ${kept})` : ''}${quarantined}`)
          .get() as { n: number }
      ).n;
    }
    return out;
  } finally {
    db.close();
  }
}

/**
 * What replacing tables by the backup's would lose (issue #10): per table with an integer key, the
 * ids of live rows that the backup does not hold as they are — rows written after the backup, and
 * rows whose id the backup holds with other content (an id reused after an earlier restore). Read
 * with the writers stopped, before the replace. Undefined for a table that cannot be read (a
 * corrupt file): then only the ids known to the row-loss ledger can be counted.
 */
export async function replaceLoss(dbPath: string, backupFile: string, tables: readonly string[], integerKeyOf: (db: BetterSqlite3.Database, t: string) => string | undefined): Promise<Record<string, [number, number][] | undefined>> {
  const { default: Database } = await import('better-sqlite3');
  const out: Record<string, [number, number][] | undefined> = {};
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 10_000 });
    db.prepare('ATTACH DATABASE ? AS b').run(backupFile);
  } catch {
    db?.close();
    for (const t of tables) out[t] = undefined;
    return out;
  }
  try {
    for (const t of tables) {
      try {
        const key = integerKeyOf(db, t);
        if (!key || !db.prepare("SELECT 1 FROM b.sqlite_master WHERE type = 'table' AND name = ?").get(t)) {
          out[t] = undefined;
          continue;
        }
        const cols = (db.prepare(`SELECT name FROM pragma_table_info(?, 'b')`).all(t) as { name: string }[]).map((c) => c.name);
        const same = cols.map((c) => `m.${q(c)} IS x.${q(c)}`).join(' AND ');
        const ids = (db.prepare(`SELECT m.${q(key)} AS k FROM main.${q(t)} m WHERE NOT EXISTS (SELECT 1 FROM b.${q(t)} x WHERE x.${q(key)} = m.${q(key)} AND ${same}) ORDER BY 1`).raw().all() as [number][]).map((r) => r[0]);
        const ranges: [number, number][] = [];
        for (const id of ids) {
          const last = ranges.at(-1);
          if (last && id === last[1] + 1) last[1] = id;
          else ranges.push([id, id]);
        }
        out[t] = ranges;
      } catch {
        out[t] = undefined; // unreadable (corrupt pages): the ledger's ids are all we know
      }
    }
    return out;
  } finally {
    db.close();
  }
}

/** Rows a restore should bring back: a table, its integer key (when the ledger knows it) and the missing ids. */
export interface MissingRows {
  table: string;
  key?: string;
  missing: readonly (readonly [number, number])[];
}

/**
 * How many of the missing rows a backup file holds (an extracted, verified copy opened read-only).
 * Used to choose the backup a merge restores from by what it holds, not only by when it was taken
 * (issue #10: a scheduled backup taken between a DELETE and the monitor's next look lacks the rows).
 */
export function rowsHeld(file: string, wanted: readonly MissingRows[]): { held: number; total: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    let held = 0;
    let total = 0;
    for (const w of wanted) {
      const n = size(w.missing);
      total += n;
      const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(w.table);
      const key = exists ? (w.key ?? integerKey(db, w.table)) : undefined;
      if (!key) continue;
      held += size(intersect(islands(db, w.table, key), w.missing));
    }
    return { held, total };
  } finally {
    db.close();
  }
}

/** What a whole-file restore kept of the live file: opsdeck's own tables' rows, and its journal mode. */
export interface CarriedOver {
  /** Rows copied per `_opsdeck_*` table (quarantined rows of `db repair`, conflicts of a merge). */
  rows: Record<string, number>;
  /** The live file's journal mode, now the restored file's too (`wal` kept; a backup is never WAL). */
  journal: string;
  /** The live file could not be read (a corrupt file is what restores are for): nothing carried; it is all in the safety copy. */
  unreadable?: string;
}

/**
 * Before a whole-file restore renames the backup's copy over the live file: opsdeck's own tables of
 * the live file (`_opsdeck_quarantine_*`: rows `db repair` moved out, the only place they are kept;
 * `_opsdeck_conflicts_*`: rows a merge kept aside) are copied into the copy, rows the copy already
 * holds left out, so running it again after a kill adds nothing; and the live file's journal mode is
 * set on the copy (a WAL database stays WAL — a backup file never is). One transaction. A live file
 * that cannot be read (corrupt) is no reason to stop a restore: nothing is carried, and it says so.
 */
export function carryOver(copy: string, live: string): CarriedOver {
  const db = new Database(copy, { fileMustExist: true, timeout: 10_000 });
  try {
    let journal: string;
    let names: { name: string; sql: string }[];
    try {
      db.prepare('ATTACH DATABASE ? AS live').run(live);
      journal = String(db.pragma('live.journal_mode', { simple: true }));
      names = db.prepare("SELECT name, sql FROM live.sqlite_master WHERE type = 'table' AND name LIKE '\\_opsdeck\\_%' ESCAPE '\\'").all() as { name: string; sql: string }[];
    } catch (e) {
      return { rows: {}, journal: 'unknown', unreadable: (e as Error).message };
    }
    const rows: Record<string, number> = {};
    const copyAll = db.transaction(() => {
      for (const t of names) {
        if (!db.prepare("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?").get(t.name)) db.exec(t.sql);
        const mine = new Set((db.prepare('SELECT name FROM pragma_table_info(?, ?)').all(t.name, 'main') as { name: string }[]).map((c) => c.name));
        const cols = (db.prepare('SELECT name FROM pragma_table_info(?, ?)').all(t.name, 'live') as { name: string }[]).map((c) => c.name).filter((c) => mine.has(c)).map(q).join(', ');
        const n = db.prepare(`INSERT INTO main.${q(t.name)} (${cols}) SELECT ${cols} FROM live.${q(t.name)} EXCEPT SELECT ${cols} FROM main.${q(t.name)}`).run().changes;
        if (n) rows[t.name] = n;
      }
    });
    try {
      copyAll.immediate();
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_FULL') throw e;
      return { rows: {}, journal, unreadable: (e as Error).message };
    }
    db.exec('DETACH DATABASE live');
    if (journal === 'wal') db.pragma('journal_mode = WAL');
    return { rows, journal };
  } catch (e) {
    throw fsError(e, `keeping opsdeck's own tables and the journal mode of ${live} in the restored copy`);
  } finally {
    db.close(); // in WAL mode: checkpointed, and its -wal and -shm removed
  }
}
