import Database from 'better-sqlite3';

/** Rows in `table` of the SQLite file at `dbPath`, read through a handle closed at once (a handle
 * left open would make a restore in the same test refuse: "still open in pid …"). */
export function rowCount(dbPath: string, table: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}
