import Database from 'better-sqlite3';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import type { ColumnRule } from '../../src/config/schema-integrity.js';
import { ConfigError } from '../../src/domain/errors.js';
import { compileRules, lossFindings, mergeCommand, overallOf, prioritize, problemFindings, ruleViolation, tableFindings, type TableLoss } from '../../src/domain/integrity.js';
import { malformed, moveToQuarantine, problemRows, quarantined, undoQuarantine } from '../../src/services/integrity.js';
import { RE2JS } from 're2js';

// Issue #22: the pure rules of `db check` / `db repair`, the `integrity:` configuration, and the
// quarantine moves on real SQLite files (every table compared in full before and after an undo).

const rule = (r: Partial<ColumnRule>): ColumnRule => ({ not_null: false, ...r });

describe('column rules', () => {
  it.each([
    ['NULL under not_null', null, rule({ not_null: true }), 'NULL where not_null'],
    ['NULL without not_null', null, rule({ min: 0 }), undefined],
    ['below min', -1, rule({ min: 0 }), '-1 below min 0'],
    ['above max', 11, rule({ max: 10 }), '11 above max 10'],
    ['in range', 5, rule({ min: 0, max: 10 }), undefined],
    ['text under min/max', 'abc', rule({ min: 0 }), '"abc" is not a number (min/max)'],
    ['not allowed', 'hold', rule({ allowed: ['buy', 'sell'] }), '"hold" not one of buy, sell'],
    ['allowed', 'buy', rule({ allowed: ['buy', 'sell'] }), undefined],
    ['allowed number', 2, rule({ allowed: [1, 2] }), undefined],
    ['regex miss (searched, anchored by the rule)', 'xAB', rule({ regex: '^[A-Z]+$' }), '"xAB" does not match "^[A-Z]+$"'],
    ['regex hit', 'AB', rule({ regex: '^[A-Z]+$' }), undefined],
    ['regex on a number (its text)', 42, rule({ regex: '^[0-9]+$' }), undefined],
    ['regex on a blob', Buffer.from('AB'), rule({ regex: '^[A-Z]+$' }), 'a 2-byte blob does not match "^[A-Z]+$"'],
  ])('%s', (_name, value, r, want) => {
    expect(ruleViolation(value, r, r.regex === undefined ? undefined : RE2JS.compile(r.regex))).toBe(want);
  });

  it('compiles "table.column" keys', () => {
    const [c] = compileRules({ 'trades.side': rule({ allowed: ['buy'] }) });
    expect(c?.table).toBe('trades');
    expect(c?.column).toBe('side');
    expect(c?.violation('sell')).toBe('"sell" not one of buy');
  });
});

describe('findings and priorities', () => {
  it('an empty or missing critical table is CRITICAL', () => {
    const f = tableFindings(['trades', 'accounts', 'orders'], { trades: 0, accounts: 3 });
    expect(f.map((x) => [x.id, x.status])).toEqual([['table:trades', 'critical'], ['table:accounts', 'ok'], ['table:orders', 'critical']]);
    expect(f[0]?.message).toBe('critical table trades is empty');
    expect(overallOf(f)).toBe('critical');
    expect(overallOf([])).toBe('ok');
  });

  it('orphans and malformed rows of a critical table are CRITICAL, duplicates and other tables a WARNING', () => {
    const f = problemFindings(
      [
        { table: 't', rowid: 1, kind: 'orphan', reason: 'x' },
        { table: 't', rowid: 2, kind: 'duplicate', reason: 'y' },
        { table: 'n', rowid: 3, kind: 'malformed', reason: 'z' },
      ],
      ['t'],
    );
    expect(f.map((x) => [x.id, x.status])).toEqual([['orphan:t', 'critical'], ['duplicate:t', 'warning'], ['malformed:n', 'warning']]);
  });

  it('critical tables first in configured order, then by rows lost; tables without loss left out', () => {
    const l = (table: string, count: number): TableLoss => ({ table, key: 'id', missing: count ? [[1, count]] : [], count });
    const ranked = prioritize([l('big', 500), l('b', 2), l('a', 1), l('none', 0), l('small', 3)], ['a', 'b']);
    expect(ranked.map((r) => [r.table, r.priority, r.critical])).toEqual([['a', 1, true], ['b', 2, true], ['big', 3, false], ['small', 4, false]]);
    const f = lossFindings(ranked, ['small'], 'db-1');
    expect(f.map((x) => x.status)).toEqual(['critical', 'critical', 'ok', 'warning']);
    expect(f[0]?.message).toBe('priority 1: a: 1 rows in backup db-1 are missing now (id 1)');
  });

  it('the merge command names the tables and the backup', () => {
    expect(mergeCommand('trading', ['trades', 'fills'], 'trading-20261202T000000Z', ' --config /etc/o.yaml')).toBe('opsdeck --config /etc/o.yaml restore --db trading --merge --tables trades,fills --backup trading-20261202T000000Z');
  });
});

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'opsdeck-integrity-'));
}

