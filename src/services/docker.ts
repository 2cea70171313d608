// Over 300 lines, knowingly: every Docker Engine call opsdeck makes (list, inspect, stats, actions,
// the polling path over node:http) sits behind this one adapter, so time-outs and errors are mapped
// in one place (issue #15 turns it into the Docker facade).

import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { homedir, totalmem } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { ContainerHealth, ContainerInfo, ContainerState, ContainerStats, EngineVersion } from '../domain/observations.js';
import { fail, ok, type ErrorKind, type Result } from '../domain/result.js';
import { CgroupReader } from './cgroup.js';
import { mapLimit, withTimeout } from './util.js';

/** Where and how the engine is reached. */
export interface DockerEndpoint {
  /** For messages: `unix:///var/run/docker.sock`, `tcp://host:2376`. */
  display: string;
  options: Dockerode.DockerOptions;
  local: boolean;
  /** True when no address was given and the default socket is used. */
  isDefault: boolean;
}

/** Resolves the engine address: explicit host, then $DOCKER_HOST, then the default socket (docker-modem's order). */
export function resolveDockerEndpoint(host: string | undefined, env: NodeJS.ProcessEnv = process.env): DockerEndpoint {
  const addr = host ?? env.DOCKER_HOST;
  if (!addr) {
    const desktop = join(env.HOME || homedir(), '.docker/run/docker.sock');
    const socketPath = existsSync(desktop) ? desktop : '/var/run/docker.sock';
    return { display: `unix://${socketPath}`, options: { socketPath }, local: true, isDefault: true };
  }
  if (addr.startsWith('unix://')) {
    const socketPath = addr.slice('unix://'.length);
    return { display: addr, options: { socketPath }, local: true, isDefault: false };
  }
  if (addr.startsWith('/')) return { display: `unix://${addr}`, options: { socketPath: addr }, local: true, isDefault: false };
  const url = new URL(addr.includes('://') ? addr : `tcp://${addr}`);
  const port = url.port || (url.protocol === 'ssh:' ? '22' : '2375');
  const tls = env.DOCKER_TLS_VERIFY === '1' || port === '2376';
  const protocol = url.protocol === 'ssh:' ? 'ssh' : tls ? 'https' : 'http';
  return {
    display: `${url.protocol}//${url.hostname}:${port}`,
    options: { host: url.hostname, port, protocol, ...(url.username ? { username: url.username } : {}) },
    local: false,
    isDefault: false,
  };
}

/** Turns a dockerode / socket error into an actionable ServiceError. */
export function dockerError(err: unknown, endpoint: string, what: string): { kind: ErrorKind; message: string } {
  const e = err as NodeJS.ErrnoException & { statusCode?: number; json?: { message?: string } };
  if (e.code === 'ENOENT') return { kind: 'unavailable', message: `no Docker engine socket at ${endpoint} (is dockerd running?)` };
  if (e.code === 'ECONNREFUSED')
    return { kind: 'unavailable', message: `Docker engine at ${endpoint} refused the connection (is dockerd running?)` };
  if (e.code === 'EACCES')
    return { kind: 'auth', message: `permission denied on ${endpoint} (run as root or join the docker group)` };
  if (e.code === 'ETIMEDOUT' || e.name === 'TimeoutError')
    return { kind: 'timeout', message: `Docker engine at ${endpoint} did not answer ${what} in time` };
  if (e.statusCode === 404) return { kind: 'not-found', message: `${what}: ${e.json?.message ?? 'not found'}` };
  const detail = e.json?.message ?? e.message ?? String(err);
  return { kind: 'unknown', message: `Docker engine at ${endpoint}: ${what} failed: ${detail}` };
}

interface PrevCpu {
  at: number;
  cpuNs: number;
  systemNs?: number;
}

/**
 * The Docker adapter. Reads containers (list + inspect, bounded concurrency) and their stats:
 * from the cgroup files for a local engine, through one-shot stats for a remote one.
 * Every call has a timeout and returns a Result; nothing throws.
 */
