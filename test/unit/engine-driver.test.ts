import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun, type StepDef } from '../../src/domain/runbook.js';
import { GENERIC_ACTIONS, type GenericDeps } from '../../src/engine/actions.js';
import { backoff, Driver, type Action, type Runbook } from '../../src/engine/driver.js';
import { RunJournal, type RunRecord } from '../../src/engine/journal.js';
import { PolicyOperator, ProtocolOperator, type Operator } from '../../src/engine/operator.js';
import { listen, sendAnswer } from '../../src/engine/protocol.js';
import { openStateDb } from '../../src/state/statedb.js';

// The recovery engine's driver (issue #14) on a real state database: retry with backoff, rollback
// in reverse, resume after a kill between any two journal writes, a policy refusing past its
// budget, and a two-step runbook (not restore) through the same driver, journal, protocol and
// resume path. The "kill" is injected: a journal that stops accepting writes after the Nth, as a
// SIGKILL would leave it (the real SIGKILL matrix is test/integration/restore-sigkill.test.ts).

let db: BetterSqlite3.Database;
beforeAll(async () => {
  db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-engine-')));
});
afterAll(() => db.close());

interface Ctx {
  log: string[];
}

const step = (id: string, over: Partial<StepDef> = {}): StepDef => ({ id, title: `step ${id}`, detail: `does ${id}`, confirm: true, optional: false, mutating: true, ...over });

/** Side effects of the test actions, outside the journal (as a container's state would be). */
const world: { done: string[]; undone: string[] } = { done: [], undone: [] };

function book(actions: Record<string, Action<Ctx, object>>, commits: string[] = [], audit: string[] = []): Runbook<Ctx, object> {
  return { kind: 'test', action: (s) => actions[s.action ?? s.id], commits: (id) => commits.includes(id), audit: (a, _t, o) => audit.push(`${a} ${o}`) };
}

const act = (id: string, over: Partial<Action<Ctx, object>> = {}): Action<Ctx, object> => ({
  dangerous: true,
  execute: () => {
    world.done.push(id);
    return Promise.resolve(`${id} done`);
  },
  undo: () => {
    world.undone.push(id);
    return Promise.resolve(`${id} undone`);
  },
  ...over,
});

let n = 0;
function newRun(journal: RunJournal, steps: StepDef[]): RunRecord<Ctx> {
  return journal.create<Ctx>({ id: `run-${++n}`, kind: 'test', subject: `thing${n}`, targetKey: `/t/${n}`, hint: 'run: test --resume', run: createRun(steps), ctx: { log: [] }, startedAt: Date.now() });
}

const quiet = (): Operator => new PolicyOperator(() => undefined);

