import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { Failure } from '../domain/errors.js';
import { QUARANTINE_COLUMNS, QUARANTINE_PREFIX, quarantineTable, regexMatches, type CompiledRule, type RowProblem } from '../domain/integrity.js';
import { normalize, type Range } from '../domain/ranges.js';
import { fsError, q } from './backup-restore.js';
import { scratchDir } from './backup.js';
import { integerKey } from './row-tracker.js';
import { pragmaInWorker } from './sqlite-worker.js';

// The SQLite side of issue #22 (`opsdeck db check|repair`): a fresh snapshot to run the long checks
// on, the rows that break a rule (foreign-key orphans, duplicates on configured keys, malformed
// values), and moving them into `_opsdeck_quarantine_<table>` of the same file and back, each in one
// transaction. The loss assessment against a backup is integrity-loss.ts.

type Db = BetterSqlite3.Database;

/** What the rules of one database are, for finding problem rows. */
export interface RuleSet {
  unique: Record<string, string[]>;
  rules: CompiledRule[];
}

async function open(path: string, readonly: boolean): Promise<Db> {
  const { default: Database } = await import('better-sqlite3');
  return new Database(path, { readonly, fileMustExist: true, timeout: 10_000 });
}

/**
 * `quick_check` on the live file, in a worker thread (run it beside `takeSnapshot`): it reads every
 * page once but does not cross-check indexes, so the read transaction it holds (which keeps a WAL
 * checkpoint from resetting the log) is short. The full `integrity_check` runs on the snapshot.
 */
export function quickCheck(path: string): Promise<string[]> {
  return pragmaInWorker(path, 'quick_check');
}

/** The full `integrity_check` of a snapshot, in a worker thread (run foreign_key_check and the rules beside it). */
export function integrityCheckAside(snap: string): Promise<string[]> {
  return pragmaInWorker(snap, 'integrity_check');
}

/**
 * A fresh snapshot of a live database (the backup API in one step, as `createBackup` takes it) in a
 * scratch folder (/dev/shm when it fits), 0600. The caller removes it (`dropSnapshot`).
 */
export async function takeSnapshot(path: string, sizeBytes: number, label: string): Promise<string> {
  const snap = join(scratchDir(sizeBytes, join(path, '..')), `.opsdeck-${label}-${process.pid}.snapshot`);
  const src = await open(path, true);
  try {
    writeFileSync(snap, '', { mode: 0o600 });
    await src.backup(snap, { progress: () => 0x7fffffff });
    return snap;
  } catch (e) {
    dropSnapshot(snap);
    throw fsError(e, `snapshot of ${path}`, 'backup');
  } finally {
    src.close();
  }
}

/** Removes a snapshot and its sidecars. */
export function dropSnapshot(snap: string): void {
  for (const sfx of ['', '-journal', '-wal', '-shm']) rmSync(`${snap}${sfx}`, { force: true });
}