export class DockerService {
  private client?: Dockerode;
  private readonly cgroups = new CgroupReader();
  private readonly prevCpu = new Map<string, PrevCpu>();
  private apiVersion?: string;
  /** Inspect results by container id, reused while the list entry's signature is unchanged. */
  private readonly inspectCache = new Map<string, { sig: string; info: ContainerInfo }>();

  constructor(
    readonly endpoint: DockerEndpoint,
    private readonly timeoutMs = 5_000,
    private readonly concurrency = 16,
    private readonly statsConcurrency = 256,
  ) {}

  private async docker(): Promise<Dockerode> {
    if (!this.client) {
      const { default: Docker } = await import('dockerode');
      this.client = new Docker({ ...this.endpoint.options, timeout: this.timeoutMs });
    }
    return this.client;
  }

  /**
   * A GET of one JSON document for the polling path (version, list, inspect, stats). A local socket
   * or a plain-HTTP engine is asked over node:http directly; only TLS and SSH engines go through
   * dockerode. Why: loading dockerode costs ~100 ms and ~20 MB of a 50-container console's start
   * (docker-modem loads ssh2, dockerode loads gRPC/protobuf for BuildKit sessions; measured with
   * `require` timings and process.memoryUsage, issue #3), on the path to the first frame. It is
   * still loaded, lazily, for actions and log streams. Errors carry what dockerode's carry
   * (`code`, `statusCode`, `json.message`), so dockerError maps both alike.
   */
  private async get<T>(what: string, path: string, viaClient: (d: Dockerode, signal: AbortSignal) => Promise<T>): Promise<Result<T>> {
    const plain = this.plainHttp();
    if (!plain) return this.call(what, viaClient);
    try {
      return ok(await withTimeout(this.timeoutMs, (signal) => getJson<T>(plain, path, signal)));
    } catch (err) {
      const { kind, message } = dockerError(err, this.endpoint.display, what);
      return fail(kind, 'docker', message);
    }
  }

  private plain?: PlainHttp | null;

  private plainHttp(): PlainHttp | undefined {
    if (this.plain === undefined) {
      const o = this.endpoint.options;
      // keepAlive: a poll is ~50 requests every refresh; idle sockets are unref'd by the agent.
      const agent = new Agent({ keepAlive: true, maxSockets: Math.max(this.concurrency, 32) });
      this.plain = o.socketPath
        ? { agent, socketPath: o.socketPath }
        : o.protocol === 'http' && o.host
          ? { agent, host: o.host, port: Number(o.port ?? 2375) }
          : null;
    }
    return this.plain ?? undefined;
  }

  private async call<T>(what: string, fn: (d: Dockerode, signal: AbortSignal) => Promise<T>, timeoutMs = this.timeoutMs, long = false): Promise<Result<T>> {
    try {
      // Actions block until the container stopped (SIGTERM grace): the inactivity timeout of the
      // polling client would cut them (FACTS.md §1.7), so they use a client without it.
      const d = long ? await this.actionClient() : await this.docker();
      return ok(await withTimeout(timeoutMs, (signal) => fn(d, signal)));
    } catch (err) {
      const { kind, message } = dockerError(err, this.endpoint.display, what);
      return fail(kind, 'docker', message);
    }
  }

  private longClient?: Dockerode;

  private async actionClient(): Promise<Dockerode> {
    this.longClient ??= await this.streamClient();
    return this.longClient;
  }

  /** Engine version and API version; the cheapest reachability probe. */
  async version(): Promise<Result<EngineVersion>> {
    const t0 = performance.now();
    const r = await this.get('version', '/version', (d, abortSignal) => (d.version as (o: object) => Promise<Dockerode.DockerVersion>).call(d, { abortSignal }));
    if (!r.ok) return r;
    this.apiVersion = r.value.ApiVersion;
    return ok({ version: r.value.Version, apiVersion: r.value.ApiVersion, latencyMs: performance.now() - t0 });
  }

