import type { FailoverPair } from '../../config/schema-failover.js';
import { Failure } from '../../domain/errors.js';
import { runArgv, showArgv, type GenericDeps } from '../../engine/actions.js';
import type { Action, StepContext } from '../../engine/driver.js';
import { actOnSide, probeSide } from '../../services/failover-side.js';
import { FailoverStore, sidesOf } from '../../state/failover.js';
import { openStateDb, stateDir } from '../../state/statedb.js';
import { configOf } from './config.js';

// The failback runbook's actions (issue #21): failback is a person's decision, never automatic.
// `failover.status` says which side of the pair of a primary serves; `failover.failback` — once the
// primary is healthy again — runs the pair's `switch_back` (no shell), stops the backup and records
// the primary as active (the hold-down counts from now, like after any switch).

type X = StepContext<unknown, GenericDeps>;

function pairOf(x: X): FailoverPair {
  const c = configOf(x, '(failover.pairs)');
  const v = x.step.params?.service;
  const pairs = c.failover.pairs;
  const p = pairs.find((q) => q.primary === v);
  if (!p) throw new Failure('not-found', `step ${x.step.id}: ${JSON.stringify(v)} is not the primary of a failover pair (expected one of: ${pairs.map((q) => q.primary).join(', ') || 'no failover.pairs configured'})`);
  return p;
}

async function withState<T>(x: X, fn: (s: FailoverStore) => T): Promise<T> {
  const db = await openStateDb(x.deps.stateDir ?? stateDir(configOf(x, '(state_dir)').state_dir));
  try {
    return fn(new FailoverStore(db));
  } finally {
    db.close();
  }
}

export const FAILOVER_ACTIONS: Record<string, Action<unknown, GenericDeps>> = {
  'failover.status': {
    dangerous: false,
    preview: (x) => `look at failover pair ${pairOf(x).name}: which side serves, both sides' health`,
    async execute(x) {
      const p = pairOf(x);
      const c = configOf(x, '(services)');
      const sides = sidesOf(c, p);
      const r = await withState(x, (s) => s.get(p.name));
      const [a, b] = await Promise.all([probeSide(sides.primary, c.docker.host), probeSide(sides.backup, c.docker.host)]);
      return `pair ${p.name}: ${r.active} ${sides[r.active].name} active${r.switchedAt !== undefined ? ` since ${new Date(r.switchedAt).toISOString()}` : ''}; primary: ${a.detail}; backup: ${b.detail}`;
    },
  },
  'failover.failback': {
    dangerous: true,
    preview(x) {
      const p = pairOf(x);
      return `pair ${p.name}: check ${p.primary} is healthy, ${p.switch_back ? `run ${showArgv(p.switch_back)} (no shell), ` : 'no switch_back step configured, '}stop ${p.backup}, record ${p.primary} as active`;
    },
    async execute(x) {
      const p = pairOf(x);
      const c = configOf(x, '(services)');
      const sides = sidesOf(c, p);
      const up = await probeSide(sides.primary, c.docker.host);
      if (!up.ok) throw new Failure('unhealthy', `pair ${p.name}: not failing back: primary ${up.detail}`);
      const notes = [up.detail];
      if (p.switch_back) notes.push(`switch_back ${showArgv(p.switch_back)}: ${await runArgv(p.switch_back, p.switch_timeout, x.signal)}`);
      notes.push(await actOnSide(sides.backup, 'stop', c.docker.host).catch((e: unknown) => `stopping ${p.backup} failed: ${(e as Error).message}`));
      const at = Date.now();
      await withState(x, (s) => s.put({ pair: p.name, active: 'primary', fails: 0, switchedAt: at, status: 'ok', message: `failed back at ${new Date(at).toISOString()}: primary ${p.primary} active`, updatedAt: at }));
      return `pair ${p.name}: failed back to ${p.primary}: ${notes.join('; ')}`;
    },
  },
};