/** The user tables of a schema (not SQLite's, not opsdeck's own). */
export function userTables(db: Db, schema = 'main'): string[] {
  return (db.prepare(`SELECT name FROM ${schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_opsdeck\\_%' ESCAPE '\\' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
}

/** The ordinary columns of a table (generated and hidden ones left out: they are not inserted). */
export function columnsOf(db: Db, table: string, schema = 'main'): string[] {
  return (db.prepare('SELECT name FROM pragma_table_info(?, ?)').all(table, schema) as { name: string }[]).map((r) => r.name);
}

/** Whether a table has rowids (a WITHOUT ROWID table cannot be quarantined by rowid). */
function hasRowid(db: Db, table: string): boolean {
  try {
    db.prepare(`SELECT rowid FROM ${q(table)} LIMIT 0`).all();
    return true;
  } catch {
    return false;
  }
}

/** The full `integrity_check` of an opened (snapshot) database: `['ok']` when sound. */
export function integrityCheck(db: Db): string[] {
  return (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
}

/** Foreign-key orphans: every row `foreign_key_check` names, with the parent it lacks. */
export function orphans(db: Db): RowProblem[] {
  const rows = db.pragma('foreign_key_check') as { table: string; rowid: number | null; parent: string }[];
  return rows.filter((r) => !r.table.startsWith(QUARANTINE_PREFIX)).map((r) => ({ table: r.table, rowid: r.rowid ?? -1, kind: 'orphan' as const, reason: `no row in ${r.parent} for its foreign key` }));
}

/** What could not be checked (a configured table or column that is not there): `rules:t.c` → why. */
export type Unchecked = Record<string, string>;

/** Rows duplicating an earlier row (lowest rowid kept) on each configured unique key; rows with a NULL in the key are distinct, as in a UNIQUE index. */
export function duplicates(db: Db, unique: Record<string, string[]>, unchecked: Unchecked): RowProblem[] {
  const out: RowProblem[] = [];
  const tables = userTables(db);
  for (const [t, cols] of Object.entries(unique)) {
    if (!tables.includes(t)) continue;
    const have = columnsOf(db, t);
    const absent = cols.filter((c) => !have.includes(c));
    if (absent.length) {
      unchecked[`duplicates:${t}`] = `unique key of ${t}: no column ${absent.join(', ')} (expected one of: ${have.join(', ')})`;
      continue;
    }
    const k = cols.map(q).join(', ');
    const sql = `SELECT r, first FROM (SELECT rowid AS r, first_value(rowid) OVER w AS first, row_number() OVER w AS n FROM ${q(t)} WHERE ${cols.map((c) => `${q(c)} IS NOT NULL`).join(' AND ')} WINDOW w AS (PARTITION BY ${k} ORDER BY rowid)) WHERE n > 1 ORDER BY r`;
    for (const r of db.prepare(sql).iterate() as Iterable<{ r: number; first: number }>) out.push({ table: t, rowid: r.r, kind: 'duplicate', reason: `same ${cols.join(', ')} as rowid ${r.first}` });
  }
  return out;
}

/** Rows breaking a column's format rule, one pass over each table that has rules. */
export function malformed(db: Db, rules: readonly CompiledRule[], unchecked: Unchecked): RowProblem[] {
  const out: RowProblem[] = [];
  const tables = userTables(db);
  const byTable = new Map<string, CompiledRule[]>();
  for (const r of rules) {
    if (!tables.includes(r.table)) continue;
    const have = columnsOf(db, r.table);
    if (!have.includes(r.column)) {
      unchecked[`rules:${r.table}.${r.column}`] = `rule ${r.table}.${r.column}: table ${r.table} has no column ${r.column} (expected one of: ${have.join(', ')})`;
      continue;
    }
    byTable.set(r.table, [...(byTable.get(r.table) ?? []), r]);
  }
  for (const [t, rs] of byTable) {
    const cols = [...new Set(rs.map((r) => r.column))];
    // SQLite picks the rows that may break a rule (a superset); the rules in JavaScript decide and
    // say why. Reading every row into JavaScript instead took 14 s on 1.7 M rows (bench:integrity).
    const params: unknown[] = [];
    const where = rs.map((r, i) => candidate(db, r, `opsdeck_rule_${i}`, params)).join(' OR ');
    const st = db.prepare(`SELECT rowid AS __rowid, ${cols.map(q).join(', ')} FROM ${q(t)} WHERE ${where}`);
    for (const row of st.iterate(...params) as Iterable<Record<string, unknown>>) {
      const why = rs.flatMap((r) => {
        const v = r.violation(row[r.column]);
        return v === undefined ? [] : [`${r.column}: ${v}`];
      });
      if (why.length) out.push({ table: t, rowid: Number(row.__rowid), kind: 'malformed', reason: why.join('; ') });
    }
  }
  return out;
}

/**
 * The SQL condition true for every value that may break `r` (never false for one that does): NULL
 * under not_null; a non-number or one out of range under min/max; a value not among the allowed of
 * its type; a value the regex (a function registered as `fn`) does not match.
 */
function candidate(db: Db, r: CompiledRule, fn: string, params: unknown[]): string {
  const c = q(r.column);
  const parts: string[] = [];
  if (r.rule.not_null) parts.push(`${c} IS NULL`);
  const nn = (cond: string) => parts.push(`(${c} IS NOT NULL AND (${cond}))`);
  if (r.rule.min !== undefined || r.rule.max !== undefined) {
    const bounds = [`typeof(${c}) NOT IN ('integer', 'real')`];
    if (r.rule.min !== undefined) {
      bounds.push(`${c} < ?`);
      params.push(r.rule.min);
    }
    if (r.rule.max !== undefined) {
      bounds.push(`${c} > ?`);
      params.push(r.rule.max);
    }
    nn(bounds.join(' OR '));
  }
  if (r.rule.allowed) {
    const texts = r.rule.allowed.filter((a) => typeof a === 'string');
    const nums = r.rule.allowed.filter((a) => typeof a === 'number');
    const inText = texts.length ? `(typeof(${c}) = 'text' AND ${c} IN (${texts.map(() => '?').join(', ')}))` : '0';
    const inNum = nums.length ? `(typeof(${c}) IN ('integer', 'real') AND ${c} IN (${nums.map(() => '?').join(', ')}))` : '0';
    params.push(...texts, ...nums);
    nn(`NOT (${inText} OR ${inNum})`);
  }
  if (r.re) {
    const re = r.re;
    db.function(fn, { deterministic: true }, (v: unknown) => (regexMatches(re, v) ? 1 : 0));
    nn(`NOT ${fn}(${c})`);
  }
  return parts.length ? parts.join(' OR ') : '0';
}

/** Every problem row (orphans, duplicates, malformed), one entry per row (reasons joined). */
export function problemRows(db: Db, rules: RuleSet, unchecked: Unchecked = {}): RowProblem[] {
  const all = [...orphans(db), ...duplicates(db, rules.unique, unchecked), ...malformed(db, rules.rules, unchecked)];
  const seen = new Map<string, RowProblem>();
  for (const p of all) {
    const k = `${p.table}\u0000${p.rowid}`;
    const prev = seen.get(k);
    seen.set(k, prev ? { ...prev, reason: `${prev.reason}; ${p.kind}: ${p.reason}` } : p);
  }
  return [...seen.values()];
}

/** Row counts of the tables that exist (a missing one is absent). */
export function tableCounts(db: Db, tables: readonly string[]): Record<string, number> {
  const have = userTables(db);
  return Object.fromEntries(tables.filter((t) => have.includes(t)).map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM ${q(t)}`).get() as { n: number }).n]));
}

