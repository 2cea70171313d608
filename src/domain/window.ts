/** A probe outcome as the rate windows need it. */
export interface WindowSample {
  ok: boolean;
  /** The service answered with an HTTP error (5xx/4xx or unexpected status): counts toward the error rate. */
  errorAnswer: boolean;
  latencyMs: number;
}

/** Figures over the last N probes. */
export interface WindowStats {
  count: number;
  /** % of probes answered with an error status. */
  errorRate: number;
  /** % of probes that failed for any reason (error answer, timeout, refused, wrong body). */
  failureRate: number;
  p95LatencyMs?: number;
  lastLatencyMs?: number;
  /** Successful probes in a row at the end of the window. */
  okStreak: number;
  /** Separate runs of failed probes in the window (1: one outage; more: failures spread out). */
  failureRuns: number;
  /** Length of the most recent run of failed probes (0 when none). */
  lastFailureRun: number;
}

/** Sliding window of our own probes (default the last 20, issue #2); pure data, no timers. */
export class ProbeWindow {
  private readonly samples: WindowSample[] = [];

  constructor(readonly size = 20) {}

  /** Adds a probe, dropping the oldest beyond the window size. */
  push(s: WindowSample): void {
    this.samples.push(s);
    if (this.samples.length > this.size) this.samples.shift();
  }

  /** Error rate, failure rate and latency percentiles over the window. */
  stats(): WindowStats {
    const n = this.samples.length;
    if (n === 0) return { count: 0, errorRate: 0, failureRate: 0, okStreak: 0, failureRuns: 0, lastFailureRun: 0 };
    let okStreak = 0;
    while (okStreak < n && this.samples[n - 1 - okStreak]?.ok) okStreak++;
    const failureRuns = this.samples.filter((x, i) => !x.ok && (i === 0 || this.samples[i - 1]?.ok)).length;
    let lastFailureRun = 0;
    while (okStreak + lastFailureRun < n && !this.samples[n - 1 - okStreak - lastFailureRun]?.ok) lastFailureRun++;
    const errors = this.samples.filter((s) => s.errorAnswer).length;
    const failures = this.samples.filter((s) => !s.ok).length;
    const lat = this.samples.map((s) => s.latencyMs).sort((a, b) => a - b);
    const p95 = lat[Math.min(lat.length - 1, Math.ceil(0.95 * lat.length) - 1)];
    const last = this.samples[n - 1]?.latencyMs;
    return {
      count: n,
      errorRate: (errors / n) * 100,
      failureRate: (failures / n) * 100,
      okStreak,
      failureRuns,
      lastFailureRun,
      ...(p95 !== undefined ? { p95LatencyMs: p95 } : {}),
      ...(last !== undefined ? { lastLatencyMs: last } : {}),
    };
  }
}
