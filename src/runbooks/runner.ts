import { randomBytes } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import { redactDeep } from '../config/secrets.js';
import { Failure, UsageError } from '../domain/errors.js';
import { createRun, reduceRun, type RunEvent, type StepDef } from '../domain/runbook.js';
import type { GenericCtx, GenericDeps } from '../engine/actions.js';
import { Driver, type Outcome, type Runbook } from '../engine/driver.js';
import { RunJournal, type RunRecord } from '../engine/journal.js';
import type { Operator } from '../engine/operator.js';
import { holdRun } from '../engine/owner.js';
import type { Progress } from '../engine/protocol.js';
import { compose } from './registry.js';
import { renderSteps, resolveTarget } from './render.js';
import type { RunbookSpec } from './spec.js';

// Runs of runbook files on the engine (issue #16): start (target resolved, steps rendered from the
// configuration, journaled, driven while holding the run's lease), resume after a kill or a dropped
// SSH session (the steps rendered again from the configuration — the journal keeps them redacted —
// and matched to the journaled ones by id), rollback (the undo of every started step, last first),
// and what the end of a run means: messages and exit codes (0 completed, 3 finished with a step
// skipped, 1 failed / paused / cancelled). The restore keeps its own module (restore.ts).

/** The journaled context: GenericCtx plus the `--param` values, so a resume renders the same steps. */
export interface FileRunCtx extends GenericCtx {
  params: Record<string, string>;
}

type Rec = RunRecord<FileRunCtx>;

/** Audit entries. */
export type AuditFn = (action: string, target: string, outcome: 'ok' | 'failed' | 'refused' | 'cancelled', detail?: string) => void;

/** What a run needs around it. */
export interface RunbookEnv {
  state: BetterSqlite3.Database;
  journal: RunJournal;
  op: Operator;
  audit: AuditFn;
  config: Config;
  /** `--config FILE` as the hint for resume commands (empty when discovered). */
  configFlag: string;
  deps: GenericDeps;
  /** Where the run stands after every transition (the console's wizard). */
  progress?: (p: Progress) => void;
  signal?: AbortSignal;
}

/** What `run` was asked. */
export interface StartOptions {
  target?: string;
  check?: string;
  params: Record<string, string>;
}

/** A journal that also reports every saved transition (for the console's step list). */
export class ObservedJournal extends RunJournal {
  constructor(db: BetterSqlite3.Database, private readonly onSave: (r: RunRecord<unknown>) => void) {
    // The run's context is stored redacted (a `--param` value may be a secret); a resume takes such
    // values from its own --param again (`resumeRunbook`).
    super(db, { redactCtx: (c) => redactDeep(c) });
  }

  override save<C>(r: RunRecord<C>, ev: RunEvent | { type: string; at: number }, step: string, detail?: string): void {
    super.save(r, ev, step, detail);
    this.onSave(r);
  }
}

/** A run as the console's wizard shows it. */
export function progressOf(r: RunRecord<unknown>): Progress {
  return {
    run: r.id,
    runbook: r.kind,
    subject: r.subject,
    cursor: r.run.cursor,
    steps: r.run.steps.map((s, i) => {
      const st = r.run.states[i] ?? { status: 'pending' as const };
      const note = st.status === 'done' ? st.note : st.status === 'failed' ? st.error : st.status === 'skipped' ? st.reason : undefined;
      return {
        id: s.id,
        title: s.title,
        ...(s.why !== undefined ? { why: s.why } : {}),
        status: st.status,
        ...('startedAt' in st ? { startedAt: st.startedAt } : st.status === 'skipped' ? { startedAt: st.at } : {}),
        ...('endedAt' in st ? { endedAt: st.endedAt } : {}),
        ...('attempt' in st && st.attempt ? { attempt: st.attempt } : {}),
        ...(note !== undefined ? { note: note.split('\n')[0] ?? '' } : {}),
      };
    }),
  };
}

