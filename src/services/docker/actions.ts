// What opsdeck changes on an engine: start, stop, restart (then watch it settle), create, remove
// (issue #15: one concern of the Docker facade).

import { ok, type Result } from '../../domain/result.js';
import type { ContainerOutcome } from '../../domain/observations.js';
import type { ContainerReader } from './containers.js';
import { statusOf, type DockerTransport } from './transport.js';

/** A container to create: the few settings opsdeck itself needs (the demo's worker). */
export interface ContainerSpec {
  name: string;
  image: string;
  cmd: string[];
  labels?: Record<string, string>;
  /** Docker's NetworkMode: `none`, `host`, a network's name. */
  network?: string;
  /** Docker's restart policy name: `no`, `always`, `unless-stopped`, `on-failure`. */
  restart?: string;
}

/** Ends a call that Docker answered with 304 Not Modified (already stopped / already started) as done. */
const notModifiedIsDone = (err: unknown): void => {
  if (statusOf(err) === 304) return;
  throw err;
};

/** Container actions. Each blocks until Docker finished it, on the client without the inactivity timer. */
export class ContainerActions {
  constructor(
    private readonly t: DockerTransport,
    private readonly containers: ContainerReader,
  ) {}

  /** Restarts a container; the request blocks until done, so the timeout is the stop grace + a margin (FACTS §1.7). */
  restart(idOrName: string, graceSec = 10): Promise<Result<void>> {
    return this.t.call(`restart ${idOrName}`, (d, abortSignal) => d.getContainer(idOrName).restart({ t: graceSec, abortSignal }).then(() => undefined), { timeoutMs: (graceSec + 15) * 1000, long: true });
  }

  /** Stops a container; an already stopped one (HTTP 304, FACTS §1.7) counts as success. */
  stop(idOrName: string, graceSec = 10): Promise<Result<void>> {
    return this.t.call(`stop ${idOrName}`, (d, abortSignal) => d.getContainer(idOrName).stop({ t: graceSec, abortSignal }).then(() => undefined, notModifiedIsDone), { timeoutMs: (graceSec + 15) * 1000, long: true });
  }

  /** Starts a container; an already running one (HTTP 304) counts as success. */
  start(idOrName: string): Promise<Result<void>> {
    return this.t.call(`start ${idOrName}`, (d, abortSignal) => d.getContainer(idOrName).start({ abortSignal }).then(() => undefined, notModifiedIsDone), { timeoutMs: 30_000, long: true });
  }

  /** Creates (does not start) a container from a local image; its id. */
  async create(spec: ContainerSpec): Promise<Result<string>> {
    return this.t.call(
      `create ${spec.name}`,
      (d, abortSignal) =>
        d
          .createContainer({
            name: spec.name,
            Image: spec.image,
            Cmd: spec.cmd,
            ...(spec.labels ? { Labels: spec.labels } : {}),
            HostConfig: { ...(spec.network ? { NetworkMode: spec.network } : {}), ...(spec.restart ? { RestartPolicy: { Name: spec.restart } } : {}) },
            abortSignal,
          })
          .then((c) => c.id),
      { timeoutMs: 30_000, long: true },
    );
  }

  /** Removes a container, running or not when `force`; a missing one is `not-found`. */
  remove(idOrName: string, opts: { force?: boolean } = {}): Promise<Result<void>> {
    return this.t.call(`remove ${idOrName}`, (d, abortSignal) => d.getContainer(idOrName).remove({ force: opts.force ?? false, abortSignal }).then(() => undefined), { timeoutMs: 30_000, long: true });
  }

  /**
   * After a restart or start: watches the container for `watchMs` (issue #11: restarting a
   * crash-looping container said "done" while it exited again at once). Says whether it stayed up,
   * or exited again (with its code) — by its state, or by a restart count or start time that moved.
   */
  async settle(idOrName: string, watchMs = 3000, pollMs = 250): Promise<Result<ContainerOutcome>> {
    const first = await this.containers.inspect(idOrName);
    if (!first.ok) return first;
    const deadline = Date.now() + watchMs;
    let c = first.value;
    for (;;) {
      // Its state shows the exit code; a restart policy may have started it again between two looks
      // (then only the restart count or the start time moved, and the code is read on a later look).
      if (c.state === 'exited' || c.state === 'dead' || c.state === 'restarting') return ok({ note: `restarted, but it exited again (code ${c.exitCode}) — see its log (l)`, exitedAgain: true });
      const moved = c.restartCount > first.value.restartCount || (c.startedAt !== undefined && first.value.startedAt !== undefined && c.startedAt > first.value.startedAt);
      if (Date.now() >= deadline) {
        if (moved) return ok({ note: `restarted, but it exited again and its restart policy started it ${c.restartCount - first.value.restartCount || 'again'} time(s) — see its log (l)`, exitedAgain: true });
        return ok({ note: `${c.name} is running${c.health !== 'none' ? ` (health: ${c.health})` : ''} ${Math.round(watchMs / 1000)} s after`, exitedAgain: false });
      }
      await new Promise((r) => setTimeout(r, pollMs));
      const next = await this.containers.inspect(idOrName);
      if (!next.ok) return next;
      c = next.value;
    }
  }
}
