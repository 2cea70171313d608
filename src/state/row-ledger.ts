import type BetterSqlite3 from 'better-sqlite3';
import { formatRanges, intersect as intersectRanges, parseRanges, size, subtract, union, type Range, type RangeSet } from '../domain/ranges.js';
import { afterRestore, applyObservation, type LedgerEntry } from '../domain/row-ledger.js';
import { actor } from './acks.js';

// The row-loss ledger in the state database (issue #10): kept across restarts of the console and
// `watch`, so a deletion made while no monitor ran is reported when one starts again, and shared
// by every monitor and restore on one state folder. Every write re-reads the row inside an
// IMMEDIATE transaction and merges (known ∪ new, missing ∪ lost): two monitors cannot undo each
// other, and a restore's clearing is never overwritten by a monitor's stale copy.

interface Row {
  tbl: string;
  key: string | null;
  known: string;
  missing: string;
  missing_since: number | null;
  seen_count: number;
}

const fromRow = (r: Row): LedgerEntry => ({
  table: r.tbl,
  ...(r.key ? { key: r.key } : {}),
  known: parseRanges(r.known),
  missing: parseRanges(r.missing),
  ...(r.missing_since !== null ? { missingSince: r.missing_since } : {}),
  seenCount: r.seen_count,
});

/** Reads and updates the ledger of one state database. */
export class RowLedger {
  constructor(private readonly db: BetterSqlite3.Database) {}

  /** Closes the state database handle. */
  close(): void {
    this.db.close();
  }

  /** The entries of a database's tables (absent tables have none yet). */
  entries(database: string): LedgerEntry[] {
    return (this.db.prepare('SELECT tbl, key, known, missing, missing_since, seen_count FROM row_ledger WHERE database = ? ORDER BY tbl').all(database) as Row[]).map(fromRow);
  }

