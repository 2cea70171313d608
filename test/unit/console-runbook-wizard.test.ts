import { describe, expect, it } from 'vitest';
import type { Progress, ProgressStep } from '../../src/engine/protocol.js';
import type { Command } from '../../src/ui/console/reducer.js';
import {
  atFailure,
  initialRunbookState,
  OUTPUT_LINES,
  outcomeLine,
  runbookHeard,
  runbookKey,
  shownSteps,
  stepState,
  stoppedAt,
  type RunbookHeard,
  type RunbookWizardState,
} from '../../src/ui/console/runbook-wizard.js';
import { runbookRows } from '../../src/ui/RunbookWizard.js';

// The runbook wizard's keys and messages as pure steps (issue #16). Esc never confirms or skips
// (ARCHITECTURE.md "Reserved keys"); s skips only where the run offers it; at a failure y retries.

const c = (id: Exclude<Command['id'], 'dialog.choose'>): Command => ({ id });
const START = { runbook: 'service-recovery', target: { kind: 'service' as const, name: 'api' }, check: 'container:api' };
const step = (id: string, status: ProgressStep['status'], over: Partial<ProgressStep> = {}): ProgressStep => ({ id, title: `${id} title`, status, ...over });
const progress = (cursor: number, steps: ProgressStep[]): Progress => ({ run: 'r1', runbook: 'service-recovery', subject: 'api', cursor, steps });
const heard = (...ms: RunbookHeard[]): RunbookWizardState => ms.reduce(runbookHeard, initialRunbookState(START));
const asking = (choices: 'yn' | 'yns', status: ProgressStep['status'] = 'confirming') => heard({ progress: progress(0, [step('restart', status)]) }, { ask: 'restart api?', choices });

describe('what the run says folds into the state', () => {
  it('progress, output, the question, the end', () => {
    const s = heard({ progress: progress(0, [step('a', 'running')]) }, { say: 'one' }, { say: 'two\nthree' }, { ask: 'go?', choices: 'yns' });
    expect(s.progress?.steps[0]?.status).toBe('running');
    expect(s.output).toEqual(['one', 'two', 'three']);
    expect(s.question).toEqual({ text: 'go?', choices: 'yns' });
    const ended = runbookHeard(s, { exit: 1, error: 'boom' });
    expect(ended.question).toBeUndefined();
    expect(ended.end).toEqual({ code: 1, error: 'boom' });
  });

  it('output is escaped (no escape sequence reaches the frame) and bounded', () => {
    const s = heard({ say: 'evil \x1b]0;pwned\x07title \x1b[2Jclear\tend' });
    expect(s.output).toEqual(['evil title clear\\tend']);
    const many = Array.from({ length: OUTPUT_LINES + 50 }, (_, i) => ({ say: `line ${i}` }));
    const big = heard(...many);
    expect(big.output).toHaveLength(OUTPUT_LINES);
    expect(big.output.at(-1)).toBe(`line ${OUTPUT_LINES + 49}`);
  });

  it('an unknown choices string is yn (no skip offered)', () => {
    expect(heard({ ask: 'x?', choices: 'weird' }).question).toEqual({ text: 'x?', choices: 'yn' });
  });
});

describe('keys at a question', () => {
  it.each([
    ['y runs the step', 'yn', 'confirming', c('dialog.yes'), 'y', '→ yes'],
    ['n stops the run', 'yn', 'confirming', c('dialog.no'), 'n', '→ no, stop here'],
    ['s skips where offered', 'yns', 'confirming', c('dialog.skip'), 's', '→ SKIP'],
    ['at a failure y tries it again', 'yns', 'running', c('dialog.yes'), 'y', '→ try it again'],
    ['at a failure s skips it', 'yns', 'failed', c('dialog.skip'), 's', '→ SKIP'],
    ['at a failure n stops', 'yn', 'failed', c('dialog.no'), 'n', '→ no, stop here'],
  ] as const)('%s', (_n, choices, status, command, answer, line) => {
    const r = runbookKey(asking(choices, status), command);
    expect(r.effects).toEqual([{ effect: 'answer', answer }]);
    expect(r.state.question).toBeUndefined();
    expect(r.state.output.at(-1)).toBe(line);
  });

  it.each([
    ['esc (choices yns)', 'yns', c('dialog.back')],
    ['esc (choices yn)', 'yn', c('dialog.back')],
    ['esc at a failure', 'yns', c('dialog.back')],
    ['s where no skip is offered', 'yn', c('dialog.skip')],
  ] as const)('%s answers nothing: the question stays and says why', (_n, choices, command) => {
    const s = asking(choices);
    expect(runbookKey(s, command)).toEqual({ state: { ...s, question: { ...s.question, nudge: true } }, effects: [] });
  });

  it.each<Command | undefined>([c('app.quit'), c('dialog.pick'), c('cursor.down'), { id: 'dialog.choose' as const, index: 0 }, undefined])('%j answers nothing and leaves nothing', (command) => {
    const s = asking('yns');
    expect(runbookKey(s, command)).toEqual({ state: s, effects: [] });
  });

  it('while no question waits, every key waits (esc, n, y, q included)', () => {
    const s = heard({ progress: progress(0, [step('a', 'running')]) });
    for (const id of ['dialog.yes', 'dialog.no', 'dialog.skip', 'dialog.back', 'app.quit'] as const) expect(runbookKey(s, c(id))).toEqual({ state: s, effects: [] });
  });

  it.each([
    ['running (its last attempt threw; the driver asks before journaling the failure)', 'running', true],
    ['verifying', 'verifying', true],
    ['failed', 'failed', true],
    ['confirming (a step asked to run)', 'confirming', false],
  ] as const)('a question while its step is %s is a failure question: %s', (_n, status, want) => {
    expect(atFailure(heard({ progress: progress(0, [step('a', status)]) }, { ask: 'a failed. y tries it again · n stops here', choices: 'yn' }))).toBe(want);
  });

  it('the step list shows a step waiting at its failure question as failed, not running', () => {
    const s = heard({ progress: progress(0, [step('a', 'running', { attempt: 3, startedAt: 1 })]) }, { ask: 'a failed. y tries it again', choices: 'yn' });
    expect(shownSteps(s)[0]).toMatchObject({ status: 'failed', attempt: 3, note: 'waiting for your answer' });
    expect(shownSteps(heard({ progress: progress(0, [step('a', 'running')]) }))[0]?.status).toBe('running');
  });
});

