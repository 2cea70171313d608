import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ExternalAlert } from '../domain/alertmanager.js';
import type { Alert } from '../domain/alerts.js';
import type { CheckResult } from '../domain/check.js';
import type { ServiceError } from '../domain/result.js';
import type { WindowStats } from '../domain/window.js';
import type { ContainerInfo, ContainerStats } from '../domain/observations.js';
import type { HostSample } from '../services/host.js';
import type { HttpProbe } from '../services/http.js';
import type { HostGauges } from '../domain/observations.js';
import type { RedisHealth } from '../services/redis.js';
import type { SqliteHealth } from '../services/sqlite.js';
import type { IncidentBanner } from './incident-report.js';

/** One polled source's state. On error the last good data is kept and marked stale (docs/STYLE.md §4). */
export interface Envelope<T> {
  status: 'loading' | 'ok' | 'stale' | 'error';
  data?: T;
  error?: ServiceError;
  updatedAt?: number;
}

/** What the Docker source last saw. */
export interface DockerData {
  endpoint: string;
  version?: string;
  containers: ContainerInfo[];
  stats: Record<string, ContainerStats>;
}

/** An endpoint's last probe and its window figures. */
export interface EndpointData {
  last: HttpProbe;
  window: WindowStats;
}

/** The whole application state, fed by the monitor loop and read by the console. */
export interface AppState {
  host: Envelope<HostSample>;
  docker: Envelope<DockerData>;
  redis: Record<string, Envelope<RedisHealth>>;
  databases: Record<string, Envelope<SqliteHealth>>;
  endpoints: Record<string, Envelope<EndpointData>>;
  /** Each configured host's engine (issue #25), by host name; the local engine stays `docker`. */
  hosts: Record<string, Envelope<DockerData>>;
  /** Each host's gauges from its `metrics:` URL (issue #25), by host name. */
  hostGauges: Record<string, Envelope<HostGauges>>;
  /** Latest result of every check, by id. */
  checks: Record<string, CheckResult>;
  /** Alert record of every check that has been evaluated, by check id. */
  alerts: Record<string, Alert>;
  /** The open incident as the console header shows it (issue #18); undefined when none is open. */
  incident?: IncidentBanner | undefined;
  /** Alertmanager's alerts the console shows beside its own (issue #25), opsdeck's own left out; replaced at each read. */
  amAlerts: ExternalAlert[];
  actions: AppActions;
}

/** State changes, grouped (zustand slices pattern). */
export interface AppActions {
  /** Stores a source's new data (ok) or its error (keeping the last data as stale). */
  setEnvelope(key: 'host' | 'docker', update: { data: unknown } | { error: ServiceError }, at: number): void;
  setKeyed(key: 'redis' | 'databases' | 'endpoints' | 'hosts' | 'hostGauges', name: string, update: { data: unknown } | { error: ServiceError }, at: number): void;
  setChecks(results: readonly CheckResult[]): void;
  /** Forgets checks (and their alerts) a configuration change removed (src/domain/retired.ts). */
  dropChecks(ids: readonly string[]): void;
  setAlerts(alerts: readonly Alert[]): void;
  setIncident(incident: IncidentBanner | undefined): void;
  setAmAlerts(alerts: ExternalAlert[]): void;
}

/** A vanilla zustand store for the app; one per console, one per test. */
export type AppStore = StoreApi<AppState>;

function nextEnvelope<T>(prev: Envelope<T> | undefined, update: { data: unknown } | { error: ServiceError }, at: number): Envelope<T> {
  if ('data' in update) return { status: 'ok', data: update.data as T, updatedAt: at };
  const data = prev?.data;
  return data !== undefined
    ? { status: 'stale', data, error: update.error, ...(prev?.updatedAt !== undefined ? { updatedAt: prev.updatedAt } : {}) }
    : { status: 'error', error: update.error };
}

/** Creates the store (factory, so every test gets its own). */
export function createAppStore(): AppStore {
  return createStore<AppState>()((set) => ({
    host: { status: 'loading' },
    docker: { status: 'loading' },
    redis: {},
    databases: {},
    endpoints: {},
    hosts: {},
    hostGauges: {},
    checks: {},
    alerts: {},
    amAlerts: [],
    actions: {
      setEnvelope: (key, update, at) => set((s) => ({ [key]: nextEnvelope(s[key] as Envelope<unknown>, update, at) })),
      setKeyed: (key, name, update, at) =>
        set((s) => ({ [key]: { ...s[key], [name]: nextEnvelope(s[key][name] as Envelope<unknown> | undefined, update, at) } })),
      setChecks: (results) =>
        set((s) => {
          const checks = { ...s.checks };
          for (const r of results) checks[r.id] = r;
          return { checks };
        }),
      dropChecks: (ids) =>
        set((s) => {
          const checks = { ...s.checks };
          const alerts = { ...s.alerts };
          // And the pane rows of a removed endpoint, Redis or database (their envelopes are keyed by name).
          const endpoints = { ...s.endpoints };
          const redis = { ...s.redis };
          const databases = { ...s.databases };
          for (const id of ids) {
            delete checks[id];
            delete alerts[id];
            const [kind, name] = id.split(':');
            if (name === undefined || id !== `${kind}:${name}`) continue;
            if (kind === 'http') delete endpoints[name];
            if (kind === 'redis') delete redis[name];
            if (kind === 'sqlite') delete databases[name];
          }
          return { checks, alerts, endpoints, redis, databases };
        }),
      setIncident: (incident) => set({ incident }),
      setAmAlerts: (amAlerts) => set({ amAlerts }),
      setAlerts: (list) =>
        set((s) => {
          const alerts = { ...s.alerts };
          for (const a of list) alerts[a.checkId] = a;
          return { alerts };
        }),
    },
  }));
}
