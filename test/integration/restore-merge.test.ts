import Database from 'better-sqlite3';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

// The merge restore (issue #10) on a real SQLite file, with real backups and the real row-loss
// ledger in the state database: rows missing now come back from the backup, rows whose id a newer
// write reused are kept apart (never overwriting the live row), ON DELETE CASCADE children come
// with their parents, rows no backup holds are named and never given up silently.

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-merge-'));
const config = join(dir, 'opsdeck.yaml');
const dbPath = join(dir, 'shop.db');
const env = { OPSDECK_STATE_DIR: join(dir, 'state') };
const cli = (...args: string[]) => runCli(['--config', config, ...args], { env, timeoutMs: 60_000 });
const sql = (text: string) => {
  const db = new Database(dbPath);
  db.pragma('foreign_keys = ON');
  try {
    db.exec(text);
  } finally {
    db.close();
  }
};
const all = <T>(text: string): T[] => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(text).all() as T[];
  } finally {
    db.close();
  }
};
const one = (text: string) => (all<{ n: number }>(text)[0] as { n: number }).n;
const rowsCheck = async () => {
  const r = await cli('check', '--json');
  return (JSON.parse(r.stdout) as { checks: { id: string; status: string; message: string }[] }).checks.find((c) => c.id === 'sqlite:shop:rows');
};

beforeAll(async () => {
  sql(`PRAGMA journal_mode = WAL;
    CREATE TABLE portfolios (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE trades (id INTEGER PRIMARY KEY, portfolio_id INTEGER NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE, note TEXT NOT NULL);
    CREATE TABLE events (source TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT);
    INSERT INTO portfolios (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three');
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO trades (portfolio_id, note) SELECT 1 + i % 3, printf('trade %d', i) FROM n;
    INSERT INTO events VALUES ('a', 1, 'x'), ('a', 2, 'y');`);
  writeFileSync(
    config,
    `name: shop\ninterval: 1s\nthresholds: {cpu: 100, memory: 100, disk: 100}\ndatabases:\n  - name: shop\n    path: shop.db\n    critical_tables: [trades, portfolios]\n    normal_tables: [events]\nbackup:\n  dir: backups\n`,
  );
  for (const args of [['backup', 'create'], ['backup', 'verify', '--all']]) {
    const r = await cli(...args);
    expect(r.code, r.stderr).toBe(0);
  }
  // Writes after the backup, then a first look: the ledger knows trades 1–110.
  sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) INSERT INTO trades (portfolio_id, note) SELECT 1, printf('late %d', i) FROM n;");
  expect((await rowsCheck())?.status).toBe('ok');
}, 90_000);

