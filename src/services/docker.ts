// The Docker facade (issue #15): every Docker Engine call opsdeck makes goes through DockerService,
// so time-outs and errors are mapped in one place. Its parts, one concern each, in ./docker/:
// endpoint (where the engine is), transport (clients, the raw GET, errors), containers (list,
// inspect, images), stats (cgroup files or one-shot API stats), actions (start, stop, restart,
// settle, create, remove), logs (follow streams, a one-shot tail). Nothing outside src/services/docker* imports them
// (ESLint). What it returns are the domain's observation types (src/domain/observations.ts).

import type Dockerode from 'dockerode';
import type { ContainerInfo, ContainerOutcome, ContainerStats, EngineVersion } from '../domain/observations.js';
import { ok, type Result } from '../domain/result.js';
import { ContainerActions, type ContainerSpec } from './docker/actions.js';
import { ContainerReader } from './docker/containers.js';
import type { DockerEndpoint } from './docker/endpoint.js';
import { ContainerEvents } from './docker/events.js';
import { LogReader, type LogStream } from './docker/logs.js';
import { StatsReader } from './docker/stats.js';
import { DockerTransport } from './docker/transport.js';

export { hostEndpoint, knownHostKey, resolveDockerEndpoint, type DockerEndpoint } from './docker/endpoint.js';
export type { ContainerSpec } from './docker/actions.js';
export type { LogStream } from './docker/logs.js';
export type { ContainerEvents } from './docker/events.js';

/**
 * The Docker adapter. Reads containers (list + inspect, bounded concurrency) and their stats:
 * from the cgroup files for a local engine, through one-shot stats for a remote one; acts on
 * containers; follows their logs. Every call has a timeout and returns a Result; nothing throws.
 */
export class DockerService {
  private readonly t: DockerTransport;
  private readonly reader: ContainerReader;
  private readonly sampler: StatsReader;
  private readonly actions: ContainerActions;
  private readonly logs: LogReader;

  constructor(
    readonly endpoint: DockerEndpoint,
    readonly timeoutMs = 5_000,
    concurrency = 16,
    statsConcurrency = 256,
  ) {
    this.t = new DockerTransport(endpoint, timeoutMs, Math.max(concurrency, 32));
    this.reader = new ContainerReader(this.t, concurrency);
    this.sampler = new StatsReader(this.t, statsConcurrency);
    this.actions = new ContainerActions(this.t, this.reader);
    this.logs = new LogReader(this.t, this.reader);
  }

  /** Engine version and API version; the cheapest reachability probe. */
  async version(): Promise<Result<EngineVersion>> {
    const t0 = performance.now();
    const r = await this.t.get('version', '/version', (d, abortSignal) => (d.version as (o: object) => Promise<Dockerode.DockerVersion>).call(d, { abortSignal }));
    if (!r.ok) return r;
    this.sampler.apiVersion = r.value.ApiVersion;
    return ok({ version: r.value.Version, apiVersion: r.value.ApiVersion, latencyMs: performance.now() - t0 });
  }

  /** All containers, optionally one compose project's; `light` skips inspecting settled ones (see ContainerReader.list). */
  containers(opts: { composeProject?: string; light?: boolean } = {}): Promise<Result<ContainerInfo[]>> {
    return this.reader.list(opts);
  }

  /** Inspects one container by id or name. */
  inspect(idOrName: string): Promise<Result<ContainerInfo>> {
    return this.reader.inspect(idOrName);
  }

  /** The tags of the images present on the engine. */
  imageTags(): Promise<Result<string[]>> {
    return this.reader.imageTags();
  }

  /** Where stats() reads from: the cgroup files of a local engine, else one-shot API stats. */
  statsSource(): Promise<'cgroup' | 'api'> {
    return this.sampler.source();
  }

  /** Resource figures for the running ones of `containers`; the first sample of each has no CPU %. */
  stats(containers: readonly ContainerInfo[]): Promise<Map<string, ContainerStats>> {
    return this.sampler.read(containers);
  }

  /**
   * A follower of the engine's events stream that says when a list may be stale (issue #27), or
   * undefined for an engine that cannot stream over plain HTTP (TLS, ssh://: those keep listing).
   */
  containerEvents(opts: { composeProject?: string } = {}): ContainerEvents | undefined {
    const e = new ContainerEvents(this.endpoint, this.timeoutMs, opts.composeProject);
    return e.ensure() ? e : undefined;
  }

  /** Closes what the service keeps open between calls (the cgroup files it reads). */
  close(): void {
    this.sampler.close();
  }

  /** Restarts a container (SIGTERM, SIGKILL after `graceSec`, start). */
  restart(idOrName: string, graceSec = 10): Promise<Result<void>> {
    return this.actions.restart(idOrName, graceSec);
  }

  /** Stops a container; an already stopped one counts as success. */
  stop(idOrName: string, graceSec = 10): Promise<Result<void>> {
    return this.actions.stop(idOrName, graceSec);
  }

  /** Starts a container; an already running one counts as success. */
  start(idOrName: string): Promise<Result<void>> {
    return this.actions.start(idOrName);
  }

  /** Watches a container a few seconds after a start or restart: did it stay up? (issue #11) */
  settle(idOrName: string, watchMs = 3000, pollMs = 250): Promise<Result<ContainerOutcome>> {
    return this.actions.settle(idOrName, watchMs, pollMs);
  }

  /** Creates (does not start) a container from a local image; its id. */
  create(spec: ContainerSpec): Promise<Result<string>> {
    return this.actions.create(spec);
  }

  /** Removes a container (`force`: even a running one); a missing one is `not-found`. */
  remove(idOrName: string, opts: { force?: boolean } = {}): Promise<Result<void>> {
    return this.actions.remove(idOrName, opts);
  }

  /** The last `lines` lines of a container's log, read once (stdout and stderr together). */
  tailLogs(idOrName: string, lines: number): Promise<Result<string[]>> {
    return this.logs.tail(idOrName, lines);
  }

  /** Everything a container logged since `since` (Unix seconds), read once as one text (issue #23's log review). */
  logsSince(idOrName: string, since: number): Promise<Result<string>> {
    return this.logs.since(idOrName, since);
  }

  /** Follows a container's log from its last `tail` lines or from `since` (Unix seconds, a fraction allowed). */
  followLogs(idOrName: string, opts: { tail?: number; since?: number | string } = {}): Promise<Result<LogStream>> {
    return this.logs.follow(idOrName, opts);
  }
}
