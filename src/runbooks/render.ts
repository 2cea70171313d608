import type { Config } from '../config/schema.js';
import { ConfigError, UsageError } from '../domain/errors.js';
import type { ActionRef, StepDef, StepParams } from '../domain/runbook.js';
import type { RunTarget } from '../engine/actions.js';
import { ACTIONS } from './registry.js';
import type { RunbookSpec, StepSpec } from './spec.js';
import { fill } from './template.js';

// A runbook file's steps made into engine steps for one target (issue #16): the target resolved
// among the configured entries, every `{{…}}` filled from its configuration (one value, one
// argument: see template.ts), each action id checked against the registry. Rendering happens at
// every start and every resume, from the configuration of that moment, so the journal never needs
// to hold a secret (it stores the steps redacted).

/** A runbook's target resolved, with the values its steps may use. */
export interface Resolved {
  target: RunTarget;
  /** The check that tells whether it is healthy (`http:api`): the alert's, else the target's usual one. */
  check?: string;
  vars: Map<string, string>;
}

function pick<T extends { name: string }>(kind: string, list: readonly T[], name: string | undefined, field: string): T {
  if (name === undefined) {
    if (list.length === 1) return list[0] as T;
    throw new UsageError(`this runbook acts on a ${kind}: pass --target NAME (expected one of: ${list.map((x) => x.name).join(', ') || `none: no ${field} configured`})`);
  }
  const found = list.find((x) => x.name === name);
  if (!found) throw new UsageError(`--target ${name}: no ${kind} of that name in ${field} (expected one of: ${list.map((x) => x.name).join(', ') || 'none configured'})`);
  return found;
}

/** Resolves `--target` for a runbook (a single configured entry of its kind is taken without it). */
export function resolveTarget(spec: RunbookSpec, config: Config, name: string | undefined, check: string | undefined, params: Readonly<Record<string, string>>): Resolved {
  const vars = new Map<string, string>();
  for (const [k, v] of Object.entries(params)) vars.set(`param.${k}`, v);
  const set = (k: string, v: string | undefined) => {
    if (v !== undefined) vars.set(k, v);
  };
  let target: RunTarget;
  let usual: string | undefined;
  switch (spec.target) {
    case 'service': {
      const s = pick('service', config.services, name, 'services');
      target = { kind: 'service', name: s.name };
      set('service.name', s.name);
      set('service.container', s.container);
      set('service.compose_service', s.compose_service);
      set('service.health_url', s.health_url);
      // A side of a failover pair: how long the pair gives it to become healthy (failback waits that long).
      const pair = config.failover.pairs.find((p) => p.primary === s.name || p.backup === s.name);
      set('service.failover_healthy_within_ms', pair ? String(pair.healthy_within) : undefined);
      usual = s.health_url ? `http:${s.name}` : s.container || s.compose_service ? `container:${s.name}` : undefined;
      break;
    }
    case 'database': {
      const d = pick('database', config.databases, name, 'databases');
      target = { kind: 'database', name: d.name };
      set('database.name', d.name);
      set('database.path', d.path);
      usual = `sqlite:${d.name}`;
      break;
    }
    case 'redis': {
      const r = pick('Redis', config.redis, name, 'redis');
      target = { kind: 'redis', name: r.name };
      set('redis.name', r.name);
      usual = `redis:${r.name}`;
      break;
    }
    case 'endpoint': {
      const e = pick('endpoint', config.endpoints, name, 'endpoints');
      target = { kind: 'endpoint', name: e.name };
      set('endpoint.name', e.name);
      set('endpoint.url', e.url);
      usual = `http:${e.name}`;
      break;
    }
    case 'app': {
      const a = pick('app', config.apps, name, 'apps');
      target = { kind: 'app', name: a.name };
      set('app.name', a.name);
      set('app.dir', a.dir);
      set('app.database', a.database);
      set('app.health_url', a.health_url);
      break;
    }
    case 'host': {
      const mount = name ?? '/';
      if (!mount.startsWith('/')) throw new UsageError(`--target ${mount}: expected a mount point such as / or /var`);
      target = { kind: 'host', name: mount };
      set('host.mount', mount);
      usual = `host:disk:${mount}`;
      break;
    }
    case 'none':
      target = { kind: 'none', name: name ?? '' };
      break;
  }
  set('target.name', target.name);
  const chk = check ?? usual;
  set('check.id', chk);
  return { target, ...(chk !== undefined ? { check: chk } : {}), vars };
}

