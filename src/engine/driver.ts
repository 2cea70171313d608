// Over 300 lines, knowingly: the engine's one loop — ask, run, retry, undo, roll back — with the
// contracts every runbook implements (Action, Runbook, Outcome) beside it, so the journal's
// guarantees (ARCHITECTURE.md "The journal's guarantees") can be checked in one read.

import { Failure } from '../domain/errors.js';
import { nextAction, reduceRun, skippedSteps, startedSteps, type RetryPolicy, type RunEvent, type StepDef } from '../domain/runbook.js';
import { pausePoint } from '../services/pause.js';
import type { RunJournal, RunRecord } from './journal.js';
import type { Operator } from './operator.js';
import type { Answer } from './protocol.js';

// The recovery engine's driver (issue #14): one loop for every runbook — steps → journal →
// operator → action. Every transition is journaled before the driver goes on; an action's side
// effects are made idempotent by the action (a kill between any two journal writes re-runs at most
// the step that was running). Retry with backoff, rollback of the started steps in reverse, stop
// and cancellation by signal are the driver's; what a step does, and what the run's end means to
// people, are the runbook's.

/** What an action sees while it runs. */
export interface StepContext<C, D> {
  /** The run as journaled so far (its context is `record.ctx`). */
  readonly record: RunRecord<C>;
  readonly step: StepDef;
  readonly deps: D;
  readonly signal: AbortSignal;
  /** Journals a change of the run's context before the side effect it protects (a container about to stop). */
  persist(ctx: C): void;
  /** Live output while the step runs (a line the operator sees at once; the step's note is its result). */
  say(text: string): void;
}

/** How a step asks a person: the line shown first, the question, and what a skip means. */
export interface Prompt {
  intro: string;
  text: string;
  skipMeans: string;
  /** The word the person must type to answer yes (giving rows up); anything else is a skip (optional steps) or n. */
  confirm?: string;
}

/** A value, or a promise of it: what an action's look-before-asking hooks may return. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * One kind of step. Every `execute` is idempotent: a killed run runs the interrupted step again.
 * `preview`, `settled`, `prompt` and `personOnly` may answer at once or ask the world first (a
 * Redis, a container) and return a promise; the driver awaits each. One that asks the world bounds
 * the asking by a timeout (a target that does not answer is a result, never a hang).
 */
export interface Action<C, D> {
  /** Changes the world (containers, files, rows): a policy must approve it, and it is audited. */
  dangerous: boolean;
  /** Audited although not dangerous (a give-up of rows). */
  audited?: boolean;
  /** Exactly what the step will do, targets resolved, as the world is now (default: the step's detail). */
  preview?(x: StepContext<C, D>): MaybePromise<string>;
  /** Before asking: a note when there is nothing to do; the step then succeeds without a question. */
  settled?(x: StepContext<C, D>): MaybePromise<string | undefined>;
  /** The question for a person (default: the preview, then "run this step?"). */
  prompt?(x: StepContext<C, D>): MaybePromise<Prompt>;
  /** Unattended: why only a person may answer this step (an optional step is then skipped with it, a required one stops the run). */
  personOnly?(x: StepContext<C, D>): MaybePromise<string | undefined>;
  execute(x: StepContext<C, D>): Promise<string>;
  /** After execute: checks the effect (the step is `verifying` meanwhile); a throw fails or retries the step. */
  verify?(x: StepContext<C, D>, note: string): Promise<string | undefined>;
  /** Undoes the step's effect in a rollback (idempotent; started steps are undone in reverse order). */
  undo?(x: StepContext<C, D>): Promise<string | undefined>;
}

