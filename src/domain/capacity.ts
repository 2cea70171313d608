// Capacity planning (issue #23), pure: growth per day and "full in N days" from samples of a size
// over time, by a Theil–Sen line (the median of the slopes between every pair of samples, the
// intercept the median of the residuals): one burst — a log that filled and was deleted, a VACUUM —
// moves it far less than a least-squares line. Injected times, no I/O.

import type { CheckResult, CheckStatus } from './check.js';
import { formatBytes } from './format.js';

/** One sample: when, and how much was used (bytes) of how much (bytes; undefined: no limit). */
export interface CapacitySample {
  at: number;
  used: number;
  total?: number;
}

/** A line through time: `used ≈ intercept + slope × at` (slope in bytes per ms). */
export interface Fit {
  slope: number;
  intercept: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Pairs kept at most (the newest samples): 300 samples are 44 850 slopes. */
export const FIT_SAMPLES = 300;

/** The Theil–Sen line through the samples (the newest FIT_SAMPLES), or undefined under two distinct times. */
export function theilSen(samples: readonly CapacitySample[]): Fit | undefined {
  const pts = [...samples].sort((a, b) => a.at - b.at).slice(-FIT_SAMPLES);
  const slopes: number[] = [];
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const a = pts[i] as CapacitySample;
      const b = pts[j] as CapacitySample;
      if (b.at !== a.at) slopes.push((b.used - a.used) / (b.at - a.at));
    }
  }
  if (!slopes.length) return undefined;
  const slope = median(slopes);
  return { slope, intercept: median(pts.map((p) => p.used - slope * p.at)) };
}

const DAY = 86_400_000;

/** What the samples of one subject say. */
export interface Projection {
  samples: number;
  /** The newest sample. */
  used?: number;
  total?: number;
  /** Bytes per day by the fit (negative: shrinking); undefined with too few samples. */
  growthPerDay?: number;
  /** When the fit reaches `total` (only when growing and limited). */
  fullAt?: number;
  daysLeft?: number;
}

/** Fits the samples and projects when the subject is full; `minSamples` before any projection. */
export function project(samples: readonly CapacitySample[], now: number, minSamples = 3): Projection {
  const sorted = [...samples].sort((a, b) => a.at - b.at);
  const last = sorted[sorted.length - 1];
  const base: Projection = { samples: sorted.length, ...(last ? { used: last.used } : {}), ...(last?.total !== undefined ? { total: last.total } : {}) };
  if (sorted.length < minSamples) return base;
  const fit = theilSen(sorted);
  if (!fit) return base;
  const out: Projection = { ...base, growthPerDay: fit.slope * DAY };
  if (last?.total !== undefined && fit.slope > 0) {
    const fullAt = (last.total - fit.intercept) / fit.slope;
    out.fullAt = Math.max(now, fullAt);
    out.daysLeft = Math.max(0, (fullAt - now) / DAY);
  }
  return out;
}

/** The check of one limited subject (a disk, a Redis): WARNING when projected full within `horizonMs`. */
export function capacityCheck(subject: string, target: string, p: Projection, horizonMs: number, now: number): CheckResult {
  const id = `capacity:${subject}`;
  const base = { id, kind: 'capacity' as const, target, threshold: `${Math.round(horizonMs / DAY)}d` };
  if (p.growthPerDay === undefined) return { ...base, status: 'ok', message: `${target}: ${p.samples} samples so far, too few to project` };
  if (p.fullAt === undefined || p.daysLeft === undefined) return { ...base, status: 'ok', value: 'not growing', message: `${target}: not growing (${signedBytes(p.growthPerDay)}/day)` };
  const status: CheckStatus = p.fullAt - now <= horizonMs ? 'warning' : 'ok';
  return {
    ...base,
    status,
    value: Math.round(p.daysLeft * 10) / 10,
    message: `${target}: ${signedBytes(p.growthPerDay)}/day, full in ${p.daysLeft < 1 ? 'under a day' : `${Math.floor(p.daysLeft)} days`} (${new Date(p.fullAt).toISOString().slice(0, 10)})${status === 'warning' ? `, within the ${Math.round(horizonMs / DAY)}-day horizon` : ''}`,
  };
}

/** "+1.2 MiB", "-300 KiB": a growth for people. */
export function signedBytes(n: number): string {
  return `${n < 0 ? '-' : '+'}${formatBytes(Math.abs(n))}`;
}

/**
 * The samples as a series of one value per `stepMs` from `from` to `to` (each step takes the newest
 * sample at or before it; steps before the first sample are left out): the console's last hour of
 * disk use, read back from the capacity samples after a restart.
 */
export function stepSeries(samples: readonly CapacitySample[], from: number, to: number, stepMs: number, value: (s: CapacitySample) => number): number[] {
  const sorted = [...samples].sort((a, b) => a.at - b.at);
  const out: number[] = [];
  let i = -1;
  for (let t = from; t <= to; t += stepMs) {
    while (i + 1 < sorted.length && (sorted[i + 1] as CapacitySample).at <= t) i++;
    if (i >= 0) out.push(value(sorted[i] as CapacitySample));
  }
  return out;
}
