// Expected durations of a restore's byte-bound steps (issue #27: "the RTO is the operator's clock —
// show the expected duration of each step before it runs"). A step's time is its bytes over a rate:
// the median rate of the same step in the last restores this state database journaled (same machine,
// same disks), else a default measured by `npm run bench:backup` on a 2-core VM. Steps whose time
// is not set by the file's size (stopping writers, a merge of N rows, health checks) get none: no
// number is better than a made-up one.

import type { Run } from './runbook.js';

/** How a restore will spend its bytes. */
export interface RestoreWork {
  verify: 'checksum' | 'full';
  mode: 'whole' | 'merge' | 'tables';
  /** The backup's database size (decompressed). */
  rawBytes: number;
  /** The live database's size with its -wal (the safety copy's bytes). */
  liveBytes: number;
  /**
   * A whole-file restore whose copy is checked before the swap (issue #27: quick_check, or the full
   * check, at the verify step; the check step then reads the row counts of the file in place). Absent
   * in restores journaled before: their check step ran quick_check.
   */
  checkBeforeSwap?: boolean;
}

/**
 * Default rates, bytes per second, from bench:backup on the shared 2-core VM (927 MiB database,
 * re-measured 2026-12-03 under load — load average 4–7 — with `gz-frames-1` backups and the check
 * before the swap): the checksum-only verify with the copy's quick_check (decompress, SHA-256,
 * write, fsync beside quick_check, row counts) 2.8–4.0 s — 1.5–3.8 s since its members are inflated
 * and written by worker threads (issue #27's third part: 5 alternating rounds, 17:10 UTC, load 3–4);
 * the same without the quick_check (restores
 * journaled before) ~3 s; verify with integrity_check 4.8–9.8 s; quick_check after a whole-file swap
 * (restores journaled before) 0.9–1.2 s; the check of the file in place (header, row counts) under
 * 0.2 s; the safety copy 2.0 s when copied (a hard link: nothing). Conservative on purpose — the
 * slow end of what was measured, rounded down: a slower disk is the common surprise.
 */
export const DEFAULT_RATES: Readonly<Record<string, number>> = {
  'verify:full': 100e6,
  'verify:checksum': 240e6,
  'verify:checksum+quick': 250e6,
  'safety-copy': 450e6,
  'check:quick': 700e6,
  'check:in-place': 5e9,
  'check:full': 100e6,
};

/** The byte-bound steps of a restore of this shape: step id → (rate key, bytes). */
export function byteSteps(w: RestoreWork): Record<string, { key: string; bytes: number }> {
  const before = w.mode === 'whole' && w.checkBeforeSwap;
  return {
    verify: { key: before && w.verify === 'checksum' ? 'verify:checksum+quick' : `verify:${w.verify}`, bytes: w.rawBytes },
    'safety-copy': { key: 'safety-copy', bytes: w.liveBytes },
    check: { key: before ? 'check:in-place' : w.mode === 'whole' ? 'check:quick' : 'check:full', bytes: w.rawBytes },
  };
}

/** One past restore as the journal holds it: its shape and its steps' times. */
export interface PastRestore {
  work: RestoreWork;
  run: Pick<Run, 'steps' | 'states'>;
}

/** Rates (bytes/s) measured in past restores, per rate key; steps under 50 ms or 1 MB say nothing about a rate. */
export function pastRates(past: readonly PastRestore[]): Map<string, number[]> {
  const rates = new Map<string, number[]>();
  for (const p of past) {
    const steps = byteSteps(p.work);
    p.run.steps.forEach((s, i) => {
      const st = p.run.states[i];
      const b = steps[s.id];
      if (!b || st?.status !== 'done' || b.bytes < 1e6) return;
      const ms = st.endedAt - st.startedAt;
      if (ms < 50) return;
      rates.set(b.key, [...(rates.get(b.key) ?? []), (b.bytes / ms) * 1000]);
    });
  }
  return rates;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** The expected time of each byte-bound step, and whether it comes from this machine's past restores. */
export function expectedSteps(w: RestoreWork, past: readonly PastRestore[]): Record<string, { ms: number; from: 'past' | 'default' }> {
  const rates = pastRates(past);
  const out: Record<string, { ms: number; from: 'past' | 'default' }> = {};
  for (const [id, b] of Object.entries(byteSteps(w))) {
    const seen = rates.get(b.key);
    const rate = seen?.length ? median(seen) : DEFAULT_RATES[b.key];
    if (!rate) continue;
    out[id] = { ms: Math.max(100, (b.bytes / rate) * 1000), from: seen?.length ? 'past' : 'default' };
  }
  return out;
}

/** "expected ≈ 4 s (from the last restores here)" for a step's detail. */
export function expectedText(e: { ms: number; from: 'past' | 'default' }): string {
  const s = e.ms / 1000;
  const t = s < 1 ? 'under 1 s' : s < 90 ? `≈ ${Math.round(s)} s` : `≈ ${Math.round(s / 60)} min`;
  return `expected ${t} (${e.from === 'past' ? 'from the last restores here' : 'typical rate: no restore measured here yet'})`;
}
