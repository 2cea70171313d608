import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

// `opsdeck db check|repair` (issue #22) on real SQLite files with the built CLI: orphans, duplicates,
// malformed values and deleted ranges are found; the loss against a real verified backup names the
// tables and id ranges, and the merge it prints brings exactly those rows back; repair moves the bad
// rows into quarantine with the writers stopped (shell commands touching a marker) and --undo puts
// every row back; an empty critical table is CRITICAL; a check beside a busy writer keeps the WAL small.

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-dbint-'));
const config = join(dir, 'opsdeck.yaml');
const shop = join(dir, 'shop.db');
const marker = join(dir, 'app-up');
const writerLog = join(dir, 'writer.log');
const env = { OPSDECK_STATE_DIR: join(dir, 'state') };
const cli = (...args: string[]) => runCli(['--config', config, ...args], { env, timeoutMs: 90_000 });

function exec(path: string, text: string): void {
  const db = new Database(path);
  db.pragma('foreign_keys = OFF');
  try {
    db.exec(text);
  } finally {
    db.close();
  }
}

/** Every table's rows in rowid order, for an exact comparison. */
function dump(path: string, only?: (t: string) => boolean): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name).filter((t) => !only || only(t));
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT rowid AS _r, * FROM "${t}" ORDER BY rowid`).all()]));
  } finally {
    db.close();
  }
}
const rows = (path: string, sql: string): unknown[] => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
};

interface Report {
  status: string;
  databases: { database: string; status: string; findings: { id: string; status: string; message: string }[]; loss?: { backup: string; merge?: string; tables: { table: string; missing: [number, number][]; count: number; priority: number; critical: boolean; times?: { column: string; ranges: unknown[][] } }[] } }[];
}

beforeAll(async () => {
  writeFileSync(
    config,
    `name: dbint
state_dir: ${join(dir, 'state')}
services:
  - name: app
    stop_command: "echo stop >> ${writerLog}; rm -f ${marker}"
    start_command: "echo start >> ${writerLog}; touch ${marker}"
databases:
  - name: shop
    path: shop.db
    critical_tables: [orders, accounts]
    normal_tables: [lines]
    writers: [app]
  - name: empty
    path: empty.db
    critical_tables: [events]
  - name: busy
    path: busy.db
backup:
  dir: backups
integrity:
  shop:
    unique: { orders: order_no }
    rules:
      "orders.status": { allowed: [new, paid] }
      "orders.total": { min: 0, not_null: true }
      "orders.order_no": { regex: "^N[0-9]+$" }
    timestamp: { orders: created_at }
