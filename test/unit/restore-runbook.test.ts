import { describe, expect, it } from 'vitest';
import { openRestoreCheck, planMerge, planStages, restoreSteps } from '../../src/domain/restore-plan.js';
import { createRun, describeRun, nextAction, reduceRun, skippedSteps, startedSteps, type Run, type RunEvent, type StepDef } from '../../src/domain/runbook.js';

const def = (id: string, optional = false): StepDef => ({ id, title: id, detail: `do ${id}`, confirm: true, optional, mutating: false });
const steps = [def('a'), def('b', true), def('c')];
const apply = (run: Run, ...evs: RunEvent[]) => evs.reduce(reduceRun, run);

describe('runbook reducer', () => {
  it('walks pending → confirming → running → verifying → done, step by step', () => {
    let r = createRun(steps);
    expect(nextAction(r, true)).toMatchObject({ kind: 'ask', step: { id: 'a' } });
    expect(nextAction(r, false)).toMatchObject({ kind: 'execute', step: { id: 'a' } });
    r = apply(r, { type: 'ask', at: 1 });
    expect(r.states[0]).toEqual({ status: 'confirming', since: 1 });
    r = apply(r, { type: 'confirm', at: 2 }, { type: 'verify', at: 3 });
    expect(r.states[0]).toEqual({ status: 'verifying', startedAt: 2 });
    r = apply(r, { type: 'succeed', at: 4, note: 'ok' });
    expect(r.states[0]).toEqual({ status: 'done', startedAt: 2, endedAt: 4, note: 'ok' });
    expect(r.cursor).toBe(1);
    r = apply(r, { type: 'start', at: 5 }, { type: 'succeed', at: 6 }, { type: 'start', at: 7 }, { type: 'succeed', at: 8 });
    expect(r.phase).toEqual({ kind: 'completed', at: 8 });
    expect(nextAction(r, true)).toEqual({ kind: 'finished', phase: { kind: 'completed', at: 8 } });
  });

  it('only an explicit skip skips an optional step; declining (n, or a closed console) pauses the run, optional or not', () => {
    const start = apply(createRun(steps), { type: 'start', at: 1 }, { type: 'succeed', at: 2 }, { type: 'ask', at: 3 });
    const declined = apply(start, { type: 'decline', at: 4 });
    expect(declined.phase).toEqual({ kind: 'paused', at: 4, reason: 'declined "b"' });
    expect(declined.states[1]).toEqual({ status: 'pending' });
    let r = apply(start, { type: 'skip', at: 4, reason: 'skipped by the operator (s)' });
    expect(r.states[1]).toEqual({ status: 'skipped', at: 4, reason: 'skipped by the operator (s)' });
    expect(r.cursor).toBe(2);
    expect(skippedSteps(r).map((x) => x.step.id)).toEqual(['b']);
    // a skip of a step that is not optional does nothing
    expect(apply(r, { type: 'ask', at: 5 }, { type: 'skip', at: 6, reason: 'x' }).states[2]).toEqual({ status: 'confirming', since: 5 });
    r = apply(r, { type: 'ask', at: 5 }, { type: 'decline', at: 6 });
    expect(r.phase).toEqual({ kind: 'paused', at: 6, reason: 'declined "c"' });
    expect(r.states[2]).toEqual({ status: 'pending' });
    r = apply(r, { type: 'resume', at: 7 });
    expect(r.phase).toEqual({ kind: 'active' });
  });

  it('a failure ends the run; resume runs the failed step again from pending', () => {
    let r = apply(createRun(steps), { type: 'start', at: 1 }, { type: 'fail', at: 2, error: 'disk full' });
    expect(r.phase).toEqual({ kind: 'failed', at: 2, error: 'disk full' });
    expect(r.states[0]).toEqual({ status: 'failed', startedAt: 1, endedAt: 2, error: 'disk full' });
    expect(startedSteps(r)).toEqual(['a']);
    r = apply(r, { type: 'resume', at: 3 });
    expect(r.states[0]).toEqual({ status: 'pending' });
    expect(r.phase.kind).toBe('active');
  });

  it('an interrupted running step (the process was killed) is re-run on resume', () => {
    const killed = apply(createRun(steps), { type: 'start', at: 1 });
    const r = apply(killed, { type: 'resume', at: 2 });
    expect(r.states[0]).toEqual({ status: 'pending' });
    expect(describeRun(killed)).toBe('step 1/3 a running');
  });

  it.each<[string, RunEvent]>([
    ['confirm without ask', { type: 'confirm', at: 1 }],
    ['succeed before start', { type: 'succeed', at: 1 }],
    ['verify before start', { type: 'verify', at: 1 }],
  ])('ignores events that do not apply (%s): same object back', (_name, ev) => {
    const r = createRun(steps);
    expect(reduceRun(r, ev)).toBe(r);
  });

  it('nothing happens to a finished run except what is allowed', () => {
    const done = apply(createRun([def('a')]), { type: 'start', at: 1 }, { type: 'succeed', at: 2 });
    expect(reduceRun(done, { type: 'start', at: 3 })).toBe(done);
    expect(reduceRun(done, { type: 'rolled-back', at: 3 })).toBe(done);
    const aborted = apply(createRun(steps), { type: 'abort', at: 1, reason: 'no' });
    expect(aborted.phase).toEqual({ kind: 'aborted', at: 1, reason: 'no' });
    expect(apply(createRun(steps), { type: 'start', at: 1 }, { type: 'rolled-back', at: 2 }).phase).toEqual({ kind: 'rolled-back', at: 2 });
  });
});