/** Creates (or widens) a table's quarantine table: its columns without types (values kept exactly as stored), plus opsdeck's. */
function ensureQuarantine(db: Db, table: string): string[] {
  const cols = columnsOf(db, table);
  const qt = quarantineTable(table);
  const have = columnsOf(db, qt);
  if (have.length === 0) db.exec(`CREATE TABLE ${q(qt)} (${[...cols.map(q), '"_opsdeck_reason" TEXT', '"_opsdeck_run" TEXT', '"_opsdeck_rowid" INTEGER', '"_opsdeck_at" TEXT'].join(', ')})`);
  else for (const c of cols) if (!have.includes(c)) db.exec(`ALTER TABLE ${q(qt)} ADD COLUMN ${q(c)}`);
  return cols;
}

/** What one repair moved: rowids per table. */
export type Moved = Record<string, { rows: number; rowids: Range[]; kinds: Record<string, number> }>;

/**
 * Moves the problem rows into quarantine, in one IMMEDIATE transaction with foreign keys off (a
 * cascade must not delete children): copy, then delete, by rowid. Repeated until nothing is left,
 * since moving a parent can leave orphans (at most 16 rounds). Returns what moved.
 */
export async function moveToQuarantine(path: string, rules: RuleSet, run: string, at = new Date()): Promise<Moved> {
  const db = await open(path, false);
  try {
    db.pragma('foreign_keys = OFF');
    const moved: Moved = {};
    db.transaction(() => {
      for (let round = 0; round < 16; round++) {
        const found = problemRows(db, rules).filter((p) => p.rowid >= 0 && hasRowid(db, p.table));
        if (!found.length) break;
        for (const p of found) {
          const cols = ensureQuarantine(db, p.table);
          const list = cols.map(q).join(', ');
          db.prepare(`INSERT INTO ${q(quarantineTable(p.table))} (${list}, ${QUARANTINE_COLUMNS.map(q).join(', ')}) SELECT ${list}, ?, ?, rowid, ? FROM ${q(p.table)} WHERE rowid = ?`).run(`${p.kind}: ${p.reason}`, run, at.toISOString(), p.rowid);
          db.prepare(`DELETE FROM ${q(p.table)} WHERE rowid = ?`).run(p.rowid);
          const m = (moved[p.table] ??= { rows: 0, rowids: [], kinds: {} });
          m.rows++;
          m.rowids.push([p.rowid, p.rowid]);
          m.kinds[p.kind] = (m.kinds[p.kind] ?? 0) + 1;
        }
      }
    }).immediate();
    for (const m of Object.values(moved)) m.rowids = normalize(m.rowids);
    return moved;
  } finally {
    db.close();
  }
}

