// The runbook step machine (docs/STYLE.md §7): a run is a list of step definitions plus one state per
// step, driven by a pure reducer. The CLI's line prompts drive it today; the console's wizard will
// drive the same runs later (issue #4). No I/O here: the caller journals every transition.

/** What one step is, for people and for the driver. */
export interface StepDef {
  /** Stable id, e.g. `safety-copy`, `stage:critical`. */
  id: string;
  title: string;
  /** Exactly what the step will do (paths, containers, tables). */
  detail: string;
  /** Asks before running in a terminal (skipped by --yes). */
  confirm: boolean;
  /**
   * May be skipped — only by an explicit skip (`s`), never by declining or by Esc (issue #10: an Esc
   * mapped to "no" skipped the critical-tables stage and the wizard said "completed").
   */
  optional: boolean;
  /** Changes the database or the services (refused under --read-only). */
  mutating: boolean;
  /** The engine action that runs it (src/engine/): its id in the runbook's registry; default the step id. */
  action?: string;
  /** The action's parameters (a container name, an argv, a URL); journaled with secrets redacted. */
  params?: StepParams;
  /** One sentence a tired operator understands: why this step is here (runbook files, issue #16). */
  why?: string;
  /** A check run after the action (runbook files' `verify`): another action and its parameters. */
  verifyWith?: ActionRef;
  /** How a rollback undoes this step (runbook files' `undo`), when its action has no undo of its own. */
  undoWith?: ActionRef;
  /** What a failure (after the retries) does: `stop` leaves the run open for resume, `rollback` undoes the started steps in reverse and closes it. Default: the runbook's. */
  onFailure?: 'stop' | 'rollback';
  /** Tried again on failure: `attempts` in all, waiting `backoffMs` × `factor`^(n−1), at most `capMs`. */
  retry?: RetryPolicy;
  /** How long it should take (`expected ≈ 4 s (…)`, issue #27): said as the step starts, so the RTO clock has no silent gaps. */
  expect?: string;
}

/** An action by id with its parameters. */
export interface ActionRef {
  action: string;
  params: StepParams;
}

/** A step's parameters: texts, numbers, switches, and argv lists (each element one argument, never split). */
export type StepParams = Record<string, string | number | boolean | readonly string[]>;

/** How a step is retried by the engine's driver. */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
  factor: number;
  capMs: number;
}

/** The state of one step: pending → confirming → running → verifying → done | failed | skipped. */
export type StepState =
  | { status: 'pending' }
  | { status: 'confirming'; since: number }
  | { status: 'running'; startedAt: number; attempt?: number }
  | { status: 'verifying'; startedAt: number; attempt?: number }
  | { status: 'done'; startedAt: number; endedAt: number; note?: string; attempt?: number }
  | { status: 'failed'; startedAt: number; endedAt: number; error: string; attempt?: number }
  | { status: 'skipped'; at: number; reason: string };

/** Where the whole run stands. */
export type RunPhase =
  | { kind: 'active' }
  | { kind: 'paused'; at: number; reason: string }
  | { kind: 'completed'; at: number }
  | { kind: 'failed'; at: number; error: string }
  | { kind: 'aborted'; at: number; reason: string }
  | { kind: 'rolled-back'; at: number };

/** A run of a runbook. `cursor` is the index of the step to act on next. */
export interface Run {
  steps: readonly StepDef[];
  states: readonly StepState[];
  cursor: number;
  phase: RunPhase;
}

/** Everything that can happen to a run. */
export type RunEvent =
  | { type: 'ask'; at: number }
  | { type: 'confirm'; at: number }
  | { type: 'start'; at: number }
  | { type: 'verify'; at: number }
  | { type: 'succeed'; at: number; note?: string }
  | { type: 'fail'; at: number; error: string }
  /** An attempt failed and the step will be tried again (its retry policy allows it). */
  | { type: 'retry'; at: number; error: string }
  | { type: 'decline'; at: number }
  | { type: 'skip'; at: number; reason: string }
  | { type: 'resume'; at: number }
  | { type: 'abort'; at: number; reason: string }
  | { type: 'rolled-back'; at: number };

/** What the driver should do next. */
export type NextAction =
  | { kind: 'ask'; step: StepDef }
  | { kind: 'execute'; step: StepDef }
  | { kind: 'finished'; phase: Exclude<RunPhase, { kind: 'active' }> }
  | { kind: 'wait'; step: StepDef; status: 'confirming' | 'running' | 'verifying' };

/** Exhaustiveness guard for switches over unions. */
export function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}

/** A fresh run: every step pending, cursor on the first. */
export function createRun(steps: readonly StepDef[]): Run {
  return { steps, states: steps.map(() => ({ status: 'pending' })), cursor: 0, phase: steps.length ? { kind: 'active' } : { kind: 'completed', at: 0 } };
}

function withState(run: Run, state: StepState, advance = false): Run {
  const states = run.states.map((s, i) => (i === run.cursor ? state : s));
  const cursor = advance ? run.cursor + 1 : run.cursor;
  const phase: RunPhase = advance && cursor >= run.steps.length ? { kind: 'completed', at: 'endedAt' in state ? state.endedAt : 'at' in state ? state.at : 0 } : run.phase;
  return { ...run, states, cursor, phase };
}

const startedAt = (s: StepState, at: number) => (s.status === 'running' || s.status === 'verifying' ? s.startedAt : at);

/**
 * The reducer. Events that do not apply to the current state return the run unchanged (the
 * caller can compare by identity), so a late or doubled event can never corrupt a run.
 */
