import { HostSampler } from '../services/host.js';

/**
 * The host's first CPU read, taken by `opsdeck check` before its modules load (issue #27: `check`
 * with nothing but its sample). It needs no configuration, so loading the command, reading and
 * validating the configuration, listing the containers and the one-read checks all run inside the
 * 0.5 s sampling window instead of before it. This module stays small: it is loaded first.
 */
export interface HostHead {
  sampler: HostSampler;
  /** The first sample, in flight (a HostSampler never throws). */
  primed: Promise<unknown>;
  /** When the window opened (Date.now()). */
  startedAt: number;
}

/** Starts the host's first sample now. */
export function startHostSample(): HostHead {
  const startedAt = Date.now();
  const sampler = new HostSampler('/proc', Date.now);
  return { sampler, primed: sampler.sample(), startedAt };
}
