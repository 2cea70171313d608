// Reading a business or application probe (issue #23): an SQL query on a configured database,
// opened read-only with `query_only` (a statement that would write is refused before it runs), or a
// JSON field of an HTTP answer. Never throws: a probe that cannot be read says why.

import Database from 'better-sqlite3';
import type { ProbeConfig } from '../config/schema-probes.js';
import type { Config } from '../config/schema.js';
import { jsonNumber, type ProbeReading } from '../domain/probe.js';
import { basicAuth } from './http.js';

/** Reads one probe. The SQL runs on this thread (better-sqlite3 is synchronous): keep probe queries cheap. */
export async function readProbe(config: Config, p: ProbeConfig): Promise<ProbeReading> {
  const t0 = performance.now();
  const fail = (message: string): ProbeReading => ({ ok: false, message, latencyMs: performance.now() - t0 });
  if (p.sql) {
    const d = config.databases.find((x) => x.name === p.database);
    if (!d) return fail(`database ${p.database ?? ''} is not configured`);
    let db: Database.Database | undefined;
    try {
      db = new Database(d.path, { readonly: true, fileMustExist: true, timeout: p.timeout });
      db.pragma('query_only = ON');
      const st = db.prepare(p.sql);
      if (!st.readonly || !st.reader) return fail('the query must be one SELECT that returns a row (it would write, or returns nothing)');
      const row = st.raw(true).get() as unknown[] | undefined;
      if (!row) return fail('the query returned no row');
      const v = row[0];
      const n = typeof v === 'bigint' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isFinite(n)) return fail(`the query's first column is ${JSON.stringify(v ?? null)}, not a number`);
      return { ok: true, value: n, latencyMs: performance.now() - t0 };
    } catch (e) {
      return fail(`${d.name}: ${(e as Error).message}`);
    } finally {
      db?.close();
    }
  }
  if (!p.url || !p.json_path) return fail('expected sql or url');
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), p.timeout);
  timer.unref();
  try {
    const { url, authorization } = basicAuth(p.url);
    const res = await fetch(url, { signal: ac.signal, headers: { 'user-agent': 'opsdeck', accept: 'application/json', ...(authorization ? { authorization } : {}) } });
    const text = await res.text();
    if (res.status >= 400) return fail(`HTTP ${res.status}`);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return fail(`the answer is not JSON (expected field ${p.json_path})`);
    }
    const got = jsonNumber(doc, p.json_path);
    return 'error' in got ? fail(got.error) : { ok: true, value: got.value, latencyMs: performance.now() - t0 };
  } catch (e) {
    return fail(ac.signal.aborted ? `no answer within ${p.timeout} ms` : ((e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message));
  } finally {
    clearTimeout(timer);
  }
}
