import { execFile } from 'node:child_process';
import { Failure } from '../domain/errors.js';
import type { CheckResult } from '../domain/check.js';
import type { Config } from '../config/schema.js';
import type { StepDef, StepParams } from '../domain/runbook.js';
import { createBackup, verifyBackup } from '../services/backup.js';
import { waitHealthy, dockerForHost } from '../services/writers.js';
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
  /** The configuration the run was started with (services, Redis, databases, thresholds, backups). */
  config?: Config;
  /** The state folder (the run journal, audit log, safety copies). */
  stateDir?: string;
  /** The configuration file (relative paths in it — config_files, apps[].dir — are from its folder); unset when none was found. */
  configFile?: string;
}

/** What a runbook run from a file acts on (issue #16): a configured entry by kind and name. */
export interface RunTarget {
  kind: 'service' | 'database' | 'redis' | 'endpoint' | 'host' | 'app' | 'none';
  /** The entry's name (`api`), a mount point for `host` (`/`), empty for `none`. */
  name: string;
}

/** The journaled context of a runbook-file run: which runbook, on what, from which alert, and what its steps found. */
export interface GenericCtx {
  runbook: string;
  /** Set when run from a file (`opsdeck runbook run ./fix.yaml`): resume reads the same file. */
  file?: string;
  target: RunTarget;
  /** The check whose alert started it (`http:api`). */
  check?: string;
  /** What earlier steps found, for later ones (`redis.biggest_prefix`); journaled, redacted. */
  facts: Record<string, string | number>;
}

/** The facts of the run so far (empty for runs without them, such as restore). */
export const factsOf = (x: StepContext<unknown, unknown>): Record<string, string | number> => (x.record.ctx as Partial<GenericCtx> | undefined)?.facts ?? {};

/** Journals a fact for later steps (before the step's side effect, like every context change). */
export function remember(x: StepContext<unknown, unknown>, key: string, value: string | number): void {
  const ctx = x.record.ctx as GenericCtx;
  x.persist({ ...ctx, facts: { ...ctx.facts, [key]: value } });
}

/** The typed ids of the generic actions. */
export type GenericActionId = 'container.start' | 'container.stop' | 'container.restart' | 'exec' | 'sql' | 'http' | 'backup' | 'wait' | 'manual' | 'check';

type P = StepParams;
/** A text parameter; missing or empty is a `params` failure naming the step. */
export const str = (p: P | undefined, k: string, step: StepDef): string => {
  const v = p?.[k];
  if (typeof v !== 'string' || !v) throw new Failure('params', `step ${step.id}: parameter ${k} (a text) is missing`);
  return v;
};
/** A number parameter (or a whole number filled in from a `{{…}}` value as text), or its default. */
export const num = (p: P | undefined, k: string, dflt: number): number => {
  const v = p?.[k];
  return typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : dflt;
};
/** An argv parameter (a list of texts, each one argument); missing or empty is a `params` failure. */
export const argvOf = (p: P | undefined, k: string, step: StepDef): readonly string[] => {
  const v = p?.[k];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string')) throw new Failure('params', `step ${step.id}: parameter ${k} (a list of arguments) is missing`);
  return v;
};

type G = StepContext<unknown, GenericDeps>;

/** A container step's `host` param: a configured host's name (issue #25), or none (the local engine). */
const hostParam = (x: G): string | undefined => {
  const h = x.step.params?.host;
  return typeof h === 'string' && h !== '' ? h : undefined;
};
/** The engine a container step acts on: its `host`'s, else `dockerHost`, else the configuration's local engine. */
const engineOf = (x: G) => dockerForHost(x.deps.config, hostParam(x), typeof x.step.params?.dockerHost === 'string' ? x.step.params.dockerHost : undefined);