/** A runbook: its actions by id, and which steps commit (after one started, a failure leaves the run open). */
export interface Runbook<C, D> {
  kind: string;
  /** The action of a step (`step.action ?? step.id`, or a runbook's own mapping for journals that predate `action`). */
  action(step: StepDef): Action<C, D> | undefined;
  /** Whether a step changes what the safety net must restore (a file replaced): a failure after it starts keeps the run open. */
  commits(stepId: string): boolean;
  /**
   * What a step's failure (after its retries) does, for runbooks that decide per step (runbook
   * files' `on_failure`): `stop` leaves the run open, `rollback` undoes the started steps in reverse
   * and closes it. Without it, `commits` decides.
   */
  onFailure?(step: StepDef): 'stop' | 'rollback';
  /** A person is asked at a failed step (after its retries): y tries it again, s skips it (optional steps), n stops. */
  askOnFailure?: boolean;
  /** Audit entries (`<kind>.<step>`), never throwing. */
  audit(action: string, target: string, outcome: 'ok' | 'failed' | 'refused' | 'cancelled', detail?: string): void;
}

/** How a run ended this time. */
export type Outcome<C> =
  | { kind: 'completed'; record: RunRecord<C>; skipped: { step: StepDef; reason: string }[] }
  /** Stopped by a person's n, a policy's refusal or a signal. `changed`: a dangerous step had started (the run stays open). */
  | { kind: 'paused'; record: RunRecord<C>; reason: string; changed: boolean }
  /** A step failed. `closed`: nothing was committed, the started steps were undone (`undone` says how) and the run is closed. */
  | { kind: 'failed'; record: RunRecord<C>; error: Failure; closed: boolean; undone?: string };

/** Driver options; the clock and the wait are injectable for tests. */
export interface DriveOptions {
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Called after each step's outcome is journaled (tests, the console's progress). */
  onStep?: (step: StepDef, outcome: 'done' | 'failed' | 'skipped' | 'retry', note: string) => void;
}

/** Milliseconds to wait before attempt `next` (2, 3, …). */
export function backoff(p: RetryPolicy, next: number): number {
  return Math.min(p.capMs, Math.round(p.backoffMs * p.factor ** Math.max(0, next - 2)));
}

const wait = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

const asFailure = (e: unknown, step: StepDef): Failure => (e instanceof Failure ? e : new Failure('step', `${step.title}: ${(e as Error).message}`));

/** The engine: drives runs of one runbook through one journal and one operator. */
export class Driver<C, D> {
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly signal: AbortSignal;

  constructor(
    private readonly rb: Runbook<C, D>,
    private readonly journal: RunJournal,
    private readonly op: Operator,
    private readonly deps: D,
    private readonly opts: DriveOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? wait;
    this.signal = opts.signal ?? new AbortController().signal;
  }

  private save(r: RunRecord<C>, ev: RunEvent, step: string, detail?: string): RunRecord<C> {
    const next: RunRecord<C> = { ...r, run: reduceRun(r.run, ev) };
    this.journal.save(next, ev, step, detail);
    return next;
  }

  private ctxOf(get: () => RunRecord<C>, set: (r: RunRecord<C>) => void, step: StepDef): StepContext<C, D> {
    const journal = this.journal;
    const now = this.now;
    return {
      get record() {
        return get();
      },
      step,
      deps: this.deps,
      signal: this.signal,
      persist(ctx: C) {
        const r = { ...get(), ctx };
        set(r);
        journal.save(r, { type: 'context', at: now() }, step.id);
      },
      say: (text: string) => this.op.say(text),
    };
  }

  private actionOf(step: StepDef): Action<C, D> {
    const a = this.rb.action(step);
    if (!a) throw new Failure('internal', `${this.rb.kind}: no action for step ${step.id}${step.action ? ` (${step.action})` : ''}`);
    return a;
  }

