import type { Config } from '../config/schema.js';
import type { CheckResult } from '../domain/check.js';
import { standbyServices } from './standby.js';
import { evaluateBackupAge, evaluateFilesBackup, evaluateDocker, evaluateHost, evaluateHttp, evaluateRedis, evaluateSqlite } from '../domain/evaluate.js';
import { evaluateRowLedger } from '../domain/row-ledger.js';
import { scheduleView, scheduleFor } from '../domain/schedule.js';
import { ProbeWindow } from '../domain/window.js';
import type { ContainerInfo, ContainerStats } from '../domain/observations.js';
import { DockerService, hostEndpoint, resolveDockerEndpoint, type DockerEndpoint } from '../services/docker.js';
import { scrapeHostGauges, type HostGauges } from '../services/host-metrics.js';
import type { ServiceError } from '../domain/result.js';
import { HostSampler } from '../services/host.js';
import { backupDir, FILES_TARGET, listBackups, listFilesBackups } from '../services/backup-list.js';
import { probeHttp } from '../services/http.js';
import { RedisProbe } from '../services/redis.js';
import { probeSqlite, type TrackedRows } from '../services/sqlite.js';
import { readLastRuns, staleAfter } from './backup-scheduler.js';
import { readOpenRunChecks } from '../engine/findings.js';
import { RowLedger } from './row-ledger.js';
import { openStateDb, stateDir } from './statedb.js';
import type { AppStore, DockerData } from './store.js';
import { apiOneShot, type DockerSample } from './docker-oneshot.js';

export { NOT_READ_REASON } from './docker-oneshot.js';

/**
 * One polled source of checks (the host, the Docker engine, one Redis, one database, one endpoint).
 * `run` samples the world, writes the raw figures into the store for the console and returns the
 * check results. Sources never throw: adapters return typed results.
 */
export interface Source {
  id: string;
  /** How often the figures refresh (gauges, container stats). */
  refreshMs: number;
  /** How often the results count as a health check for alert hysteresis. */
  checkMs: number;
  /** Takes a first sample so rates (CPU %, network) exist on the next run. */
  prime?(): Promise<void>;
  /** `check`: this run counts as a health check (the monitor says; issue #27's Docker source lists the engine then). */
  run(opts?: { check?: boolean }): Promise<CheckResult[]>;
  close?(): void;
  /** `check` (issue #27): about how long the second read takes (ms), so it starts that much before the sample's end. */
  lead?(): number;
  /**
   * Whether its last run gave every check it has (absent: always). The host's first run has no CPU %
   * or network rate yet (they need two reads): until they come the console says it is still checking
   * — an operator saw "health 100% OK · every check passes" with the CPU gauge still empty.
   */
  settled?(): boolean;
}

