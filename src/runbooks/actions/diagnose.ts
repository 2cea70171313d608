// Diagnosis actions for the api-degraded runbook (issue #16), the manual's API troubleshooting: the
// service's recent error and warning lines (its container's log, else its configured log file),
// its container's CPU and memory, and the state of every configured dependency (SQLite, Redis).
// None changes anything; each reports what it found as its note (multi-line, escaped).

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Config, ServiceConfig } from '../../config/schema.js';
import { Failure } from '../../domain/errors.js';
import { formatBytes, formatPercent } from '../../domain/format.js';
import { logLevel } from '../../domain/log-level.js';
import { printable } from '../../domain/printable.js';
import type { GenericDeps } from '../../engine/actions.js';
import type { Action, StepContext } from '../../engine/driver.js';
import type { DockerService } from '../../services/docker.js';
import { RedisProbe } from '../../services/redis.js';
import { probeSqlite } from '../../services/sqlite.js';
import { containerOf, dockerForService } from '../../services/writers.js';
import { configOf as configFrom, namedEntry } from './config.js';

type X = StepContext<unknown, GenericDeps>;

/** The typed ids of the diagnosis actions. */
export type DiagnoseActionId = 'diagnose.logs' | 'diagnose.resources' | 'diagnose.dependencies';

const configOf = (x: X): Config => configFrom(x, '(services, logs, databases, Redis)');

/** The configured service named by param `service`. */
export function serviceOf(x: X): ServiceConfig {
  return namedEntry(x, configOf(x).services, 'service', 'service');
}

const isContainer = (s: ServiceConfig) => !!(s.container || s.compose_service);

/** The container of a service (its compose service looked up by label). */
async function containerName(d: DockerService, s: ServiceConfig): Promise<string> {
  return containerOf(d, { service: s.name, ...(s.container ? { container: s.container } : {}), ...(s.compose_service ? { composeService: s.compose_service } : {}) });
}

/** How much of a log file is read: its end only (a log can be gigabytes). */
export const TAIL_BYTES = 256 * 1024;

/** The lines of the last `bytes` of a file (the first, cut line dropped when the file is longer). */
export function tailFile(path: string, bytes = TAIL_BYTES): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Failure('not-found', `log file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    const from = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - from);
    const n = readSync(fd, buf, 0, buf.length, from);
    const lines = buf.subarray(0, n).toString('utf8').split(/\r?\n/);
    if (from > 0) lines.shift();
    if (lines.at(-1) === '') lines.pop();
    return lines;
  } finally {
    closeSync(fd);
  }
}

/** Where a service's log lines come from: its container's log, else the configured log file of its name (or param `log`). */
async function logLinesOf(x: X): Promise<{ source: string; lines: string[] }> {
  const s = serviceOf(x);
  const c = configOf(x);
  const named = typeof x.step.params?.log === 'string' && x.step.params.log ? x.step.params.log : undefined;
  if (isContainer(s) && !named) {
    const d = dockerForService(c, s.name);
    const name = await containerName(d, s);
    const r = await d.tailLogs(name, 500);
    if (!r.ok) throw new Failure('docker', `logs of ${name}: ${r.error.message}`);
    return { source: `the last ${r.value.length} lines of container ${name}'s log`, lines: r.value };
  }
  const want = named ?? s.name;
  const log = c.logs.find((l) => l.name === want);
  if (!log) throw new Failure('not-found', `service ${s.name} has no container and no logs[] entry named ${JSON.stringify(want)} (expected one of: ${c.logs.map((l) => l.name).join(', ') || 'none configured'}; or set param log)`);
  return { source: `the last ${formatBytes(TAIL_BYTES)} of ${log.path}`, lines: tailFile(log.path) };
}

const logs: Action<unknown, GenericDeps> = {
  dangerous: false,
  preview(x) {
    const s = serviceOf(x);
    return `read ${s.name}'s recent log (${isContainer(s) ? 'its container, last 500 lines' : `log file, last ${formatBytes(TAIL_BYTES)}`}) for error and warning lines`;
  },
  async execute(x) {
    const s = serviceOf(x);
    const v = x.step.params?.lines;
    const n = typeof v === 'number' && v > 0 ? v : 10;
    const { source, lines } = await logLinesOf(x);
    const bad = lines.filter((l) => {
      const level = logLevel(l);
      return level === 'error' || level === 'warn';
    });
    if (!bad.length) return `${s.name}: no error lines in ${source}`;
    const shown = bad.slice(-n);
    return [`${s.name}: ${bad.length} error/warning lines in ${source}${bad.length > n ? `, the last ${n}` : ''}:`, ...shown.map((l) => `  ${printable(l)}`)].join('\n');
  },
};

