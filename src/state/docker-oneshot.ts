// `check`'s one-shot Docker read over the API (remote engine, or stats_source: api), out of
// sources.ts (its size): the sample both Docker paths return, and the two-read plan below.
import type { Config } from '../config/schema.js';
import { matchService } from '../domain/evaluate.js';
import type { ContainerInfo, ContainerStats } from '../domain/observations.js';
import type { DockerService } from '../services/docker.js';

export interface DockerSample {
  engine: Awaited<ReturnType<DockerService['version']>>;
  containers: Awaited<ReturnType<DockerService['containers']>> | undefined;
  stats: Map<string, ContainerStats>;
  /** Running containers deliberately not read, with why (`check` on the API stats path). */
  unmeasured?: Map<string, string>;
}

/** Why `check` on the API stats path has no CPU/memory figures for an undeclared container. */
export const NOT_READ_REASON =
  'not read: over the Docker API, check reads stats only for declared services (each read costs the daemon one collection per container and waits for its 1 s sampling cycle)';

/**
 * `check` on the API stats path (remote engine, or stats_source: api). Measured on Docker 20.10
 * (issue #2): a one-shot stats request waits for the daemon's next 1 s sampling tick (only the one
 * that wakes an idle collector is answered at once); requests in flight together share that tick;
 * every read costs the daemon one collection of that container (200 containers ≈ 0.4 CPU-s).
 * `docker stats --no-stream` makes exactly two collections per container, so one read of every
 * container already costs about half of it and two reads about all of it: the target (≤ ½ its
 * daemon CPU, < 2 s) leaves no room to read undeclared containers at all. So: declared services'
 * running containers are read in prime and again in run — a real two-read CPU %, one daemon cycle
 * apart; every other running container is listed (state, health) but not read, and says why.
 * No second version/list call in run.
 */
export function apiOneShot(docker: DockerService, listOpts: { composeProject?: string; light: boolean }, services: Config['services']) {
  let primed: (DockerSample & { pinned: ContainerInfo[] }) | undefined;
  return {
    async prime(): Promise<DockerSample & { pinned: ContainerInfo[] }> {
      // Version and list in parallel: one round trip less before the first stats tick.
      const [engine, listed] = await Promise.all([docker.version(), docker.containers(listOpts)]);
      const containers = engine.ok ? listed : undefined;
      const pinned = new Map<string, ContainerInfo>();
      for (const svc of services) {
        if (!svc.container && !svc.compose_service) continue;
        const c = containers?.ok ? matchService(svc, containers.value) : undefined;
        if (c?.state === 'running') pinned.set(c.id, c);
      }
      const unmeasured = new Map<string, string>();
      if (containers?.ok) for (const c of containers.value) if (c.state === 'running' && !pinned.has(c.id)) unmeasured.set(c.id, NOT_READ_REASON);
      const stats = await docker.stats([...pinned.values()]);
      primed = { engine, containers, stats, unmeasured, pinned: [...pinned.values()] };
      return primed;
    },
    async run(): Promise<DockerSample> {
      const p = primed ?? (await this.prime());
      const stats = await docker.stats(p.pinned);
      for (const c of p.pinned) {
        const st = stats.get(c.id);
        if (st && st.cpuPercent === undefined) st.cpuMissing = 'its first stats read failed, so there is nothing to pair the second with';
      }
      return { ...p, stats };
    },
  };
}
