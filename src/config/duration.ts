/** Parses a duration written as seconds (`30`) or with a unit (`500ms`, `30s`, `5m`, `2h`, `1d`) into milliseconds. */
export function parseDuration(input: number | string): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input * 1000 : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit] ?? 1000;
  return n * factor;
}

/** Durations for people: one formatter, in src/domain/format.ts (issue #15). */
export { formatDuration } from '../domain/format.js';
