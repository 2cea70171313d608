import type BetterSqlite3 from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactSecrets } from '../config/secrets.js';
import { openRestoreCheck, type OpenRestore } from '../domain/restore-plan.js';
import type { CheckResult } from '../domain/check.js';
import { describeRun, type Run, type RunEvent, type StepState } from '../domain/runbook.js';

/** Status of a restore run in the journal; only `open` runs can be resumed or rolled back. `partial`: finished with a step skipped. */
export type RunStatus = 'open' | 'completed' | 'partial' | 'rolled-back' | 'aborted' | 'failed';

/** One restore run as stored: the reduced step machine plus the context resume/rollback need. */
export interface StoredRun<C> {
  id: string;
  database: string;
  dbPath: string;
  backupId: string;
  status: RunStatus;
  run: Run;
  ctx: C;
  startedAt: number;
  updatedAt: number;
}

interface Row {
  id: string;
  database: string;
  db_path: string;
  backup_id: string;
  status: RunStatus;
  run: string;
  ctx: string;
  started_at: number;
  updated_at: number;
}

const fromRow = <C>(r: Row): StoredRun<C> => ({
  id: r.id,
  database: r.database,
  dbPath: r.db_path,
  backupId: r.backup_id,
  status: r.status,
  run: JSON.parse(r.run) as Run,
  ctx: JSON.parse(r.ctx) as C,
  startedAt: r.started_at,
  updatedAt: r.updated_at,
});

/**
 * The restore wizard's journal in the state database. Every transition of a run is written (the
 * new run state and a journal line, in one transaction, WAL + synchronous=FULL) before the
 * driver goes on, so a killed restore can be resumed or rolled back from exactly where it was.
 * Everything is stored with secrets redacted (issue #12): a writer's stop/start command with its
 * `${VAR}` filled in, a path holding a secret. A resume takes those from the configuration again
 * (src/cli/restore.ts, rehydrate).
 */
export class RestoreJournal {
  private readonly redactCtx: (ctx: unknown) => unknown;

  constructor(
    private readonly db: BetterSqlite3.Database,
    /** `redactCtx`: the run context as it may be stored (the restore redacts its commands and paths). */
    opts: { readOnly?: boolean; redactCtx?: (ctx: unknown) => unknown } = {},
  ) {
    this.redactCtx = opts.redactCtx ?? ((ctx) => ctx);
    // The journal must survive a power cut as well as a SIGKILL. A reader (check, the console)
    // leaves its connection's setting alone.
    if (!opts.readOnly) db.pragma('synchronous = FULL');
  }

  /** Records a new run. */
  create<C>(r: Omit<StoredRun<C>, 'status' | 'updatedAt'>): StoredRun<C> {
    const stored: StoredRun<C> = { ...r, status: 'open', updatedAt: r.startedAt };
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO restore_runs (id, database, db_path, backup_id, status, run, ctx, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(r.id, r.database, redactSecrets(r.dbPath), r.backupId, 'open', JSON.stringify(redactRun(r.run)), JSON.stringify(this.redactCtx(r.ctx)), r.startedAt, r.startedAt);
      this.line(r.id, r.startedAt, '-', 'created', `backup ${r.backupId}`);
    })();
    return stored;
  }

  private line(runId: string, at: number, step: string, event: string, detail?: string): void {
    this.db.prepare('INSERT INTO restore_journal (run_id, at, step, event, detail) VALUES (?, ?, ?, ?, ?)').run(runId, at, step, event, detail === undefined ? null : redactSecrets(detail));
  }

  /** Saves a transition: the new run state, its context, its status and one journal line. */
  save<C>(r: StoredRun<C>, ev: RunEvent | { type: string; at: number }, step: string, detail?: string): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE restore_runs SET run = ?, ctx = ?, status = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(redactRun(r.run)), JSON.stringify(this.redactCtx(r.ctx)), r.status, ev.at, r.id);
      this.line(r.id, ev.at, step, ev.type, detail);
    })();
  }

  /** A run by id. */
  get<C>(id: string): StoredRun<C> | undefined {
    const r = this.db.prepare('SELECT * FROM restore_runs WHERE id = ?').get(id) as Row | undefined;
    return r ? fromRow<C>(r) : undefined;
  }

  /** Unfinished runs, oldest first; optionally only those of one database file (its path as stored: redacted). */
  open<C>(dbPath?: string): StoredRun<C>[] {
    const rows = (dbPath
      ? this.db.prepare("SELECT * FROM restore_runs WHERE status = 'open' AND db_path = ? ORDER BY started_at").all(redactSecrets(dbPath))
      : this.db.prepare("SELECT * FROM restore_runs WHERE status = 'open' ORDER BY started_at").all()) as Row[];
    return rows.map((r) => fromRow<C>(r));
  }

  /** The journal lines of a run, in order. */
  lines(runId: string): { at: number; step: string; event: string; detail: string | null }[] {
    return this.db.prepare('SELECT at, step, event, detail FROM restore_journal WHERE run_id = ? ORDER BY id').all(runId) as { at: number; step: string; event: string; detail: string | null }[];
  }
}

