import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createRun, type StepDef, type StepParams } from '../../src/domain/runbook.js';
import type { GenericCtx, GenericDeps } from '../../src/engine/actions.js';
import { Driver, type Action, type Outcome, type Runbook, type StepContext } from '../../src/engine/driver.js';
import { RunJournal, type RunRecord } from '../../src/engine/journal.js';
import { PolicyOperator, type Operator } from '../../src/engine/operator.js';
import { openStateDb } from '../../src/state/statedb.js';

// Drives runbook-file actions (issue #16) through the real engine: a real state database and run
// journal, the Driver, and a quiet PolicyOperator whose lines are kept (what an operator would see).

/** A configuration as opsdeck.yaml would give it (defaults filled in by the schema). */
export const configOf = (raw: Record<string, unknown>): Config => configSchema.parse(raw);

/** A step of one action with its params (confirmed: a policy approves it). */
export const stepOf = (action: string, params: StepParams = {}, over: Partial<StepDef> = {}): StepDef => ({
  id: action.replace(/\W/g, '-'), title: action, detail: action, confirm: true, optional: false, mutating: true, action, params, ...over,
});

export interface Harness {
  db: BetterSqlite3.Database;
  journal: RunJournal;
  /** The lines the operator saw. */
  said: string[];
  /** Drives a run of these steps to its end; the outcome and the run's facts as journaled. */
  /** `by: 'person'`: a person who answers y to every question (for person-only steps such as redis.flush-prefix). */
  drive(steps: StepDef[], deps: GenericDeps, facts?: GenericCtx['facts'], by?: 'policy' | 'person'): Promise<{ outcome: Outcome<GenericCtx>; facts: GenericCtx['facts']; driver: Driver<GenericCtx, GenericDeps> }>;
  /** A StepContext outside a run, for calling preview / settled / execute directly; persist keeps the context. */
  ctx(step: StepDef, deps: GenericDeps, facts?: GenericCtx['facts']): StepContext<unknown, GenericDeps> & { facts(): GenericCtx['facts'] };
}

let n = 0;

/** A harness over a fresh state database for the actions of one module. */
export async function harness(actions: Record<string, Action<unknown, GenericDeps>>): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-rb-actions-'));
  const db = await openStateDb(dir);
  const journal = new RunJournal(db);
  const said: string[] = [];
  const book: Runbook<GenericCtx, GenericDeps> = {
    kind: 'test-actions',
    action: (s) => actions[s.action ?? s.id],
    commits: () => false,
    audit: () => undefined,
  };
  return {
    db,
    journal,
    said,
    async drive(steps, deps, facts = {}, by = 'policy') {
      const id = `rb-${process.pid}-${++n}`;
      const r = journal.create<GenericCtx>({ id, kind: 'test-actions', subject: `s${n}`, targetKey: `/rb/${id}`, hint: '-', run: createRun(steps), ctx: { runbook: 'test', target: { kind: 'none', name: '' }, facts }, startedAt: Date.now() });
      const yes: Operator = { kind: 'person', say: (t) => void said.push(t), ask: () => Promise.resolve('y'), approve: () => ({ ok: true }), close: () => undefined };
      const driver = new Driver(book, journal, by === 'person' ? yes : new PolicyOperator((t) => said.push(t)), deps);
      const outcome = await driver.drive(r);
      return { outcome, facts: (journal.get<GenericCtx>(id) as RunRecord<GenericCtx>).ctx.facts, driver };
    },
    ctx(step, deps, facts = {}) {
      let record = { id: 'direct', kind: 'test-actions', subject: '-', targetKey: '-', hint: '-', status: 'open', run: createRun([step]), ctx: { runbook: 'test', target: { kind: 'none', name: '' }, facts }, startedAt: 0, updatedAt: 0 } as RunRecord<unknown>;
      return {
        get record() {
          return record;
        },
        step,
        deps,
        signal: new AbortController().signal,
        persist(ctx: unknown) {
          record = { ...record, ctx };
        },
        say: (t: string) => said.push(t),
        facts: () => (record.ctx as GenericCtx).facts,
      };
    },
  };
}