  /** Drives a run from where its journal stands to its end, a pause, or a failure. */
  async drive(initial: RunRecord<C>): Promise<Outcome<C>> {
    let r = initial;
    const get = () => r;
    const set = (x: RunRecord<C>) => (r = x);
    const total = r.run.steps.length;
    for (;;) {
      if (this.signal.aborted && r.run.phase.kind === 'active') {
        const s = r.run.states[r.run.cursor];
        if (s?.status === 'pending' || s?.status === 'confirming') r = this.save(r, { type: 'decline', at: this.now() }, r.run.steps[r.run.cursor]?.id ?? '-', 'cancelled');
      }
      const a = nextAction(r.run, this.op.kind === 'person');
      if (a.kind === 'finished') break;
      const step = a.step;
      const n = r.run.cursor + 1;
      const action = this.actionOf(step);
      const x = this.ctxOf(get, set, step);
      if (a.kind === 'ask' || a.kind === 'execute') {
        const settled = await action.settled?.(x);
        if (settled !== undefined) {
          r = this.save(r, { type: 'start', at: this.now() }, step.id);
          r = this.save(r, { type: 'succeed', at: this.now(), note: settled }, step.id, settled);
          this.op.say(`[${n}/${total}] ${step.title}: ${settled}`);
          continue;
        }
      }
      if (a.kind === 'ask') {
        r = this.save(r, { type: 'ask', at: this.now() }, step.id);
        const p = (await action.prompt?.(x)) ?? {
          intro: `${step.title}: ${(await action.preview?.(x)) ?? step.detail}`,
          text: step.optional ? 'run this step? y runs it · s skips it · n stops the run here' : 'run this step?',
          skipMeans: 'the step was not run',
        };
        this.op.say(`[${n}/${total}] ${p.intro}`);
        const ans = await this.op.ask({ text: p.text, skip: step.optional, ...(p.confirm !== undefined ? { confirm: p.confirm } : {}) });
        r = this.answered(r, ans, step, n, total, p.skipMeans, p.confirm);
        continue;
      }
      if (a.kind === 'execute') {
        // Unattended: a step only a person may answer is skipped (optional) or stops the run.
        const only = await action.personOnly?.(x);
        if (only !== undefined) {
          if (step.optional) {
            r = this.save(r, { type: 'skip', at: this.now(), reason: only }, step.id, only);
            this.op.say(`[${n}/${total}] ${step.title}: skipped — ${only}`);
            this.opts.onStep?.(step, 'skipped', only);
          } else r = this.save(r, { type: 'decline', at: this.now() }, step.id, only);
          continue;
        }
        if (action.dangerous && step.confirm) {
          const d = this.op.approve(step.id, this.now());
          if (!d.ok) {
            this.rb.audit(`${this.rb.kind}.${step.id}`, r.subject, 'refused', d.reason);
            r = this.save(r, { type: 'decline', at: this.now() }, step.id, d.reason);
            r = { ...r, run: { ...r.run, phase: { kind: 'paused', at: this.now(), reason: d.reason } } };
            continue;
          }
        }
        r = this.save(r, { type: 'start', at: this.now() }, step.id, step.detail);
      }
      if (step.expect) this.op.say(`[${n}/${total}] ${step.title} — ${step.expect} …`);
      const res = await this.run(get, set, step, action, x);
      if (res) return res;
      this.op.say(`[${n}/${total}] ${step.title}: ${this.lastNote(r)}`);
    }
    return this.finish(r);
  }

  private lastNote(r: RunRecord<C>): string {
    const s = r.run.states[r.run.cursor - 1];
    return s?.status === 'done' ? (s.note ?? '') : '';
  }