/** Quarantine tables of a database with their rows per run: table → run → rows. */
export function quarantined(db: Db): Record<string, Record<string, number>> {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '\\_opsdeck\\_quarantine\\_%' ESCAPE '\\'").all() as { name: string }[]).map((r) => r.name);
  const out: Record<string, Record<string, number>> = {};
  for (const qt of tables) {
    const t = qt.slice(QUARANTINE_PREFIX.length);
    for (const r of db.prepare(`SELECT "_opsdeck_run" AS run, count(*) AS n FROM ${q(qt)} GROUP BY 1`).all() as { run: string; n: number }[]) (out[t] ??= {})[r.run] = r.n;
  }
  return out;
}

/** The rows a run moved, per table (for the preview of an undo). */
export async function quarantinedBy(path: string, run: string): Promise<Record<string, number>> {
  const db = await open(path, true);
  try {
    return Object.fromEntries(Object.entries(quarantined(db)).flatMap(([t, runs]) => (runs[run] ? [[t, runs[run]]] : [])));
  } finally {
    db.close();
  }
}

/**
 * Puts a repair's rows back exactly (same rowids, values as stored), in one transaction, and drops a
 * quarantine table left empty. Refused, changing nothing, when a rowid is taken by a newer row.
 */
export async function undoQuarantine(path: string, run: string): Promise<Record<string, number>> {
  const db = await open(path, false);
  try {
    db.pragma('foreign_keys = OFF');
    const back: Record<string, number> = {};
    db.transaction(() => {
      for (const [t, runs] of Object.entries(quarantined(db))) {
        if (!runs[run]) continue;
        const qt = q(quarantineTable(t));
        if (!userTables(db).includes(t)) throw new Failure('not-found', `table ${t} no longer exists: its quarantined rows stay in ${quarantineTable(t)}`);
        const taken = db.prepare(`SELECT "_opsdeck_rowid" AS r FROM ${qt} WHERE "_opsdeck_run" = ? AND "_opsdeck_rowid" IN (SELECT rowid FROM ${q(t)}) LIMIT 5`).all(run) as { r: number }[];
        if (taken.length) throw new Failure('mismatch', `table ${t}: rowid ${taken.map((x) => x.r).join(', ')} is taken by a newer row; nothing was put back (the rows stay in ${quarantineTable(t)})`);
        // The columns both have: a column added since the repair takes its default (a NOT NULL one
        // without a default refuses, below); one dropped since is left in the quarantine table.
        const held = new Set(columnsOf(db, quarantineTable(t)));
        const cols = columnsOf(db, t).filter((c) => held.has(c));
        const key = integerKey(db, t);
        const list = cols.map(q).join(', ');
        const target = key ? list : `rowid, ${list}`;
        const source = key ? list : `"_opsdeck_rowid", ${list}`;
        try {
          back[t] = db.prepare(`INSERT INTO ${q(t)} (${target}) SELECT ${source} FROM ${qt} WHERE "_opsdeck_run" = ? ORDER BY "_opsdeck_rowid"`).run(run).changes;
        } catch (e) {
          const added = columnsOf(db, t).filter((c) => !held.has(c));
          throw new Failure('mismatch', `table ${t}: its rows cannot go back as they were (${(e as Error).message}${added.length ? `; column(s) added since the repair: ${added.join(', ')}` : ''}); nothing was put back (the rows stay in ${quarantineTable(t)})`);
        }
        db.prepare(`DELETE FROM ${qt} WHERE "_opsdeck_run" = ?`).run(run);
        if ((db.prepare(`SELECT count(*) AS n FROM ${qt}`).get() as { n: number }).n === 0) db.exec(`DROP TABLE ${qt}`);
      }
    }).immediate();
    return back;
  } finally {
    db.close();
  }
}

export { open as openDatabase };