describe('the driver', () => {
  it('retries a failing step with backoff (factor, cap), journaling each attempt, then succeeds', async () => {
    const journal = new RunJournal(db);
    let calls = 0;
    const waits: number[] = [];
    const flaky = act('flaky', {
      execute: () => (++calls < 3 ? Promise.reject(new Error(`attempt ${calls} broke`)) : Promise.resolve('third time')),
    });
    const r = newRun(journal, [step('flaky', { retry: { attempts: 4, backoffMs: 100, factor: 3, capMs: 250 } })]);
    const d = new Driver(book({ flaky }), journal, quiet(), {}, { sleep: (ms) => (waits.push(ms), Promise.resolve()) });
    const o = await d.drive(r);
    expect(o.kind).toBe('completed');
    expect(waits).toEqual([100, 250]); // 100, then 300 capped at 250
    expect(journal.lines(r.id).filter((l) => l.event === 'retry').map((l) => l.detail)).toEqual([
      'attempt 1 of 4 failed: step flaky: attempt 1 broke; again in 100 ms',
      'attempt 2 of 4 failed: step flaky: attempt 2 broke; again in 250 ms',
    ]);
    const row = db.prepare('SELECT attempts, output FROM run_steps WHERE run_id = ?').get(r.id) as { attempts: number; output: string };
    expect(row).toEqual({ attempts: 3, output: 'third time' });
    expect(backoff({ attempts: 9, backoffMs: 1000, factor: 2, capMs: 5000 }, 5)).toBe(5000);
  });

  it('gives up after its attempts: the step fails; before a committing step the started steps are undone in reverse and the run closes', async () => {
    const journal = new RunJournal(db);
    world.undone = [];
    const r = newRun(journal, [step('a'), step('b'), step('broken', { retry: { attempts: 2, backoffMs: 1, factor: 1, capMs: 1 } })]);
    const broken = act('broken', { execute: () => Promise.reject(new Error('always')) });
    const o = await new Driver(book({ a: act('a'), b: act('b'), broken }), journal, quiet(), {}).drive(r);
    expect(o).toMatchObject({ kind: 'failed', closed: true, undone: 'broken undone; b undone; a undone' });
    expect(world.undone).toEqual(['broken', 'b', 'a']);
    expect(journal.get(r.id)?.status).toBe('failed');
  });

  it('after a committing step started, a failure keeps the run open; rollback undoes every started step, last first', async () => {
    const journal = new RunJournal(db);
    world.undone = [];
    const r = newRun(journal, [step('stop'), step('replace'), step('start'), step('check')]);
    const actions = { stop: act('stop'), replace: act('replace'), start: { dangerous: true, execute: () => Promise.resolve('start done') }, check: act('check', { dangerous: false, execute: () => Promise.reject(new Error('bad result')) }) };
    const d = new Driver(book(actions, ['replace']), journal, quiet(), {});
    const o = await d.drive(r);
    expect(o).toMatchObject({ kind: 'failed', closed: false });
    expect(journal.open('test').map((x) => x.id)).toContain(r.id);
    const rb = await d.rollback(journal.get<Ctx>(r.id) as RunRecord<Ctx>);
    expect(rb?.notes).toEqual(['check undone', 'replace undone', 'stop undone']);
    expect(journal.get(r.id)?.status).toBe('rolled-back');
  });

  it('a policy operator runs steps unattended until its budget is spent, then refuses and the run pauses for a person', async () => {
    const journal = new RunJournal(db);
    const audit: string[] = [];
    const r = newRun(journal, [step('one'), step('two'), step('three')]);
    const policy = new PolicyOperator(() => undefined, { limit: 3, windowMs: 60_000, spentBefore: () => 1 });
    const o = await new Driver(book({ one: act('one'), two: act('two'), three: act('three') }, [], audit), journal, policy, {}).drive(r);
    expect(o.kind).toBe('paused');
    if (o.kind !== 'paused') return;
    expect(o.reason).toMatch(/refused by policy: its budget of 3 dangerous steps per 60 s is spent \(three needs a person\)/);
    expect(o.changed).toBe(true);
    expect(audit).toEqual(['test.one ok', 'test.two ok', 'test.three refused']);
    expect(journal.get(r.id)?.run.states.map((s) => s.status)).toEqual(['done', 'done', 'pending']);
  });

  it('awaits an async settled (done without a question) and an async preview (the text the person is shown)', async () => {
    const journal = new RunJournal(db);
    const later = <T>(v: T) => new Promise<T>((res) => setTimeout(() => res(v), 5));
    const said: string[] = [];
    const asked: string[] = [];
    const person: Operator = { kind: 'person', say: (t) => void said.push(t), ask: (q) => (asked.push(q.text), Promise.resolve('y')), approve: () => ({ ok: true }), close: () => undefined };
    world.done = [];
    const calm = act('calm', { settled: () => later('already calm'), execute: () => Promise.reject(new Error('a settled step must not run')) });
    const looked = act('looked', { settled: () => later(undefined), preview: () => later('would do exactly this, as the world is now') });
    const r = newRun(journal, [step('calm'), step('looked')]);
    const o = await new Driver(book({ calm, looked }), journal, person, {}).drive(r);
    expect(o.kind).toBe('completed');
    expect(said).toEqual(['[1/2] step calm: already calm', '[2/2] step looked: would do exactly this, as the world is now', '[2/2] step looked: looked done']);
    expect(asked).toEqual(['run this step?']);
    expect(world.done).toEqual(['looked']);
    expect(journal.lines(r.id).map((l) => `${l.step} ${l.event}${l.detail ? ` ${l.detail}` : ''}`)).toEqual(['- created', 'calm start', 'calm succeed already calm', 'looked ask', 'looked confirm', 'looked succeed looked done', '- completed']);
  });

  it('cancellation by signal: the run stops before its next step and can be resumed', async () => {
    const journal = new RunJournal(db);
    const ac = new AbortController();
    const first = act('first', { execute: () => (ac.abort(), Promise.resolve('first done')) });
    const r = newRun(journal, [step('first'), step('second')]);
    const o = await new Driver(book({ first, second: act('second') }), journal, quiet(), {}, { signal: ac.signal }).drive(r);
    expect(o).toMatchObject({ kind: 'paused', changed: true });
    expect(journal.get(r.id)?.run.states.map((s) => s.status)).toEqual(['done', 'pending']);
  });
});

