import type { DatabaseConfig } from '../config/schema.js';
import type { CheckResult } from './check.js';
import { formatRanges, size, subtract, union, type Range, type RangeSet } from './ranges.js';

// The row-loss ledger's pure rules (issue #10). Per critical table the state database keeps the ids
// known to exist (`known`) and the ids that went missing (`missing`, sticky): a missing id that
// reappears may be a new row reusing the id (INTEGER PRIMARY KEY takes max + 1), so only a restore
// (which compares with the backup) or an operator's explicit acceptance clears it.

/** One table's entry in the ledger. */
export interface LedgerEntry {
  table: string;
  /** The integer primary key tracked; undefined for a table without one (counted instead). */
  key?: string;
  known: RangeSet;
  missing: RangeSet;
  /** When the oldest open loss was first noticed (ms). */
  missingSince?: number;
  /** Keyless tables: the highest row count seen. */
  seenCount: number;
}

/** After one look: lost ids move from known to missing, new ids join known. */
export function applyObservation(known: RangeSet, missing: RangeSet, o: { lostNow: RangeSet; added: RangeSet }): { known: Range[]; missing: Range[] } {
  const m = union(missing, o.lostNow);
  return { known: subtract(union(subtract(known, o.lostNow), o.added), m), missing: m };
}

/**
 * After a restore of a table: ids known before that are absent now were lost by it (rows written
 * after the backup, replaced away) and join the missing ones; ids the backup held are back (in the
 * table, or kept in the conflicts table when a new row reuses the id); everything present is known.
 */
export function afterRestore(e: Pick<LedgerEntry, 'known' | 'missing'>, present: RangeSet, backupIds: RangeSet): { known: Range[]; missing: Range[]; recovered: Range[]; lostByRestore: Range[] } {
  const lostByRestore = subtract(subtract(e.known, present), backupIds);
  const before = union(e.missing, subtract(e.known, present));
  const missing = subtract(before, backupIds);
  const recovered = subtract(e.missing, missing);
  return { known: subtract(present, missing), missing, recovered, lostByRestore };
}

/**
 * The `sqlite:<db>:rows` finding from the ledger: CRITICAL (for a critical database) while a
 * critical table misses rows, with their count and id ranges and how to bring them back; a WARNING
 * while rows of a merge wait in a conflicts table; OK otherwise.
 */
export function evaluateRowLedger(cfg: DatabaseConfig, counts: Record<string, number>, entries: readonly LedgerEntry[], conflicts: Record<string, number> = {}, now = Date.now()): CheckResult {
  const base = { id: `sqlite:${cfg.name}:rows`, kind: 'sqlite' as const, target: cfg.path, ...(cfg.critical ? { critical: true } : {}) };
  const absent = cfg.critical_tables.filter((t) => counts[t] === undefined);
  if (absent.length) return { ...base, status: cfg.critical ? 'critical' : 'warning', message: `critical table(s) missing: ${absent.join(', ')}` };
  const lost: string[] = [];
  let since: number | undefined;
  for (const e of entries) {
    const n = counts[e.table];
    if (e.key && e.missing.length) {
      lost.push(`${e.table} is missing ${size(e.missing)} rows (${e.key} ${formatRanges(e.missing)})`);
      if (e.missingSince !== undefined) since = Math.min(since ?? e.missingSince, e.missingSince);
    } else if (!e.key && n !== undefined && n < e.seenCount) lost.push(`${e.table} has ${n} rows, ${e.seenCount - n} fewer than the ${e.seenCount} seen before`);
  }
  if (lost.length) {
    const ago = since !== undefined ? ` (noticed ${Math.max(0, Math.round((now - since) / 1000))}s ago)` : '';
    return { ...base, status: cfg.critical ? 'critical' : 'warning', value: entries.reduce((a, e) => a + size(e.missing), 0), message: `rows lost: ${lost.join('; ')}${ago}; a merge restore brings back those a backup taken before the loss holds (console W, or opsdeck restore --db ${cfg.name} --merge: it says how many each backup holds before it changes anything)` };
  }
  const waiting = Object.entries(conflicts).filter(([, k]) => k > 0);
  if (waiting.length)
    return {
      ...base,
      status: 'warning',
      message: `merge conflicts kept for review: ${waiting.map(([t, k]) => `${k} rows of ${t} in _opsdeck_conflicts_${t}`).join(', ')} (their ids were reused by newer rows; both are kept). Review: sqlite3 ${cfg.path} 'SELECT * FROM _opsdeck_conflicts_${waiting[0]?.[0] ?? ''}'; re-enter what is needed under new ids, then drop the table to clear this warning`,
    };
  return { ...base, status: 'ok', message: `critical tables: ${cfg.critical_tables.map((t) => `${t} ${counts[t]}`).join(', ')} rows` };
}
