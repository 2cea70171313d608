import { committedLogFor, recordCommitted } from './committed.js';
import { SYMBOLS } from './seed.js';

/**
 * The demo's application writer: commits a trade every `intervalMs` (so backups and restores
 * happen under real concurrent writes) and sends a little traffic to the demo API.
 */
export async function runDemoWriter(opts: { db: string; api?: string; intervalMs?: number }): Promise<void> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(opts.db, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  const insert = db.prepare('INSERT INTO trades (portfolio_id, symbol, side, qty, price, executed_at) VALUES (?, ?, ?, ?, ?, ?)');
  const log = committedLogFor(opts.db);
  let n = 0;
  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  while (!stopping) {
    n++;
    try {
      const at = new Date().toISOString();
      const r = insert.run((n % 10) + 1, SYMBOLS[n % SYMBOLS.length], n % 2 ? 'buy' : 'sell', 1 + (n % 50), 100 + (n % 300), at);
      recordCommitted(log, r.lastInsertRowid, at); // drill scores count every committed trade (src/demo/committed.ts)
    } catch {
      // The database may be locked or being restored; the next tick tries again.
    }
    if (opts.api && n % 2 === 0) {
      fetch(`${opts.api}/api/v1/trades`, { signal: AbortSignal.timeout(3000) }).then((r) => r.body?.cancel(), () => undefined);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
  db.close();
  process.exit(0);
}
