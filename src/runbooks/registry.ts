import type { StepDef } from '../domain/runbook.js';
import { GENERIC_ACTIONS, type GenericDeps } from '../engine/actions.js';
import type { Action, StepContext } from '../engine/driver.js';
import { APP_ACTIONS } from './actions/app.js';
import { DB_ACTIONS } from './actions/db.js';
import { DB_UPKEEP_ACTIONS } from './actions/db-upkeep.js';
import { DIAGNOSE_ACTIONS } from './actions/diagnose.js';
import { DISK_ACTIONS } from './actions/disk.js';
import { FAILOVER_ACTIONS } from './actions/failover.js';
import { REDIS_ACTIONS } from './actions/redis.js';
import { ROUTINE_ACTIONS } from './actions/routine.js';
import { SYSTEM_ACTIONS } from './actions/system.js';
import { SERVICE_ACTIONS } from './actions/service.js';
import { VERIFY_ACTIONS } from './actions/verify.js';

// Every action a runbook file may name (issue #16), by id: the engine's generic ones (exec, sql,
// http, wait, manual, check, backup, container.*) and the runbooks' own (service.*, redis.*,
// diagnose.*, verify.*, disk.*, app.*, system.*; issue #23's db.* upkeep and the routines' steps). `compose` adds a step's `verify` and `undo` from the file (its
// preview, then, is the action's and the verify action's, awaited: either may ask the world).

type A = Action<unknown, GenericDeps>;

/** The actions by id. */
export const ACTIONS: Readonly<Record<string, A>> = { ...GENERIC_ACTIONS, ...SERVICE_ACTIONS, ...REDIS_ACTIONS, ...DIAGNOSE_ACTIONS, ...VERIFY_ACTIONS, ...DISK_ACTIONS, ...APP_ACTIONS, ...SYSTEM_ACTIONS, ...DB_ACTIONS, ...FAILOVER_ACTIONS, ...DB_UPKEEP_ACTIONS, ...ROUTINE_ACTIONS };

function withParams(x: StepContext<unknown, GenericDeps>, step: StepDef): StepContext<unknown, GenericDeps> {
  return {
    get record() {
      return x.record;
    },
    step,
    deps: x.deps,
    signal: x.signal,
    persist: (c) => x.persist(c),
    say: (t) => x.say(t),
  };
}

async function runRef(x: StepContext<unknown, GenericDeps>, ref: NonNullable<StepDef['verifyWith']>): Promise<string> {
  const a = ACTIONS[ref.action];
  if (!a) throw new Error(`unknown action ${ref.action}`);
  const y = withParams(x, { ...x.step, action: ref.action, params: ref.params });
  const note = await a.execute(y);
  return a.verify ? ((await a.verify(y, note)) ?? note) : note;
}

/** A step's action with the file's `verify` (after the action's own) and `undo` (when the action has none). */
export function compose(step: StepDef): A | undefined {
  const base = ACTIONS[step.action ?? step.id];
  if (!base) return undefined;
  const { verifyWith, undoWith } = step;
  if (!verifyWith && !undoWith) return base;
  const verifyPreview = async (x: StepContext<unknown, GenericDeps>) => (verifyWith ? ACTIONS[verifyWith.action]?.preview?.(withParams(x, { ...x.step, params: verifyWith.params })) : undefined);
  return {
    ...base,
    // Both previews may ask the world (each bounded by its own timeout): asked one after the other.
    async preview(x) {
      const own = (await base.preview?.(x)) ?? x.step.detail;
      return verifyWith ? `${own}; then verify: ${(await verifyPreview(x)) ?? verifyWith.action}` : own;
    },
    ...(verifyWith
      ? {
          async verify(x, note) {
            const own = base.verify ? ((await base.verify(x, note)) ?? note) : note;
            return `${own}; verified: ${await runRef(x, verifyWith)}`;
          },
        }
      : {}),
    ...(base.undo ? {} : undoWith ? { undo: (x) => runRef(x, undoWith) } : {}),
  };
}
