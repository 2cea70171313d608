import type BetterSqlite3 from 'better-sqlite3';
import { quarantineTable } from '../domain/integrity.js';
import { intersect, maxOf, normalize, size, subtract, type Range, type RangeSet } from '../domain/ranges.js';
import type { RowObservation } from '../domain/observations.js';

// Its observation types live in the domain (issue #15); re-exported for the callers of this service.
export type { RowObservation };

// Which rows of a critical table exist, as id ranges (issue #10). The monitor compares them with
// the ledger it keeps in the state database: ids known to exist that are gone now are lost rows,
// whatever the writer appended since (a count or a max rowid cannot tell a deletion from a write).

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The integer primary key of a table (a rowid alias: stable across VACUUM), or undefined when it
 * has none (a composite or text key, or a plain rowid table — rowids are renumbered by VACUUM).
 */
export function integerKey(db: BetterSqlite3.Database, table: string, schema = 'main'): string | undefined {
  const cols = db.prepare(`SELECT name, type, pk FROM pragma_table_info(?, ?)`).all(table, schema) as { name: string; type: string; pk: number }[];
  const pk = cols.filter((c) => c.pk > 0);
  if (pk.length !== 1 || (pk[0] as { type: string }).type.toUpperCase() !== 'INTEGER') return undefined;
  return (pk[0] as { name: string }).name;
}

/** The ids present in a table as ranges ("gaps and islands"), optionally only those in [lo, hi]. */
export function islands(db: BetterSqlite3.Database, table: string, key: string, lo = Number.MIN_SAFE_INTEGER, hi = Number.MAX_SAFE_INTEGER, schema = 'main'): Range[] {
  const k = q(key);
  const rows = db
    .prepare(`SELECT min(${k}) AS lo, max(${k}) AS hi FROM (SELECT ${k}, ${k} - row_number() OVER (ORDER BY ${k}) AS g FROM ${schema}.${q(table)} WHERE ${k} BETWEEN ? AND ?) GROUP BY g ORDER BY lo`)
    .all(lo, hi) as { lo: number; hi: number }[];
  return rows.map((r): Range => [r.lo, r.hi]);
}

/** How many rows have an id inside the given ranges. */
function countIn(db: BetterSqlite3.Database, table: string, key: string, ranges: RangeSet): number {
  const st = db.prepare(`SELECT count(*) AS n FROM ${q(table)} WHERE ${q(key)} BETWEEN ? AND ?`);
  let n = 0;
  for (const [lo, hi] of ranges) n += (st.get(lo, hi) as { n: number }).n;
  return n;
}

/**
 * Compares a table with the ledger. Cheap when nothing changed but appends: one count per known
 * range and the ids above the highest known one; the full gaps-and-islands scan only when a known
 * id is gone or rows appeared inside old gaps. First sight (empty ledger): every present id is known.
 */
export function observeRows(db: BetterSqlite3.Database, table: string, key: string, known: RangeSet, missing: RangeSet): RowObservation {
  const count = (db.prepare(`SELECT count(*) AS n FROM ${q(table)}`).get() as { n: number }).n;
  if (known.length === 0 && missing.length === 0) return { table, key, count, lostNow: [], added: islands(db, table, key) };
  let lostNow: Range[] = [];
  let stillKnown: RangeSet = known;
  if (known.length && countIn(db, table, key, known) < size(known)) {
    const lo = (known[0] as Range)[0];
    const hi = maxOf(known) as number;
    lostNow = subtract(known, islands(db, table, key, lo, hi));
    stillKnown = subtract(known, lostNow);
  }
  const quarantined = lostNow.length ? intersect(lostNow, inQuarantine(db, table, key, lostNow)) : [];
  if (quarantined.length) lostNow = subtract(lostNow, quarantined);
  const top = Math.max(maxOf(known) ?? Number.MIN_SAFE_INTEGER, maxOf(missing) ?? Number.MIN_SAFE_INTEGER);
  const above = (db.prepare(`SELECT count(*) AS n FROM ${q(table)} WHERE ${q(key)} > ?`).get(top) as { n: number }).n;
  const inMissing = countIn(db, table, key, missing);
  let added: Range[];
  if (count > size(stillKnown) + inMissing + above) added = subtract(subtract(islands(db, table, key), stillKnown), missing);
  else added = above ? islands(db, table, key, top + 1) : [];
  return { table, key, count, lostNow, added: normalize(added), ...(quarantined.length ? { quarantined } : {}) };
}

/** The ids among the given ranges that wait in the table's quarantine table (`db repair` moved them), if it has one. */
function inQuarantine(db: BetterSqlite3.Database, table: string, key: string, ranges: RangeSet): Range[] {
  const qt = quarantineTable(table);
  const cols = db.prepare('SELECT name FROM pragma_table_info(?)').all(qt) as { name: string }[];
  if (!cols.some((c) => c.name === key)) return [];
  const lo = (ranges[0] as Range)[0];
  const hi = maxOf(ranges) as number;
  return islands(db, qt, key, lo, hi);
}