/**
 * A run as it is stored: its text for people (step titles and details, notes, errors, reasons)
 * redacted; step ids, statuses and times, which the reducer reads back, as they are.
 */
export function redactRun(run: Run): Run {
  const state = (s: StepState): StepState => {
    if (s.status === 'done') return s.note === undefined ? s : { ...s, note: redactSecrets(s.note) };
    if (s.status === 'failed') return { ...s, error: redactSecrets(s.error) };
    if (s.status === 'skipped') return { ...s, reason: redactSecrets(s.reason) };
    return s;
  };
  const p = run.phase;
  return {
    ...run,
    steps: run.steps.map((s) => ({ ...s, title: redactSecrets(s.title), detail: redactSecrets(s.detail) })),
    states: run.states.map(state),
    phase: 'reason' in p ? { ...p, reason: redactSecrets(p.reason) } : 'error' in p ? { ...p, error: redactSecrets(p.error) } : p,
  };
}

/** Whether `pid` is a live opsdeck restore process (its command line names `restore`). */
export function restoreProcessAlive(pid: number): boolean {
  if (existsSync('/proc')) {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('restore');
    } catch {
      return false; // no such process
    }
  }
  try {
    process.kill(pid, 0); // not Linux: whether it exists is all we can tell
    return true;
  } catch {
    return false;
  }
}

/**
 * Findings for `check` and the console, one per open restore: CRITICAL when it was interrupted
 * (resume or roll back), WARNING while its process is still working on it.
 */
export function openRestoreChecks(db: BetterSqlite3.Database): CheckResult[] {
  const j = new RestoreJournal(db, { readOnly: true });
  return j.open<{ safetyDir?: string; ownerPid?: number }>().map((r) => {
    const o: OpenRestore = { runId: r.id, database: r.database, dbPath: r.dbPath, position: describeRun(r.run), startedAt: r.startedAt, ...(r.ctx.safetyDir ? { safetyDir: r.ctx.safetyDir } : {}) };
    const check = openRestoreCheck(o);
    const owner = r.ctx.ownerPid;
    if (owner === undefined || !restoreProcessAlive(owner)) return check;
    return { ...check, status: 'warning', message: `restore ${r.id} of ${r.database} is in progress (pid ${owner}, ${o.position}); its writers may be stopped` };
  });
}

/**
 * The open-restore findings as the monitor loop sees them: the state database in `dir` opened
 * read-only for one look (it may not exist yet, or predate the journal: then nothing is open).
 * A state database that cannot be read at all is one UNKNOWN finding, not an exception.
 */
export async function readOpenRestoreChecks(dir: string): Promise<CheckResult[]> {
  const file = join(dir, 'state.db');
  try {
    return (await withJournal(dir, (db) => openRestoreChecks(db))) ?? [];
  } catch (e) {
    return [{ id: 'journal:restore', kind: 'journal', target: file, status: 'unknown', message: `cannot read the restore journal in ${file}: ${(e as Error).message}` }];
  }
}

/** Runs `fn` on the state database in `dir`, opened read-only; undefined when it has no journal yet. */
async function withJournal<T>(dir: string, fn: (db: BetterSqlite3.Database) => T): Promise<T | undefined> {
  const file = join(dir, 'state.db');
  if (!existsSync(file)) return undefined;
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 2000 });
  try {
    const hasJournal = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'restore_runs'").get();
    return hasJournal ? fn(db) : undefined;
  } finally {
    db.close();
  }
}
