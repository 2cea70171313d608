import { readFileSync } from 'node:fs';
import type { Result } from '../domain/result.js';
import { HostSampler, parseProcStat, type CpuTimes, type HostSample } from '../services/host.js';
import { trace } from './trace.js';

/** This process's CPU time (utime + stime of <proc>/self/stat, all its threads), in /proc/stat's clock ticks. */
function ownTicks(procRoot: string): number | undefined {
  const text = readFileSync(`${procRoot}/self/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const t = Number(f[11]) + Number(f[12]);
  return Number.isFinite(t) ? t : undefined;
}

/** Below this share of idle ticks between two samples the host counts as saturated (see CheckHostSampler). */
const SATURATED_IDLE_SHARE = 0.02;

/**
 * The host's CPU % with `check`'s own CPU time left out (issue #27). Loading the command (~1.7 MB
 * of bundle), validating the configuration and listing the containers now happen inside the
 * sample: on 2 cores that alone would read as tens of percent of the host's CPU and could push an
 * idle host over its threshold. So the busy ticks between two samples lose this process's own ticks
 * (/proc/self/stat: the same clock-tick unit as /proc/stat): what the host does without the check
 * looking at it. Not when the host had no idle time left (a saturated host stays at its busy figure).
 * Without /proc (macOS) the sampler's figure stays as it is.
 */
export class CheckHostSampler extends HostSampler {
  private prevMark: { cpu: CpuTimes; own: number } | undefined;

  constructor(
    private readonly root = '/proc',
    now: () => number = Date.now,
  ) {
    super(root, now);
  }

  override async sample(): Promise<Result<HostSample>> {
    const r = await super.sample();
    let mark: { cpu: CpuTimes; own: number } | undefined;
    try {
      const cpu = parseProcStat(readFileSync(`${this.root}/stat`, 'utf8'));
      const own = ownTicks(this.root);
      if (cpu && own !== undefined) mark = { cpu, own };
    } catch {
      // no /proc: the sampler's own figure stays
    }
    const prev = this.prevMark;
    this.prevMark = mark;
    if (r.ok && prev && mark && r.value.cpuPercent !== undefined) {
      const total = mark.cpu.total - prev.cpu.total;
      const idle = mark.cpu.idle - prev.cpu.idle;
      // With idle time left, the check's ticks came out of it: taking them off is exact. With none
      // (under 2 %), the host was saturated and the check took its share from the others; what they
      // would have used alone cannot be told from this: the busy figure stays, own ticks and all, so
      // a saturated host never reads as calm because the check ran.
      if (total > 0 && idle >= total * SATURATED_IDLE_SHARE) {
        r.value.cpuPercent = Math.min(100, Math.max(0, ((total - idle - (mark.own - prev.own)) / total) * 100));
      }
    }
    return r;
  }
}

/**
 * The host's first CPU read, taken by `opsdeck check` before its modules load (issue #27: `check`
 * with nothing but its sample). It needs no configuration, so loading the command, reading and
 * validating the configuration, listing the containers and the one-read checks all run inside the
 * 0.5 s sampling window instead of before it. main.ts imports this module first, so the read starts
 * before the command-line parser is even set up (commander loads node:child_process and node:net);
 * it stays small, as every command loads it.
 */
export interface HostHead {
  sampler: CheckHostSampler;
  /** The first sample, in flight (a HostSampler never throws). */
  primed: Promise<unknown>;
  /** When the window opened (Date.now()). */
  startedAt: number;
}

/** Starts the host's first sample now. */
export function startHostSample(): HostHead {
  const startedAt = Date.now();
  const sampler = new CheckHostSampler('/proc', Date.now);
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