  /**
   * All containers (running or not), optionally only one compose project's, each inspected —
   * except, with `light`, the settled ones (see listSignature), described from the list alone
   * (no restart count or start time; pid 0): for one-shot runs like `check`, where 200 inspects
   * would dominate the wall time.
   */
  async containers(opts: { composeProject?: string; light?: boolean } = {}): Promise<Result<ContainerInfo[]>> {
    const filters = opts.composeProject ? { label: [`com.docker.compose.project=${opts.composeProject}`] } : undefined;
    const query = `all=1${filters ? `&filters=${encodeURIComponent(JSON.stringify(filters))}` : ''}`;
    const list = await this.get('list containers', `/containers/json?${query}`, (d, abortSignal) =>
      d.listContainers({ all: true, ...(filters ? { filters } : {}), abortSignal }),
    );
    if (!list.ok) return list;
    const inspected = await mapLimit(list.value, this.concurrency, async (c): Promise<Result<ContainerInfo>> => {
      const sig = listSignature(c);
      const cached = this.inspectCache.get(c.Id);
      if (sig && cached?.sig === sig) return ok(cached.info);
      if (sig && opts.light) return ok(fromListEntry(c));
      const r = await this.inspectRaw(c.Id, c.Names[0] ?? c.Id);
      if (!r.ok) return r;
      const info = toContainerInfo(r.value);
      if (sig) this.inspectCache.set(c.Id, { sig, info });
      return ok(info);
    });
    const out: ContainerInfo[] = [];
    for (const r of inspected) {
      // A container removed between list and inspect simply drops out.
      if (r.ok) out.push(r.value);
      else if (r.error.kind !== 'not-found') return r;
    }
    const live = new Set(list.value.map((c) => c.Id));
    for (const id of this.inspectCache.keys()) if (!live.has(id)) this.inspectCache.delete(id);
    return ok(out);
  }

  /** Where stats() reads from: the cgroup files of a local engine, else one-shot API stats. */
  async statsSource(): Promise<'cgroup' | 'api'> {
    return this.endpoint.local && (await this.cgroups.available()) ? 'cgroup' : 'api';
  }

  /**
   * Resource figures for running containers. CPU % is computed from our own previous sample
   * (FACTS.md §1.2: Δcpu/Δsystem × online_cpus × 100), so the first call for a container has none.
   */
  async stats(containers: readonly ContainerInfo[]): Promise<Map<string, ContainerStats>> {
    const running = containers.filter((c) => c.state === 'running');
    const out = new Map<string, ContainerStats>();
    const useCgroup = (await this.statsSource()) === 'cgroup';
    // API stats calls mostly wait for the daemon's 1 s sampling tick; requests in flight together are
    // served by the same tick (Docker 20.10, measured), so all go at once, up to statsConcurrency.
    await mapLimit(running, useCgroup ? 32 : this.statsConcurrency, async (c) => {
      const s = (useCgroup ? await this.cgroupStats(c) : undefined) ?? (await this.apiStats(c));
      if (s) out.set(c.id, s);
    });
    for (const id of this.prevCpu.keys()) if (!running.some((c) => c.id === id)) this.prevCpu.delete(id);
    if (useCgroup) this.cgroups.retain(new Set(running.map((c) => c.pid)));
    return out;
  }

  private async cgroupStats(c: ContainerInfo): Promise<ContainerStats | undefined> {
    const counters = c.pid ? await this.cgroups.read(c.pid) : await this.cgroups.readById(c.id);
    if (!counters) return undefined;
    const at = performance.now();
    const prev = this.prevCpu.get(c.id);
    this.prevCpu.set(c.id, { at, cpuNs: counters.cpuNs });
    // Δcpu-ns over Δwall-ns equals docker's Δcpu/Δsystem × online_cpus (system time runs ncpu× faster).
    const cpuPercent =
      prev && at > prev.at ? Math.max(0, ((counters.cpuNs - prev.cpuNs) / ((at - prev.at) * 1e6)) * 100) : undefined;
    return memFigures(counters.memUsedBytes, counters.memLimitBytes, cpuPercent, 'cgroup');
  }

