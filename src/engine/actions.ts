import { execFile } from 'node:child_process';
import { Failure } from '../domain/errors.js';
import type { CheckResult } from '../domain/check.js';
import type { StepDef } from '../domain/runbook.js';
import { createBackup, verifyBackup } from '../services/backup.js';
import { waitHealthy, dockerFor } from '../services/writers.js';
import type { Action, StepContext } from './driver.js';

// The engine's generic actions (issue #14), by typed id: what runbooks other than restore are made
// of (update, failover, repair, self-healing). Each reads its parameters from the step
// (`step.params`, journaled with secrets redacted), previews exactly what it will do with its
// targets resolved, and is idempotent or safe to run again after a kill. The restore's own steps
// (stages, merge, safety copy) are src/runbooks/restore-steps.ts.

/** What generic actions may need from the run's environment. */
export interface GenericDeps {
  /** Runs the configured checks once and returns the one with this id (the `check` action). */
  check?: (id: string) => Promise<CheckResult | undefined>;
}

/** The typed ids of the generic actions. */
export type GenericActionId = 'container.start' | 'container.stop' | 'container.restart' | 'exec' | 'sql' | 'http' | 'backup' | 'wait' | 'manual' | 'check';

type P = Record<string, string | number | boolean>;
const str = (p: P | undefined, k: string, step: StepDef): string => {
  const v = p?.[k];
  if (typeof v !== 'string' || !v) throw new Failure('params', `step ${step.id}: parameter ${k} (a text) is missing`);
  return v;
};
const num = (p: P | undefined, k: string, dflt: number): number => (typeof p?.[k] === 'number' ? (p[k]) : dflt);

type G = StepContext<unknown, GenericDeps>;

function container(kind: 'start' | 'stop' | 'restart'): Action<unknown, GenericDeps> {
  return {
    dangerous: true,
    preview(x) {
      const name = str(x.step.params, 'container', x.step);
      const healthy = num(x.step.params, 'healthyWithinMs', 0);
      return `${kind} container ${name}${kind !== 'stop' && healthy ? `, then wait up to ${Math.round(healthy / 1000)} s for it to run and pass its health check` : ''}`;
    },
    async execute(x) {
      const p = x.step.params;
      const name = str(p, 'container', x.step);
      const d = dockerFor(typeof p?.dockerHost === 'string' ? p.dockerHost : undefined);
      const r = kind === 'start' ? await d.start(name) : kind === 'stop' ? await d.stop(name) : await d.restart(name);
      if (!r.ok) throw new Failure('docker', `${kind} ${name}: ${r.error.message}`);
      const healthy = num(p, 'healthyWithinMs', 0);
      return kind !== 'stop' && healthy ? await waitHealthy(d, name, healthy, x.signal) : `${name} ${kind === 'stop' ? 'stopped' : kind === 'start' ? 'started' : 'restarted'}`;
    },
    ...(kind === 'restart'
      ? {}
      : {
          async undo(x: G) {
            const name = str(x.step.params, 'container', x.step);
            const d = dockerFor(typeof x.step.params?.dockerHost === 'string' ? x.step.params.dockerHost : undefined);
            const r = kind === 'start' ? await d.stop(name) : await d.start(name);
            if (!r.ok) throw new Failure('docker', `undo ${kind} ${name}: ${r.error.message}`);
            return `${name} ${kind === 'start' ? 'stopped' : 'started'} again`;
          },
        }),
  };
}

/** Runs a shell command (through /bin/sh); its output's last lines are the note. */
function sh(command: string, timeoutMs: number, signal: AbortSignal): Promise<string> {
  return new Promise((res, rej) => {
    execFile('/bin/sh', ['-c', command], { timeout: timeoutMs, signal, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const tail = `${stdout}${stderr}`.trim().split('\n').slice(-3).join(' | ');
      if (!err) res(tail || 'exit 0');
      else rej(new Failure('exec', `command failed (${(err as { killed?: boolean }).killed ? `timed out after ${timeoutMs / 1000} s` : `exit ${String(err.code)}`})${tail ? `: ${tail}` : ''}`));
    });
  });
}

