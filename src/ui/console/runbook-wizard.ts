// The runbook wizard's model (issue #16), pure as the restore wizard's (wizard.ts): what a driven
// runbook said (its progress, its output, its question, its end) folds into one state, and each key
// is a step returning the next state and the effects (answer the run, go back) as data.

import { formatDuration } from '../../domain/format.js';
import { terminalSafe } from '../../domain/printable.js';
import type { MappedTarget } from '../../domain/runbook-map.js';
import type { Answer, Progress, ProgressStep } from '../../engine/protocol.js';
import { assertNever, type Command } from './reducer.js';

/** What kind of configured entry a runbook acts on (the catalog's `target`). */
export type RunbookTargetKind = MappedTarget['kind'];

/**
 * One runbook of the catalog, as the console shows it (the fields of `CatalogEntry` in
 * src/runbooks/catalog.ts it reads; cli/console.ts passes the catalog in: ui/ never imports runbooks/).
 */
export interface RunbookEntry {
  name: string;
  title: string;
  description: string;
  target: RunbookTargetKind;
  source: 'built-in' | 'user';
  /** A user runbook with a built-in's name, which it replaces. */
  replaces: boolean;
}

/** The catalog as the console got it: its entries, or why it could not be read (a bad runbook file). */
export interface RunbookCatalog {
  entries: readonly RunbookEntry[];
  error?: string;
}

/** A runbook to start: `opsdeck runbook run RUNBOOK --target NAME --check CHECK`. */
export interface RunbookStart {
  runbook: string;
  target: MappedTarget;
  /** The alert it answers, when started from one (F, or `:` on the selected alert's target). */
  check?: string;
  /** Resume the unfinished run the alert (`journal:<runbook>:<subject>`) is about, instead of starting one. */
  resume?: boolean;
}

/** "service-recovery for api", "disk-pressure for /var", "recovery-verify". */
export function startLabel(s: RunbookStart): string {
  if (s.resume) return `${s.runbook}${s.target.name ? ` for ${s.target.name}` : ''} (resumed)`;
  return s.target.kind === 'none' || !s.target.name ? s.runbook : `${s.runbook} for ${s.target.name}`;
}

/** How many output lines the wizard keeps (it shows the last ones that fit). */
export const OUTPUT_LINES = 200;

/** The wizard's state: the run's latest progress, its output, its question, its end. */
export interface RunbookWizardState {
  start: RunbookStart;
  progress?: Progress;
  /** What the run said (escaped), then each answer given; the last OUTPUT_LINES. */
  output: string[];
  /** The question waiting for an answer; `nudge` once esc (or an s not offered) answered nothing. */
  question?: { text: string; choices: 'yn' | 'yns'; nudge?: boolean };
  /** The child's end: 0 completed, 3 finished with skips, else failed with its one-line error. */
  end?: { code: number; error?: string };
}

/** What a driven run sends, plus its end. */
export type RunbookHeard = { say: string } | { ask: string; choices: string } | { progress: Progress } | { exit: number; error?: string };

/** What the wizard component does for a key. */
export type RunbookEffect = { effect: 'back' } | { effect: 'answer'; answer: Answer };

/** The wizard as a runbook starts. */
export function initialRunbookState(start: RunbookStart): RunbookWizardState {
  return { start, output: [] };
}

/** One line of output as the frame may show it: escape sequences removed, control characters shown escaped. */
function safeLines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => terminalSafe(l));
}

const bounded = (lines: string[]): string[] => (lines.length > OUTPUT_LINES ? lines.slice(-OUTPUT_LINES) : lines);

/** Folds one message of the run into the state. */
export function runbookHeard(s: RunbookWizardState, m: RunbookHeard): RunbookWizardState {
  if ('say' in m) return { ...s, output: bounded([...s.output, ...safeLines(m.say)]) };
  if ('progress' in m) return { ...s, progress: m.progress };
  if ('ask' in m) return { ...s, question: { text: m.ask, choices: m.choices === 'yns' ? 'yns' : 'yn' } };
  const { question: _asked, ...rest } = s;
  return { ...rest, end: { code: m.exit, ...(m.error ? { error: m.error } : {}) } };
}

/** The step the run stands at, if its progress says. */
export function currentStep(s: Pick<RunbookWizardState, 'progress'>): ProgressStep | undefined {
  return s.progress?.steps[s.progress.cursor];
}

/**
 * Whether the question asks what to do after a step failed (y tries it again), read from the step's
 * status, never from the question's text: a step is asked to run while it is `confirming` (the
 * driver journals the question first); a question while it has already run (`running`, `verifying`:
 * its last attempt threw, the failure is journaled only once the answer is n) or `failed` is the
 * failure question (src/engine/driver.ts askAgain).
 */
export function atFailure(s: Pick<RunbookWizardState, 'progress' | 'question'>): boolean {
  const status = currentStep(s)?.status;
  return !!s.question && (status === 'running' || status === 'verifying' || status === 'failed');
}

