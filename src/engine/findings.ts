import type BetterSqlite3 from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckResult } from '../domain/check.js';
import { restoreHint } from '../domain/restore-plan.js';
import { describeRun, type Run } from '../domain/runbook.js';
import { COMMAND } from '../services/writers.js';
import { RunJournal } from './journal.js';
import { runHolder } from './owner.js';

// Unfinished runs as findings (issue #14), for every runbook alike: `journal:<kind>:<subject>` is
// CRITICAL while a run was interrupted (resume or roll it back) and WARNING while a live process
// drives it (its lease, src/engine/owner.ts). `check`, `watch` and the console all read them here.

/** What an unfinished run shows. */
export interface OpenRun {
  kind: string;
  runId: string;
  subject: string;
  target: string;
  position: string;
  hint: string;
  /** The writers it stopped and has not started again. */
  stopped?: string[];
}

/** An unfinished run is a CRITICAL finding until it is resumed or rolled back. */
export function openRunCheck(r: OpenRun): CheckResult {
  return {
    id: `journal:${r.kind}:${r.subject}`,
    kind: 'journal',
    target: r.target,
    status: 'critical',
    value: r.position,
    message: `${r.kind} ${r.runId} of ${r.subject} is unfinished (${r.position}${r.stopped?.length ? `; writers still stopped: ${r.stopped.join(', ')}` : ''}); ${r.hint}`,
    critical: true,
  };
}

/**
 * The writers a run stopped and has not started again (a restore's `ctx.stopped`, its start-writers
 * step not done): an operator who quit at a question must know the service is down (operator trial).
 */
export function stillStoppedBy(run: Run, ctx: unknown): string[] {
  const stopped = (ctx as { stopped?: unknown } | null)?.stopped;
  if (!Array.isArray(stopped) || !stopped.length) return [];
  const i = run.steps.findIndex((s) => s.id === 'start-writers');
  if (i >= 0 && run.states[i]?.status === 'done') return [];
  return stopped.filter((n): n is string => typeof n === 'string').map((n) => (n.startsWith(COMMAND) ? `${n.slice(COMMAND.length)} (its stop_command)` : n));
}

/** The findings of every open run in a state database (read-only use is fine). */
export function openRunChecks(db: BetterSqlite3.Database): CheckResult[] {
  const j = new RunJournal(db, { readOnly: true });
  return j.open<unknown>().map((r) => {
    const position = describeRun(r.run);
    const stopped = stillStoppedBy(r.run, r.ctx);
    const check = openRunCheck({ kind: r.kind, runId: r.id, subject: r.subject, target: r.targetKey, position, hint: r.hint, ...(stopped.length ? { stopped } : {}) });
    const holder = runHolder(db, r.id);
    if (!holder) return check;
    return { ...check, status: 'warning', message: `${r.kind} ${r.id} of ${r.subject} is in progress (pid ${holder.pid}, ${position}); what it stopped stays stopped until it ends` };
  });
}

/** The subjects with an unfinished run of a kind (the console's wizard labels). */
export function openSubjects(db: BetterSqlite3.Database, kind: string): Set<string> {
  return new Set(new RunJournal(db, { readOnly: true }).open<unknown>(kind).map((r) => r.subject));
}

/**
 * The open-run findings as the monitor loop sees them: the state database in `dir` opened read-only
 * for one look (it may not exist yet, or predate the engine: then nothing is open). A state database
 * that cannot be read at all is one UNKNOWN finding, not an exception.
 */
export async function readOpenRunChecks(dir: string): Promise<CheckResult[]> {
  const file = join(dir, 'state.db');
  try {
    if (!existsSync(file)) return [];
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 2000 });
    try {
      const has = (t: string) => !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t);
      if (has('runs')) return openRunChecks(db);
      // A state database an older opsdeck left, not migrated yet (this look is read-only): its open
      // restores are still findings — never an all-clear while one is unfinished.
      return has('restore_runs') ? legacyOpenRestores(db) : [];
    } finally {
      db.close();
    }
  } catch (e) {
    return [{ id: 'journal:runs', kind: 'journal', target: file, status: 'unknown', message: `cannot read the run journal in ${file}: ${(e as Error).message}` }];
  }
}

/** Open runs of the journal before the engine (`restore_runs`), as CRITICAL findings. */
function legacyOpenRestores(db: BetterSqlite3.Database): CheckResult[] {
  const rows = db.prepare("SELECT id, database, db_path, run, ctx FROM restore_runs WHERE status = 'open' ORDER BY started_at").all() as { id: string; database: string; db_path: string; run: string; ctx: string }[];
  return rows.map((r) => {
    const safetyDir = (JSON.parse(r.ctx) as { safetyDir?: string }).safetyDir;
    return openRunCheck({ kind: 'restore', runId: r.id, subject: r.database, target: r.db_path, position: describeRun(JSON.parse(r.run) as Run), hint: restoreHint(r.database, safetyDir) });
  });
}
