import type { Range } from './ranges.js';
// What the Docker service observes and the domain evaluates (issue #15): these types live in the
// domain so imports run one way, services → domain, never back. A service narrows the engine's
// partial payloads into them (src/services/docker*).

/** Container state as Docker reports it. */
export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
/** Health from the image's HEALTHCHECK; 'none' when it has none. */
export type ContainerHealth = 'healthy' | 'unhealthy' | 'starting' | 'none';

/** What opsdeck knows about one container (from list + inspect). */
export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  state: ContainerState;
  health: ContainerHealth;
  /** Output of the last health probe, when unhealthy. */
  healthOutput?: string;
  failingStreak?: number;
  restartCount: number;
  /** HostConfig.RestartPolicy.Name (`no`, `always`, `unless-stopped`, `on-failure`); from inspect only. */
  restartPolicy?: string;
  exitCode: number;
  /** ms since epoch; undefined when never started. */
  startedAt?: number;
  finishedAt?: number;
  pid: number;
  tty: boolean;
  composeService?: string;
  composeProject?: string;
  labels: Record<string, string>;
  /** The configured host (`hosts[].name`, issue #25) whose engine runs it; undefined on the local engine. */
  host?: string;
}

/** Per-container resource figures, computed like `docker stats`. */
export interface ContainerStats {
  /** Undefined on the first sample: CPU % needs our previous sample. */
  cpuPercent?: number;
  memUsedBytes: number;
  /** Undefined when the container has no memory limit (then % is of host memory). */
  memLimitBytes?: number;
  memPercent: number;
  source: 'cgroup' | 'api';
  /** Why cpuPercent is absent when that is a decision, not a first sample (`check` on the API path). */
  cpuMissing?: string;
}

/** The engine's answer to the reachability probe. */
export interface EngineVersion {
  version: string;
  apiVersion: string;
  latencyMs: number;
}

// Host, HTTP, Redis and SQLite samples (issue #15: moved from their services, so the domain never imports a service).

/** One mounted filesystem's usage, as `df` computes it. */
export interface FilesystemUsage {
  mount: string;
  device: string;
  type: string;
  sizeBytes: number;
  usedBytes: number;
  /** used / (used + available to unprivileged users), like df's Use%. */
  percent: number;
}

/** One sample of the host's figures. Rates are undefined on the first sample (they need a previous one). */
export interface HostSample {
  hostname: string;
  takenAt: number;
  cpuCount: number;
  cpuPercent?: number;
  load: [number, number, number];
  memory: { totalBytes: number; usedBytes: number; percent: number };
  filesystems: FilesystemUsage[];
  network: { rxBytesPerSec?: number; txBytesPerSec?: number; rxBytes: number; txBytes: number };
  uptimeSec: number;
  /** 'proc' on Linux; 'systeminformation' where /proc is absent. */
  source: 'proc' | 'systeminformation';
}

/** Why a probe counted as failed. 'status' (an HTTP error answer) is what the error rate counts. */
export type HttpFailureKind = 'timeout' | 'refused' | 'dns' | 'status' | 'body' | 'tls' | 'other';

/** One HTTP probe. Failure is data (it feeds the error and failure rate windows), not an exception. */
export interface HttpProbe {
  at: number;
  target: string;
  status?: number;
  latencyMs: number;
  ok: boolean;
  failure?: { kind: HttpFailureKind; message: string };
}

/** One Redis probe: PING latency plus one INFO, narrowed to the health fields (docs/FACTS.md §3). */
export interface RedisHealth {
  latencyMs: number;
  version?: string;
  role?: string;
  usedMemoryBytes: number;
  /** Undefined when maxmemory is 0 (no limit). */
  maxMemoryBytes?: number;
  memoryPercent?: number;
  maxMemoryPolicy?: string;
  fragmentationRatio?: number;
  evictedKeys: number;
  /** Keys evicted since our previous probe; undefined on the first. */
  evictedDelta?: number;
  /** keyspace_hits / (hits + misses); undefined with no lookups yet. */
  hitRatio?: number;
  connectedClients?: number;
  blockedClients?: number;
  rejectedConnections?: number;
  loading: boolean;
  rdbLastBgsaveStatus?: string;
  rdbChangesSinceLastSave?: number;
  aofEnabled: boolean;
  aofLastWriteStatus?: string;
  masterLinkStatus?: string;
}

/** Health figures of one SQLite database file. */
export interface SqliteHealth {
  path: string;
  sizeBytes: number;
  walBytes: number;
  pageSize: number;
  pageCount: number;
  freelistCount: number;
  journalMode: string;
  /** 'ok', or the problems quick_check reported. */
  quickCheck: string[];
  /** ms since epoch of the newest of the file and its WAL. */
  lastModified: number;
  latencyMs: number;
  /** Row counts of the tables asked for (missing tables are absent). */
  tableRows: Record<string, number>;
  /** Highest rowid of the same tables. */
  tableMaxRowid: Record<string, number>;
  /** Per tracked table with an integer key: what changed against the row ledger (issue #10). */
  observations: Record<string, RowObservation>;
  /** Rows waiting in `_opsdeck_conflicts_<table>` (left by a merge restore), per table. */
  conflicts: Record<string, number>;
}

/** What one look at a table found, against the ledger's known and missing ids. */
export interface RowObservation {
  table: string;
  key: string;
  /** Rows in the table now. */
  count: number;
  /** Ids known to exist before this look that are gone now. */
  lostNow: Range[];
  /** Ids present now that the ledger did not know (new writes), outside its missing ranges. */
  added: Range[];
  /**
   * Ids known before that left the table for `_opsdeck_quarantine_<table>` (moved there by `db
   * repair`): they leave the known ids without counting as lost — the operator moved them, and
   * `db repair --undo` puts them back as rows the ledger sees again.
   */
  quarantined?: Range[];
}

/** How a container action ended: its note for people, and whether the container exited again (typed, never read from the note). */
export interface ContainerOutcome {
  note: string;
  exitedAgain: boolean;
}

/** A remote host's gauges, read from its `opsdeck watch` metrics endpoint (issue #25); each figure only when its line was there. */
export interface HostGauges {
  /** 0–1, the share of all cores busy (`opsdeck_host_cpu_usage_ratio`). */
  cpuRatio?: number;
  memUsedBytes?: number;
  memTotalBytes?: number;
  load1?: number;
  filesystems: { mount: string; usedBytes: number; sizeBytes: number }[];
}