  /** Runs the current step (already `running`), with its retries; a failure ends the drive. */
  private async run(get: () => RunRecord<C>, set: (r: RunRecord<C>) => void, step: StepDef, action: Action<C, D>, x: StepContext<C, D>): Promise<Outcome<C> | undefined> {
    pausePoint(`before:${step.id}`);
    for (;;) {
      try {
        let note = await action.execute(x);
        if (action.verify) {
          set(this.save(get(), { type: 'verify', at: this.now() }, step.id));
          note = (await action.verify(x, note)) ?? note;
        }
        set(this.save(get(), { type: 'succeed', at: this.now(), note }, step.id, note));
        if (action.dangerous || action.audited) this.rb.audit(`${this.rb.kind}.${step.id}`, get().subject, 'ok', note);
        this.opts.onStep?.(step, 'done', note);
        pausePoint(`after:${step.id}`);
        return undefined;
      } catch (e) {
        const ex = asFailure(e, step);
        const s = get().run.states[get().run.cursor];
        const attempt = s?.status === 'running' || s?.status === 'verifying' ? (s.attempt ?? 1) : 1;
        if (step.retry && attempt < step.retry.attempts && !this.signal.aborted) {
          const ms = backoff(step.retry, attempt + 1);
          set(this.save(get(), { type: 'retry', at: this.now(), error: ex.message }, step.id, `attempt ${attempt} of ${step.retry.attempts} failed: ${ex.message}; again in ${ms} ms`));
          this.opts.onStep?.(step, 'retry', ex.message);
          this.op.say(`${step.title}: attempt ${attempt} of ${step.retry.attempts} failed (${ex.message}); trying again in ${(ms / 1000).toFixed(1)} s`);
          await this.sleep(ms, this.signal);
          if (!this.signal.aborted) continue;
        }
        const again = await this.askAgain(get, set, step, ex);
        if (again === 'y') continue;
        if (again === 's') return undefined;
        set(this.save(get(), { type: 'fail', at: this.now(), error: ex.message }, step.id, ex.message));
        this.rb.audit(`${this.rb.kind}.${step.id}`, get().subject, 'failed', ex.message);
        this.opts.onStep?.(step, 'failed', ex.message);
        return this.failed(get(), ex, step);
      }
    }
  }

  /**
   * A person decides about a failed step (runbooks with `askOnFailure`): y journals another attempt,
   * s skips the step (optional ones), n lets the failure stand. Undefined: nobody to ask.
   */
  private async askAgain(get: () => RunRecord<C>, set: (r: RunRecord<C>) => void, step: StepDef, ex: Failure): Promise<Answer | undefined> {
    if (!this.rb.askOnFailure || this.op.kind !== 'person' || this.signal.aborted) return undefined;
    const then = this.rb.onFailure?.(step) === 'rollback' ? 'n stops and undoes the steps that ran' : 'n stops here (resume later)';
    this.op.say(`${step.title} FAILED: ${ex.message}`);
    const ans = await this.op.ask({ text: `${step.title} failed. y tries it again${step.optional ? ' · s skips it' : ''} · ${then}`, skip: step.optional });
    if (ans === 'y') {
      set(this.save(get(), { type: 'retry', at: this.now(), error: ex.message }, step.id, `failed: ${ex.message}; the operator tries it again`));
      this.opts.onStep?.(step, 'retry', ex.message);
    } else if (ans === 's') {
      const reason = `skipped by the operator after it failed: ${ex.message}`;
      set(this.save(get(), { type: 'skip', at: this.now(), reason }, step.id, reason));
      this.opts.onStep?.(step, 'skipped', reason);
    }
    return ans;
  }

  /** Journals a person's answer: y runs the step, s skips it (optional steps), n stops the run. */
  private answered(r: RunRecord<C>, ans: Answer, step: StepDef, n: number, total: number, skipMeans: string, confirm?: string): RunRecord<C> {
    const at = this.now();
    // A typed confirmation is journaled as such (the give-up of rows: who typed what is on record).
    if (ans === 'y') return this.save(r, { type: 'confirm', at }, step.id, confirm !== undefined ? `confirmed by typing "${confirm}"` : undefined);
    if (ans === 's' && step.optional) {
      const reason = `skipped by the operator: ${skipMeans}`;
      this.op.say(`[${n}/${total}] ${step.title}: SKIPPED — ${skipMeans}`);
      this.opts.onStep?.(step, 'skipped', reason);
      return this.save(r, { type: 'skip', at, reason }, step.id, reason);
    }
    return this.save(r, { type: 'decline', at }, step.id);
  }

  /** Whether a dangerous step has started (the world may have changed). */
  private changed(r: RunRecord<C>): boolean {
    return startedSteps(r.run).some((id) => {
      const step = r.run.steps.find((s) => s.id === id);
      return step ? (this.rb.action(step)?.dangerous ?? step.mutating) : false;
    });
  }

