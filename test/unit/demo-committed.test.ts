import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { committedLogFor, committedSince, recordCommitted } from '../../src/demo/committed.js';

// Drill scores count every trade the demo writer committed, those written during the drill too:
// before, a whole-file restore that dropped the trades written after its backup scored "missing 0".

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-committed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the writer’s record of committed trades', () => {
  it('counts the trades written during a drill that a restore dropped; a new trade with a reused id is not the lost one; a conflict kept is kept', async () => {
    mkdirSync(join(dir, 'data'));
    mkdirSync(join(dir, 'logs'));
    const file = join(dir, 'data', 'trading.db');
    const log = committedLogFor(file);
    expect(log).toBe(join(dir, 'logs', 'trades-committed.log'));
    const db = new Database(file);
    db.exec('CREATE TABLE trades (id INTEGER PRIMARY KEY, executed_at TEXT NOT NULL)');
    const at = (s: number) => new Date(Date.UTC(2026, 11, 3, 3, 0, s)).toISOString();
    const insert = db.prepare('INSERT INTO trades (executed_at) VALUES (?)');
    for (let s = 0; s < 10; s++) recordCommitted(log, insert.run(at(s)).lastInsertRowid, at(s));
    // The drill starts at second 5. A whole-file restore from a backup of second 6 drops 7, 8, 9;
    // the writer then commits second 20 under id 8 (max + 1 after the restore: ids are reused).
    db.exec(`DELETE FROM trades WHERE executed_at > '${at(6)}'`);
    recordCommitted(log, insert.run(at(20)).lastInsertRowid, at(20));
    expect(await committedSince(db, log, at(5))).toEqual({ committed: 6, missing: 3 });
    // Up to the next drill only; before the drill, nothing is counted here.
    expect(await committedSince(db, log, at(5), at(8))).toEqual({ committed: 3, missing: 1 });
    expect(await committedSince(db, log, at(30))).toEqual({ committed: 0, missing: 0 });
    // A merge kept trade 7 in the conflicts table: kept, not lost.
    db.exec('CREATE TABLE _opsdeck_conflicts_trades (id INTEGER, executed_at TEXT)');
    db.prepare('INSERT INTO _opsdeck_conflicts_trades VALUES (8, ?)').run(at(7));
    expect(await committedSince(db, log, at(5))).toEqual({ committed: 6, missing: 2 });
    db.close();
  });

  it('without a record (an older demo), counts nothing either way', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE trades (id INTEGER PRIMARY KEY, executed_at TEXT NOT NULL)');
    expect(await committedSince(db, join(dir, 'none.log'), '2026')).toEqual({ committed: 0, missing: 0 });
    db.close();
  });
});
