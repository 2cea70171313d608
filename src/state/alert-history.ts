import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { openAlertHolds, type AlertEventRow, type RetentionHold } from '../domain/retention.js';

/**
 * The prune holds of one database from the alert history (issue #10): every backup taken before the
 * start of an open `sqlite:<db>…` alert (fired, not resolved since) is kept, whoever prunes.
 */
export function sqliteAlertHolds(db: BetterSqlite3.Database, database: string): RetentionHold[] {
  const rows = db
    .prepare("SELECT check_id AS checkId, event, at FROM alert_events WHERE (check_id = ? OR check_id LIKE ? ESCAPE '\\') AND event IN ('fired', 'resolved') ORDER BY at, id")
    .all(`sqlite:${database}`, `sqlite:${database.replace(/[\\%_]/g, (c) => `\\${c}`)}:%`) as AlertEventRow[];
  return openAlertHolds(rows, database);
}

/**
 * `sqliteAlertHolds` from the state database in `dir`, opened read-only for one look; none when it
 * does not exist yet. Throws when it exists but cannot be read: a caller that deletes must then stop.
 */
export async function readAlertHolds(dir: string, database: string): Promise<RetentionHold[]> {
  const file = join(dir, 'state.db');
  if (!existsSync(file)) return [];
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 2000 });
  try {
    return sqliteAlertHolds(db, database);
  } finally {
    db.close();
  }
}

/**
 * When the alert of `checkId` fired, if it is open now (its last recorded transition in the state
 * database in `dir` is `fired`); undefined when it is closed, never fired, or there is no database yet.
 */
export async function openAlertFiredAt(dir: string, checkId: string): Promise<number | undefined> {
  const file = join(dir, 'state.db');
  if (!existsSync(file)) return undefined;
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 2000 });
  try {
    const last = db.prepare("SELECT event, at FROM alert_events WHERE check_id = ? AND event IN ('fired', 'resolved') ORDER BY at DESC, id DESC LIMIT 1").get(checkId) as { event: string; at: number } | undefined;
    return last?.event === 'fired' ? last.at : undefined;
  } finally {
    db.close();
  }
}