  private async apiStats(c: ContainerInfo): Promise<ContainerStats | undefined> {
    // one-shot needs API ≥ 1.41 (Engine 20.10); older daemons get the two-sample stream:false.
    const oneShot = this.apiVersion === undefined || Number(this.apiVersion) >= 1.41;
    const r = await this.get(`stats ${c.name}`, `/containers/${c.id}/stats?stream=false${oneShot ? '&one-shot=true' : ''}`, (d, abortSignal) =>
      d.getContainer(c.id).stats({ stream: false, ...(oneShot ? { 'one-shot': true } : {}), abortSignal } as { stream: false }),
    );
    if (!r.ok) return undefined;
    const s = r.value as unknown as ApiStats;
    const cpuNs = s.cpu_stats?.cpu_usage?.total_usage ?? 0;
    const systemNs = s.cpu_stats?.system_cpu_usage ?? 0;
    const cpus = s.cpu_stats?.online_cpus ?? s.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 1;
    const prev = this.prevCpu.get(c.id) ?? precpuOf(s);
    this.prevCpu.set(c.id, { at: performance.now(), cpuNs, systemNs });
    let cpuPercent: number | undefined;
    if (prev?.systemNs !== undefined) {
      const dCpu = cpuNs - prev.cpuNs;
      const dSys = systemNs - prev.systemNs;
      // docker CLI calculateCPUPercentUnix: only when both deltas are positive, else 0.
      cpuPercent = dCpu > 0 && dSys > 0 ? (dCpu / dSys) * cpus * 100 : 0;
    }
    const mem = s.memory_stats ?? {};
    const usage = mem.usage ?? 0;
    const inactive = mem.stats?.inactive_file ?? mem.stats?.total_inactive_file ?? 0;
    const used = inactive < usage ? usage - inactive : usage;
    // Without --memory the daemon reports the host's total memory as the limit.
    const limit = mem.limit && mem.limit < totalmem() ? mem.limit : undefined;
    return memFigures(used, limit, cpuPercent, 'api');
  }

  /** Restarts a container; the request blocks until done, so the timeout is the stop grace + a margin (FACTS §1.7). */
  async restart(idOrName: string, graceSec = 10): Promise<Result<void>> {
    return this.call(`restart ${idOrName}`, (d, abortSignal) => d.getContainer(idOrName).restart({ t: graceSec, abortSignal }).then(() => undefined), (graceSec + 15) * 1000, true);
  }

  /** Stops a container; an already stopped one (HTTP 304) counts as success. */
  async stop(idOrName: string, graceSec = 10): Promise<Result<void>> {
    const r = await this.call(`stop ${idOrName}`, (d, abortSignal) => d.getContainer(idOrName).stop({ t: graceSec, abortSignal }).then(() => undefined), (graceSec + 15) * 1000, true);
    if (!r.ok && /\(HTTP code 304\)|already stopped/i.test(r.error.message)) return ok(undefined);
    return r;
  }

  /** Starts a container; an already running one (HTTP 304) counts as success. */
  async start(idOrName: string): Promise<Result<void>> {
    const r = await this.call(`start ${idOrName}`, (d, abortSignal) => d.getContainer(idOrName).start({ abortSignal }).then(() => undefined), 30_000, true);
    if (!r.ok && /\(HTTP code 304\)|already started/i.test(r.error.message)) return ok(undefined);
    return r;
  }

