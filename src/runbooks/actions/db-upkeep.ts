// Database upkeep as runbook steps (issue #23): `db.analyze` (ANALYZE, then PRAGMA optimize),
// `db.reindex` (REINDEX) and `db.vacuum` (VACUUM) on one configured database (param `database`) or
// on each. Each preview shows the file's size, the rough time it takes and — for VACUUM — the free
// space it needs; VACUUM is refused before it starts when that space is not there. Each is
// idempotent (running it twice does no harm) and holds SQLite's write lock while it runs: writers
// wait (busy timeout) rather than fail.

import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { DatabaseConfig } from '../../config/schema.js';
import { Failure } from '../../domain/errors.js';
import { formatBytes, formatDuration } from '../../domain/format.js';
import type { GenericDeps } from '../../engine/actions.js';
import type { Action, StepContext } from '../../engine/driver.js';
import { mountOf as mountOfPath } from '../../services/capacity.js';
import { configOf } from './config.js';
import { mountUse } from './disk.js';

type X = StepContext<unknown, GenericDeps>;

/** The typed ids of the upkeep actions. */
export type DbUpkeepActionId = 'db.analyze' | 'db.reindex' | 'db.vacuum';

// Rough rates for the preview's "about N s" (bytes of database per second): SQLite's own work is
// bounded by reading (ANALYZE samples), rebuilding the indexes (REINDEX) or rewriting every page
// twice (VACUUM: a copy, then back through the journal). A preview says "about"; the step measures.
const RATE = { analyze: 400e6, reindex: 80e6, vacuum: 40e6 } as const;

/** The databases a step acts on: param `database`, else every configured one. */
function databasesOf(x: X): DatabaseConfig[] {
  const c = configOf(x, 'with databases');
  const want = x.step.params?.database;
  if (typeof want === 'string' && want) {
    const d = c.databases.find((e) => e.name === want);
    if (!d) throw new Failure('not-found', `step ${x.step.id}: no database named ${JSON.stringify(want)} in the configuration (expected one of: ${c.databases.map((e) => e.name).join(', ') || 'none configured'})`);
    return [d];
  }
  return c.databases;
}

const fileSize = (p: string): number => (existsSync(p) ? statSync(p).size : 0);
const sizeOf = (d: DatabaseConfig): number => fileSize(d.path) + fileSize(`${d.path}-wal`);

/** VACUUM's space: a temporary copy of the database, then the journal (WAL) as big again. */
function vacuumNeed(d: DatabaseConfig): { need: number; free: number; mount: string } {
  const mount = mountOfPath(dirname(d.path));
  return { need: 2 * sizeOf(d), free: mountUse(mount).avail, mount };
}

/** Nothing to do without databases: the step is done without a question. */
const settled = (x: X): string | undefined => (databasesOf(x).length ? undefined : 'no databases configured: nothing to do');

function preview(kind: keyof typeof RATE, what: string, x: X): string {
  if (!databasesOf(x).length) return 'no databases configured: nothing to do';
  return databasesOf(x)
    .map((d) => {
      const size = sizeOf(d);
      const base = `${what} ${d.name} (${d.path}, ${formatBytes(size)}): about ${formatDuration(Math.max(1000, (size / RATE[kind]) * 1000), 'coarse')}, writers wait meanwhile`;
      if (kind !== 'vacuum') return base;
      const v = vacuumNeed(d);
      return `${base}; needs up to ${formatBytes(v.need)} free on ${v.mount} (a copy, then the journal), ${formatBytes(v.free)} free${v.free < v.need ? ' — NOT ENOUGH: the step will refuse' : ''}`;
    })
    .join('\n');
}

function run(kind: keyof typeof RATE, sql: string, x: X): string {
  const notes: string[] = [];
  for (const d of databasesOf(x)) {
    if (!existsSync(d.path)) throw new Failure('not-found', `${d.name}: ${d.path} does not exist`);
    if (kind === 'vacuum') {
      const v = vacuumNeed(d);
      if (v.free < v.need) throw new Failure('no-space', `${d.name}: VACUUM needs up to ${formatBytes(v.need)} free on ${v.mount}, only ${formatBytes(v.free)} is: free space first (disk-pressure), nothing was changed`);
    }
    const before = sizeOf(d);
    const t0 = performance.now();
    const db = new Database(d.path, { fileMustExist: true, timeout: d.timeout });
    try {
      db.exec(sql);
      if (kind === 'vacuum' && db.pragma('journal_mode', { simple: true }) === 'wal') db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (e) {
      throw new Failure((e as { code?: string }).code === 'SQLITE_BUSY' ? 'busy' : 'exec', `${d.name}: ${sql.split(';')[0] ?? sql}: ${(e as Error).message}`);
    } finally {
      db.close();
    }
    const after = sizeOf(d);
    notes.push(`${d.name}: ${sql.replace(/;\s*$/, '')} in ${formatDuration(performance.now() - t0, 'latency')}${kind === 'vacuum' ? `, ${formatBytes(before)} → ${formatBytes(after)}` : ''}`);
  }
  return notes.join('\n');
}

/** The upkeep actions by id. */
export const DB_UPKEEP_ACTIONS: Record<DbUpkeepActionId, Action<unknown, GenericDeps>> = {
  'db.analyze': {
    dangerous: true,
    settled,
    preview: (x) => preview('analyze', 'ANALYZE and PRAGMA optimize on', x),
    execute: (x) => Promise.resolve(run('analyze', 'ANALYZE; PRAGMA optimize;', x)),
  },
  'db.reindex': {
    dangerous: true,
    settled,
    preview: (x) => preview('reindex', 'REINDEX every index of', x),
    execute: (x) => Promise.resolve(run('reindex', 'REINDEX;', x)),
  },
  'db.vacuum': {
    dangerous: true,
    settled,
    preview: (x) => preview('vacuum', 'VACUUM (rewrite the file without its free pages)', x),
    execute: (x) => Promise.resolve(run('vacuum', 'VACUUM;', x)),
  },
};
