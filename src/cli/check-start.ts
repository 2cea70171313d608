import { HostSampler } from '../services/host.js';
import { trace } from './trace.js';

/**
 * The host's first CPU read, taken by `opsdeck check` before its modules load (issue #27: `check`
 * with nothing but its sample). It needs no configuration, so loading the command, reading and
 * validating the configuration, listing the containers and the one-read checks all run inside the
 * 0.5 s sampling window instead of before it. main.ts imports this module first, so the read starts
 * before the command-line parser is even set up (commander loads node:child_process and node:net);
 * it stays small, as every command loads it.
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
  const primed = sampler.sample();
  trace('check: host sample started');
  return { sampler, primed, startedAt };
}

/**
 * Whether the command line names `check` (the first word that is not an option or the value of
 * `-c`/`--config`, as commander reads it). Only a head start: a wrong guess costs one unused read of
 * /proc, or `check` takes its first read a few milliseconds later.
 */
export function namesCheck(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-c' || a === '--config') {
      i++;
      continue;
    }
    if (a === '--') return args[i + 1] === 'check';
    if (!a.startsWith('-')) return a === 'check';
  }
  return false;
}

/** Started as this module loads when the command line names `check`. */
export const earlyHead: HostHead | undefined = namesCheck(process.argv.slice(2)) ? startHostSample() : undefined;