describe('merge restore', () => {
  it('brings back a deleted range, names the rows no backup holds, and --yes never gives them up (exit 3)', async () => {
    sql('DELETE FROM trades WHERE id BETWEEN 40 AND 69; DELETE FROM trades WHERE id > 100;');
    const lost = await rowsCheck();
    expect(lost).toMatchObject({ status: 'critical' });
    expect(lost?.message).toMatch(/trades is missing 40 rows \(id 40–69, 101–110\)/);
    const r = await cli('restore', '--db', 'shop', '--merge', '--yes');
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/backup holds 30 of the 40 missing rows of trades/);
    expect(r.stdout).toMatch(/trades: 30 rows inserted, 70 already there/);
    expect(r.stdout).toMatch(/trades: 30 missing rows back \(id 40–69\), 10 still missing \(id 101–110\)/);
    expect(r.stdout).toMatch(/rows still missing: skipped — not given up without a person's answer .*10 rows of trades \(id 101–110\)/);
    expect(r.stdout).toMatch(/NOT complete/);
    expect(one('SELECT count(*) AS n FROM trades WHERE id BETWEEN 40 AND 69')).toBe(30);
    // The alert still tells the truth: 10 rows are gone and no restore brought them back.
    expect((await rowsCheck())?.message).toMatch(/trades is missing 10 rows \(id 101–110\)/);
    // Given up explicitly: recorded, and the alert resolves.
    const g = await cli('restore', '--db', 'shop', '--merge', '--yes', '--accept-loss');
    expect(g.code, g.stderr).toBe(0);
    // No backup holds them: the choose step says so before anything runs.
    expect(g.stdout).toMatch(/choose the backup: .*it holds NONE of the 10 missing rows \(\d+ backups? looked at\): the merge brings nothing back, and the last step asks whether to give them up/);
    expect(g.stdout).toMatch(/given up, recorded in the state database: trades: 10 rows given up \(ids 101–110\)/);
    expect((await rowsCheck())?.status).toBe('ok');
    const state = new Database(join(dir, 'state', 'state.db'), { readonly: true });
    const events = state.prepare("SELECT event, rows FROM row_loss_events WHERE tbl = 'trades' ORDER BY id").all();
    state.close();
    expect(events).toEqual([
      { event: 'lost', rows: 40 },
      { event: 'recovered', rows: 30 },
      { event: 'accepted', rows: 10 },
    ]);
  });

  it('a backup row whose id a newer write reused is kept in _opsdeck_conflicts_trades; the live row is untouched', async () => {
    sql("DELETE FROM trades WHERE id > 95; INSERT INTO trades (id, portfolio_id, note) VALUES (96, 2, 'new 96'), (97, 2, 'new 97');");
    const r = await cli('restore', '--db', 'shop', '--merge', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/trades: 3 rows inserted, 95 already there, 2 kept in _opsdeck_conflicts_trades/);
    expect(all('SELECT id, note FROM trades WHERE id BETWEEN 96 AND 100 ORDER BY id')).toEqual([
      { id: 96, note: 'new 96' },
      { id: 97, note: 'new 97' },
      { id: 98, note: 'trade 98' },
      { id: 99, note: 'trade 99' },
      { id: 100, note: 'trade 100' },
    ]);
    expect(all('SELECT id, note, _opsdeck_reason FROM _opsdeck_conflicts_trades ORDER BY id')).toEqual([
      { id: 96, note: 'trade 96', _opsdeck_reason: 'key now holds a different row' },
      { id: 97, note: 'trade 97', _opsdeck_reason: 'key now holds a different row' },
    ]);
    const after = await rowsCheck();
    expect(after?.status).toBe('warning');
    expect(after?.message).toMatch(/2 rows of trades in _opsdeck_conflicts_trades/);
    sql('DROP TABLE _opsdeck_conflicts_trades');
  });

  it('merging a parent brings back the children its ON DELETE CASCADE removed', async () => {
    sql('DELETE FROM portfolios WHERE id = 2');
    expect(one('SELECT count(*) AS n FROM trades WHERE portfolio_id = 2')).toBe(0);
    const r = await cli('restore', '--db', 'shop', '--merge', '--tables', 'portfolios', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/merge covers portfolios, trades \(trades: ON DELETE CASCADE children\)/);
    expect(one('SELECT count(*) AS n FROM portfolios WHERE id = 2')).toBe(1);
    // every child of portfolio 2 the backup held is back (34 of trades 1–100); the two rows written
    // after the backup ('new 96', 'new 97') went with the cascade and no backup holds them
    expect(one("SELECT count(*) AS n FROM trades WHERE portfolio_id = 2 AND note LIKE 'trade %'")).toBe(34);
    expect(one("SELECT count(*) AS n FROM trades WHERE note LIKE 'new %'")).toBe(0);
    expect((await rowsCheck())?.status).toMatch(/ok|warning/);
    sql('DROP TABLE IF EXISTS _opsdeck_conflicts_trades');
  });

  it('chooses the backup that holds the missing rows, not a newer one taken between the DELETE and the monitor noticing it', async () => {
    sql('DROP TABLE IF EXISTS _opsdeck_conflicts_trades');
    const backup = async () => {
      const r = await cli('backup', 'create', '--verify', '--json');
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { created: { id: string }[] }).created[0]?.id ?? '';
    };
    const holding = await backup();
    expect((await rowsCheck())?.status).toMatch(/ok|warning/); // the ledger knows every id now
    sql('DELETE FROM trades WHERE id BETWEEN 20 AND 24');
    // e.g. the backup schedule, in the second before the monitor's next look: it lacks trades 20–24,
    // and the ledger dates the loss after it
    const lacking = await backup();
    expect(lacking).not.toBe(holding);
    expect((await rowsCheck())?.message).toMatch(/trades is missing 5 rows \(id 20–24\)/);
    const r = await cli('restore', '--db', 'shop', '--merge', '--yes');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`from backup ${holding}`);
    expect(r.stdout).toMatch(/trades: 5 missing rows back \(id 20–24\)/);
    expect(one('SELECT count(*) AS n FROM trades WHERE id BETWEEN 20 AND 24')).toBe(5);
    expect((await rowsCheck())?.status).toMatch(/ok|warning/);
  });

  it('missing rows whose ids newer rows took are said to be kept in the conflicts table, not "back"', async () => {
    sql('DROP TABLE IF EXISTS _opsdeck_conflicts_trades');
    sql('DELETE FROM trades WHERE id BETWEEN 30 AND 31');
    expect((await rowsCheck())?.message).toMatch(/trades is missing 2 rows \(id 30–31\)/);
    // the writer reuses both ids before anyone restores
    sql("INSERT INTO trades (id, portfolio_id, note) VALUES (30, 1, 'reused 30'), (31, 1, 'reused 31')");
    // …and one deleted and reused between two looks: the monitor never saw it missing.
    sql("DELETE FROM trades WHERE id = 40; INSERT INTO trades (id, portfolio_id, note) VALUES (40, 1, 'reused 40')");
    const r = await cli('restore', '--db', 'shop', '--merge', '--yes');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // The merge's count (3 kept) and the ledger's (2) are both said, so they agree (operator trial: "100 kept", then "96 kept").
    expect(r.stdout).toMatch(/trades: 0 missing rows back, 2 kept in _opsdeck_conflicts_trades \(id 30–31: the id now holds a newer row\), 1 more kept there \(id 40: the live row differs from the backup's; not missing to the row-loss check\)/);
    expect(all('SELECT note FROM trades WHERE id IN (30, 31) ORDER BY id')).toEqual([{ note: 'reused 30' }, { note: 'reused 31' }]);
    // Row 40 back to the backup's version, kept in the conflicts table: the tests after this one start from the same rows.
    sql('UPDATE trades SET portfolio_id = (SELECT portfolio_id FROM _opsdeck_conflicts_trades WHERE id = 40), note = (SELECT note FROM _opsdeck_conflicts_trades WHERE id = 40) WHERE id = 40');
    expect(all('SELECT note FROM trades WHERE id = 40')).toEqual([{ note: 'trade 40' }]);
    sql('DROP TABLE _opsdeck_conflicts_trades');
  });

  it('rows the merge inserts that the row-loss check never counted missing are named as well, so its steps agree', async () => {
    // Operator trial: the merge step said "14 rows inserted", the ledger step "11 missing rows back".
    sql('DROP TABLE IF EXISTS _opsdeck_conflicts_trades');
    expect((await rowsCheck())?.status).toMatch(/ok|warning/); // a look: the ledger knows every id now
    sql('DELETE FROM trades WHERE id BETWEEN 50 AND 51'); // after its last look: never counted missing
    const r = await cli('restore', '--db', 'shop', '--merge', '--yes');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/trades: 2 rows inserted/);
    expect(r.stdout).toMatch(/trades: 0 missing rows back, (?:2 more kept there \(id 30–31: [^)]*\), )?2 more inserted \(id 50–51: absent when the merge ran, deleted after the row-loss check's last look\), none missing/);
    expect(one('SELECT count(*) AS n FROM trades WHERE id BETWEEN 50 AND 51')).toBe(2);
    sql('DROP TABLE IF EXISTS _opsdeck_conflicts_trades');
  });

  it('a backup taken after the loss, where new rows reused the missing ids, is not taken as holding the lost rows: they stay missing', async () => {
    // Operator trial: counted by id, the newest backup "held" every lost trade; the merge inserted
    // none ("already there") and the ledger called them back, clearing the alert with the trades gone.
    sql("INSERT INTO trades (id, portfolio_id, note) VALUES (300, 1, 'lost 300'), (301, 1, 'lost 301')");
    expect((await rowsCheck())?.status).toMatch(/ok|warning/); // the ledger knows 300–301 now
    sql('DELETE FROM trades WHERE id IN (300, 301)');
    expect((await rowsCheck())?.message).toMatch(/trades is missing 2 rows \(id 300–301\)/);
    sql("INSERT INTO trades (id, portfolio_id, note) VALUES (300, 1, 'reused 300'), (301, 1, 'reused 301')");
    const b = await cli('backup', 'create', '--verify', '--json'); // e.g. the schedule, after the loss
    expect(b.code, b.stderr).toBe(0);
    const after = (JSON.parse(b.stdout) as { created: { id: string }[] }).created[0]?.id ?? '';
    const r = await cli('restore', '--db', 'shop', '--merge', '--yes');
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(/it holds NONE of the 2 missing rows/);
    expect(r.stdout).toMatch(/trades: 0 missing rows back, (?:2 more kept there \(id 30–31: [^)]*\), )?2 still missing \(id 300–301\)/);
    expect(all('SELECT note FROM trades WHERE id IN (300, 301) ORDER BY id')).toEqual([{ note: 'reused 300' }, { note: 'reused 301' }]);
    expect((await rowsCheck())?.message).toMatch(/trades is missing 2 rows \(id 300–301\)/);
    // Named by the operator (--backup): merged from, but its rows under the missing ids do not count as found.
    const named = await cli('restore', '--db', 'shop', '--merge', '--backup', after, '--yes');
    expect(named.code, named.stdout + named.stderr).toBe(3);
    expect(named.stdout).toMatch(/the backup, taken after the loss was noticed, holds none of the 2 missing rows of trades/);
    expect(named.stdout).toMatch(/trades: 0 missing rows back, 2 still missing \(id 300–301\)/);
    const g = await cli('restore', '--db', 'shop', '--merge', '--yes', '--accept-loss'); // given up, for the tests after this one
    expect(g.code, g.stdout + g.stderr).toBe(0);
    sql('DROP TABLE IF EXISTS _opsdeck_conflicts_trades');
  });

  it('refuses a table with neither a PRIMARY KEY nor a merge key, naming the setting', async () => {
    const r = await cli('restore', '--db', 'shop', '--merge', '--tables', 'events', '--yes');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/table events has no PRIMARY KEY and no merge key.*databases\[\]\.merge_keys\.events/);
    expect(r.stderr).toMatch(/the database was not changed/);
  });
});