/** Builds every source the configuration declares. */
export function buildSources(config: Config, store: AppStore, now: () => number = Date.now, opts: { oneShot?: boolean; host?: HostSampler } = {}): Source[] {
  const { actions } = store.getState();
  const sources: Source[] = [];
  const t = config.thresholds;

  // `check` hands in the sampler whose first read it took before loading (issue #27).
  const host = opts.host ?? new HostSampler('/proc', now);
  let hostSettled = false;
  sources.push({
    id: 'host',
    refreshMs: config.refresh,
    checkMs: config.interval,
    prime: async () => {
      await host.sample();
    },
    run: async () => {
      const r = await host.sample();
      hostSettled = !r.ok || r.value.cpuPercent !== undefined;
      actions.setEnvelope('host', r.ok ? { data: r.value } : { error: r.error }, now());
      return evaluateHost(r, t);
    },
    settled: () => hostSettled,
    close: () => host.close(),
  });

  // Issue #25: services listed under a host are checked on that host's engine, the rest here.
  const onHosts = new Set(config.hosts.flatMap((h) => h.services));
  const localServices = config.services.filter((s) => !onHosts.has(s.name));
  const wantDocker = config.docker.all_containers || localServices.some((s) => s.container || s.compose_service);
  if (wantDocker) {
    const resolved = resolveDockerEndpoint(config.docker.host);
    const endpoint = config.docker.stats_source === 'api' ? { ...resolved, local: false } : resolved;
    sources.push(dockerSource({
      id: 'docker', endpoint, timeoutMs: config.docker.timeout, optional: config.docker.optional, refreshMs: config.refresh, checkMs: config.interval,
      composeProject: config.docker.compose_project, allContainers: config.docker.all_containers, services: localServices,
      write: (u, at) => actions.setEnvelope('docker', u, at),
    }, opts, now));
  }
  for (const h of config.hosts) {
    const endpoint = hostEndpoint(h);
    sources.push(dockerSource({
      id: `docker@${h.name}`, endpoint, timeoutMs: h.timeout, optional: h.optional,
      // Over ssh one connection is kept and its dial-stdio channels reused (src/services/docker/ssh.ts), so the same refresh.
      refreshMs: config.refresh, checkMs: config.interval,
      composeProject: h.compose_project, allContainers: h.all_containers, services: config.services.filter((s) => h.services.includes(s.name)),
      write: (u, at) => actions.setKeyed('hosts', h.name, u, at), host: h.name,
    }, opts, now));
    if (h.metrics) sources.push(hostMetricsSource(h.name, h.metrics, h.timeout, Math.max(config.refresh, 5_000), config.interval, (u, at) => actions.setKeyed('hostGauges', h.name, u, at)));
  }

  for (const cfg of config.redis) {
    const probe = new RedisProbe(cfg.url, cfg.timeout);
    sources.push({
      id: `redis:${cfg.name}`,
      refreshMs: Math.min(config.refresh * 5, config.interval),
      checkMs: config.interval,
      run: async () => {
        const r = await probe.probe();
        actions.setKeyed('redis', cfg.name, r.ok ? { data: r.value } : { error: r.error }, now());
        return [evaluateRedis(cfg, probe.target, r, t)];
      },
      close: () => probe.close(),
    });
  }

  // The row-loss ledger lives in the state database (issue #10): opened once, shared by the
  // databases' sources, closed with them.
  let ledger: Promise<RowLedger> | undefined;
  const openLedger = () => (ledger ??= openStateDb(stateDir(config.state_dir)).then((db) => new RowLedger(db)));
  for (const cfg of config.databases) {
    sources.push({
      id: `sqlite:${cfg.name}`,
      refreshMs: config.interval,
      checkMs: config.interval,
      run: async () => {
        let rows: RowLedger | undefined;
        let ledgerError: string | undefined;
        if (cfg.critical_tables.length) {
          try {
            rows = await openLedger();
          } catch (e) {
            ledger = undefined;
            ledgerError = (e as Error).message;
          }
        }
        const tracked: TrackedRows = {};
        for (const e of rows?.entries(cfg.name) ?? []) tracked[e.table] = { known: e.known, missing: e.missing };
        const r = await probeSqlite(cfg.path, cfg.timeout, cfg.critical_tables, rows ? tracked : undefined);
        actions.setKeyed('databases', cfg.name, r.ok ? { data: r.value } : { error: r.error }, now());
        const out = [evaluateSqlite(cfg, r)];
        if (ledgerError) {
          out.push({ id: `sqlite:${cfg.name}:rows`, kind: 'sqlite', target: cfg.path, status: 'unknown', message: `cannot keep the row-loss ledger in ${stateDir(config.state_dir)}: ${ledgerError}` });
        } else if (rows && r.ok && r.value.quickCheck[0] === 'ok') {
          const at = now();
          const entries = cfg.critical_tables.flatMap((t) => {
            const n = r.value.tableRows[t];
            if (n === undefined) return [];
            const o = r.value.observations[t];
            return [o ? (rows).observe(cfg.name, t, o.key, o, at) : (rows).observeCount(cfg.name, t, n, at)];
          });
          out.push(evaluateRowLedger(cfg, r.value.tableRows, entries, r.value.conflicts, at));
        }
        return out;
      },
      close: () => {
        void ledger?.then((l) => l.close()).catch(() => undefined);
        ledger = undefined;
      },
    });
  }

  for (const cfg of config.databases) {
    const every = scheduleFor(cfg, config.backup);
    sources.push({
      id: `backup:${cfg.name}`,
      refreshMs: config.interval,
      checkMs: config.interval,
      run: async () => {
        const dir = backupDir(cfg.name, config.backup.dir);
        const newest = listBackups(dir).find((m) => m.verify?.ok);
        const newestAt = newest ? Date.parse(newest.createdAt) : undefined;
        const at = now();
        // The schedule's runs come from the state database, so every monitor (and `check`) shows
        // when the next backup is due and a failed one, whichever monitor runs the schedule.
        const runs = every === undefined ? undefined : await readLastRuns(stateDir(config.state_dir), cfg.name, staleAfter(every), at);
        return [evaluateBackupAge(cfg, newestAt, config.backup.rpo, at, scheduleView(every, newestAt, runs, at, 3 * config.interval), newest)];
      },
    });
  }

  // The files set's schedule (issue #17): a failed scheduled run or off-host copy is a warning.
  const filesEvery = config.backup.files.length && config.backup.files_schedule !== 'off' ? config.backup.files_schedule : undefined;
  if (filesEvery !== undefined) {
    sources.push({
      id: `backup:${FILES_TARGET}`,
      refreshMs: config.interval,
      checkMs: config.interval,
      run: async () => {
        const newest = listFilesBackups(backupDir(FILES_TARGET, config.backup.dir)).find((m) => m.verify?.ok);
        const newestAt = newest ? Date.parse(newest.createdAt) : undefined;
        const at = now();
        const runs = await readLastRuns(stateDir(config.state_dir), FILES_TARGET, staleAfter(filesEvery), at);
        return [evaluateFilesBackup(newest && newestAt !== undefined ? { id: newest.id, createdAt: newestAt, offHost: newest.offHost } : undefined, at, scheduleView(filesEvery, newestAt, runs, at, 3 * config.interval))];
      },
    });
  }

  // An unfinished run of a runbook (opsdeck was killed mid-restore) is CRITICAL until it is resumed
  // or rolled back; once finished, its finding stays OK (every run, so its alert can pass the
  // recovery threshold and resolve).
  const seenRestores = new Set<string>();
  sources.push({
    id: 'journal',
    refreshMs: config.interval,
    checkMs: config.interval,
    run: async () => {
      const found = await readOpenRunChecks(stateDir(config.state_dir));
      const ids = new Set(found.map((c) => c.id));
      for (const id of ids) seenRestores.add(id);
      const closed = [...seenRestores].filter((id) => !ids.has(id));
      return [
        ...found,
        ...closed.map((id): CheckResult => {
          const [, kind = 'run', subject = id] = /^journal:([^:]+):(.*)$/.exec(id) ?? [];
          return { id, kind: 'journal', target: subject, status: 'ok', message: `no unfinished ${kind}` };
        }),
      ];
    },
  });

  const http = [
    ...config.services.flatMap((s) => (s.health_url ? [{ name: s.name, url: s.health_url, method: 'GET', expect: s.expect, timeout: s.timeout, critical: s.critical, service: true }] : [])),
    ...config.endpoints.map((e) => ({ name: e.name, url: e.url, method: e.method, expect: e.expect, timeout: e.timeout, critical: e.critical, service: false })),
  ];
  for (const e of http) {
    const window = new ProbeWindow(t.window);
    sources.push({
      id: `http:${e.name}`,
      refreshMs: config.interval,
      checkMs: config.interval,
      run: async () => {
        const p = await probeHttp({ url: e.url, method: e.method, timeoutMs: e.timeout, expect: e.expect, now });
        window.push({ ok: p.ok, errorAnswer: p.failure?.kind === 'status', latencyMs: p.latencyMs });
        const stats = window.stats();
        actions.setKeyed('endpoints', e.name, { data: { last: p, window: stats } }, now());
        // The standby side of a failover pair (issue #21) is stopped on purpose: not answering is its job.
        if (e.service && !p.ok && standbyServices().has(e.name)) return [{ id: `http:${e.name}`, kind: 'http', target: p.target, status: 'ok', message: `${e.name} does not answer: the standby of a failover pair (its failover: check says which side serves)` }];
        return [evaluateHttp(`http:${e.name}`, e.critical, p, stats, t, 5, config.failure_threshold)];
      },
    });
  }
  return sources;
}

