import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

/** The state folder: config `state_dir`, else $OPSDECK_STATE_DIR, else $XDG_STATE_HOME/opsdeck (~/.local/state/opsdeck). */
export function stateDir(configured?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (configured) return configured;
  if (env.OPSDECK_STATE_DIR) return env.OPSDECK_STATE_DIR;
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local/state'), 'opsdeck');
}

import { MIGRATIONS, type Migration } from './migrations.js';

export { MIGRATIONS, type Migration };

/**
 * Makes the state folder 0700 and the state database's files 0600 (issue #12: the database was
 * created 0644, readable by every local user, with the audit log and alert history in it). The
 * database file is created here, before SQLite opens it: SQLite gives its -wal and -shm files the
 * database file's mode. Files an older opsdeck made are tightened too. A folder or file of another
 * owner is left as it is (chmod would fail; the operator chose that folder).
 */
function privateStateFiles(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  tighten(dir, 0o700);
  const file = join(dir, 'state.db');
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) tighten(f, 0o600);
  return file;
}

function tighten(path: string, mode: number): void {
  try {
    const st = statSync(path);
    if ((st.mode & 0o777) !== mode && (process.getuid === undefined || st.uid === process.getuid())) chmodSync(path, mode);
  } catch {
    // gone meanwhile (a -wal checkpointed away), or not ours to change
  }
}

/** Opens (creating if needed) the state database and applies pending migrations. */
export async function openStateDb(dir: string): Promise<BetterSqlite3.Database> {
  const file = privateStateFiles(dir);
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file, { timeout: 5000 });
  // Turning a new database to WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at once
  // (its busy timeout does not apply) while another process opens it too: retry for up to 5 s.
  for (let attempt = 0; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL');
      break;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= 100) {
        db.close();
        throw e;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

/** How many migrations ran before they had names (their count was `user_version`). */
const UNNAMED = 5;

/**
 * Applies the migrations the database has not seen yet, each in its own transaction, recording its
 * name. Each one reads what ran after taking the write lock (BEGIN IMMEDIATE): two monitors started
 * at once on a new state folder both ran migration 1 and the second died on "table alert_events
 * already exists" (seen with two `watch` processes, issue #10). `user_version` still counts the
 * migrations applied, for an older opsdeck reading the file.
 */
export function migrate(db: BetterSqlite3.Database, migrations: readonly Migration[] = MIGRATIONS): void {
  const step = db.transaction((): boolean => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const done = new Set((db.prepare('SELECT name FROM schema_migrations').all() as { name: string }[]).map((r) => r.name));
    const version = db.pragma('user_version', { simple: true }) as number;
    // Migrations that ran before names existed: recorded as applied.
    for (const m of migrations.slice(0, Math.min(version, UNNAMED))) {
      if (!done.has(m.name)) {
        db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, 0)').run(m.name);
        done.add(m.name);
      }
    }
    const next = migrations.find((m) => !done.has(m.name));
    if (next === undefined) return false;
    db.exec(next.sql);
    db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(next.name, Date.now());
    db.pragma(`user_version = ${Math.max(version, done.size + 1)}`);
    return true;
  });
  while (step.immediate());
}