/** The engine's view of a runbook file: its actions, per-step on_failure, a person asked at a failure. */
export function fileRunbook(name: string, audit: AuditFn): Runbook<unknown, GenericDeps> {
  return {
    kind: name,
    action: (step) => compose(step),
    commits: () => false,
    onFailure: (step) => step.onFailure ?? 'stop',
    askOnFailure: true,
    audit,
  };
}

const targetText = (c: FileRunCtx) => (c.target.name ? ` for ${c.target.name}` : '');
const resumeHint = (e: RunbookEnv, id: string) => `opsdeck${e.configFlag} runbook resume ${id}`;
const rollbackHint = (e: RunbookEnv, id: string) => `opsdeck${e.configFlag} runbook rollback ${id}`;

/** One step as a dry run shows it. */
export interface DryRunStep {
  id: string;
  title: string;
  why: string;
  preview: string;
  confirm: boolean;
  onFailure: string;
  retry?: StepDef['retry'];
}

/** The steps a dry run shows: each with its exact preview (one after the other; a preview may ask the world, bounded by its timeout), nothing run. */
export async function dryRun(spec: RunbookSpec, file: string, config: Config, o: StartOptions, deps: GenericDeps): Promise<{ target: string; targetKey: string; steps: DryRunStep[] }> {
  const r = resolveTarget(spec, config, o.target, o.check, o.params);
  const steps = renderSteps(spec, r, file);
  const record = { ctx: { runbook: spec.name, target: r.target, facts: {}, params: o.params } } as unknown as RunRecord<unknown>;
  const out: DryRunStep[] = [];
  for (const s of steps) {
    const a = compose(s);
    const x = { record, step: s, deps, signal: new AbortController().signal, persist: () => undefined, say: () => undefined };
    let preview: string;
    try {
      preview = (await a?.preview?.(x)) ?? s.detail;
    } catch (e) {
      preview = `(cannot preview: ${(e as Error).message})`;
    }
    out.push({ id: s.id, title: s.title, why: s.why ?? '', preview, confirm: s.confirm, onFailure: s.onFailure ?? 'stop', ...(s.retry ? { retry: s.retry } : {}) });
  }
  return { target: r.target.name, targetKey: `runbook:${spec.name}:${r.target.kind}:${r.target.name}`, steps: out };
}

/** Starts a run of a runbook file and drives it to its end; returns the exit code (or throws a Failure). */
export async function startRunbook(e: RunbookEnv, spec: RunbookSpec, file: string | undefined, o: StartOptions): Promise<{ code: number; record: Rec }> {
  const resolved = resolveTarget(spec, e.config, o.target, o.check, o.params);
  const steps = renderSteps(spec, resolved, file ?? `runbook ${spec.name}`);
  const targetKey = `runbook:${spec.name}:${resolved.target.kind}:${resolved.target.name}`;
  const open = e.journal.open<FileRunCtx>(spec.name, targetKey)[0];
  if (open) throw new Failure('unfinished', `run ${open.id} of ${spec.name}${targetText(open.ctx)} is unfinished: continue it with ${resumeHint(e, open.id)}, or undo it with ${rollbackHint(e, open.id)}`);
  const now = Date.now();
  const id = `${spec.name}-${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(2).toString('hex')}`;
  const ctx: FileRunCtx = { runbook: spec.name, ...(file ? { file } : {}), target: resolved.target, ...(resolved.check ? { check: resolved.check } : {}), facts: {}, params: o.params };
  const record = e.journal.create<FileRunCtx>({ id, kind: spec.name, subject: resolved.target.name || spec.name, targetKey, hint: `${resumeHint(e, id)}, or undo it with ${rollbackHint(e, id)}`, run: createRun(steps), ctx, startedAt: now }, `${spec.title}${targetText(ctx)}`);
  e.progress?.(progressOf(record));
  return drive(e, record);
}