/** A journal that dies after `limit` writes, as a SIGKILL leaves the real one. */
class DyingJournal extends RunJournal {
  writes = 0;
  constructor(
    d: BetterSqlite3.Database,
    private readonly limit: number,
  ) {
    super(d);
  }
  override save<C>(r: RunRecord<C>, ev: { type: string; at: number }, s: string, detail?: string): void {
    if (++this.writes > this.limit) throw new Error('killed');
    super.save(r, ev, s, detail);
  }
}

describe('resume after a kill between any two journal writes', () => {
  it('every kill point: the resumed run completes, and no step that was journaled done runs again', async () => {
    const steps = [step('a'), step('b', { confirm: false }), step('c')];
    // Count the writes of a run that is never killed.
    const probe = new DyingJournal(db, Number.POSITIVE_INFINITY);
    const counts: Record<string, number> = {};
    const counting = (id: string) => act(id, { execute: () => ((counts[id] = (counts[id] ?? 0) + 1), Promise.resolve(`${id} done`)) });
    await new Driver(book({ a: counting('a'), b: counting('b'), c: counting('c') }), probe, quiet(), {}).drive(newRun(probe, steps));
    const total = probe.writes;
    expect(total).toBeGreaterThanOrEqual(7);
    for (let k = 0; k < total; k++) {
      const runs: Record<string, number> = {};
      const effect = (id: string) => act(id, { execute: () => ((runs[id] = (runs[id] ?? 0) + 1), Promise.resolve(`${id} done`)) });
      const rb = book({ a: effect('a'), b: effect('b'), c: effect('c') });
      const dying = new DyingJournal(db, k);
      const r = newRun(dying, steps);
      await expect(new Driver(rb, dying, quiet(), {}).drive(r)).rejects.toThrow('killed');
      const journal = new RunJournal(db);
      const stored = journal.get<Ctx>(r.id) as RunRecord<Ctx>;
      const doneBefore = stored.run.states.flatMap((s, i) => (s.status === 'done' && steps[i] ? [steps[i].id] : []));
      const ranBefore = { ...runs };
      const { reduceRun } = await import('../../src/domain/runbook.js');
      const resumed = { ...stored, run: reduceRun(stored.run, { type: 'resume', at: Date.now() }) };
      const o = await new Driver(rb, journal, quiet(), {}).drive(resumed);
      expect(o.kind, `killed after write ${k}`).toBe('completed');
      for (const id of doneBefore) expect(runs[id], `step ${id} was done before the kill at write ${k}`).toBe(ranBefore[id]);
      for (const s of steps) expect(runs[s.id], `step ${s.id} ran at least once (kill at write ${k})`).toBeGreaterThanOrEqual(1);
      expect(journal.get(r.id)?.status).toBe('completed');
    }
  });
});

