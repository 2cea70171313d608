import type BetterSqlite3 from 'better-sqlite3';
import { redactSecrets } from '../config/secrets.js';
import type { Run, RunEvent, RunPhase, StepDef, StepParams, StepState } from '../domain/runbook.js';

// The recovery engine's journal (issue #14): every run of every runbook (restore today; update,
// failover, repair next) in three tables of the state database — `runs` (one row per run: kind,
// subject, status, cursor, phase, its context as `params`, redacted), `run_steps` (one row per
// step: definition, state, attempts, output tail) and `run_events` (the journal lines). Every
// transition is written in one transaction (WAL + synchronous=FULL) before the driver goes on, so a
// run killed at any point resumes or rolls back from exactly where it was.

/** Status of a run; only `open` runs can be resumed or rolled back. `partial`: finished with a step skipped. */
export type RunStatus = 'open' | 'completed' | 'partial' | 'rolled-back' | 'aborted' | 'failed';

/** One run as stored: the reduced step machine plus the context resume and rollback need. */
export interface RunRecord<C> {
  id: string;
  /** The runbook: `restore`, … */
  kind: string;
  /** What it acts on, for people and for the `journal:<kind>:<subject>` finding (a database name). */
  subject: string;
  /** What two runs may not act on at once (a database file's path); stored redacted. */
  targetKey: string;
  /** How to finish or undo it, for the unfinished-run finding (`opsdeck restore --db x --resume, or --rollback`). */
  hint: string;
  status: RunStatus;
  /** A rollback was started: the run may only be rolled back (finished by running the rollback again). */
  rollingBack?: boolean;
  run: Run;
  ctx: C;
  startedAt: number;
  updatedAt: number;
}

interface RunRow {
  id: string;
  kind: string;
  subject: string;
  target_key: string;
  hint: string;
  status: RunStatus;
  rolling_back: number;
  cursor: number;
  phase: string;
  params: string;
  started_at: number;
  updated_at: number;
}

interface StepRow {
  idx: number;
  def: string;
  state: string;
  attempts: number;
}

/** How much of a step's output (its note or error) a step row keeps. */
const OUTPUT_TAIL = 2000;

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
    steps: run.steps.map((s) => ({
      ...s,
      title: redactSecrets(s.title),
      detail: redactSecrets(s.detail),
      ...(s.params ? { params: redactParams(s.params) } : {}),
      ...(s.verifyWith ? { verifyWith: { ...s.verifyWith, params: redactParams(s.verifyWith.params) } } : {}),
      ...(s.undoWith ? { undoWith: { ...s.undoWith, params: redactParams(s.undoWith.params) } } : {}),
    })),
    states: run.states.map(state),
    phase: 'reason' in p ? { ...p, reason: redactSecrets(p.reason) } : 'error' in p ? { ...p, error: redactSecrets(p.error) } : p,
  };
}

const redactParams = (p: StepParams): StepParams => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, typeof v === 'string' ? redactSecrets(v) : Array.isArray(v) ? v.map((x: string) => redactSecrets(x)) : v]));

const attemptsOf = (s: StepState): number => ('attempt' in s && typeof s.attempt === 'number' ? s.attempt : s.status === 'pending' ? 0 : 1);
const outputOf = (s: StepState): string | null => {
  const text = s.status === 'done' ? s.note : s.status === 'failed' ? s.error : s.status === 'skipped' ? s.reason : undefined;
  return text === undefined ? null : text.slice(-OUTPUT_TAIL);
};

/** Reads and writes runs of the engine in one state database. */
export class RunJournal {
  private readonly redactCtx: (ctx: unknown) => unknown;
  /** The step rows (definition, state) as this journal last wrote them, per run. */
  private readonly written = new Map<string, (readonly [string, string])[]>();

  constructor(
    private readonly db: BetterSqlite3.Database,
    /** `redactCtx`: the run context as it may be stored (a runbook redacts its commands and paths). */
    opts: { readOnly?: boolean; redactCtx?: (ctx: unknown) => unknown } = {},
  ) {
    this.redactCtx = opts.redactCtx ?? ((ctx) => ctx);
    // The journal must survive a power cut as well as a SIGKILL. A reader (check, the console)
    // leaves its connection's setting alone.
    if (!opts.readOnly) db.pragma('synchronous = FULL');
  }