  /** One table's entry. */
  entry(database: string, table: string): LedgerEntry | undefined {
    const r = this.db.prepare('SELECT tbl, key, known, missing, missing_since, seen_count FROM row_ledger WHERE database = ? AND tbl = ?').get(database, table) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  private write(database: string, e: LedgerEntry, at: number): void {
    this.db
      .prepare(
        `INSERT INTO row_ledger (database, tbl, key, known, missing, missing_since, seen_count, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(database, tbl) DO UPDATE SET key = excluded.key, known = excluded.known, missing = excluded.missing,
           missing_since = excluded.missing_since, seen_count = excluded.seen_count, updated_at = excluded.updated_at`,
      )
      .run(database, e.table, e.key ?? null, JSON.stringify(e.known), JSON.stringify(e.missing), e.missing.length ? (e.missingSince ?? at) : null, e.seenCount, at);
  }

  private event(database: string, table: string, event: string, ranges: RangeSet, at: number, runId?: string): void {
    this.db.prepare('INSERT INTO row_loss_events (at, database, tbl, event, ranges, rows, run_id, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(at, database, table, event, JSON.stringify(ranges), size(ranges), runId ?? null, actor());
  }

  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Merges one monitor's look at a keyed table: lost ids become missing (and are recorded), new ids known. */
  observe(database: string, table: string, key: string, o: { lostNow: RangeSet; added: RangeSet; count: number; quarantined?: RangeSet }, at = Date.now()): LedgerEntry {
    return this.tx(() => {
      const cur = this.entry(database, table) ?? { table, key, known: [], missing: [], seenCount: 0 };
      // A key change (the table was recreated differently): start again from what is there.
      const base = cur.key === key ? cur : { table, key, known: [], missing: [], seenCount: 0 };
      const lostNow = subtract(o.lostNow, base.missing);
      // Rows `db repair` moved into quarantine leave the known ids, recorded, never as lost.
      const moved = subtract(intersectRanges(o.quarantined ?? [], base.known), base.missing);
      const next = applyObservation(subtract(base.known, moved), base.missing, { lostNow, added: o.added });
      const e: LedgerEntry = { table, key, ...next, seenCount: Math.max(base.seenCount, o.count), ...(next.missing.length ? { missingSince: base.missingSince ?? at } : {}) };
      this.write(database, e, at);
      if (lostNow.length) this.event(database, table, 'lost', lostNow, at);
      if (moved.length) this.event(database, table, 'quarantined', moved, at);
      return e;
    });
  }

  /** Merges a look at a table without an integer key: the highest row count seen. */
  observeCount(database: string, table: string, count: number, at = Date.now()): LedgerEntry {
    return this.tx(() => {
      const cur = this.entry(database, table);
      const e: LedgerEntry = { table, known: [], missing: [], seenCount: Math.max(cur && !cur.key ? cur.seenCount : 0, count) };
      this.write(database, e, at);
      return e;
    });
  }

  /**
   * Records a restore of a table: what it brought back leaves the missing ids, what it lost (rows
   * written after the backup, replaced away) joins them. A row a replace put the backup's version
   * over (same id, other content: changed since the backup, or an id reused) is `reverted`, not
   * missing: its id is in the table, and the ledger tracks which ids exist — counting it missing
   * raised a "rows lost" alert that nothing could clear and held every newer backup back from the
   * next restore (an operator's trial: four UPDATEd trades, then a whole-file restore). Its newer
   * version is in the run's safety copy; the summary and a `reverted` event say so.
   */
  restored(database: string, table: string, key: string | undefined, present: RangeSet, backupIds: RangeSet, count: number, runId: string, at = Date.now(), replacedAway: RangeSet = [], quarantined: RangeSet = [], keptAside: RangeSet = []): { recovered: Range[]; lostByRestore: Range[]; missing: Range[]; reverted: Range[] } {
    return this.tx(() => {
      const cur = this.entry(database, table);
      if (!key) {
        this.write(database, { table, known: [], missing: [], seenCount: count }, at);
        return { recovered: [], lostByRestore: [], missing: [], reverted: [] };
      }
      // Ids waiting in the quarantine table (`db repair` moved them) are neither lost nor missing.
      const had = cur && cur.key === key ? cur : { known: [], missing: [] };
      const moved = intersectRanges(quarantined, union(had.known, had.missing));
      if (moved.length) this.event(database, table, 'quarantined', moved, at, runId);
      const base = afterRestore({ known: subtract(had.known, moved), missing: subtract(had.missing, moved) }, present, subtract(backupIds, quarantined));
      // Replaced rows whose id is gone now (written after the monitor's last look, so unknown to the
      // ledger) are lost; those whose id is there hold the backup's version.
      const gone = subtract(replacedAway, present);
      const reverted = subtract(replacedAway, gone);
      const r = gone.length ? { ...base, missing: union(base.missing, gone), lostByRestore: union(base.lostByRestore, gone), known: subtract(base.known, gone) } : base;
      this.write(database, { table, key, known: r.known, missing: r.missing, seenCount: count, ...(r.missing.length ? { missingSince: cur?.missingSince ?? at } : {}) }, at);
      // Found, but not back in the table: a merge kept them in its conflicts table (their ids hold newer
      // rows) — recorded as `kept`, so a postmortem does not say they came back.
      const kept = intersectRanges(r.recovered, keptAside);
      const back = subtract(r.recovered, kept);
      if (back.length) this.event(database, table, 'recovered', back, at, runId);
      if (kept.length) this.event(database, table, 'kept', kept, at, runId);
      if (r.lostByRestore.length) this.event(database, table, 'lost', r.lostByRestore, at, runId);
      if (reverted.length) this.event(database, table, 'reverted', reverted, at, runId);
      return { ...r, reverted };
    });
  }

  /**
   * Whether a moment falls inside a loss of this database's rows: after a `lost` event and before
   * the next `recovered` or `accepted` one (or now, while the ledger still misses rows). A backup
   * taken then lacks those rows.
   */
  duringLoss(database: string): (at: number) => boolean {
    const events = this.db.prepare('SELECT at, event FROM row_loss_events WHERE database = ? ORDER BY at, id').all(database) as { at: number; event: string }[];
    const spans: [number, number][] = [];
    let open: number | undefined;
    for (const e of events) {
      if (e.event === 'lost') open ??= e.at;
      else if (open !== undefined && (e.event === 'recovered' || e.event === 'kept' || e.event === 'accepted')) {
        spans.push([open, e.at]);
        open = undefined;
      }
    }
    if (open !== undefined) spans.push([open, Number.POSITIVE_INFINITY]);
    return (at) => spans.some(([from, to]) => at >= from && at < to);
  }

  /** An operator knowingly gives up missing rows (no backup holds them): they leave the ledger, recorded. */
  accept(database: string, table: string, ranges: RangeSet, runId: string, at = Date.now()): string {
    return this.tx(() => {
      const cur = this.entry(database, table);
      if (!cur) return `${table}: nothing missing`;
      const gone = subtract(cur.missing, subtract(cur.missing, ranges));
      this.write(database, { ...cur, missing: subtract(cur.missing, gone), known: subtract(cur.known, gone) }, at);
      if (gone.length) this.event(database, table, 'accepted', gone, at, runId);
      return `${table}: ${size(gone)} rows given up (ids ${formatRanges(gone)})`;
    });
  }
}