describe('the row-loss ledger outlives the monitor', () => {
  it('a deletion made while watch was stopped is reported when it starts again', async () => {
    const { Watcher } = await import('../helpers/watch.js');
    const ledgerOf = () => {
      const state = new Database(join(dir, 'state', 'state.db'), { readonly: true });
      try {
        return state.prepare("SELECT known, missing, updated_at AS at FROM row_ledger WHERE database = 'shop' AND tbl = 'trades'").get() as { known: string; missing: string; at: number } | undefined;
      } finally {
        state.close();
      }
    };
    sql('DROP TABLE IF EXISTS _opsdeck_conflicts_trades');
    const first = new Watcher(config, env);
    const t0 = Date.now();
    // polls until the running watch has looked at the table at least once
    for (let i = 0; i < 200 && !((ledgerOf()?.at ?? 0) > t0); i++) await new Promise((r) => setTimeout(r, 100));
    expect(JSON.parse(ledgerOf()?.missing ?? 'null')).toEqual([]);
    await first.stop();
    sql('DELETE FROM trades WHERE id BETWEEN 10 AND 14');
    const second = new Watcher(config, env);
    try {
      const fired = await second.waitFor('fired', 'sqlite:shop:rows', 30_000);
      expect(fired.message).toMatch(/trades is missing 5 rows \(id 10–14\)/);
    } finally {
      await second.stop();
    }
  });
});