  private finish(initial: RunRecord<C>): Outcome<C> {
    let r = initial;
    const phase = r.run.phase;
    if (phase.kind === 'completed') {
      // A skipped step is not "completed" (issue #10): the journal and the outcome say so.
      const skipped = skippedSteps(r.run);
      const what = skipped.map((x) => `${x.step.title} (${x.reason})`).join('; ');
      r = { ...r, status: skipped.length ? 'partial' : 'completed' };
      this.journal.save(r, { type: skipped.length ? 'finished-with-skips' : 'completed', at: this.now() }, '-', skipped.length ? what : undefined);
      return { kind: 'completed', record: r, skipped };
    }
    if (phase.kind === 'paused') {
      const changed = this.changed(r);
      if (!changed) {
        r = { ...r, status: 'aborted' };
        this.journal.save(r, { type: 'aborted', at: this.now() }, '-', phase.reason);
      }
      return { kind: 'paused', record: r, reason: phase.reason, changed };
    }
    return { kind: 'failed', record: r, error: new Failure('internal', `${this.rb.kind} ${r.id} ended as ${phase.kind}`), closed: false };
  }

  /**
   * A failed step. Before any committing step started, the run undoes what it did (writers started
   * again) and closes; after, it stays open for resume or rollback.
   */
  private async failed(r: RunRecord<C>, ex: Failure, step: StepDef): Promise<Outcome<C>> {
    const policy = this.rb.onFailure?.(step);
    if (policy === 'stop' || (policy === undefined && startedSteps(r.run).some((id) => this.rb.commits(id)))) return { kind: 'failed', record: r, error: ex, closed: false };
    const undone = await this.undoStarted(r, policy === 'rollback' ? () => true : (id) => !this.rb.commits(id)).then((u) => u.notes.join('; '), (e: unknown) => `could not undo: ${(e as Error).message}`);
    const closed: RunRecord<C> = { ...r, status: 'failed' };
    this.journal.save(closed, { type: 'closed', at: this.now() }, '-', `${policy === 'rollback' ? 'on_failure rollback: the started steps undone' : 'nothing committed'}; ${undone}`);
    return { kind: 'failed', record: closed, error: ex, closed: true, undone };
  }

  /** Runs the undo of every started step (that `which` allows), last first: the run as the undos left it, and their notes. */
  private async undoStarted(r: RunRecord<C>, which: (id: string) => boolean = () => true, say?: (note: string) => void): Promise<{ record: RunRecord<C>; notes: string[] }> {
    let cur = r;
    const notes: string[] = [];
    for (const id of startedSteps(r.run).filter(which).reverse()) {
      const step = r.run.steps.find((s) => s.id === id) as StepDef;
      const a = this.rb.action(step);
      if (!a?.undo) continue;
      const note = await a.undo(this.ctxOf(() => cur, (x) => (cur = x), step));
      if (note) {
        notes.push(note);
        say?.(note);
        this.journal.save(cur, { type: 'undone', at: this.now() }, id, note);
      }
    }
    return { record: cur, notes };
  }

  /**
   * Undoes a run: the undo of every started step, last first. Idempotent: a rollback that was
   * killed is finished by running it again. Returns the undo notes in order.
   */
  async rollback(initial: RunRecord<C>, question?: string): Promise<{ record: RunRecord<C>; notes: string[] } | undefined> {
    let r: RunRecord<C> = { ...initial, rollingBack: true };
    this.journal.save(r, { type: 'rollback-started', at: this.now() }, '-');
    if (this.op.kind === 'person' && question !== undefined && (await this.op.ask({ text: question, skip: false })) !== 'y') return undefined;
    pausePoint('rollback:start');
    const undone = await this.undoStarted(r, () => true, (note) => this.op.say(note));
    r = undone.record;
    r = { ...r, status: 'rolled-back', run: reduceRun(r.run, { type: 'rolled-back', at: this.now() }) };
    this.journal.save(r, { type: 'rolled-back', at: this.now() }, '-');
    return { record: r, notes: undone.notes };
  }
}
