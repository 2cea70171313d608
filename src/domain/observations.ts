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
  exitCode: number;
  /** ms since epoch; undefined when never started. */
  startedAt?: number;
  finishedAt?: number;
  pid: number;
  tty: boolean;
  composeService?: string;
  composeProject?: string;
  labels: Record<string, string>;
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