describe('restore plan', () => {
  it.each<[string | undefined, string[], string[], unknown]>([
    [undefined, ['trades'], ['market_data'], { kind: 'whole' }],
    ['critical', ['trades', 'portfolios'], ['market_data'], { kind: 'tables', stages: [{ name: 'critical', tables: ['trades', 'portfolios'] }] }],
    ['all', ['trades'], ['market_data', 'backtest_results'], { kind: 'tables', stages: [{ name: 'critical', tables: ['trades'] }, { name: 'normal', tables: ['market_data', 'backtest_results'] }] }],
    ['all', [], [], { kind: 'tables', stages: [{ name: 'all', tables: [] }] }],
    ['market_data, trades', ['trades'], ['market_data'], { kind: 'tables', stages: [{ name: 'critical', tables: ['trades'] }, { name: 'normal', tables: ['market_data'] }] }],
    ['x,y', [], [], { kind: 'tables', stages: [{ name: 'selected', tables: ['x', 'y'] }] }],
  ])('--tables %s', (spec, critical, normal, mode) => {
    expect(planStages(spec, critical, normal)).toEqual({ ok: true, mode });
  });

  it.each<[string | undefined, string[]]>([
    [undefined, ['trades', 'portfolios']],
    ['all', ['trades', 'portfolios', 'market_data']],
    ['market_data', ['market_data']],
  ])('--merge --tables %s', (spec, tables) => {
    expect(planMerge(spec, ['trades', 'portfolios'], ['market_data'])).toEqual({ ok: true, mode: { kind: 'merge', tables } });
  });

  it.each([
    ['critical', /no critical_tables configured/],
    [',', /expected critical, all, or a comma-separated list/],
    ['a,a', /a is named twice/],
  ])('--tables %s is refused', (spec, msg) => {
    const r = planStages(spec, [], []);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(msg);
  });

  it('has the steps of issues #4 and #10, one per stage when staged, one merge step when merging', () => {
    const base = { database: 'trading', dbPath: '/d/t.db', backupId: 'b1', backupSummary: '1h old', writers: ['app'], safetyDir: '/s' };
    const tail = ['check', 'ledger', 'start-writers', 'health', 'accept-loss'];
    expect(restoreSteps({ ...base, mode: { kind: 'whole' } }).map((s) => s.id)).toEqual(['choose', 'verify', 'stop-writers', 'safety-copy', 'swap', ...tail]);
    expect(restoreSteps({ ...base, mode: { kind: 'merge', tables: ['trades'] } }).map((s) => s.id)).toEqual(['choose', 'verify', 'stop-writers', 'safety-copy', 'merge', ...tail]);
    const staged = restoreSteps({ ...base, mode: { kind: 'tables', stages: [{ name: 'critical', tables: ['trades'] }, { name: 'normal', tables: ['market_data'] }] } });
    expect(staged.map((s) => s.id)).toEqual(['choose', 'verify', 'stop-writers', 'safety-copy', 'stage:critical', 'stage:normal', ...tail]);
    expect(staged.filter((s) => s.optional).map((s) => s.id)).toEqual(['stage:critical', 'stage:normal', 'accept-loss']);
    expect(staged.find((s) => s.id === 'safety-copy')?.detail).toContain('/s');
  });

  it('an unfinished restore is a CRITICAL journal finding naming the way out and the safety copy', () => {
    expect(openRestoreCheck({ runId: 'r1', database: 'trading', dbPath: '/d/t.db', position: 'step 5/8 swap running', safetyDir: '/s/r1', startedAt: 0 })).toEqual({
      id: 'journal:restore:trading',
      kind: 'journal',
      target: '/d/t.db',
      status: 'critical',
      value: 'step 5/8 swap running',
      message: 'restore r1 of trading is unfinished (step 5/8 swap running); run: opsdeck restore --db trading --resume, or --rollback (safety copy: /s/r1)',
      critical: true,
    });
  });
});