function container(kind: 'start' | 'stop' | 'restart'): Action<unknown, GenericDeps> {
  return {
    dangerous: true,
    preview(x) {
      const name = str(x.step.params, 'container', x.step);
      const healthy = num(x.step.params, 'healthyWithinMs', 0);
      const host = hostParam(x);
      if (host !== undefined) dockerForHost(x.deps.config, host); // an unknown host is refused at the preview
      return `${kind} container ${name}${host !== undefined ? ` on host ${host}` : ''}${kind !== 'stop' && healthy ? `, then wait up to ${Math.round(healthy / 1000)} s for it to run and pass its health check` : ''}`;
    },
    async execute(x) {
      const p = x.step.params;
      const name = str(p, 'container', x.step);
      const d = engineOf(x);
      const r = kind === 'start' ? await d.start(name) : kind === 'stop' ? await d.stop(name) : await d.restart(name);
      if (!r.ok) throw new Failure('docker', `${kind} ${name}: ${r.error.message}`);
      const healthy = num(p, 'healthyWithinMs', 0);
      const on = hostParam(x) !== undefined ? ` on host ${hostParam(x) ?? ''}` : '';
      return kind !== 'stop' && healthy ? `${await waitHealthy(d, name, healthy, x.signal)}${on}` : `${name} ${kind === 'stop' ? 'stopped' : kind === 'start' ? 'started' : 'restarted'}${on}`;
    },
    ...(kind === 'restart'
      ? {}
      : {
          async undo(x: G) {
            const name = str(x.step.params, 'container', x.step);
            const d = engineOf(x);
            const r = kind === 'start' ? await d.stop(name) : await d.start(name);
            if (!r.ok) throw new Failure('docker', `undo ${kind} ${name}: ${r.error.message}`);
            return `${name} ${kind === 'start' ? 'stopped' : 'started'} again`;
          },
        }),
  };
}

/** How much of a command's output the note keeps (its last lines). */
const TAIL_LINES = 3;

/**
 * Runs a program with its arguments, no shell between (each argv element reaches it as one
 * argument, whatever it holds); its output's last lines are the note, a non-zero exit a failure.
 */
export function runArgv(argv: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<string> {
  const [file, ...args] = argv as [string, ...string[]];
  return new Promise((res, rej) => {
    execFile(file, args, { timeout: timeoutMs, signal, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const tail = `${stdout}${stderr}`.trim().split('\n').slice(-TAIL_LINES).join(' | ');
      if (!err) return res(tail || 'exit 0');
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
      const why = e.code === 'ENOENT' ? `${file}: no such program` : e.code === 'EACCES' ? `${file}: not executable` : e.killed || e.name === 'AbortError' ? `timed out after ${timeoutMs / 1000} s or cancelled` : `exit ${String(e.code)}`;
      rej(new Failure('exec', `command failed (${why})${tail ? `: ${tail}` : ''}`));
    });
  });
}

/** Shows an argv as one line a person can read and paste: plain words bare, others single-quoted. */
export const showArgv = (argv: readonly string[]): string => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');

/** The generic actions by id. */
export const GENERIC_ACTIONS: Record<GenericActionId, Action<unknown, GenericDeps>> = {
  'container.start': container('start'),
  'container.stop': container('stop'),
  'container.restart': container('restart'),
  exec: {
    // argv: one program and its arguments, no shell; command + shell: the exact line given to /bin/sh -c.
    dangerous: true,
    preview(x) {
      const p = x.step.params;
      const limit = `(at most ${num(p, 'timeoutMs', 60_000) / 1000} s)`;
      return p?.shell === true ? `run in /bin/sh -c: ${str(p, 'command', x.step)} ${limit}` : `run: ${showArgv(argvOf(p, 'argv', x.step))} ${limit}`;
    },
    execute(x) {
      const p = x.step.params;
      const timeout = num(p, 'timeoutMs', 60_000);
      return p?.shell === true ? runArgv(['/bin/sh', '-c', str(p, 'command', x.step)], timeout, x.signal) : runArgv(argvOf(p, 'argv', x.step), timeout, x.signal);
    },
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
