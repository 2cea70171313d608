import type { Config } from '../../config/schema.js';
import { Failure } from '../../domain/errors.js';
import type { GenericDeps } from '../../engine/actions.js';
import type { StepContext } from '../../engine/driver.js';

// What every runbook action reads from the configuration the run started with: the configuration
// itself, and a configured entry (a service, a Redis instance) named by a step parameter — one
// place, one wording of "missing" and "no such entry".

type X = StepContext<unknown, GenericDeps>;

/** The run's configuration; `needs` says in the error what the action looks for in it. */
export function configOf(x: X, needs: string): Config {
  if (!x.deps.config) throw new Failure('params', `step ${x.step.id}: this run has no configuration ${needs}`);
  return x.deps.config;
}

/** The entry of `list` named by the step parameter `param` (`what`: "service", "Redis"). */
export function namedEntry<T extends { name: string }>(x: X, list: readonly T[], param: string, what: string): T {
  const names = list.map((e) => e.name).join(', ') || 'none configured';
  const v = x.step.params?.[param];
  if (typeof v !== 'string' || !v) throw new Failure('params', `step ${x.step.id}: parameter ${param} (a configured ${what} name) is missing: expected one of: ${names}`);
  const found = list.find((e) => e.name === v);
  if (!found) throw new Failure('not-found', `step ${x.step.id}: no ${what} named ${JSON.stringify(v)} in the configuration (expected one of: ${names})`);
  return found;
}