`,
  );
  exec(
    shop,
    `PRAGMA journal_mode = WAL;
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id), order_no TEXT, status TEXT, total REAL, created_at TEXT);
    CREATE TABLE lines (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE, sku TEXT);
    INSERT INTO accounts VALUES (1, 'ann'), (2, 'bob');
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
      INSERT INTO orders SELECT i, 1 + i % 2, 'N' || i, CASE WHEN i % 3 THEN 'paid' ELSE 'new' END, i * 1.5, printf('2026-12-01T%02d:%02d:00Z', i / 60, i % 60) FROM n;
    INSERT INTO lines (order_id, sku) SELECT id, 'sku-' || id FROM orders;`,
  );
  exec(join(dir, 'empty.db'), 'CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT);');
  writeFileSync(marker, '');
  const r = await cli('backup', 'create', '--db', 'shop', '--verify');
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

describe('db check and the loss assessment', () => {
  let original: Record<string, unknown[]>;
  beforeAll(() => {
    original = dump(shop);
    // Deleted ranges (orders 20–29 and 41 with their lines), an orphan, a duplicate, malformed values.
    exec(
      shop,
      `DELETE FROM lines WHERE order_id BETWEEN 20 AND 29 OR order_id = 41;
      DELETE FROM orders WHERE id BETWEEN 20 AND 29 OR id = 41;
      INSERT INTO lines (id, order_id, sku) VALUES (500, 999, 'orphan');
      INSERT INTO orders VALUES (501, 1, 'N5', 'paid', 1, '2026-12-02T00:00:00Z');
      INSERT INTO orders VALUES (502, 2, 'bad', 'bogus', -5, '2026-12-02T00:00:00Z');
      INSERT INTO orders VALUES (503, 2, 'N503', 'new', NULL, '2026-12-02T00:00:00Z');`,
    );
  });

  it('finds each problem and names the lost tables, id ranges and times, critical first (exit 2)', async () => {
    const r = await cli('db', 'check', '--db', 'shop', '--json');
    expect(r.code, r.stderr).toBe(2);
    const rep = (JSON.parse(r.stdout) as Report).databases[0];
    const byId = Object.fromEntries((rep?.findings ?? []).map((f) => [f.id, f]));
    expect(byId['orphan:lines']?.message).toContain('rowid 500');
    // Its parent table lost rows: merge first (the parents may come back), then repair what is left.
    expect(byId['orphan:lines']?.message).toMatch(/rows are missing too: merge them back first \(opsdeck --config \S+ restore --db shop --merge [^)]*\) — their parents may be among them; then opsdeck db repair moves what is still orphaned into _opsdeck_quarantine_lines/);
    expect(byId['duplicate:orders']?.message).toContain('rowid 501: same order_no as rowid 5');
    expect(byId['malformed:orders']?.message).toMatch(/rowid 502: status: "bogus" not one of new, paid; total: -5 below min 0; order_no: "bad" does not match/);
    expect(byId['malformed:orders']?.message).toContain('rowid 503: total: NULL where not_null');
    expect(byId['integrity_check']?.status).toBe('ok');
    expect(byId['quick_check']?.status).toBe('ok');
    const loss = rep?.loss;
    expect(loss?.tables.map((t) => [t.table, t.missing, t.priority, t.critical])).toEqual([
      ['orders', [[20, 29], [41, 41]], 1, true],
      ['lines', [[20, 29], [41, 41]], 2, false],
    ]);
    expect(loss?.tables[0]?.times).toEqual({ column: 'created_at', ranges: [['2026-12-01T00:20:00Z', '2026-12-01T00:29:00Z'], ['2026-12-01T00:41:00Z', '2026-12-01T00:41:00Z']] });
    expect(byId['loss:orders']?.status).toBe('critical');
    expect(byId['loss:lines']?.status).toBe('warning');
    expect(loss?.merge).toBe(`opsdeck --config ${config} restore --db shop --merge --tables orders,lines --backup ${loss?.backup ?? ''}`);
    // The text form says the same, with the command one copy away.
    const text = await cli('db', 'check', '--db', 'shop');
    expect(text.code).toBe(2);
    expect(text.stdout).toContain('priority 1: orders: 11 rows in backup');
    expect(text.stdout).toContain(`merge the missing rows back (inserts only missing rows, never changes a live row): ${loss?.merge ?? ''}`);
  });

  it('the merge it prints brings exactly those rows back', async () => {
    const r0 = await cli('db', 'check', '--db', 'shop', '--json');
    const merge = (JSON.parse(r0.stdout) as Report).databases[0]?.loss?.merge ?? '';
    const before = dump(shop);
    const args = merge.split(' ').slice(1); // the command as printed, without "opsdeck"
    const r = await runCli([...args, '--yes'], { env, timeoutMs: 90_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const after = dump(shop);
    const lost = (t: string) => (original[t] ?? []).filter((x) => {
      const id = (x as { id: number }).id;
      return (id >= 20 && id <= 29) || id === 41;
    });
    for (const t of ['orders', 'lines']) {
      const sortById = (a: unknown[]) => [...a].sort((x, y) => (x as { id: number }).id - (y as { id: number }).id);
      expect(sortById(after[t] ?? [])).toEqual(sortById([...(before[t] ?? []), ...lost(t)]));
    }
    expect(after.accounts).toEqual(before.accounts);
    const again = JSON.parse((await cli('db', 'check', '--db', 'shop', '--json')).stdout) as Report;
    expect(again.databases[0]?.findings.filter((f) => f.id.startsWith('loss:'))).toEqual([]);
  });
});

describe('db repair', () => {
  it('previews without changing anything, refuses without a terminal or under --read-only (audited)', async () => {
    rmSync(writerLog, { force: true }); // the merge restore above stopped and started the writer too
    const before = dump(shop);
    const dry = await cli('db', 'repair', '--db', 'shop', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('dry run, nothing changed');
    expect(dry.stdout).toMatch(/3 rows of orders \(rowid 501–503\) → _opsdeck_quarantine_orders/);
    expect(dry.stdout).toMatch(/1 rows of lines \(rowid 500\) → _opsdeck_quarantine_lines/);
    const noTty = await cli('db', 'repair', '--db', 'shop');
    expect(noTty.code).toBe(64);
    expect(noTty.stderr.trim().split('\n')).toHaveLength(1);
    const ro = await cli('--read-only', 'db', 'repair', '--db', 'shop', '--yes');
    expect(ro.code).toBe(1);
    expect(ro.stdout).toBe('');
    expect(ro.stderr).toMatch(/refused in --read-only mode/);
    expect(dump(shop)).toEqual(before);
    expect(rows(join(dir, 'state', 'state.db'), "SELECT outcome, detail FROM audit WHERE action = 'db.repair'")).toEqual([{ outcome: 'refused', detail: '--read-only' }]);
    expect(existsSync(writerLog)).toBe(false);
  });

  it('moves the bad rows into quarantine with the writers stopped, and --undo puts every row back exactly', async () => {
    const user = (t: string) => !t.startsWith('_opsdeck_');
    const before = dump(shop, user);
    const r = await cli('db', 'repair', '--db', 'shop', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    const done = JSON.parse(r.stdout) as { run: string; moved: Record<string, { rows: number; rowids: [number, number][] }>; safetyCopy: string; undo: string };
    expect(done.moved).toMatchObject({ orders: { rows: 3, rowids: [[501, 503]] }, lines: { rows: 1, rowids: [[500, 500]] } });
    expect(readFileSync(writerLog, 'utf8')).toBe('stop\nstart\n');
    expect(existsSync(marker)).toBe(true);
    expect(existsSync(join(done.safetyCopy, 'shop.db'))).toBe(true);
    expect(rows(shop, 'SELECT _opsdeck_rowid AS r, _opsdeck_run AS run, substr(_opsdeck_reason, 1, 9) AS why FROM _opsdeck_quarantine_orders ORDER BY 1')).toEqual([
      { r: 501, run: done.run, why: 'duplicate' },
      { r: 502, run: done.run, why: 'malformed' },
      { r: 503, run: done.run, why: 'malformed' },
    ]);
    // Gone from the tables; the check finds no problem row, only the quarantine waiting (a warning).
    const check = JSON.parse((await cli('db', 'check', '--db', 'shop', '--json')).stdout) as Report;
    const ids = check.databases[0]?.findings.filter((f) => f.status !== 'ok').map((f) => f.id).sort();
    expect(ids).toEqual(['quarantine:lines', 'quarantine:orders']);
    expect(check.status).toBe('warning');
    expect(done.undo).toBe(`opsdeck --config ${config} db repair --db shop --undo ${done.run}`);

    const undo = await cli('db', 'repair', '--db', 'shop', '--undo', done.run, '--yes');
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stdout).toContain('put back with their rowids');
    expect(dump(shop)).toEqual(before);
    expect(readFileSync(writerLog, 'utf8')).toBe('stop\nstart\nstop\nstart\n');
    const audit = rows(join(dir, 'state', 'state.db'), "SELECT action, target, outcome FROM audit WHERE action LIKE 'db.repair%' AND outcome = 'ok' ORDER BY id") as { action: string; target: string }[];
    expect(audit.map((a) => `${a.action} ${a.target}`).sort()).toEqual(['db.repair shop', 'db.repair.move shop.lines', 'db.repair.move shop.orders', 'db.repair.start shop', 'db.repair.undo shop.lines', 'db.repair.undo shop.orders', 'db.repair.undo.start shop'].sort());
    const again = await cli('db', 'repair', '--db', 'shop', '--undo', done.run, '--yes');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no rows of it in the quarantine tables of shop/);
  });

  it('rows moved into quarantine are not lost rows to the monitor; a whole-file restore keeps them and WAL mode', async () => {
    interface Check { checks: { id: string; status: string; message: string }[] }
    const rowsCheck = async () => (JSON.parse((await cli('check', '--json')).stdout) as Check).checks.find((c) => c.id === 'sqlite:shop:rows');
    expect((await rowsCheck())?.status).toBe('ok'); // the monitor now knows the ids of the bad rows
    const r = await cli('db', 'repair', '--db', 'shop', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    const run = (JSON.parse(r.stdout) as { run: string }).run;
    // Moved by the operator, not lost: no rows-lost alert, recorded as quarantined in the ledger.
    const after = await rowsCheck();
    expect(after?.status, after?.message).toBe('ok');
    const events = rows(join(dir, 'state', 'state.db'), "SELECT tbl, event, ranges FROM row_loss_events WHERE database = 'shop' AND event = 'quarantined' ORDER BY tbl");
    expect(events).toEqual([{ tbl: 'orders', event: 'quarantined', ranges: '[[501,503]]' }]);

    // A whole-file restore from the backup taken before: the quarantine tables come along, WAL stays.
    const restore = await cli('restore', '--db', 'shop', '--yes');
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/replaced by backup \S+; kept (?=[^\n]*3 rows of _opsdeck_quarantine_orders)(?=[^\n]*1 rows of _opsdeck_quarantine_lines)[^\n]* from the file it replaced; journal mode WAL kept/);
    expect(rows(shop, 'SELECT count(*) AS n FROM _opsdeck_quarantine_orders')).toEqual([{ n: 3 }]);
    expect(rows(shop, 'PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    const undo = await cli('db', 'repair', '--db', 'shop', '--undo', run, '--yes');
    expect(undo.code, undo.stderr).toBe(0);
    expect(rows(shop, 'SELECT id FROM orders WHERE id > 500 ORDER BY id')).toEqual([{ id: 501 }, { id: 502 }, { id: 503 }]);
    expect((await rowsCheck())?.status).toBe('ok');
  });

  it('rows in quarantine are neither a loss to db check nor merged back twice: the merge of a lost parent leaves its quarantined children for --undo', async () => {
    const orders = () => (rows(shop, 'SELECT count(*) AS n FROM orders')[0] as { n: number }).n;
    const before = orders();
    exec(shop, 'DELETE FROM accounts WHERE id = 2'); // its orders are orphans now; the account is a real loss
    // The repair says to merge first: the orphans' parent table lost rows (a merge may bring them back).
    const dry = await cli('db', 'repair', '--db', 'shop', '--dry-run');
    expect(dry.stdout).toMatch(/WARNING: accounts lost rows since the newest verified backup, and orphans here point at it: merge the missing rows back first/);
    const r = await cli('db', 'repair', '--db', 'shop', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    const run = (JSON.parse(r.stdout) as { run: string; warning?: string }).run;
    expect((JSON.parse(r.stdout) as { warning?: string }).warning).toMatch(/merge the missing rows back first/);
    const moved = (rows(shop, "SELECT count(*) AS n FROM _opsdeck_quarantine_orders WHERE _opsdeck_run = '" + run + "'")[0] as { n: number }).n;
    expect(moved).toBeGreaterThan(20);
    // db check: the account is lost; the quarantined orders are not (they are in the file).
    const rep = (JSON.parse((await cli('db', 'check', '--db', 'shop', '--json')).stdout) as Report).databases[0];
    expect(rep?.loss?.tables.filter((x) => x.count > 0).map((x) => x.table)).toEqual(['accounts']);
    const merge = rep?.loss?.merge ?? '';
    expect(merge).toMatch(/--tables accounts /);
    const m = await cli(...merge.split(' ').slice(1), '--yes');
    expect(m.code, m.stdout + m.stderr).toBe(0);
    expect(rows(shop, 'SELECT id FROM accounts ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    // A merge of orders now (as db check used to advise) inserts none of the quarantined rows.
    const again = await cli('restore', '--db', 'shop', '--merge', '--tables', 'orders', '--yes');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/orders: 0 rows inserted, \d+ already there, 30 not merged back: they wait in _opsdeck_quarantine_orders/); // account 2's 30 orders (501–503 are not in the backup)
    expect(again.stdout).toMatch(/record what came back: orders: 0 missing rows back, none missing/);
    expect(orders()).toBe(before - moved);
    // --undo puts every one back (no rowid taken by a duplicate).
    const undo = await cli('db', 'repair', '--db', 'shop', '--undo', run, '--yes');
    expect(undo.code, undo.stderr).toBe(0);
    expect(orders()).toBe(before);
  });
});

describe('critical tables, config and usage', () => {
  it('an empty critical table is CRITICAL (exit 2)', async () => {
    const r = await cli('db', 'check', '--db', 'empty');
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/CRITICAL +table:events +critical table events is empty/);
  });

  it('a bad integrity: section is one line, exit 78', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'databases:\n  - name: shop\n    path: shop.db\nintegrity:\n  shpo:\n    unique: { orders: order_no }\n');
    const r = await runCli(['--config', bad, 'db', 'check'], { env });
    expect(r.code).toBe(78);
    expect(r.stderr.trim().split('\n')).toEqual([`opsdeck: ${bad}: integrity.shpo: database "shpo" is not in databases (expected one of: shop)`]);
  });

  it('an unknown action is a usage error', async () => {
    const r = await cli('db', 'fix');
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('unknown db action "fix" (expected check or repair)');
  });
});

describe('db check beside a busy writer', () => {
  const busy = join(dir, 'busy.db');
  let writer: ChildProcess | undefined;
  afterAll(() => {
    writer?.kill('SIGKILL');
  });

  it('keeps the WAL small: the long checks run on a snapshot, not on the live file', async () => {
    exec(
      busy,
      `PRAGMA journal_mode = WAL;
      CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
      CREATE INDEX events_body ON events(body);
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150000) INSERT INTO events (body) SELECT printf('%d-%s', i, hex(randomblob(48))) FROM n;
      PRAGMA wal_checkpoint(TRUNCATE);`,
    );
    // A writer committing one row per statement, about a thousand a second, as an application does.
    const script = join(dir, 'writer.cjs');
    writeFileSync(
      script,
      `const D = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
      const db = new D(process.argv[2], { timeout: 5000 });
      db.pragma('journal_mode = WAL');
      const ins = db.prepare('INSERT INTO events (body) VALUES (?)');
      let n = 0;
      process.stdout.write('ready\\n');
      setInterval(() => { for (let i = 0; i < 5; i++) ins.run('w-' + (n++)); }, 5);`,
    );
    const w = spawn(process.execPath, [script, busy], { stdio: ['ignore', 'pipe', 'inherit'] });
    writer = w;
    await new Promise((res) => w.stdout.once('data', res));
    const walSize = () => (existsSync(`${busy}-wal`) ? statSync(`${busy}-wal`).size : 0);
    const count = () => (rows(busy, 'SELECT count(*) AS n FROM events')[0] as { n: number }).n;
    const n0 = count();
    let max = 0;
    const poll = setInterval(() => (max = Math.max(max, walSize())), 10);
    const r = await cli('db', 'check', '--db', 'busy', '--json');
    clearInterval(poll);
    max = Math.max(max, walSize());
    expect(r.code, r.stderr).toBe(0);
    // The writer kept writing during the check, and the WAL stayed within a bound: SQLite's
    // auto-checkpoint size (1000 pages, 4 MB) plus what the writer adds while the live file is read
    // (quick_check and the snapshot copy, side by side).
    expect(count()).toBeGreaterThan(n0);
    expect(max, `the WAL peaked at ${max} bytes`).toBeLessThan(16 * 1024 * 1024);
    w.kill('SIGKILL');
    writer = undefined;
  }, 120_000);
});