async function drive(e: RunbookEnv, r: Rec): Promise<{ code: number; record: Rec }> {
  const lease = holdRun(e.state, r.id, (pid) => `run ${r.id} is being driven right now (pid ${pid}); let it finish, or stop that process first`);
  try {
    const outcome = await new Driver(fileRunbook(r.kind, e.audit), e.journal, e.op, e.deps, e.signal ? { signal: e.signal } : {}).drive(r);
    return ended(e, outcome as Outcome<FileRunCtx>);
  } finally {
    lease.release();
  }
}

/** Exit codes: 0 completed, 3 finished with a skipped step; a pause, cancel or failure throws (exit 1). */
function ended(e: RunbookEnv, o: Outcome<FileRunCtx>): { code: number; record: Rec } {
  const r = o.record;
  const what = `${r.kind}${targetText(r.ctx)} (run ${r.id})`;
  if (o.kind === 'completed') {
    const skipped = o.skipped.map((x) => `${x.step.title} (${x.reason})`).join('; ');
    e.audit('runbook', r.subject, 'ok', `${what} ${o.skipped.length ? `finished with skipped steps: ${skipped}` : 'completed'}`);
    e.op.say(o.skipped.length ? `${what} finished, NOT complete — skipped: ${skipped}` : `${what} completed`);
    return { code: o.skipped.length ? 3 : 0, record: r };
  }
  if (o.kind === 'paused') {
    if (!o.changed) {
      e.audit('runbook', r.subject, 'cancelled', o.reason);
      // Nothing ran, so there is nothing to resume: the run is closed (an operator's trial read "stopped" as resumable).
      throw new Failure('cancelled', `${what} stopped (${o.reason}); nothing was changed, so there is nothing to resume: start it again from its first step when ready`);
    }
    e.audit('runbook', r.subject, 'cancelled', `paused: ${o.reason}`);
    throw new Failure('paused', `${what} paused (${o.reason}); continue with ${resumeHint(e, r.id)}, or undo with ${rollbackHint(e, r.id)}`);
  }
  e.audit('runbook', r.subject, 'failed', o.error.message);
  // --json: the run's steps go with the error (`{run, steps, status, error}`), as with a completed run.
  const json = { ...progressOf(r), status: r.status };
  if (o.closed) throw Object.assign(new Failure(o.error.kind, `${o.error.message} — ${what} stopped and closed${o.undone ? `; undone: ${o.undone}` : '; nothing to undo'}`), { json });
  throw Object.assign(new Failure(o.error.kind, `${o.error.message} — ${what} is unfinished: try again with ${resumeHint(e, r.id)}, or undo the steps that ran with ${rollbackHint(e, r.id)}`), { json });
}

/** The open run of a runbook file named by id, or the only one. Restore runs are restore's. */
export function findOpenRun(journal: RunJournal, id: string | undefined, finding?: string): Rec {
  let runs = journal.open<FileRunCtx>().filter((r) => r.kind !== 'restore');
  // `--check journal:<runbook>:<subject>`: the run an unfinished-run finding is about (the console's F on it).
  const m = finding === undefined ? undefined : /^journal:([^:]+):(.+)$/.exec(finding);
  if (finding !== undefined && !m) throw new UsageError(`--check ${finding}: expected an unfinished run's finding, journal:<runbook>:<target>`);
  if (m) runs = runs.filter((r) => r.kind === m[1] && r.subject === m[2]);
  if (id !== undefined) {
    const r = journal.get<FileRunCtx>(id);
    if (!r) throw new Failure('not-found', `run ${id}: not in the journal (opsdeck runbook status lists the runs)`);
    if (r.kind === 'restore') throw new UsageError(`run ${id} is a restore: continue it with opsdeck restore --db ${r.subject} --resume, or undo it with --rollback`);
    if (r.status !== 'open') throw new Failure('not-found', `run ${id} is ${r.status}: nothing to continue`);
    return r;
  }
  if (runs.length === 0) throw new Failure('not-found', `no unfinished runbook run${m ? ` of ${m[1]} for ${m[2]}` : ''} in the journal (opsdeck runbook status lists the runs)`);
  if (runs.length > 1) throw new UsageError(`${runs.length} unfinished runs (${runs.map((r) => r.id).join(', ')}): name one`);
  return runs[0] as Rec;
}

