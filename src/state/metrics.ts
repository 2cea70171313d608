import { hostname } from 'node:os';
import type BetterSqlite3 from 'better-sqlite3';
import { Gauge, Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { redactSecrets } from '../config/secrets.js';
import type { CheckResult, CheckStatus } from '../domain/check.js';
import type { EventBus } from '../engine/events.js';
import type { MetricsText } from '../services/metrics-server.js';
import { AckStore } from './acks.js';
import { backupAges, incidentBanner } from './incident-report.js';
import { IncidentStore } from './incidents.js';
import type { AppState, AppStore, DockerData, Envelope } from './store.js';

// The Prometheus exporter of `opsdeck watch` (issue #25, part A): what the monitor already holds,
// turned into gauges when Prometheus scrapes (collect-on-scrape: each gauge's `collect()` resets it
// and fills it from the store, the state database and the backup folders as they are now; nothing
// is pushed per probe, and a check or container that is gone is gone from the next scrape).
// Its own Registry (never prom-client's global one); no default process metrics (README "Prometheus").

/** Check status as a number: 0 ok, 1 warning, 2 critical, 3 unknown (the `check` exit codes). */
export const STATUS_VALUE: Record<CheckStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

/** Where the exporter reads. */
export interface MetricsOptions {
  store: AppStore;
  config: () => Config;
  /** Acks and silences (`opsdeck_alert_silenced`) and the open incident; without it those series are absent. */
  stateDb?: BetterSqlite3.Database | undefined;
  /**
   * The monitor's bus: a check no source has reported on it for `staleAfterMs` is left out (the
   * store keeps every check it ever saw). Without a bus every check in the store is exported.
   */
  bus?: EventBus | undefined;
  now?: () => number;
}

/** The exporter: its registry, one scrape's text, and the end of its bus subscription. */
export interface MetricsExporter {
  readonly registry: Registry;
  render(): Promise<MetricsText>;
  off(): void;
}

/** The `host` label of this machine's checks and containers: `metrics.host`, else the hostname. */
export function localHostLabel(config: Config): string {
  return config.metrics.host ?? hostname();
}

/**
 * The `host` label of a check: a remote host's checks carry it in their id (`container:web@db1`,
 * `docker:engine@db1`, issue #25); every other check is this machine's.
 */
export function checkHost(r: Pick<CheckResult, 'id' | 'kind'>, local: string): string {
  if (r.kind !== 'container' && r.kind !== 'docker') return local;
  const at = r.id.lastIndexOf('@');
  const name = at > 0 ? r.id.slice(at + 1) : '';
  return /^[A-Za-z0-9][\w.-]*$/.test(name) ? name : local;
}

/**
 * How long a check may go unreported before it counts as gone: three of the longest interval a
 * source runs on (the check interval, a failing source's back-off of 4 refreshes, a failover pair's
 * own `check_every`).
 */
export function staleAfterMs(config: Config): number {
  return 3 * Math.max(config.interval, 4 * config.refresh, ...config.failover.pairs.map((p) => p.check_every));
}

/** How long the backup folders' newest verified backups are kept before they are read again. */
const BACKUP_CACHE_MS = 5_000;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** One scrape's view of the checks: the live ones with their labels, by id. */
interface Snapshot {
  local: string;
  rows: { c: CheckResult; labels: { id: string; kind: string; target: string; host: string } }[];
  byId: Map<string, Snapshot['rows'][number]>;
}

/** Creates the registry and its gauges over the store (one per `watch`, for the life of the process). */
export function createMetrics(o: MetricsOptions): MetricsExporter {
  const now = o.now ?? Date.now;
  const registry = new Registry();
  const seen = new Map<string, number>();
  const off = o.bus?.subscribe('check.result', (e) => void seen.set(e.result.id, e.at)) ?? (() => undefined);
  let acks: AckStore | undefined;
  let incidents: IncidentStore | undefined;
  let backups: { at: number; key: string; newest: Map<string, number | undefined> } | undefined;

  const state = (): AppState => o.store.getState();
  /**
   * What one scrape reads of the checks, taken once (every check gauge, the alerts and the HTTP
   * windows share it): the checks reported within `staleAfterMs`, each with its labels.
   */
  const build = (): Snapshot => {
    const local = localHostLabel(o.config());
    const cutoff = now() - staleAfterMs(o.config());
    // Ids not heard of since the cutoff are forgotten (containers come and go under new names).
    for (const [id, at] of seen) if (at < cutoff) seen.delete(id);
    const rows = Object.values(state().checks)
      .filter((c) => !o.bus || (seen.get(c.id) ?? -Infinity) >= cutoff)
      .map((c) => ({ c, labels: { id: redactSecrets(c.id), kind: c.kind, target: redactSecrets(c.target), host: checkHost(c, local) } }));
    return { local, rows, byId: new Map(rows.map((r) => [r.c.id, r])) };
  };
  let current: Snapshot | undefined;
  const snapshot = (): Snapshot => current ?? build();
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>) => void): void => {
    registry.registerMetric(
      new Gauge<L>({
        name, help, labelNames, registers: [],
        collect() {
          this.reset();
          fill(this);
        },
      }),
    );
  };

  // Checks: every result the monitor holds now.
  const CHECK = ['id', 'kind', 'target', 'host'] as const;
  gauge('opsdeck_check_status', 'Status of an opsdeck check: 0 ok, 1 warning, 2 critical, 3 unknown', CHECK, (g) => {
    for (const { c, labels } of snapshot().rows) g.set(labels, STATUS_VALUE[c.status]);
  });
  gauge('opsdeck_check_value', 'The figure an opsdeck check measured (its unit is the check\'s: percent, seconds, ms, …)', CHECK, (g) => {
    for (const { c, labels } of snapshot().rows) if (finite(c.value)) g.set(labels, c.value);
  });
  gauge('opsdeck_check_threshold', 'The threshold an opsdeck check compares its value with', CHECK, (g) => {
    for (const { c, labels } of snapshot().rows) if (finite(c.threshold)) g.set(labels, c.threshold);
  });

  // Alerts: firing (acknowledged or silenced still 1) and silenced.
  gauge('opsdeck_alert_firing', '1 while an opsdeck alert fires (acknowledged or silenced alike)', ['id', 'severity', 'host'] as const, (g) => {
    const { byId } = snapshot();
    for (const a of Object.values(state().alerts)) {
      const r = byId.get(a.checkId);
      if (r && (a.state === 'firing' || a.state === 'resolving')) g.set({ id: r.labels.id, severity: a.status, host: r.labels.host }, 1);
    }
  });
  gauge('opsdeck_alert_silenced', '1 while an opsdeck alert is silenced', ['id', 'host'] as const, (g) => {
    if (!o.stateDb) return;
    try {
      acks ??= new AckStore(o.stateDb);
      const at = now();
      for (const { c, labels } of snapshot().rows) if (acks.get(c.id, undefined, at).silencedUntil !== undefined) g.set({ id: labels.id, host: labels.host }, 1);
    } catch {
      // A busy state database: no silences this scrape (the next one reads again).
    }
  });

  // HTTP endpoints' rates over the probe window (`thresholds.window` probes), as the http: checks judge them.
  const windows = () => {
    const { byId, local } = snapshot();
    return Object.entries(state().endpoints).flatMap(([name, e]) => {
      const id = `http:${name}`;
      return e.status === 'ok' && e.data && (!o.bus || byId.has(id)) ? [{ labels: { id, host: local }, w: e.data.window }] : [];
    });
  };
  gauge('opsdeck_http_error_ratio', 'Share of the last probes of an HTTP check answered with an error status, 0 to 1', ['id', 'host'] as const, (g) => {
    for (const { labels, w } of windows()) if (w.count > 0) g.set(labels, w.errorRate / 100);
  });
  gauge('opsdeck_http_failure_ratio', 'Share of the last probes of an HTTP check that failed for any reason, 0 to 1', ['id', 'host'] as const, (g) => {
    for (const { labels, w } of windows()) if (w.count > 0) g.set(labels, w.failureRate / 100);
  });

  // The host running watch (no host label: Prometheus's `instance` names it).
  const host = () => (state().host.status === 'ok' ? state().host.data : undefined);
  gauge('opsdeck_host_cpu_usage_ratio', 'CPU busy on the host running opsdeck watch, 0 to 1 (all cores)', [], (g) => {
    const h = host();
    if (finite(h?.cpuPercent)) g.set(h.cpuPercent / 100);
  });
  gauge('opsdeck_host_memory_used_bytes', 'Memory used on the host running opsdeck watch', [], (g) => {
    const h = host();
    if (h) g.set(h.memory.usedBytes);
  });
  gauge('opsdeck_host_memory_total_bytes', 'Memory of the host running opsdeck watch', [], (g) => {
    const h = host();
    if (h) g.set(h.memory.totalBytes);
  });
  gauge('opsdeck_host_filesystem_used_bytes', 'Bytes used on a mounted file system (as df counts them)', ['mount'] as const, (g) => {
    for (const f of host()?.filesystems ?? []) g.set({ mount: f.mount }, f.usedBytes);
  });
  gauge('opsdeck_host_filesystem_size_bytes', 'Size of a mounted file system', ['mount'] as const, (g) => {
    for (const f of host()?.filesystems ?? []) g.set({ mount: f.mount }, f.sizeBytes);
  });
  gauge('opsdeck_host_load1', 'Load average over 1 minute of the host running opsdeck watch', [], (g) => {
    const h = host();
    if (h) g.set(h.load[0]);
  });

  // Containers of this machine's engine and of each configured host's (issue #25: `host` is the
  // host's name), each while its engine answers (stale data would say "running" of a lost engine).
  const containers = () => {
    const st = state();
    const of = (d: Envelope<DockerData> | undefined, host: string) =>
      d?.status === 'ok' && d.data ? d.data.containers.map((c) => ({ c, s: (d.data as DockerData).stats[c.id], labels: { name: c.name, host } })) : [];
    return [of(st.docker, localHostLabel(o.config())), ...Object.entries(st.hosts).map(([name, d]) => of(d, name))].flat();
  };
  const CONTAINER = ['name', 'host'] as const;
  gauge('opsdeck_container_cpu_usage_ratio', 'CPU a container uses (1 = one core)', CONTAINER, (g) => {
    for (const { s, labels } of containers()) if (finite(s?.cpuPercent)) g.set(labels, s.cpuPercent / 100);
  });
  gauge('opsdeck_container_memory_usage_bytes', 'Memory a container uses (as docker stats counts it)', CONTAINER, (g) => {
    for (const { s, labels } of containers()) if (s) g.set(labels, s.memUsedBytes);
  });
  gauge('opsdeck_container_memory_limit_bytes', "A container's memory limit (absent when it has none)", CONTAINER, (g) => {
    for (const { s, labels } of containers()) if (finite(s?.memLimitBytes)) g.set(labels, s.memLimitBytes);
  });
  gauge('opsdeck_container_restart_count', 'Restarts Docker counted for a container', CONTAINER, (g) => {
    for (const { c, labels } of containers()) g.set(labels, c.restartCount);
  });
  gauge('opsdeck_container_running', '1 while a container runs, else 0', CONTAINER, (g) => {
    for (const { c, labels } of containers()) g.set(labels, c.state === 'running' ? 1 : 0);
  });

  // Backups: the age of each database's newest verified backup (+Inf: none).
  const newestBackups = (config: Config): Map<string, number | undefined> => {
    const names = config.databases.map((d) => d.name);
    const key = `${config.backup.dir ?? ''}\n${names.join('\n')}`;
    const at = now();
    if (!backups || backups.key !== key || at - backups.at > BACKUP_CACHE_MS) {
      backups = { at, key, newest: new Map(backupAges(config, names, Infinity).map((b) => [b.database, b.newestVerifiedAt])) };
    }
    return backups.newest;
  };
  gauge('opsdeck_backup_age_seconds', "Age of a database's newest verified backup (+Inf: none)", ['database'] as const, (g) => {
    const at = now();
    for (const [database, t] of newestBackups(o.config())) g.set({ database }, t === undefined ? Infinity : Math.max(0, at - t) / 1000);
  });

  // The open incident (one at most): its class, RTO left, RPO (time since the newest verified backup of what it affects).
  const SEVERITIES = ['P1', 'P2', 'P3', 'P4'] as const;
  const banner = () => {
    if (!o.stateDb) return undefined;
    try {
      incidents ??= new IncidentStore(o.stateDb);
      return { open: incidentBanner(o.config(), incidents, now()) };
    } catch {
      return undefined; // a busy state database: the incident series are absent this scrape
    }
  };
  let scrape: { at: number; value: ReturnType<typeof banner> } | undefined;
  // The three incident gauges of one scrape read the database once.
  const incident = () => {
    const at = now();
    if (!scrape || at - scrape.at > 250) scrape = { at, value: banner() };
    return scrape.value;
  };
  gauge('opsdeck_incident_open', '1 for the class (severity) of the open incident, 0 for the others', ['severity'] as const, (g) => {
    const b = incident();
    if (!b) return;
    for (const s of SEVERITIES) g.set({ severity: s }, b.open?.severity === s ? 1 : 0);
  });
  gauge('opsdeck_incident_rto_remaining_seconds', 'Time left before the open incident passes its RTO (negative: passed)', ['severity'] as const, (g) => {
    const i = incident()?.open;
    if (i) g.set({ severity: i.severity }, (i.deadline - now()) / 1000);
  });
  gauge('opsdeck_incident_rpo_seconds', 'While an incident is open: time since the newest verified backup of what it affects (+Inf: none)', ['severity'] as const, (g) => {
    const i = incident()?.open;
    const worst = i?.rpo.worst;
    if (i && worst) g.set({ severity: i.severity }, worst.ageMs === undefined ? Infinity : worst.ageMs / 1000);
  });

  return {
    registry,
    render: async () => {
      // Every collect() runs synchronously inside metrics() (prom-client calls them before its first
      // await), so they all see this scrape's snapshot; a scrape arriving meanwhile takes its own.
      current = build();
      try {
        return { contentType: registry.contentType, body: await registry.metrics() };
      } finally {
        current = undefined;
      }
    },
    off,
  };
}