describe('the end', () => {
  it.each([
    [0, undefined, { text: 'service-recovery for api: completed', color: 'green' }],
    [3, undefined, { text: 'service-recovery for api: finished with skipped steps — NOT complete', color: 'yellow' }],
    [1, 'runbook stopped by the operator at restart', { text: 'service-recovery for api did not finish: runbook stopped by the operator at restart', color: 'red' }],
    [2, undefined, { text: 'service-recovery for api did not finish: exit code 2', color: 'red' }],
  ] as const)('exit %i → %j', (code, error, line) => {
    expect(outcomeLine(heard({ exit: code, ...(error ? { error } : {}) }))).toEqual(line);
  });

  it.each(['dialog.back', 'dialog.no', 'dialog.pick', 'app.quit'] as const)('%s closes', (id) => {
    expect(runbookKey(heard({ exit: 0 }), c(id)).effects).toEqual([{ effect: 'back' }]);
  });

  it.each(['dialog.yes', 'dialog.skip', 'cursor.up'] as const)('%s does nothing', (id) => {
    const s = heard({ exit: 0 });
    expect(runbookKey(s, c(id))).toEqual({ state: s, effects: [] });
  });
});

describe('where an ended run stopped', () => {
  const at = (status: ProgressStep['status'], code: number) => stoppedAt(heard({ progress: progress(1, [step('a', 'done'), step('b', status)]) }, { exit: code }));
  it.each([
    ['n at a question (the declined step is pending again)', 'pending', 1, 1],
    ['a failure while it ran', 'running', 1, 1],
    ['a failed step says so itself', 'failed', 1, undefined],
    ['completed', 'pending', 0, undefined],
    ['finished with skips', 'skipped', 3, undefined],
  ] as const)('%s', (_n, status, code, want) => {
    expect(at(status, code)).toBe(want);
  });
  it('is drawn as stopped, not pending', () => {
    expect(stepState(step('b', 'pending'), 0, true)).toEqual({ mark: '■', text: 'stopped here (not run)', color: 'red' });
  });
});

describe('step states with times', () => {
  const NOW = 1_000_000;
  it.each([
    [step('a', 'pending'), '·', 'pending'],
    [step('a', 'confirming'), '?', 'waiting for your answer'],
    [step('a', 'running', { startedAt: NOW - 12_000 }), '▸', 'running 12s'],
    [step('a', 'running', { startedAt: NOW - 3_000, attempt: 2 }), '▸', 'running 3s (attempt 2)'],
    [step('a', 'verifying', { startedAt: NOW - 5_000 }), '▸', 'verifying 5s'],
    [step('a', 'done', { startedAt: NOW - 10_000, endedAt: NOW - 6_000 }), '✓', 'done in 4s'],
    [step('a', 'failed', { attempt: 3, note: 'exit 1\x1b[2J' }), '✗', 'failed (attempt 3): exit 1'],
    [step('a', 'skipped', { note: 'skipped by the operator' }), '–', 'skipped: skipped by the operator'],
  ] as const)('%j', (st, mark, text) => {
    expect(stepState(st, NOW)).toMatchObject({ mark, text });
  });
});

describe('rows at 80×24 (22 under the header)', () => {
  it.each([
    [{ steps: 5, why: 1, bottom: 3 }, { steps: 5, output: 11 }],
    [{ steps: 20, why: 0, bottom: 2 }, { steps: 11, output: 7 }],
    [{ steps: 30, why: 2, bottom: 8 }, { steps: 6, output: 4 }],
    [{ steps: 2, why: 0, bottom: 1 }, { steps: 2, output: 17 }],
  ])('%j → %j', (parts, want) => {
    const r = runbookRows(22, parts);
    expect(r).toEqual(want);
    expect(1 + r.steps + parts.why + 1 + r.output + parts.bottom).toBeLessThanOrEqual(22);
  });
});
