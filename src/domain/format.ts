/** Bytes for people: 512 B, 1.5 KiB, 23.4 MiB, 1.2 GiB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** A percentage with one decimal below 10, none above: 4.2 %, 87 %. */
export function formatPercent(p: number): string {
  return `${p < 10 ? p.toFixed(1) : Math.round(p)}%`;
}

/**
 * How a duration is written: `compact` (ages, intervals: `850ms`, `12s`, `5m`, `3h12m`, `2d4h`),
 * `coarse` (a backup's age: whole seconds under a minute, then rounded minutes, `2d` past 48 h) or
 * `latency` (answer times: `3 ms`, `240 ms`, `2.4 s`).
 */
export type DurationStyle = 'compact' | 'coarse' | 'latency';

/** The one duration formatter (issue #15: there were three). */
export function formatDuration(ms: number, style: DurationStyle = 'compact'): string {
  if (style === 'latency') return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
  if (style === 'coarse') {
    if (ms < 60_000) return `${Math.round(ms / 1000)}s`; // not "0m" for a backup taken seconds ago
    const m = Math.round(ms / 60_000);
    if (m < 60) return `${m}m`;
    const h = Math.floor(m / 60);
    return h < 48 ? `${h}h${m % 60 ? `${m % 60}m` : ''}` : `${Math.floor(h / 24)}d`;
  }
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  const d = Math.floor(h / 24);
  return `${d}d${h % 24 ? `${h % 24}h` : ''}`;
}

/** Milliseconds for people: 3 ms, 240 ms, 2.4 s (`formatDuration(ms, 'latency')`). */
export const formatMs = (ms: number): string => formatDuration(ms, 'latency');
