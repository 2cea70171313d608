import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Range } from '../domain/ranges.js';

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * How many rows of `table` whose integer `key` lies in `ranges` a SQLite file holds (opened
 * read-only), or undefined when it cannot say (no file, unreadable, no such table). The restore's
 * give-up question reads its safety copy with it: rows a whole-file restore replaced are still there.
 */
export function rowsInFile(file: string, table: string, key: string, ranges: readonly Range[]): number | undefined {
  if (!existsSync(file)) return undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const q = db.prepare(`SELECT count(*) AS n FROM ${ident(table)} WHERE ${ident(key)} BETWEEN ? AND ?`);
    let n = 0;
    for (const [lo, hi] of ranges) n += (q.get(lo, hi) as { n: number }).n;
    return n;
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}