describe('replacing a corrupt file', () => {
  it('the replace question counts at least the rows the ledger knew and the backup lacks (the file cannot be read)', async () => {
    sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) INSERT INTO trades (portfolio_id, note) SELECT 1, printf('new %d', i) FROM n;");
    const before = await rowsCheck(); // the ledger learns the new ids
    expect(before?.status).toMatch(/ok|warning|critical/);
    const { closeSync, openSync, statSync, writeSync } = await import('node:fs');
    const db = new Database(dbPath);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const size = statSync(dbPath).size;
    const fd = openSync(dbPath, 'r+');
    writeSync(fd, Buffer.alloc(size - 4096, 0x5a), 0, size - 4096, 4096); // every page but the header's
    closeSync(fd);
    // Driven as the console drives it: JSON lines out, answers in (y, y, y, then s for the give-up).
    const r = await runCli(['--config', config, 'restore', '--db', 'shop', '--protocol'], { env, input: 'y\ny\ny\ns\n', timeoutMs: 60_000 });
    const asks = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { say?: string; ask?: string }).map((m) => m.say ?? m.ask ?? '');
    const swap = asks.find((l) => l.startsWith('[5/10] restore the whole file')) ?? '';
    expect(swap).toMatch(/replacing loses at least \d+ rows of trades \(id [^)]+\) — the file cannot be read; counted from the ids the row-loss ledger knew/);
    expect(r.code, r.stderr).toBe(3); // the give-up was skipped: NOT complete
  });
});