/** Two stats samples a second apart (the first gives memory; CPU % needs the second). */
async function sample(d: DockerService, name: string, signal: AbortSignal): Promise<string> {
  const info = await d.inspect(name);
  if (!info.ok) throw new Failure('docker', `container ${name}: ${info.error.message}`);
  if (info.value.state !== 'running') return `container ${name} is ${info.value.state}: no CPU or memory to read`;
  await d.stats([info.value]);
  await new Promise((res) => setTimeout(res, signal.aborted ? 0 : 1000));
  const s = (await d.stats([info.value])).get(info.value.id);
  if (!s) return `container ${name} is running; its figures cannot be read now`;
  const mem = `memory ${formatBytes(s.memUsedBytes)}${s.memLimitBytes ? ` of ${formatBytes(s.memLimitBytes)} (${formatPercent(s.memPercent)})` : ` (${formatPercent(s.memPercent)} of the host)`}`;
  return `container ${name} is running: CPU ${s.cpuPercent !== undefined ? formatPercent(s.cpuPercent) : '?'}, ${mem}, restarted ${info.value.restartCount} times`;
}

const resources: Action<unknown, GenericDeps> = {
  dangerous: false,
  preview: (x) => `read ${serviceOf(x).name}'s container CPU % and memory (two samples a second apart)`,
  async execute(x) {
    const s = serviceOf(x);
    if (!isContainer(s)) return `not a container: service ${s.name} runs ${s.start_command ? `by its commands (${s.start_command})` : 'outside Docker'}; nothing to read here`;
    const d = dockerForService(configOf(x), s.name);
    return sample(d, await containerName(d, s), x.signal);
  },
};

const dependencies: Action<unknown, GenericDeps> = {
  dangerous: false,
  preview: (x) => {
    const c = configOf(x);
    return `check every configured dependency: ${c.databases.length} SQLite databases (quick_check) and ${c.redis.length} Redis instances (PING, INFO memory)`;
  },
  async execute(x) {
    // Never fails: what cannot be reached is what it reports.
    const c = x.deps.config;
    if (!c) return 'this run has no configuration: no dependencies to check';
    const out = await Promise.all([
      ...c.databases.map(async (d) => {
        const r = await probeSqlite(d.path, d.timeout);
        if (!r.ok) return `database ${d.name}: ${r.error.message}`;
        const q = r.value.quickCheck;
        return `database ${d.name}: ${q.length === 1 && q[0] === 'ok' ? 'quick_check ok' : `quick_check FAILED: ${q.slice(0, 2).join('; ')}`}, ${formatBytes(r.value.sizeBytes)}`;
      }),
      ...c.redis.map(async (e) => {
        const p = new RedisProbe(e.url, e.timeout);
        try {
          const r = await p.probe();
          if (!r.ok) return `Redis ${e.name}: ${r.error.kind}: ${r.error.message}`;
          const h = r.value;
          return `Redis ${e.name}: answers in ${h.latencyMs.toFixed(1)} ms, used ${formatBytes(h.usedMemoryBytes)}${h.maxMemoryBytes ? ` of ${formatBytes(h.maxMemoryBytes)} (${formatPercent(h.memoryPercent ?? 0)})` : ', no maxmemory'}, ${h.evictedKeys} keys evicted`;
        } finally {
          p.close();
        }
      }),
    ]);
    return out.length ? out.map((l) => printable(l)).join('\n') : 'no databases and no Redis configured';
  },
};

/** The diagnosis actions by id. */
export const DIAGNOSE_ACTIONS: Record<DiagnoseActionId, Action<unknown, GenericDeps>> = {
  'diagnose.logs': logs,
  'diagnose.resources': resources,
  'diagnose.dependencies': dependencies,
};
