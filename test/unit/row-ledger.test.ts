import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import { formatRanges, intersect, normalize, size, subtract, union } from '../../src/domain/ranges.js';
import { afterRestore, applyObservation, evaluateRowLedger } from '../../src/domain/row-ledger.js';
import { integerKey, observeRows } from '../../src/services/row-tracker.js';
import { RowLedger } from '../../src/state/row-ledger.js';
import { migrate } from '../../src/state/statedb.js';

describe('range sets', () => {
  it.each([
    [[[5, 9], [1, 3], [4, 4]], [[1, 9]]],
    [[[1, 2], [4, 5]], [[1, 2], [4, 5]]],
    [[[3, 1]], []],
  ] as [number, number][][][])('normalize %j', (input, out) => {
    expect(normalize(input)).toEqual(out);
  });
  it('union, subtract, intersect, size, format', () => {
    expect(union([[1, 10]], [[11, 20], [30, 30]])).toEqual([[1, 20], [30, 30]]);
    expect(subtract([[1, 100]], [[10, 19], [50, 60], [100, 200]])).toEqual([[1, 9], [20, 49], [61, 99]]);
    expect(subtract([[1, 5], [10, 15]], [[0, 100]])).toEqual([]);
    expect(intersect([[1, 10], [20, 30]], [[5, 25]])).toEqual([[5, 10], [20, 25]]);
    expect(size([[1, 10], [20, 20]])).toBe(11);
    expect(formatRanges([[101, 200], [305, 305]])).toBe('101–200, 305');
  });
});

describe('the row ledger rules', () => {
  const cfg = validate({ databases: [{ name: 'trading', path: '/x.db', critical_tables: ['trades'] }] }, 't').databases[0]!;
  it('a deleted range becomes missing and stays missing when new writes reuse its ids', () => {
    let e = applyObservation([], [], { lostNow: [], added: [[1, 1000]] });
    e = applyObservation(e.known, e.missing, { lostNow: [[901, 1000]], added: [] });
    expect(e).toEqual({ known: [[1, 900]], missing: [[901, 1000]] });
    // the writer writes ids 901.. again: they are not "back"
    e = applyObservation(e.known, e.missing, { lostNow: [], added: [[1001, 1010]] });
    expect(e.missing).toEqual([[901, 1000]]);
    const check = evaluateRowLedger(cfg, { trades: 910 }, [{ table: 'trades', key: 'id', ...e, seenCount: 1000 }]);
    expect(check).toMatchObject({ status: 'critical', value: 100 });
    expect(check.message).toMatch(/trades is missing 100 rows \(id 901–1000\)/);
  });
  it('a restore clears only what the backup held; what it replaced away is missing', () => {
    // known 1–1000, missing 101–200; the backup holds 1–800; after a whole-file replace 1–800 are present
    const r = afterRestore({ known: [[1, 100], [201, 1000]], missing: [[101, 200]] }, [[1, 800]], [[1, 800]]);
    expect(r.missing).toEqual([[801, 1000]]);
    expect(r.recovered).toEqual([[101, 200]]);
    expect(r.lostByRestore).toEqual([[801, 1000]]);
    // a merge: live 1–100, 201–1005 (901–1005 reused ids), backup 1–950: everything the backup held is back or kept
    const m = afterRestore({ known: [[1, 100], [201, 900], [1001, 1005]], missing: [[101, 200], [901, 1000]] }, [[1, 1005]], [[1, 950]]);
    expect(m.missing).toEqual([[951, 1000]]);
    expect(m.known).toEqual([[1, 950], [1001, 1005]]);
  });
  it('conflicts left by a merge are a warning; nothing missing is ok', () => {
    expect(evaluateRowLedger(cfg, { trades: 10 }, [{ table: 'trades', key: 'id', known: [[1, 10]], missing: [], seenCount: 10 }], { trades: 3 }).status).toBe('warning');
    expect(evaluateRowLedger(cfg, { trades: 10 }, [{ table: 'trades', key: 'id', known: [[1, 10]], missing: [], seenCount: 10 }]).status).toBe('ok');
    expect(evaluateRowLedger(cfg, {}, []).message).toBe('critical table(s) missing: trades');
  });
});

