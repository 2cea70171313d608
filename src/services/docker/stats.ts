// Container resource figures like `docker stats`: from the cgroup files of a local engine, through
// one-shot API stats for a remote one (issue #15: one concern of the Docker facade).

import { totalmem } from 'node:os';
import type { ContainerInfo, ContainerStats } from '../../domain/observations.js';
import { CgroupReader, type CgroupCounters } from '../cgroup.js';
import { mapLimit } from '../util.js';
import type { DockerTransport } from './transport.js';

interface PrevCpu {
  at: number;
  cpuNs: number;
  systemNs?: number;
}

/** Samples running containers, keeping the previous CPU counters of each (CPU % is a delta). */
export class StatsReader {
  private readonly cgroups = new CgroupReader();
  private readonly prevCpu = new Map<string, PrevCpu>();
  /** The running pids the cgroup reader was last told to keep (retain runs again only when they change). */
  private retained: ReadonlySet<number> = new Set();
  /** The engine's API version, once known: one-shot stats need ≥ 1.41. */
  apiVersion?: string;

  constructor(
    private readonly t: DockerTransport,
    private readonly statsConcurrency = 256,
  ) {}

  /** Closes the cgroup files kept open. */
  close(): void {
    this.cgroups.close();
  }

  /** Where read() reads from: the cgroup files of a local engine, else one-shot API stats. */
  async source(): Promise<'cgroup' | 'api'> {
    return this.t.endpoint.local && (await this.cgroups.available()) ? 'cgroup' : 'api';
  }

  /**
   * Resource figures for running containers. CPU % is computed from our own previous sample
   * (docs/FACTS.md §1.2: Δcpu/Δsystem × online_cpus × 100), so the first call for a container has none.
   */
  async read(containers: readonly ContainerInfo[]): Promise<Map<string, ContainerStats>> {
    const running = containers.filter((c) => c.state === 'running');
    const out = new Map<string, ContainerStats>();
    const useCgroup = (await this.source()) === 'cgroup';
    // Issue #27: a container whose cgroup files are known is read at once, in one loop; only the
    // others (new, moved, their limit due again) take the path below with its lookups and awaits.
    const rest = useCgroup ? [] : running;
    if (useCgroup) {
      // One clock reading for the loop (performance.now() allocates in Node's argument checks).
      const now = performance.now();
      for (const c of running) {
        const counters = c.pid ? this.cgroups.readKnown(c.pid, now) : undefined;
        if (counters) out.set(c.id, this.cgroupFigures(c, counters, now));
        else rest.push(c);
      }
    }
    // API stats calls mostly wait for the daemon's 1 s sampling tick; requests in flight together are
    // served by the same tick (Docker 20.10, measured), so all go at once, up to statsConcurrency.
    await mapLimit(rest, useCgroup ? 32 : this.statsConcurrency, async (c) => {
      const s = (useCgroup ? await this.cgroupStats(c) : undefined) ?? (await this.apiStats(c));
      if (s) out.set(c.id, s);
    });
    const ids = new Set(running.map((c) => c.id));
    for (const id of this.prevCpu.keys()) if (!ids.has(id)) this.prevCpu.delete(id);
    if (useCgroup) {
      // What to keep changes only when the running pids do, or a lookup found a container's files again.
      const pids = running.map((c) => c.pid);
      if (rest.length > 0 || pids.length !== this.retained.size || pids.some((p) => !this.retained.has(p))) {
        this.retained = new Set(pids);
        this.cgroups.retain(this.retained);
      }
    }
    return out;
  }

  private async cgroupStats(c: ContainerInfo): Promise<ContainerStats | undefined> {
    const counters = c.pid ? await this.cgroups.read(c.pid) : await this.cgroups.readById(c.id);
    return counters ? this.cgroupFigures(c, counters) : undefined;
  }

  /** CPU % since this container's previous sample, and its memory figures. */
  private cgroupFigures(c: ContainerInfo, counters: CgroupCounters, at = performance.now()): ContainerStats {
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
    const r = await this.t.get(`stats ${c.name}`, `/containers/${c.id}/stats?stream=false${oneShot ? '&one-shot=true' : ''}`, (d, abortSignal) =>
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

/** The figures, built without spreading conditional objects (issue #27: made per container per refresh). */
function memFigures(used: number, limit: number | undefined, cpuPercent: number | undefined, source: ContainerStats['source']): ContainerStats {
  const base = limit ?? HOST_MEMORY;
  const s: ContainerStats = { memUsedBytes: used, memPercent: base > 0 ? (used / base) * 100 : 0, source };
  if (cpuPercent !== undefined) s.cpuPercent = cpuPercent;
  if (limit !== undefined) s.memLimitBytes = limit;
  return s;
}