/** What one Docker engine's source needs (the local `docker:` engine or a host's, issue #25). */
interface DockerSourceSpec {
  id: string;
  endpoint: DockerEndpoint;
  timeoutMs: number;
  optional: boolean;
  refreshMs: number;
  checkMs: number;
  composeProject: string | undefined;
  allContainers: boolean;
  services: Config['services'];
  /** Where the raw figures go in the store (the `docker` envelope, or `hosts[<name>]`). */
  write: (u: { data: DockerData } | { error: ServiceError }, at: number) => void;
  /** A configured host: its checks' ids carry `@<host>`. */
  host?: string;
}

/**
 * One engine polled as its own source: its own client and time-out, its own timer in the monitor
 * (never overlapping itself), so a slow or hanging host never holds up another engine (issue #25).
 */
function dockerSource(d: DockerSourceSpec, opts: { oneShot?: boolean }, now: () => number = Date.now): Source {
  const docker = new DockerService(d.endpoint, d.timeoutMs);
  const listOpts = { ...(d.composeProject ? { composeProject: d.composeProject } : {}), light: !!opts.oneShot };
  // Issue #27, a local engine outside `check`: Docker's events stream says when the list changed, so a
  // refresh between checks reads only the cgroup files. Version + list run at each health check (as
  // before), when the stream heard a change or is not open (lost: it reopens at each refresh), a
  // container changes without events (changesUnheard), or after relistMs (a safety net). Remote
  // engines (hosts:) list every refresh as before.
  const events = !opts.oneShot && d.endpoint.local ? docker.containerEvents(listOpts) : undefined;
  const relistMs = Math.min(30_000, d.checkMs);
  let [held, listedAt]: [DockerSample | undefined, number] = [undefined, -Infinity];
  const sample = async (check = true): Promise<DockerSample> => {
    const [t, streaming] = [now(), !!events?.ensure()]; // (re)opened at every run, checks too
    if (!check && streaming && events && held?.engine.ok && held.containers?.ok && !events.stale() && t - listedAt < relistMs && !held.containers.value.some(changesUnheard)) {
      return { ...held, stats: await docker.stats(held.containers.value) };
    }
    events?.listing();
    listedAt = t;
    const engine = await docker.version();
    const containers = engine.ok ? await docker.containers(listOpts) : undefined;
    // (containers() reuses cached inspect results, so a run right after prime costs one list call.)
    const stats = containers?.ok ? await docker.stats(containers.value) : new Map<string, ContainerStats>();
    held = { engine, containers, stats };
    return held;
  };
  // `check` over API stats (remote engine / stats_source: api): see apiOneShot above.
  let oneShotApi: ReturnType<typeof apiOneShot> | undefined;
  // `check` over cgroup files (issue #27): version and list once, in parallel, at the first read;
  // the second read (after the CPU sample's gap) reads only the stats of the same containers.
  let oneShotLocal: DockerSample | undefined;
  let statsMs = 0;
  const first = async (): Promise<DockerSample> => {
    if (opts.oneShot && (await docker.statsSource()) === 'api') {
      oneShotApi = apiOneShot(docker, listOpts, d.services);
      return oneShotApi.prime();
    }
    if (opts.oneShot) {
      const [engine, listed] = await Promise.all([docker.version(), docker.containers(listOpts)]);
      const containers = engine.ok ? listed : undefined;
      const t0 = performance.now();
      const stats = containers?.ok ? await docker.stats(containers.value) : new Map<string, ContainerStats>();
      statsMs = performance.now() - t0;
      return (oneShotLocal = { engine, containers, stats });
    }
    return sample();
  };
  const again = async (p: DockerSample): Promise<DockerSample> => ({ ...p, stats: p.containers?.ok ? await docker.stats(p.containers.value) : p.stats });
  return {
    id: d.id,
    refreshMs: d.refreshMs,
    checkMs: d.checkMs,
    prime: async () => {
      await first();
    },
    // An ssh:// engine's kept connection, the events stream, the open cgroup files go with the source (a reload builds new ones).
    close: () => void (events?.close(), docker.close(), d.endpoint.ssh?.close()),
    // The second read over cgroup files reads only the stats again: about as long as the first's stats.
    lead: () => (oneShotLocal ? statsMs : 0),
    run: async (o) => {
      const { engine, containers, stats, unmeasured } = oneShotApi ? await oneShotApi.run() : oneShotLocal ? await again(oneShotLocal) : await sample(o?.check ?? true);
      const at = now();
      if (engine.ok && containers?.ok) {
        d.write({ data: { endpoint: d.endpoint.display, version: engine.value.version, containers: containers.value, stats: Object.fromEntries(stats) } }, at);
      } else {
        const error = !engine.ok ? engine.error : containers && !containers.ok ? containers.error : undefined;
        if (error) d.write({ error }, at);
      }
      return evaluateDocker(
        { endpoint: d.endpoint.display, isDefault: d.endpoint.isDefault, optional: d.optional, engine, ...(containers ? { containers } : {}), stats, ...(unmeasured ? { unmeasured } : {}) },
        { services: d.services, docker: { all_containers: d.allContainers } },
        standbyServices(),
        d.host,
      );
    },
  };
}

/** A container whose list entry may change with no event: restarting, its health starting or unhealthy (issue #27). */
const changesUnheard = (c: ContainerInfo): boolean => c.state === 'restarting' || c.health === 'starting' || c.health === 'unhealthy';

/**
 * A host's gauges (CPU, memory, disks) from its `opsdeck watch` metrics endpoint (issue #25): for
 * the console only, no check of its own (the host's own watch alerts on them); an unreachable
 * endpoint is kept as the envelope's error, which the console shows.
 */
function hostMetricsSource(host: string, url: string, timeoutMs: number, refreshMs: number, checkMs: number, write: (u: { data: HostGauges } | { error: ServiceError }, at: number) => void): Source {
  return {
    id: `metrics@${host}`,
    refreshMs,
    checkMs,
    run: async () => {
      const r = await scrapeHostGauges(url, timeoutMs, host);
      write(r.ok ? { data: r.value } : { error: r.error }, Date.now());
      return [];
    },
  };
}