  /**
   * After a restart or start: watches the container for `watchMs` (issue #11: restarting a
   * crash-looping container said "done" while it exited again at once). Says whether it stayed up,
   * or exited again (with its code) — by its state, or by a restart count or start time that moved.
   */
  async settle(idOrName: string, watchMs = 3000, pollMs = 250): Promise<Result<string>> {
    const first = await this.inspect(idOrName);
    if (!first.ok) return first;
    const deadline = Date.now() + watchMs;
    let c = first.value;
    for (;;) {
      // Its state shows the exit code; a restart policy may have started it again between two looks
      // (then only the restart count or the start time moved, and the code is read on a later look).
      if (c.state === 'exited' || c.state === 'dead' || c.state === 'restarting') return ok(`restarted, but it exited again (code ${c.exitCode}) — see its log (l)`);
      const moved = c.restartCount > first.value.restartCount || (c.startedAt !== undefined && first.value.startedAt !== undefined && c.startedAt > first.value.startedAt);
      if (Date.now() >= deadline) {
        if (moved) return ok(`restarted, but it exited again and its restart policy started it ${c.restartCount - first.value.restartCount || 'again'} time(s) — see its log (l)`);
        return ok(`${c.name} is running${c.health !== 'none' ? ` (health: ${c.health})` : ''} ${Math.round(watchMs / 1000)} s after`);
      }
      await new Promise((r) => setTimeout(r, pollMs));
      const next = await this.inspect(idOrName);
      if (!next.ok) return next;
      c = next.value;
    }
  }

  /** Inspects one container by id or name. */
  async inspect(idOrName: string): Promise<Result<ContainerInfo>> {
    const r = await this.inspectRaw(idOrName, idOrName);
    return r.ok ? ok(toContainerInfo(r.value)) : r;
  }

  private inspectRaw(idOrName: string, label: string): Promise<Result<Dockerode.ContainerInspectInfo>> {
    return this.get(`inspect ${label}`, `/containers/${encodeURIComponent(idOrName)}/json`, (d, abortSignal) => d.getContainer(idOrName).inspect({ abortSignal }));
  }

  /** The dockerode client, for calls other modules own. */
  async raw(): Promise<Dockerode> {
    return this.docker();
  }

  /**
   * A client without the inactivity timeout, for long-lived streams (logs, events): dockerode's
   * `timeout` is a socket inactivity timer that would cut a quiet `logs?follow` (FACTS.md §2).
   */
  async streamClient(): Promise<Dockerode> {
    const { default: Docker } = await import('dockerode');
    return new Docker({ ...this.endpoint.options });
  }
}

/** How to reach an engine over plain HTTP (a unix socket or tcp without TLS). */
interface PlainHttp {
  agent: Agent;
  socketPath?: string;
  host?: string;
  port?: number;
}

/** GETs one JSON document from the Engine API; a status ≥ 400 rejects like docker-modem does (statusCode, json). */
function getJson<T>(to: PlainHttp, path: string, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const req = request(
      { agent: to.agent, path, method: 'GET', signal, headers: { accept: 'application/json' }, ...(to.socketPath ? { socketPath: to.socketPath } : { host: to.host, port: to.port }) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300 && json !== undefined) return resolve(json as T);
          const message = (json as { message?: string } | undefined)?.message ?? text.trim();
          reject(Object.assign(new Error(`(HTTP code ${status}) ${message}`), { statusCode: status, json: { message } }));
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * What in a list entry tells us a cached inspect is still true: state, health, exit code. Returns
 * undefined (always inspect) for containers up for less than a minute (a restart between two
 * polls changes the restart count and start time without changing the state) and for unhealthy or
 * starting ones (their failing streak and probe output change on every probe).
 */
export function listSignature(c: Dockerode.ContainerInfo): string | undefined {
  const status = c.Status ?? '';
  if (/second|unhealthy|starting|Restarting/i.test(status)) return undefined;
  const health = /\((healthy)\)/.exec(status)?.[1] ?? '';
  const exit = /^Exited \((-?\d+)\)/.exec(status)?.[1] ?? '';
  return `${c.State}|${health}|${exit}|${c.Created}`;
}

/** A ContainerInfo from a list entry alone (settled containers only): no restart count, start time or pid. */
export function fromListEntry(c: Dockerode.ContainerInfo): ContainerInfo {
  const status = c.Status ?? '';
  const state = STATES.has(c.State as ContainerState) ? (c.State as ContainerState) : 'dead';
  const labels = c.Labels ?? {};
  const composeService = labels['com.docker.compose.service'];
  const composeProject = labels['com.docker.compose.project'];
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
    image: c.Image,
    state,
    health: /\(healthy\)/.test(status) ? 'healthy' : 'none',
    restartCount: 0,
    exitCode: Number(/^Exited \((-?\d+)\)/.exec(status)?.[1] ?? 0),
    pid: 0,
    tty: false,
    ...(composeService ? { composeService } : {}),
    ...(composeProject ? { composeProject } : {}),
    labels,
  };
}

interface ApiStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: { inactive_file?: number; total_inactive_file?: number } };
}