function fillParams(p: Record<string, string | number | boolean | string[]>, vars: Map<string, string>, where: string): StepParams {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, typeof v === 'string' ? fill(v, vars, `${where}.params.${k}`) : Array.isArray(v) ? v.map((x, i) => fill(x, vars, `${where}.params.${k}[${i}]`)) : v]));
}

function ref(r: { action: string; params: Record<string, string | number | boolean | string[]> } | undefined, vars: Map<string, string>, where: string, file: string): ActionRef | undefined {
  if (!r) return undefined;
  checkAction(r.action, file, where);
  return { action: r.action, params: fillParams(r.params, vars, where) };
}

function checkAction(id: string, file: string, where: string): void {
  if (!Object.hasOwn(ACTIONS, id)) throw new ConfigError(`${file}: ${where}: unknown action ${JSON.stringify(id)} (expected one of: ${Object.keys(ACTIONS).sort().join(', ')})`);
}

/** Checks every action id of a runbook file against the registry (ConfigError naming the step). */
export function checkActions(spec: RunbookSpec, file: string): void {
  spec.steps.forEach((s, i) => {
    if (s.action) checkAction(s.action, file, `steps[${i}].action`);
    if (s.verify) checkAction(s.verify.action, file, `steps[${i}].verify.action`);
    if (s.undo) checkAction(s.undo.action, file, `steps[${i}].undo.action`);
  });
}

function one(s: StepSpec, i: number, vars: Map<string, string>, file: string): StepDef {
  const where = `${file}: steps[${i}] (${s.id})`;
  const action = s.action ?? 'exec';
  checkAction(action, file, `steps[${i}].action`);
  let params = fillParams(s.params, vars, where);
  if (s.exec !== undefined) {
    params = typeof s.exec === 'string' ? { ...params, command: fill(s.exec, vars, `${where}.exec`, true), shell: true } : { ...params, argv: s.exec.map((a, j) => fill(a, vars, `${where}.exec[${j}]`)) };
  }
  if (s.timeout !== undefined) params = { ...params, timeoutMs: s.timeout };
  const dangerous = ACTIONS[action]?.dangerous ?? true;
  const verifyWith = ref(s.verify, vars, `${where}.verify`, file);
  const undoWith = ref(s.undo, vars, `${where}.undo`, file);
  const retry = typeof s.on_failure === 'object' ? { attempts: s.on_failure.retry.attempts, backoffMs: s.on_failure.retry.backoff, factor: s.on_failure.retry.factor, capMs: s.on_failure.retry.cap } : undefined;
  const why = fill(s.why, vars, `${where}.why`);
  return {
    id: s.id,
    title: fill(s.title, vars, `${where}.title`),
    detail: why,
    why,
    // A step only a person may do (manual, notify) is always put to a person who is there; unattended it is skipped or stops the run.
    confirm: s.confirm ?? (dangerous || ACTIONS[action]?.personOnly !== undefined),
    optional: s.skippable,
    mutating: dangerous,
    action,
    params,
    ...(verifyWith ? { verifyWith } : {}),
    ...(undoWith ? { undoWith } : {}),
    ...(retry ? { retry } : {}),
    onFailure: typeof s.on_failure === 'object' ? s.on_failure.then : s.on_failure,
  };
}

/** The engine steps of a runbook for a resolved target; a value missing from the configuration is a `params` failure naming it. */
export function renderSteps(spec: RunbookSpec, r: Resolved, file: string): StepDef[] {
  return spec.steps.map((s, i) => one(s, i, r.vars, file));
}
