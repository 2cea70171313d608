import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { restoreHint, restoreSteps } from '../../src/domain/restore-plan.js';
import { createRun, reduceRun, type Run } from '../../src/domain/runbook.js';
import { RunJournal } from '../../src/engine/journal.js';
import { openRunChecks, readOpenRunChecks } from '../../src/engine/findings.js';
import { migrate, MIGRATIONS } from '../../src/state/statedb.js';

// Migrations by name (issue #14), and the upgrade that carries the restore journal of an older
// opsdeck into the engine's tables: a half-finished restore is never stranded by an upgrade.

/** A state database as opsdeck left it before the engine: five migrations, counted by user_version. */
function beforeEngine(): Database.Database {
  const db = new Database(':memory:');
  for (const m of MIGRATIONS.slice(0, 5)) db.exec(m.sql);
  db.pragma('user_version = 5');
  return db;
}

describe('named migrations', () => {
  it('a database counted by user_version gets the names of what ran, then only the new ones run', () => {
    const db = beforeEngine();
    migrate(db);
    const names = (db.prepare('SELECT name FROM schema_migrations ORDER BY rowid').all() as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(MIGRATIONS.map((m) => m.name));
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    migrate(db); // nothing left: no error, nothing twice
    expect((db.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(MIGRATIONS.length);
  });

  it('two branches that each added a migration: both apply, in either order, none twice', () => {
    const db = new Database(':memory:');
    const a = { name: 'branch-a', sql: 'CREATE TABLE a (x)' };
    const b = { name: 'branch-b', sql: 'CREATE TABLE b (x)' };
    migrate(db, [...MIGRATIONS, a]);
    migrate(db, [...MIGRATIONS, b, a]); // by position, b would have been skipped as "already applied"
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE name IN ('a', 'b') ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(['a', 'b']);
  });
});

describe('the upgrade to the engine journal', () => {
  it('an unfinished restore_runs row becomes an open run: same steps, states, cursor and context; resumable and a CRITICAL finding', () => {
    const db = beforeEngine();
    const steps = restoreSteps({ database: 'trading', dbPath: '/srv/t.db', backupId: 'b1', backupSummary: '1h old', writers: ['api'], safetyDir: '/s/r1', mode: { kind: 'whole' } });
    let run: Run = createRun(steps);
    for (const type of ['start', 'succeed', 'start', 'succeed', 'ask', 'confirm', 'succeed', 'start', 'succeed'] as const) run = reduceRun(run, type === 'succeed' ? { type, at: 5, note: 'ok' } : { type, at: 5 });
    expect(run.cursor).toBe(4);
    const ctx = { database: 'trading', dbPath: '/srv/t.db', safetyDir: '/s/r1', stopped: ['api'], ownerPid: 42 };
    db.prepare('INSERT INTO restore_runs (id, database, db_path, backup_id, status, run, ctx, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run('r1', 'trading', '/srv/t.db', 'b1', 'open', JSON.stringify(run), JSON.stringify(ctx), 1, 5);
    db.prepare('INSERT INTO restore_runs (id, database, db_path, backup_id, status, run, ctx, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run('r0', 'trading', '/srv/t.db', 'b0', 'completed', JSON.stringify(createRun(steps)), '{}', 0, 0);
    db.prepare('INSERT INTO restore_journal (run_id, at, step, event, detail) VALUES (?, ?, ?, ?, ?)').run('r1', 1, '-', 'created', 'backup b1');
    migrate(db);
    const j = new RunJournal(db, { readOnly: true });
    const open = j.open<typeof ctx>('restore', '/srv/t.db');
    expect(open).toHaveLength(1);
    const r = open[0];
    expect(r).toMatchObject({ id: 'r1', kind: 'restore', subject: 'trading', targetKey: '/srv/t.db', status: 'open', hint: restoreHint('trading', '/s/r1'), ctx, startedAt: 1 });
    expect(r?.run).toEqual(run);
    expect(j.lines('r1')).toEqual([{ at: 1, step: '-', event: 'created', detail: 'backup b1' }]);
    expect(j.get('r0')?.status).toBe('completed');
    const resumed = reduceRun(r?.run as Run, { type: 'resume', at: 9 });
    expect(resumed.phase.kind).toBe('active');
    expect(openRunChecks(db)).toEqual([expect.objectContaining({ id: 'journal:restore:trading', status: 'critical', value: 'step 5/10 swap pending' })]);
  });
});

describe('a state database an older opsdeck left, read before anything migrates it', () => {
  it('its unfinished restore is a CRITICAL finding, not an all-clear', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-legacy-'));
    const db = new Database(join(dir, 'state.db'));
    for (const m of MIGRATIONS.slice(0, 5)) db.exec(m.sql);
    db.pragma('user_version = 5');
    const steps = restoreSteps({ database: 'trading', dbPath: '/srv/t.db', backupId: 'b1', backupSummary: '1h old', writers: [], safetyDir: '/s/r1', mode: { kind: 'whole' } });
    db.prepare('INSERT INTO restore_runs (id, database, db_path, backup_id, status, run, ctx, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run('r1', 'trading', '/srv/t.db', 'b1', 'open', JSON.stringify(createRun(steps)), JSON.stringify({ safetyDir: '/s/r1' }), 1, 1);
    db.close();
    const found = await readOpenRunChecks(dir);
    expect(found.map((c) => [c.id, c.status])).toEqual([['journal:restore:trading', 'critical']]);
    expect(found[0]?.message).toMatch(/restore r1 of trading is unfinished .*--resume, or --rollback \(safety copy: \/s\/r1\)/);
  });
});