/** The generic actions by id. */
export const GENERIC_ACTIONS: Record<GenericActionId, Action<unknown, GenericDeps>> = {
  'container.start': container('start'),
  'container.stop': container('stop'),
  'container.restart': container('restart'),
  exec: {
    dangerous: true,
    preview: (x) => `run in /bin/sh: ${str(x.step.params, 'command', x.step)} (at most ${num(x.step.params, 'timeoutMs', 60_000) / 1000} s)`,
    execute: (x) => sh(str(x.step.params, 'command', x.step), num(x.step.params, 'timeoutMs', 60_000), x.signal),
  },
  sql: {
    dangerous: true,
    preview: (x) => `in one transaction on ${str(x.step.params, 'database', x.step)}: ${str(x.step.params, 'statement', x.step)}`,
    async execute(x) {
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(str(x.step.params, 'database', x.step), { fileMustExist: true, timeout: 10_000 });
      try {
        const n = db.transaction(() => db.prepare(str(x.step.params, 'statement', x.step)).run().changes)();
        return `${n} rows changed`;
      } finally {
        db.close();
      }
    },
  },
  http: {
    dangerous: true,
    preview: (x) => `${String(x.step.params?.method ?? 'GET')} ${str(x.step.params, 'url', x.step)}, expecting HTTP ${num(x.step.params, 'expect', 200)} within ${num(x.step.params, 'timeoutMs', 10_000) / 1000} s`,
    async execute(x) {
      const url = str(x.step.params, 'url', x.step);
      const expect = num(x.step.params, 'expect', 200);
      const signal = AbortSignal.any([x.signal, AbortSignal.timeout(num(x.step.params, 'timeoutMs', 10_000))]);
      let status: number;
      try {
        status = (await fetch(url, { method: String(x.step.params?.method ?? 'GET'), signal })).status;
      } catch (e) {
        throw new Failure('http', `${url}: ${(e as Error).name === 'TimeoutError' ? 'no answer in time' : (e as Error).message}`);
      }
      if (status !== expect) throw new Failure('http', `${url} answered HTTP ${status}, expected ${expect}`);
      return `${url} answered HTTP ${status}`;
    },
  },
  backup: {
    // Writes a new file beside the others and changes nothing else: not dangerous, and always safe to take again.
    dangerous: false,
    preview: (x) => `back up ${str(x.step.params, 'name', x.step)} (${str(x.step.params, 'database', x.step)}) into ${str(x.step.params, 'dir', x.step)}, then verify the backup (checksum, integrity_check)`,
    async execute(x) {
      const p = x.step.params;
      const m = await createBackup({ db: str(p, 'database', x.step), name: str(p, 'name', x.step), dir: str(p, 'dir', x.step), tables: [] });
      const v = await verifyBackup(str(p, 'dir', x.step), m);
      if (!v.verify?.ok) throw new Failure('corrupt', `backup ${m.id}: verification failed (${v.verify?.message ?? 'no result'})`);
      return `backup ${m.id} taken and verified`;
    },
  },
  wait: {
    dangerous: false,
    preview: (x) => `wait ${num(x.step.params, 'ms', 1000) / 1000} s`,
    async execute(x) {
      const ms = num(x.step.params, 'ms', 1000);
      await new Promise<void>((res) => {
        const t = setTimeout(res, ms);
        x.signal.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
      });
      if (x.signal.aborted) throw new Failure('cancelled', 'wait cancelled');
      return `waited ${ms / 1000} s`;
    },
  },
  manual: {
    dangerous: false,
    preview: (x) => `a person does this, then answers y: ${str(x.step.params, 'instruction', x.step)}`,
    personOnly: () => 'a manual step needs a person',
    execute: () => Promise.resolve('done by the operator'),
  },
  check: {
    dangerous: false,
    preview: (x) => `check ${str(x.step.params, 'check', x.step)} is OK`,
    async execute(x) {
      const id = str(x.step.params, 'check', x.step);
      if (!x.deps.check) throw new Failure('internal', `check ${id}: this run has no checks to ask`);
      const r = await x.deps.check(id);
      if (!r) throw new Failure('not-found', `check ${id}: no such check in the configuration`);
      if (r.status !== 'ok') throw new Failure('check', `check ${id} is ${r.status}: ${r.message}`);
      return `${id} ok: ${r.message}`;
    },
  },
};

/** Whether an id names a generic action. */
export const isGenericAction = (id: string): id is GenericActionId => Object.hasOwn(GENERIC_ACTIONS, id);
