import type { Config } from '../config/schema.js';
import type { CheckResult } from '../domain/check.js';
import { evaluateBackupAge, evaluateDocker, evaluateHost, evaluateHttp, evaluateRedis, evaluateRowLoss, evaluateSqlite, type RowMarks } from '../domain/evaluate.js';
import { ProbeWindow } from '../domain/window.js';
import { DockerService, resolveDockerEndpoint, type ContainerStats } from '../services/docker.js';
import { HostSampler } from '../services/host.js';
import { backupDir, listBackups } from '../services/backup.js';
import { probeHttp } from '../services/http.js';
import { RedisProbe } from '../services/redis.js';
import { probeSqlite } from '../services/sqlite.js';
import { lastRestoreFinishedAt, readOpenRestoreChecks } from './journal.js';
import { stateDir } from './statedb.js';
import type { AppStore } from './store.js';

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
  run(): Promise<CheckResult[]>;
  close?(): void;
}

/** Builds every source the configuration declares. */
export function buildSources(config: Config, store: AppStore, now: () => number = Date.now, opts: { oneShot?: boolean } = {}): Source[] {
  const { actions } = store.getState();
  const sources: Source[] = [];
  const t = config.thresholds;

  const host = new HostSampler('/proc', now);
  sources.push({
    id: 'host',
    refreshMs: config.refresh,
    checkMs: config.interval,
    prime: async () => {
      await host.sample();
    },
    run: async () => {
      const r = await host.sample();
      actions.setEnvelope('host', r.ok ? { data: r.value } : { error: r.error }, now());
      return evaluateHost(r, t);
    },
  });

  const wantDocker = config.docker.all_containers || config.services.some((s) => s.container || s.compose_service);
  if (wantDocker) {
    const resolved = resolveDockerEndpoint(config.docker.host);
    const endpoint = config.docker.stats_source === 'api' ? { ...resolved, local: false } : resolved;
    const docker = new DockerService(endpoint, config.docker.timeout);
    const sample = async () => {
      const engine = await docker.version();
      const containers = engine.ok ? await docker.containers({ ...(config.docker.compose_project ? { composeProject: config.docker.compose_project } : {}), light: !!opts.oneShot }) : undefined;
      // (containers() reuses cached inspect results, so a run right after prime costs one list call.)
      const stats = containers?.ok ? await docker.stats(containers.value) : new Map<string, ContainerStats>();
      return { engine, containers, stats };
    };
    sources.push({
      id: 'docker',
      refreshMs: config.refresh,
      checkMs: config.interval,
      prime: async () => {
        await sample();
      },
      run: async () => {
        const { engine, containers, stats } = await sample();
        const at = now();
        if (engine.ok && containers?.ok) {
          actions.setEnvelope('docker', { data: { endpoint: endpoint.display, version: engine.value.version, containers: containers.value, stats: Object.fromEntries(stats) } }, at);
        } else {
          const error = !engine.ok ? engine.error : containers && !containers.ok ? containers.error : undefined;
          if (error) actions.setEnvelope('docker', { error }, at);
        }
        return evaluateDocker(
          { endpoint: endpoint.display, isDefault: endpoint.isDefault, optional: config.docker.optional, engine, ...(containers ? { containers } : {}), stats },
          config,
        );
      },
    });
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

  for (const cfg of config.databases) {
    let marks: Record<string, RowMarks> = {};
    let marksSince = now();
    sources.push({
      id: `sqlite:${cfg.name}`,
      refreshMs: config.interval,
      checkMs: config.interval,
      run: async () => {
        const r = await probeSqlite(cfg.path, cfg.timeout, cfg.critical_tables);
        actions.setKeyed('databases', cfg.name, r.ok ? { data: r.value } : { error: r.error }, now());
        const out = [evaluateSqlite(cfg, r)];
        if (r.ok && cfg.critical_tables.length && r.value.quickCheck[0] === 'ok') {
          // A restore finished since the baseline was taken: the rows it brought back are the new baseline.
          const restoredAt = await lastRestoreFinishedAt(stateDir(config.state_dir), cfg.name);
          if (restoredAt !== undefined && restoredAt > marksSince) {
            marks = {};
            marksSince = now();
          }
          const loss = evaluateRowLoss(cfg, r.value.tableRows, r.value.tableMaxRowid, marks);
          marks = loss.marks;
          out.push(loss.check);
        }
        return out;
      },
    });
  }

  for (const cfg of config.databases) {
    sources.push({
      id: `backup:${cfg.name}`,
      refreshMs: config.interval,
      checkMs: config.interval,
      run: async () => {
        const dir = backupDir(cfg.name, config.backup.dir);
        const newest = listBackups(dir).find((m) => m.verify?.ok);
        return Promise.resolve([evaluateBackupAge(cfg, newest ? Date.parse(newest.createdAt) : undefined, config.backup.rpo, now())]);
      },
    });
  }

  // An unfinished restore (opsdeck was killed mid-run) is CRITICAL until it is resumed or rolled
  // back; when it is finished, its finding turns OK so a firing alert resolves.
  let openRestores = new Set<string>();
  sources.push({
    id: 'journal',
    refreshMs: config.interval,
    checkMs: config.interval,
    run: async () => {
      const found = await readOpenRestoreChecks(stateDir(config.state_dir));
      const ids = new Set(found.map((c) => c.id));
      const closed = [...openRestores].filter((id) => !ids.has(id));
      openRestores = ids;
      return [
        ...found,
        ...closed.map((id): CheckResult => ({ id, kind: 'journal', target: id.replace(/^journal:restore:/, ''), status: 'ok', message: 'no unfinished restore' })),
      ];
    },
  });

  const http = [
    ...config.services.flatMap((s) => (s.health_url ? [{ name: s.name, url: s.health_url, method: 'GET', expect: s.expect, timeout: s.timeout, critical: s.critical }] : [])),
    ...config.endpoints.map((e) => ({ name: e.name, url: e.url, method: e.method, expect: e.expect, timeout: e.timeout, critical: e.critical })),
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
        return [evaluateHttp(`http:${e.name}`, e.critical, p, stats, t)];
      },
    });
  }
  return sources;
}