  /** Records a new run. */
  create<C>(r: Omit<RunRecord<C>, 'status' | 'updatedAt'>, detail?: string): RunRecord<C> {
    const stored: RunRecord<C> = { ...r, status: 'open', updatedAt: r.startedAt };
    const run = redactRun(r.run);
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO runs (id, kind, subject, target_key, hint, status, cursor, phase, params, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(r.id, r.kind, r.subject, redactSecrets(r.targetKey), redactSecrets(r.hint), 'open', run.cursor, JSON.stringify(run.phase), JSON.stringify(this.redactCtx(r.ctx)), r.startedAt, r.startedAt);
      const ins = this.db.prepare('INSERT INTO run_steps (run_id, idx, step_id, def, state, attempts, output) VALUES (?, ?, ?, ?, ?, ?, ?)');
      run.steps.forEach((s, i) => {
        const st = run.states[i] as StepState;
        ins.run(r.id, i, s.id, JSON.stringify(s), JSON.stringify(st), attemptsOf(st), outputOf(st));
      });
      this.line(r.id, r.startedAt, '-', 'created', detail);
    })();
    return stored;
  }

  private line(runId: string, at: number, step: string, event: string, detail?: string): void {
    this.db.prepare('INSERT INTO run_events (run_id, at, step, event, detail) VALUES (?, ?, ?, ?, ?)').run(runId, at, step, event, detail === undefined ? null : redactSecrets(detail));
  }

  /** Saves a transition: the run's phase, cursor, context and status, every step's state, and one journal line. */
  save<C>(r: RunRecord<C>, ev: RunEvent | { type: string; at: number }, step: string, detail?: string): void {
    const run = redactRun(r.run);
    this.db.transaction(() => {
      this.db.prepare('UPDATE runs SET cursor = ?, phase = ?, params = ?, status = ?, rolling_back = ?, updated_at = ? WHERE id = ?').run(run.cursor, JSON.stringify(run.phase), JSON.stringify(this.redactCtx(r.ctx)), r.status, r.rollingBack ? 1 : 0, ev.at, r.id);
      const upd = this.db.prepare('UPDATE run_steps SET def = ?, state = ?, attempts = ?, output = ? WHERE run_id = ? AND idx = ?');
      // Only the rows that changed since this journal last wrote them (a 50-step run wrote 50 rows
      // per transition: npm run bench:runbook). One process drives a run (its lease), so what it
      // wrote last is what is stored.
      const before = this.written.get(r.id);
      const now = run.steps.map((s, i) => [JSON.stringify(s), JSON.stringify(run.states[i])] as const);
      now.forEach(([def, state], i) => {
        const was = before?.[i];
        if (was && was[0] === def && was[1] === state) return;
        const st = run.states[i] as StepState;
        upd.run(def, state, attemptsOf(st), outputOf(st), r.id, i);
      });
      this.written.set(r.id, now);
      this.line(r.id, ev.at, step, ev.type, detail);
    })();
  }

  private read<C>(row: RunRow): RunRecord<C> {
    const steps = this.db.prepare('SELECT idx, def, state, attempts FROM run_steps WHERE run_id = ? ORDER BY idx').all(row.id) as StepRow[];
    const run: Run = {
      steps: steps.map((s) => JSON.parse(s.def) as StepDef),
      states: steps.map((s) => JSON.parse(s.state) as StepState),
      cursor: row.cursor,
      phase: JSON.parse(row.phase) as RunPhase,
    };
    return { id: row.id, kind: row.kind, subject: row.subject, targetKey: row.target_key, hint: row.hint, status: row.status, ...(row.rolling_back ? { rollingBack: true } : {}), run, ctx: JSON.parse(row.params) as C, startedAt: row.started_at, updatedAt: row.updated_at };
  }

  /** A run by id. */
  get<C>(id: string): RunRecord<C> | undefined {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return r ? this.read<C>(r) : undefined;
  }

  /** Unfinished runs, oldest first; optionally of one kind, and of one target (its key as stored: redacted). */
  open<C>(kind?: string, targetKey?: string): RunRecord<C>[] {
    const rows = this.db.prepare("SELECT * FROM runs WHERE status = 'open' ORDER BY started_at").all() as RunRow[];
    return rows.filter((r) => (kind === undefined || r.kind === kind) && (targetKey === undefined || r.target_key === redactSecrets(targetKey))).map((r) => this.read<C>(r));
  }

  /** The latest runs, newest first: open ones first, then by their last change. */
  recent<C>(limit = 20): RunRecord<C>[] {
    const rows = this.db.prepare("SELECT * FROM runs ORDER BY status = 'open' DESC, updated_at DESC LIMIT ?").all(limit) as RunRow[];
    return rows.map((r) => this.read<C>(r));
  }

  /** The journal lines of a run, in order. */
  lines(runId: string): { at: number; step: string; event: string; detail: string | null }[] {
    return this.db.prepare('SELECT at, step, event, detail FROM run_events WHERE run_id = ? ORDER BY id').all(runId) as { at: number; step: string; event: string; detail: string | null }[];
  }
}