/**
 * The steps of a journaled run rendered again from the configuration of now (the journal keeps
 * them redacted), matched by id: a runbook changed since the run started is refused.
 */
function rerender(r: Rec, spec: RunbookSpec, config: Config): Rec {
  const resolved = resolveTarget(spec, config, r.ctx.target.kind === 'none' ? undefined : r.ctx.target.name, r.ctx.check, r.ctx.params);
  const steps = renderSteps(spec, resolved, r.ctx.file ?? `runbook ${spec.name}`);
  const same = steps.length === r.run.steps.length && steps.every((s, i) => s.id === r.run.steps[i]?.id);
  if (!same) throw new Failure('mismatch', `run ${r.id}: runbook ${spec.name} has changed since the run started (its steps were ${r.run.steps.map((s) => s.id).join(', ')}); put it back as it was to continue, or undo the run with opsdeck runbook rollback ${r.id}`);
  return { ...r, run: { ...r.run, steps } };
}

/** Continues an open run at the interrupted step. */
export async function resumeRunbook(e: RunbookEnv, r: Rec, spec: RunbookSpec, again: Record<string, string> = {}): Promise<{ code: number; record: Rec }> {
  if (r.rollingBack) throw new Failure('rolling-back', `run ${r.id}: a rollback was started; finish it with ${rollbackHint(e, r.id)}`);
  const fresh = rerender(withParams(r, again), spec, e.config);
  const resumed: Rec = { ...fresh, run: reduceRun(fresh.run, { type: 'resume', at: Date.now() }) };
  e.journal.save(resumed, { type: 'resume', at: Date.now() }, '-');
  return drive(e, resumed);
}

/**
 * The run's `--param` values: those stored (redacted where they held a secret) with the ones given
 * again now; a value still redacted must be given again, or the steps would get `***`.
 */
function withParams(r: Rec, again: Record<string, string>): Rec {
  const params = { ...r.ctx.params, ...again };
  const hidden = Object.entries(params).filter(([, v]) => v.includes('***')).map(([k]) => k);
  if (hidden.length) throw new Failure('redacted', `run ${r.id}: --param ${hidden.join(', ')} held a secret, so the journal keeps it redacted; pass ${hidden.map((k) => `--param ${k}=…`).join(' ')} again`);
  return { ...r, ctx: { ...r.ctx, params } };
}

/** Undoes the steps of an open run that ran, last first, and closes it. */
export async function rollbackRunbook(e: RunbookEnv, r: Rec, spec: RunbookSpec, again: Record<string, string> = {}): Promise<{ code: number; record: Rec }> {
  const fresh = rerender(withParams(r, again), spec, e.config);
  const lease = holdRun(e.state, r.id, (pid) => `run ${r.id} is being driven right now (pid ${pid}); let it finish, or stop that process first`);
  try {
    const done = await new Driver(fileRunbook(r.kind, e.audit), e.journal, e.op, e.deps).rollback(fresh, `undo the steps of ${r.kind}${targetText(r.ctx)} that ran (run ${r.id}), last first?`);
    if (!done) throw new Failure('cancelled', `rollback of ${r.id} cancelled; the run is still unfinished`);
    e.audit('runbook.rollback', r.subject, 'ok', `run ${r.id}${done.notes.length ? `: ${done.notes.join('; ')}` : ': nothing to undo'}`);
    e.op.say(`run ${r.id} rolled back${done.notes.length ? `: ${done.notes.join('; ')}` : ' (none of its steps had anything to undo)'}`);
    return { code: 0, record: done.record as Rec };
  } finally {
    lease.release();
  }
}
