// Reading what an engine holds: containers (list + inspect, narrowed to ContainerInfo) and image
// tags (issue #15: one concern of the Docker facade).

import type Dockerode from 'dockerode';
import type { ContainerHealth, ContainerInfo, ContainerState } from '../../domain/observations.js';
import { ok, type Result } from '../../domain/result.js';
import { mapLimit } from '../util.js';
import type { DockerTransport } from './transport.js';

/** Lists and inspects containers (bounded concurrency), reusing an inspect while its list entry is unchanged. */
export class ContainerReader {
  /** Inspect results by container id, reused while the list entry's signature is unchanged. */
  private readonly inspectCache = new Map<string, { sig: string; info: ContainerInfo }>();

  constructor(
    private readonly t: DockerTransport,
    private readonly concurrency = 16,
  ) {}

  /**
   * All containers (running or not), optionally only one compose project's, each inspected —
   * except, with `light`, the settled ones (see listSignature), described from the list alone
   * (no restart count or start time; pid 0): for one-shot runs like `check`, where 200 inspects
   * would dominate the wall time.
   */
  async list(opts: { composeProject?: string; light?: boolean } = {}): Promise<Result<ContainerInfo[]>> {
    const filters = opts.composeProject ? { label: [`com.docker.compose.project=${opts.composeProject}`] } : undefined;
    const query = `all=1${filters ? `&filters=${encodeURIComponent(JSON.stringify(filters))}` : ''}`;
    const list = await this.t.get('list containers', `/containers/json?${query}`, (d, abortSignal) =>
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

  /** Inspects one container by id or name. */
  async inspect(idOrName: string): Promise<Result<ContainerInfo>> {
    const r = await this.inspectRaw(idOrName, idOrName);
    return r.ok ? ok(toContainerInfo(r.value)) : r;
  }

  /** The tags of the images present on the engine (`<none>:<none>` left out). */
  async imageTags(): Promise<Result<string[]>> {
    const r = await this.t.get('list images', '/images/json', (d, abortSignal) => d.listImages({ abortSignal }));
    return r.ok ? ok(r.value.flatMap((i) => i.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>')) : r;
  }

  private inspectRaw(idOrName: string, label: string): Promise<Result<Dockerode.ContainerInspectInfo>> {
    return this.t.get(`inspect ${label}`, `/containers/${encodeURIComponent(idOrName)}/json`, (d, abortSignal) => d.getContainer(idOrName).inspect({ abortSignal }));
  }
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
    ...(i.HostConfig?.RestartPolicy?.Name !== undefined ? { restartPolicy: i.HostConfig.RestartPolicy.Name || 'no' } : {}),
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