// eslint-disable-next-line complexity -- one flat switch over every event, each case a line or two; splitting it would hide the state machine (ARCHITECTURE.md "House rules")
export function reduceRun(run: Run, ev: RunEvent): Run {
  if (ev.type === 'resume') {
    if (run.phase.kind !== 'active' && run.phase.kind !== 'paused' && run.phase.kind !== 'failed') return run;
    // An interrupted or failed step runs again from the start: every restore step is idempotent.
    const s = run.states[run.cursor];
    const again = s && s.status !== 'pending' && s.status !== 'done' && s.status !== 'skipped';
    const base = again ? withState(run, { status: 'pending' }) : run;
    return { ...base, phase: base.cursor >= base.steps.length ? { kind: 'completed', at: ev.at } : { kind: 'active' } };
  }
  if (ev.type === 'rolled-back') return run.phase.kind === 'completed' || run.phase.kind === 'rolled-back' ? run : { ...run, phase: { kind: 'rolled-back', at: ev.at } };
  if (run.phase.kind !== 'active') return run;
  if (ev.type === 'abort') return { ...run, phase: { kind: 'aborted', at: ev.at, reason: ev.reason } };
  const step = run.steps[run.cursor];
  const s = run.states[run.cursor];
  if (!step || !s) return run;
  switch (ev.type) {
    case 'ask':
      return s.status === 'pending' ? withState(run, { status: 'confirming', since: ev.at }) : run;
    case 'confirm':
      return s.status === 'confirming' ? withState(run, { status: 'running', startedAt: ev.at }) : run;
    case 'start':
      return s.status === 'pending' ? withState(run, { status: 'running', startedAt: ev.at }) : run;
    case 'verify':
      return s.status === 'running' ? withState(run, { status: 'verifying', startedAt: s.startedAt, ...(s.attempt ? { attempt: s.attempt } : {}) }) : run;
    case 'succeed':
      if (s.status !== 'running' && s.status !== 'verifying') return run;
      return withState(run, { status: 'done', startedAt: s.startedAt, endedAt: ev.at, ...(ev.note !== undefined ? { note: ev.note } : {}), ...(s.attempt ? { attempt: s.attempt } : {}) }, true);
    case 'retry': {
      if (s.status !== 'running' && s.status !== 'verifying') return run;
      return withState(run, { status: 'running', startedAt: s.startedAt, attempt: (s.attempt ?? 1) + 1 });
    }
    case 'fail': {
      if (s.status !== 'running' && s.status !== 'verifying' && s.status !== 'pending') return run;
      const failed = withState(run, { status: 'failed', startedAt: startedAt(s, ev.at), endedAt: ev.at, error: ev.error, ...('attempt' in s && s.attempt ? { attempt: s.attempt } : {}) });
      return { ...failed, phase: { kind: 'failed', at: ev.at, error: ev.error } };
    }
    case 'skip':
      // From running/verifying: a person skipped a step that failed (the driver's failure question).
      if (!step.optional || (s.status !== 'confirming' && s.status !== 'pending' && s.status !== 'running' && s.status !== 'verifying')) return run;
      return withState(run, { status: 'skipped', at: ev.at, reason: ev.reason }, true);
    case 'decline': {
      if (s.status !== 'confirming' && s.status !== 'pending') return run;
      const back = withState(run, { status: 'pending' });
      return { ...back, phase: { kind: 'paused', at: ev.at, reason: `declined "${step.title}"` } };
    }
    default:
      return assertNever(ev);
  }
}

/** What to do next: ask (interactive, step wants confirmation), execute, or nothing more. */
export function nextAction(run: Run, interactive: boolean): NextAction {
  if (run.phase.kind !== 'active') return { kind: 'finished', phase: run.phase };
  const step = run.steps[run.cursor];
  const s = run.states[run.cursor];
  if (!step || !s) return { kind: 'finished', phase: { kind: 'completed', at: 0 } };
  switch (s.status) {
    case 'pending':
      return interactive && step.confirm ? { kind: 'ask', step } : { kind: 'execute', step };
    case 'confirming':
    case 'running':
    case 'verifying':
      return { kind: 'wait', step, status: s.status };
    case 'done':
    case 'failed':
    case 'skipped':
      // Unreachable for a well-formed run (done/skipped advance the cursor; failed ends the phase).
      return { kind: 'finished', phase: { kind: 'failed', at: 0, error: `step ${step.id} is ${s.status}` } };
    default:
      return assertNever(s);
  }
}

/** Ids of the steps that started (running, verifying, done or failed): what a rollback must undo. */
export function startedSteps(run: Run): string[] {
  return run.steps.filter((_, i) => {
    const st = run.states[i]?.status;
    return st === 'running' || st === 'verifying' || st === 'done' || st === 'failed';
  }).map((s) => s.id);
}

/** The steps that were skipped, with why: a run that skipped any is not "completed". */
export function skippedSteps(run: Run): { step: StepDef; reason: string }[] {
  return run.steps.flatMap((step, i) => {
    const st = run.states[i];
    return st?.status === 'skipped' ? [{ step, reason: st.reason }] : [];
  });
}

/** A one-line progress summary: `3/8 safety-copy running`. */
export function describeRun(run: Run): string {
  const step = run.steps[Math.min(run.cursor, run.steps.length - 1)];
  const st = run.states[Math.min(run.cursor, run.steps.length - 1)];
  if (run.phase.kind !== 'active' && run.phase.kind !== 'paused' && run.phase.kind !== 'failed') return run.phase.kind;
  return `step ${Math.min(run.cursor + 1, run.steps.length)}/${run.steps.length} ${step?.id ?? ''} ${st?.status ?? ''}${run.phase.kind !== 'active' ? ` (${run.phase.kind})` : ''}`;
}