function precpuOf(s: ApiStats): PrevCpu | undefined {
  const p = s.precpu_stats;
  if (!p?.system_cpu_usage || !p.cpu_usage?.total_usage) return undefined;
  return { at: 0, cpuNs: p.cpu_usage.total_usage, systemNs: p.system_cpu_usage };
}

const HOST_MEMORY = totalmem();

function memFigures(used: number, limit: number | undefined, cpuPercent: number | undefined, source: ContainerStats['source']): ContainerStats {
  const base = limit ?? HOST_MEMORY;
  return {
    ...(cpuPercent !== undefined ? { cpuPercent } : {}),
    memUsedBytes: used,
    ...(limit !== undefined ? { memLimitBytes: limit } : {}),
    memPercent: base > 0 ? (used / base) * 100 : 0,
    source,
  };
}

const STATES = new Set<ContainerState>(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);
const HEALTH = new Set<ContainerHealth>(['healthy', 'unhealthy', 'starting']);

/** Narrows an inspect payload (treated as partial) to ContainerInfo. */
export function toContainerInfo(i: Dockerode.ContainerInspectInfo): ContainerInfo {
  const st = (i.State ?? {}) as Partial<Dockerode.ContainerInspectInfo['State']> & {
    Health?: { Status?: string; FailingStreak?: number; Log?: { Output?: string; ExitCode?: number }[] };
  };
  const state = STATES.has(st.Status as ContainerState) ? (st.Status as ContainerState) : 'dead';
  const hs = st.Health?.Status;
  const health = HEALTH.has(hs as ContainerHealth) ? (hs as ContainerHealth) : 'none';
  const lastLog = st.Health?.Log?.at(-1);
  const labels = i.Config?.Labels ?? {};
  const started = st.StartedAt && !st.StartedAt.startsWith('0001') ? Date.parse(st.StartedAt) : undefined;
  const finished = st.FinishedAt && !st.FinishedAt.startsWith('0001') ? Date.parse(st.FinishedAt) : undefined;
  const composeService = labels['com.docker.compose.service'];
  const composeProject = labels['com.docker.compose.project'];
  return {
    id: i.Id,
    name: (i.Name ?? '').replace(/^\//, ''),
    image: i.Config?.Image ?? i.Image ?? '',
    state,
    health,
    ...(health === 'unhealthy' && lastLog?.Output ? { healthOutput: lastLog.Output.trim().slice(0, 300) } : {}),
    ...(st.Health?.FailingStreak !== undefined ? { failingStreak: st.Health.FailingStreak } : {}),
    restartCount: i.RestartCount ?? 0,
    exitCode: st.ExitCode ?? 0,
    ...(started !== undefined && !Number.isNaN(started) ? { startedAt: started } : {}),
    ...(finished !== undefined && !Number.isNaN(finished) ? { finishedAt: finished } : {}),
    pid: st.Pid ?? 0,
    tty: i.Config?.Tty ?? false,
    ...(composeService ? { composeService } : {}),
    ...(composeProject ? { composeProject } : {}),
    labels,
  };
}