function configError(text: string): string {
  const file = join(tmp(), 'opsdeck.yaml');
  writeFileSync(file, text);
  try {
    loadConfigFile(file);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message.split('\n')).toHaveLength(1);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('integrity: configuration', () => {
  const db = 'databases:\n  - name: shop\n    path: shop.db\n';
  it('reads unique keys, rules and timestamp columns', () => {
    const file = join(tmp(), 'opsdeck.yaml');
    writeFileSync(file, `${db}integrity:\n  shop:\n    unique: { orders: order_no, lines: [order_no, seq] }\n    rules:\n      "orders.status": { allowed: [new, paid] }\n      "orders.total": { min: 0, not_null: true }\n    timestamp: { orders: created_at }\n`);
    const { config } = loadConfigFile(file);
    expect(config.integrity.shop?.unique).toEqual({ orders: 'order_no', lines: ['order_no', 'seq'] });
    expect(config.integrity.shop?.rules['orders.total']).toEqual({ not_null: true, min: 0 });
    expect(config.integrity.shop?.timestamp).toEqual({ orders: 'created_at' });
  });
  it.each([
    ['an unknown database', `${db}integrity:\n  shpo: {}\n`, /opsdeck\.yaml: integrity\.shpo: database "shpo" is not in databases \(expected one of: shop\)$/],
    ['a bad regex', `${db}integrity:\n  shop:\n    rules:\n      "t.c": { regex: "(" }\n`, /integrity\.shop\.rules\.t\.c\.regex: expected a regular expression in RE2 syntax/],
    ['a lookahead (not RE2)', `${db}integrity:\n  shop:\n    rules:\n      "t.c": { regex: "(?=a)" }\n`, /expected a regular expression in RE2 syntax/],
    ['a rule key without a column', `${db}integrity:\n  shop:\n    rules:\n      "orders": { not_null: true }\n`, /integrity\.shop\.rules\.orders: expected a key "table\.column", got "orders"/],
    ['min above max', `${db}integrity:\n  shop:\n    rules:\n      "t.c": { min: 5, max: 1 }\n`, /integrity\.shop\.rules\.t\.c\.max: expected min ≤ max/],
    ['an unknown rule key', `${db}integrity:\n  shop:\n    rules:\n      "t.c": { notnull: true }\n`, /unknown key "notnull"/],
    ['an empty unique key', `${db}integrity:\n  shop:\n    unique: { t: [] }\n`, /integrity\.shop\.unique\.t: expected at least one column/],
  ])('refuses %s in one line', (_n, text, want) => {
    expect(configError(text)).toMatch(want);
  });
  it('is no longer a reserved key', () => {
    expect(configError('integrity: []\n')).not.toMatch(/reserved/);
  });
});

/** Every table's rows in rowid order (quarantine tables included), for an exact comparison. */
function dump(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT ${t === 'kv' ? '' : 'rowid AS _r, '}* FROM "${t}" ${t === 'kv' ? '' : ' ORDER BY rowid'}`).all()]));
  } finally {
    db.close();
  }
}

function seed(): string {
  const path = join(tmp(), 'shop.db');
  const db = new Database(path);
  db.pragma('foreign_keys = OFF');
  db.exec(`PRAGMA journal_mode = WAL;
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT);
    CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE, order_no TEXT, total NUMERIC, blob BLOB);
    CREATE TABLE lines (order_id INTEGER REFERENCES orders(id) ON DELETE CASCADE, sku TEXT);
    CREATE TABLE kv (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
    INSERT INTO accounts VALUES (1, 'a'), (2, 'b'), (3, 'b');
    INSERT INTO orders (id, account_id, order_no, total, blob) VALUES (1, 1, 'N1', 10, x'00ff'), (2, 2, 'N2', '12.50', NULL), (3, 9, 'N3', 1, NULL), (4, 1, 'N1', 3, NULL), (5, 1, 'N5', -1, NULL), (6, 3, 'N6', 7, NULL);
    INSERT INTO lines VALUES (1, 'x'), (6, 'y'), (6, 'z'), (42, 'orphan');
    INSERT INTO kv VALUES ('a', 1);`);
  db.close();
  return path;
}

describe('quarantine on a real SQLite file', () => {
  const rules = { unique: { accounts: ['name'], orders: ['order_no'] }, rules: compileRules({ 'orders.total': rule({ min: 0 }) }) };

  it('finds orphans, duplicates (the lowest rowid kept) and malformed rows', () => {
    const path = seed();
    const db = new Database(path, { readonly: true });
    try {
      const found = problemRows(db, rules).map((p) => `${p.table}:${p.rowid}:${p.kind}`).sort();
      expect(found).toEqual(['accounts:3:duplicate', 'lines:4:orphan', 'orders:3:orphan', 'orders:4:duplicate', 'orders:5:malformed'].sort());
    } finally {
      db.close();
    }
  });

  it('moves them (and the orphans a moved parent leaves) in one transaction, without cascades, and an undo puts every row back exactly', async () => {
    const path = seed();
    const before = dump(path);
    const moved = await moveToQuarantine(path, rules, 'run-1');
    // accounts 3 (duplicate name) moved → orders 6 orphaned → moved → lines of order 6 orphaned → moved.
    expect(Object.fromEntries(Object.entries(moved).map(([t, m]) => [t, m.rowids]))).toEqual({ accounts: [[3, 3]], orders: [[3, 6]], lines: [[2, 4]] });
    const db = new Database(path, { readonly: true });
    try {
      expect(problemRows(db, rules)).toEqual([]);
      expect(quarantined(db)).toEqual({ accounts: { 'run-1': 1 }, orders: { 'run-1': 4 }, lines: { 'run-1': 3 } });
      // Values as stored, not converted: '12.50' stayed text in a NUMERIC column before; here a blob and a real.
      const q = db.prepare('SELECT _opsdeck_rowid AS r, _opsdeck_reason AS why, order_no FROM _opsdeck_quarantine_orders ORDER BY 1').all() as { r: number; why: string }[];
      expect(q.map((x) => x.r)).toEqual([3, 4, 5, 6]);
      expect(q[1]?.why).toBe('duplicate: same order_no as rowid 1');
      expect((db.prepare('SELECT count(*) AS n FROM lines').get() as { n: number }).n).toBe(1);
    } finally {
      db.close();
    }
    expect(await undoQuarantine(path, 'run-1')).toEqual({ accounts: 1, orders: 4, lines: 3 });
    expect(dump(path)).toEqual(before);
  });

  it('an undo refuses, changing nothing, when a newer row took a rowid', async () => {
    const path = seed();
    await moveToQuarantine(path, rules, 'run-2');
    const db = new Database(path);
    db.exec("INSERT INTO accounts (id, name) VALUES (3, 'new')");
    db.close();
    const mid = dump(path);
    await expect(undoQuarantine(path, 'run-2')).rejects.toThrow(/table accounts: rowid 3 is taken by a newer row; nothing was put back/);
    expect(dump(path)).toEqual(mid);
  });
});

describe('malformed rows: SQLite picks the candidates, the rules decide', () => {
  it('finds exactly the rows the rules find one by one, whatever the stored types', () => {
    const path = join(tmp(), 'mixed.db');
    const db = new Database(path);
    db.exec('CREATE TABLE t (a, b, c, d)'); // no affinity: every value stays the type it was given
    const values: unknown[] = [null, 1, 2.0, 2.5, -1, 11, '1', '2', 'buy', 'sell', 'hold', 'AB', 'xAB', '', Buffer.from('AB'), 10, 0];
    const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?)');
    for (const v of values) ins.run(v, v, v, v);
    const rules = compileRules({
      't.a': rule({ not_null: true, min: 0, max: 10 }),
      't.b': rule({ allowed: ['buy', 'sell', 1, 2] }),
      't.c': rule({ regex: '^[A-Z]+$' }),
      't.d': rule({ min: 0 }),
    });
    const found = malformed(db, rules, {}).map((p) => p.rowid);
    const expected = (db.prepare('SELECT rowid AS r, a, b, c, d FROM t').all() as Record<string, unknown>[])
      .filter((row) => rules.some((r) => r.violation(row[r.column]) !== undefined))
      .map((row) => row.r as number);
    db.close();
    expect(found).toEqual(expected);
    expect(found.length).toBeGreaterThan(5);
  });
});