/** The steps as the list shows them: at a failure question, its step says it failed and waits (not "running"). */
export function shownSteps(s: Pick<RunbookWizardState, 'progress' | 'question'>): ProgressStep[] {
  const p = s.progress;
  if (!p) return [];
  if (!atFailure(s)) return p.steps;
  return p.steps.map((st, i) => (i === p.cursor && st.status !== 'failed' ? { ...st, status: 'failed', note: 'waiting for your answer' } : st));
}

/**
 * One key's step. Esc (dialog.back) never answers (ARCHITECTURE.md "Reserved keys": esc never
 * confirms or skips): the question stays and says why; s skips only where offered; n stops the run.
 * Once the run has ended, esc, n, enter or q go back to the dashboard.
 */
export function runbookKey(s: RunbookWizardState, c: Command | undefined): { state: RunbookWizardState; effects: RunbookEffect[] } {
  const stay = { state: s, effects: [] };
  const id = c?.id;
  if (s.end) return id === 'dialog.back' || id === 'dialog.no' || id === 'dialog.pick' || id === 'app.quit' ? { state: s, effects: [{ effect: 'back' }] } : stay;
  const q = s.question;
  if (!q) return stay;
  const skip = id === 'dialog.skip' && q.choices.includes('s');
  if (id === 'dialog.yes' || id === 'dialog.no' || skip) {
    const answer: Answer = id === 'dialog.yes' ? 'y' : skip ? 's' : 'n';
    const said = answer === 'y' ? (atFailure(s) ? 'try it again' : 'yes') : answer === 's' ? 'SKIP' : 'no, stop here';
    const { question: _answered, ...rest } = s;
    return { state: { ...rest, output: bounded([...s.output, `→ ${said}`]) }, effects: [{ effect: 'answer', answer }] };
  }
  if (id === 'dialog.back' || id === 'dialog.skip') return { state: { ...s, question: { ...q, nudge: true } }, effects: [] };
  return stay;
}

/** The outcome line of an ended run: exit 0 completed, 3 finished with skips, else its one-line error. */
export function outcomeLine(s: RunbookWizardState): { text: string; color: 'green' | 'yellow' | 'red' } | undefined {
  const e = s.end;
  if (!e) return undefined;
  const what = startLabel(s.start);
  if (e.code === 0) return { text: `${what}: completed`, color: 'green' };
  if (e.code === 3) return { text: `${what}: finished with skipped steps — NOT complete`, color: 'yellow' };
  // Exit 1 is a failure, a stop (n), a pause or a refusal alike: the child's own line says which.
  return { text: `${what} did not finish: ${terminalSafe(e.error ?? `exit code ${e.code}`)}`, color: 'red' };
}

/**
 * Where a run that ended without completing stopped: the step it stood at when n stopped it (the
 * journal puts a declined step back to pending) or a failure ended it. Undefined while it runs or
 * when it completed.
 */
export function stoppedAt(s: Pick<RunbookWizardState, 'progress' | 'end'>): number | undefined {
  if (!s.end || s.end.code === 0 || s.end.code === 3 || !s.progress) return undefined;
  const st = s.progress.steps[s.progress.cursor];
  return st && (st.status === 'pending' || st.status === 'confirming' || st.status === 'running' || st.status === 'verifying') ? s.progress.cursor : undefined;
}

/** A step's state as the list shows it: its mark, its words (with elapsed time or duration), its colour. */
export function stepState(st: ProgressStep, now: number, stopped = false): { mark: string; text: string; color?: 'green' | 'yellow' | 'red' | 'cyan' } {
  if (stopped) return { mark: '■', text: 'stopped here (not run)', color: 'red' };
  const took = (from?: number, to?: number) => (from !== undefined && to !== undefined ? ` in ${formatDuration(Math.max(0, to - from))}` : '');
  const running = (from?: number) => (from !== undefined ? ` ${formatDuration(Math.max(0, now - from))}` : '');
  const attempt = st.attempt && st.attempt > 1 ? ` (attempt ${st.attempt})` : '';
  const note = st.note ? `: ${terminalSafe(st.note)}` : '';
  switch (st.status) {
    case 'pending':
      return { mark: '·', text: 'pending' };
    case 'confirming':
      return { mark: '?', text: 'waiting for your answer', color: 'yellow' };
    case 'running':
      return { mark: '▸', text: `running${running(st.startedAt)}${attempt}`, color: 'cyan' };
    case 'verifying':
      return { mark: '▸', text: `verifying${running(st.startedAt)}${attempt}`, color: 'cyan' };
    case 'done':
      return { mark: '✓', text: `done${took(st.startedAt, st.endedAt)}${attempt}`, color: 'green' };
    case 'failed':
      return { mark: '✗', text: `failed${attempt}${note}`, color: 'red' };
    case 'skipped':
      return { mark: '–', text: `skipped${note}`, color: 'yellow' };
    default:
      return assertNever(st.status);
  }
}