describe('observing a real SQLite table against the ledger', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-ledger-'));
  it('first sight, appends, a deletion, ids reused, rows written into old gaps; persisted in the state database', () => {
    const db = new Database(join(dir, 'live.db'));
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE k (a TEXT, b TEXT, PRIMARY KEY (a, b)); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) INSERT INTO t (v) SELECT 'x' FROM n;");
    expect(integerKey(db, 't')).toBe('id');
    expect(integerKey(db, 'k')).toBeUndefined();
    const state = new Database(join(dir, 'state.db'));
    migrate(state);
    const ledger = new RowLedger(state);
    const look = () => {
      const e = ledger.entry('db', 't');
      const o = observeRows(db, 't', 'id', e?.known ?? [], e?.missing ?? []);
      return ledger.observe('db', 't', 'id', o);
    };
    expect(look()).toMatchObject({ known: [[1, 1000]], missing: [] });
    db.exec("INSERT INTO t (v) VALUES ('a'), ('b')");
    expect(look()).toMatchObject({ known: [[1, 1002]], missing: [] });
    db.exec('DELETE FROM t WHERE id BETWEEN 101 AND 200');
    db.exec('DELETE FROM t WHERE id > 990');
    db.exec("INSERT INTO t (v) VALUES ('reused')"); // takes id 990 + 1 = 991
    const e = look();
    expect(e.missing).toEqual([[101, 200], [992, 1002]]);
    // id 991 was reused before the look: it is not seen as lost (a merge will find it as a conflict)
    db.exec("INSERT INTO t (id, v) VALUES (150, 'into a gap')");
    expect(look().missing).toEqual([[101, 200], [992, 1002]]); // sticky: 150 is a new row, not the lost one
    // a second handle (another monitor, a restart) sees the same ledger
    const again = new RowLedger(state).entry('db', 't');
    expect(again?.missing).toEqual([[101, 200], [992, 1002]]);
    expect(size(again?.missing ?? [])).toBe(111);
    const events = state.prepare("SELECT event, rows FROM row_loss_events WHERE tbl = 't' ORDER BY id").all();
    expect(events).toEqual([{ event: 'lost', rows: 111 }]);
    expect(ledger.accept('db', 't', [[992, 1002]], 'run-1')).toBe('t: 11 rows given up (ids 992–1002)');
    expect(look().missing).toEqual([[101, 200]]);
    // A backup taken while rows were missing is one a restore should not prefer.
    const spans = state.prepare("SELECT at, event FROM row_loss_events WHERE database = 'db' ORDER BY at").all() as { at: number; event: string }[];
    const during = ledger.duringLoss('db');
    expect(spans.map((e) => e.event)).toEqual(['lost', 'accepted']);
    expect(during((spans[0]?.at ?? 0) - 1)).toBe(false);
    expect(during(spans[0]?.at ?? 0)).toBe(spans[0]?.at !== spans[1]?.at);
    expect(during((spans[1]?.at ?? 0) + 1)).toBe(false);
    db.close();
    state.close();
  });

  it('rows a merge kept in its conflicts table are recorded as kept, not recovered (a postmortem said "96 recovered" for 0 rows inserted); the loss ends there', () => {
    const state = new Database(join(dir, 'state-kept.db'));
    migrate(state);
    const ledger = new RowLedger(state);
    const live = new Database(':memory:');
    live.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) INSERT INTO t (v) SELECT 'x' FROM n;");
    const look = (at: number) => {
      const e = ledger.entry('db', 't');
      return ledger.observe('db', 't', 'id', observeRows(live, 't', 'id', e?.known ?? [], e?.missing ?? []), at);
    };
    look(5);
    live.exec('DELETE FROM t WHERE id > 100');
    expect(look(10).missing).toEqual([[101, 200]]);
    live.close();
    // A merge: the backup held 1–200; ids 101–150 came back, 151–200 hold newer rows (kept aside).
    const r = ledger.restored('db', 't', 'id', [[1, 200]], [[1, 200]], 200, 'run-2', 20, [], [], [[151, 200]]);
    expect(r.missing).toEqual([]);
    expect(state.prepare("SELECT event, rows FROM row_loss_events WHERE tbl = 't' ORDER BY id").all()).toEqual([{ event: 'lost', rows: 100 }, { event: 'recovered', rows: 50 }, { event: 'kept', rows: 50 }]);
    const during = ledger.duringLoss('db');
    expect([during(15), during(25)]).toEqual([true, false]);
    state.close();
  });
});