describe('a two-step runbook that is not restore', () => {
  it('runs through the driver, the journal and the console protocol (asked over JSON lines, answered y), with generic actions', async () => {
    const journal = new RunJournal(db);
    const file = join(mkdtempSync(join(tmpdir(), 'opsdeck-two-')), 'marker');
    const steps: StepDef[] = [
      step('write', { action: 'exec', params: { command: `echo hello > ${file}`, shell: true }, detail: `write ${file}` }),
      step('pause', { action: 'wait', params: { ms: 10 }, confirm: false, mutating: false }),
    ];
    const rb: Runbook<unknown, GenericDeps> = { kind: 'demo', action: (s) => GENERIC_ACTIONS[s.action as keyof typeof GENERIC_ACTIONS], commits: () => false, audit: () => undefined };
    // The console's side of the protocol: hears messages and questions, answers each question y.
    const toChild = new PassThrough();
    const fromChild = new PassThrough();
    const heard: string[] = [];
    listen(fromChild, { onSay: (t) => heard.push(`say ${t}`), onAsk: (q, c) => (heard.push(`ask ${q} [${c}]`), sendAnswer(toChild, 'y')) });
    const op = new ProtocolOperator(toChild, fromChild);
    const r = journal.create<unknown>({ id: 'two-step', kind: 'demo', subject: 'marker', targetKey: file, hint: 'run: demo --resume', run: createRun(steps), ctx: {}, startedAt: Date.now() });
    const o = await new Driver(rb, journal, op, {}).drive(r);
    op.close();
    expect(o.kind).toBe('completed');
    expect((await import('node:fs')).readFileSync(file, 'utf8')).toBe('hello\n');
    await new Promise((res) => setImmediate(res));
    expect(heard).toEqual([`say [1/2] step write: run in /bin/sh -c: echo hello > ${file} (at most 60 s)`, 'ask run this step? [yn]', 'say [1/2] step write: exit 0', 'say [2/2] step pause: waited 0.01 s']);
    expect(journal.lines('two-step').map((l) => `${l.step} ${l.event}`)).toEqual(['- created', 'write ask', 'write confirm', 'write succeed', 'pause start', 'pause succeed', '- completed']);
  });
});

describe('generic actions', () => {
  it('sql, backup and http run for real and preview exactly what they will do; a wrong HTTP status fails the step', async () => {
    const { default: Database } = await import('better-sqlite3');
    const { createServer } = await import('node:http');
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-generic-'));
    const dbPath = join(dir, 'shop.db');
    const seed = new Database(dbPath);
    seed.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES (1), (2), (3);');
    seed.close();
    const server = createServer((req, res) => res.writeHead(req.url === '/ok' ? 200 : 503).end());
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as { port: number }).port;
    try {
      const journal = new RunJournal(db);
      const steps: StepDef[] = [
        step('fix', { action: 'sql', params: { database: dbPath, statement: "UPDATE t SET v = 'x' WHERE id > 1" }, confirm: false }),
        step('save', { action: 'backup', params: { database: dbPath, name: 'shop', dir: join(dir, 'backups') }, confirm: false }),
        step('probe', { action: 'http', params: { url: `http://127.0.0.1:${port}/ok` }, confirm: false }),
        step('probe-bad', { action: 'http', params: { url: `http://127.0.0.1:${port}/down` }, confirm: false }),
      ];
      const rb: Runbook<unknown, GenericDeps> = { kind: 'generic', action: (s) => GENERIC_ACTIONS[s.action as keyof typeof GENERIC_ACTIONS], commits: () => true, audit: () => undefined };
      const r = journal.create<unknown>({ id: `generic-${Date.now()}`, kind: 'generic', subject: 'shop', targetKey: dbPath, hint: '-', run: createRun(steps), ctx: {}, startedAt: Date.now() });
      const x = { record: r, deps: {}, signal: new AbortController().signal, persist: () => undefined, say: () => undefined };
      expect(GENERIC_ACTIONS.sql.preview?.({ ...x, step: steps[0] as StepDef })).toBe(`in one transaction on ${dbPath}: UPDATE t SET v = 'x' WHERE id > 1`);
      const o = await new Driver(rb, journal, quiet(), {}).drive(r);
      expect(o).toMatchObject({ kind: 'failed', error: { message: `http://127.0.0.1:${port}/down answered HTTP 503, expected 200` } });
      const notes = journal.get(r.id)?.run.states.map((s) => (s.status === 'done' ? s.note : s.status));
      expect(notes?.[0]).toBe('2 rows changed');
      expect(notes?.[1]).toMatch(/^backup shop-\S+ taken and verified$/);
      expect(notes?.[2]).toBe(`http://127.0.0.1:${port}/ok answered HTTP 200`);
      expect(notes?.[3]).toBe('failed');
    } finally {
      server.close();
    }
  });
});
