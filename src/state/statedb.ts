import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

/** The state folder: config `state_dir`, else $OPSDECK_STATE_DIR, else $XDG_STATE_HOME/opsdeck (~/.local/state/opsdeck). */
export function stateDir(configured?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (configured) return configured;
  if (env.OPSDECK_STATE_DIR) return env.OPSDECK_STATE_DIR;
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local/state'), 'opsdeck');
}

/**
 * Schema migrations of opsdeck's own state database, applied in order; `user_version` records how
 * many ran. Append new migrations at the end, never edit a released one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: alert history (fired / resolved / acknowledged / silenced) and the audit log.
  `CREATE TABLE alert_events (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     check_id TEXT NOT NULL,
     event TEXT NOT NULL,
     status TEXT,
     message TEXT,
     until INTEGER
   );
   CREATE INDEX alert_events_check ON alert_events(check_id, at);
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT NOT NULL,
     outcome TEXT NOT NULL,
     detail TEXT
   );`,
  // 2: acknowledgements and silences of alerts, kept across restarts of the console.
  `CREATE TABLE alert_acks (
     check_id TEXT PRIMARY KEY,
     acknowledged_at INTEGER,
     fired_at INTEGER,
     silenced_until INTEGER,
     actor TEXT NOT NULL
   );`,
];

/** Opens (creating if needed) the state database and applies pending migrations. */
export async function openStateDb(dir: string): Promise<BetterSqlite3.Database> {
  mkdirSync(dir, { recursive: true });
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(join(dir, 'state.db'), { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

/** Applies the migrations the database has not seen yet, each in its own transaction. */
export function migrate(db: BetterSqlite3.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let i = current; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i] as string);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}
