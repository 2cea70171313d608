import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type BetterSqlite3 from 'better-sqlite3';

/** How the demo API behaves; drills change it through the control file. */
export interface ApiControl {
  mode: 'normal' | 'slow' | 'errors';
  /** Delay of every answer in slow mode (ms). */
  delayMs?: number;
  /** Share of answers that are HTTP 500 in errors mode (0–1). */
  errorShare?: number;
}

/** Reads the control file, cached by modification time (cheap on every request). */
export function controlReader(file: string): () => ApiControl {
  let mtime = '';
  let cached: ApiControl = { mode: 'normal' };
  return () => {
    try {
      // Keyed by inode and mtime (a rename replaces the inode; two writes in one clock tick can
      // share an mtime), and remembered only once parsed: a bad read is retried next time.
      const st = statSync(file);
      const key = `${st.ino}:${st.mtimeMs}`;
      if (key !== mtime) {
        cached = JSON.parse(readFileSync(file, 'utf8')) as ApiControl;
        mtime = key;
      }
    } catch {
      // missing or unreadable: keep the last good mode
    }
    return cached;
  };
}

/**
 * The demo stack's HTTP API (a real Node process): /api/v1/health, /api/v1/trades (a real query
 * on the trading database), /metrics (request count, error rate, concurrent requests).
 */
export async function runDemoApi(opts: { port: number; db: string; control: string }): Promise<void> {
  const { default: Database } = await import('better-sqlite3');
  // One short-lived connection per request: the API never holds the database file open, so a
  // restore (which refuses while a process has the file open) only has to stop the writer, and
  // the API reads the restored file at once instead of the replaced one.
  const query = <T>(fn: (db: BetterSqlite3.Database) => T): T => {
    const db = new Database(opts.db, { readonly: true, fileMustExist: true, timeout: 2000 });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  const control = controlReader(opts.control);
  let requests = 0;
  let errors = 0;
  let concurrent = 0;
  // One counter per path: with one shared counter the writer's traffic and the health probes could
  // fall into step so that the probes never drew the failing turn (api-errors never fired).
  const counters = new Map<string, number>();
  // The API's log (stdout, which the demo sends to logs/api.log): its errors and slow answers, so the
  // log review (M, opsdeck logs review) and api-degraded's look at the log see what the drills break.
  const log = (level: 'INFO' | 'WARN' | 'ERROR', text: string) => process.stdout.write(`${new Date().toISOString()} ${level} ${text}\n`);
  const server = createServer((req, res) => {
    requests++;
    concurrent++;
    res.on('close', () => concurrent--);
    const c = control();
    const url = new URL(req.url ?? '/', 'http://demo');
    const answer = () => {
      if (url.pathname === '/metrics') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ requests, errors, errorRate: requests ? (errors / requests) * 100 : 0, concurrent }),
        );
        return;
      }
      const counter = (counters.get(url.pathname) ?? 0) + 1;
      counters.set(url.pathname, counter);
      if (c.mode === 'errors' && counter % Math.max(1, Math.round(1 / (c.errorShare ?? 0.34))) === 0) {
        errors++;
        log('ERROR', `${req.method ?? 'GET'} ${url.pathname} 500: upstream failure (drill), request ${requests}`);
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"status":"error","error":"upstream failure (drill)"}');
        return;
      }
      try {
        if (url.pathname === '/api/v1/health') {
          const row = query((db) => db.prepare('SELECT count(*) AS n FROM trades').get() as { n: number });
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', trades: row.n }));
        } else if (url.pathname === '/api/v1/trades') {
          const rows = query((db) => db.prepare('SELECT * FROM trades ORDER BY id DESC LIMIT 20').all());
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rows));
        } else {
          res.writeHead(404).end('not found');
        }
      } catch (e) {
        errors++;
        log('ERROR', `${req.method ?? 'GET'} ${url.pathname} 503: ${(e as Error).message}`);
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', error: (e as Error).message }));
      }
    };
    if (c.mode === 'slow' && url.pathname !== '/metrics') {
      log('WARN', `${req.method ?? 'GET'} ${url.pathname} answered after ${c.delayMs ?? 2500} ms (slow)`);
      setTimeout(answer, c.delayMs ?? 2500);
    }
    else answer();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', resolve);
  });
  log('INFO', `demo API listening on 127.0.0.1:${opts.port}`);
  const stop = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await new Promise(() => undefined);
}
