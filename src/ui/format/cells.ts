import { formatDuration } from '../../config/duration.js';
import type { Alert } from '../../domain/alerts.js';
import { thresholdLevel, type CheckStatus } from '../../domain/check.js';
import { formatBytes, formatPercent } from '../../domain/format.js';
import type { ContainerInfo, ContainerStats } from '../../domain/observations.js';
import { textWidth } from '../ink/width.js';

/** Ink colour names used by the console; readable in 16 colours. */
export type Color = 'green' | 'yellow' | 'red' | 'magenta' | 'gray' | 'cyan' | 'white';

/** Colour of a check status. */
export function statusColor(s: CheckStatus): Color {
  return { ok: 'green', warning: 'yellow', critical: 'red', unknown: 'magenta' }[s] as Color;
}

/**
 * Colour of a gauge value against its configured thresholds — the same levels the host checks
 * use (domain/evaluate.ts), so a bar is yellow exactly when its check says WARNING and red when
 * CRITICAL: above `warn` yellow, above `crit` (when set) red, else green.
 */
export function levelColor(value: number, warn: number, crit?: number): Color {
  return statusColor(thresholdLevel(value, warn, crit));
}

/** A horizontal bar of `width` cells for a percentage. */
export function bar(percent: number, width: number): string {
  const w = Math.max(1, width);
  const filled = Math.round((Math.min(100, Math.max(0, percent)) / 100) * w);
  return '█'.repeat(filled) + '░'.repeat(w - filled);
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** A sparkline of the values, scaled 0..max (100 for percentages), right-aligned in `width` cells. */
export function sparkline(values: readonly number[], width: number, max?: number): string {
  const v = values.slice(-width);
  const top = max ?? Math.max(1, ...v);
  const chars = v.map((x) => SPARKS[Math.min(SPARKS.length - 1, Math.max(0, Math.round((x / top) * (SPARKS.length - 1))))] ?? ' ');
  return ' '.repeat(Math.max(0, width - chars.length)) + chars.join('');
}

/**
 * Pads or truncates a one-line text to exactly `width` terminal columns (with an ellipsis when cut).
 * Columns, not characters: a Chinese character or an emoji takes two, so a message, a URL or a log
 * line in Chinese keeps its table aligned and never runs past the edge of the pane.
 */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const w = textWidth(text);
  if (w > width) {
    if (width === 1) return '…';
    const cut = cutToColumns(text, width - 1);
    return `${cut}…${' '.repeat(width - 1 - textWidth(cut))}`;
  }
  const pad = ' '.repeat(width - w);
  return align === 'left' ? text + pad : pad + text;
}

/**
 * Splits a one-line text into pieces of at most `width` columns (whole characters). A piece ends
 * after a space when there is one in its last two thirds (a flag or a word is not cut in two);
 * otherwise it is cut hard (a long path, Chinese text without spaces). No piece after the first
 * starts with the space it was cut at.
 */
export function wrapColumns(text: string, width: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (textWidth(rest) > width) {
    // A character wider than the whole width still goes on a line of its own.
    let piece = cutToColumns(rest, width) || ([...graphemes().segment(rest)][0]?.segment ?? rest);
    const space = piece.lastIndexOf(' ');
    const atWordEnd = rest[piece.length] === ' ';
    if (space >= piece.length / 3 && !atWordEnd) piece = piece.slice(0, space + 1);
    out.push(piece);
    // A cut that falls just before a space leaves that space out: the next line starts with its word
    // (before, `│  stays stopped until started.` in the stop dialog, seen in an operator's trial).
    rest = rest.slice(piece.length + (atWordEnd ? 1 : 0));
  }
  if (rest || out.length === 0) out.push(rest);
  return out;
}

// Built at the first wide text, not as the module loads: ICU's segmenter costs ~10 ms, on the way to
// the console's first frame (issue #27), and an ASCII-only frame never needs it.
let segmenter: Intl.Segmenter | undefined;
const graphemes = (): Intl.Segmenter => (segmenter ??= new Intl.Segmenter());

/** The longest start of `text` that fits in `columns` columns (whole characters only). */
function cutToColumns(text: string, columns: number): string {
  if (textWidth(text) === text.length) return text.slice(0, columns);
  let out = '';
  let used = 0;
  for (const { segment } of graphemes().segment(text)) {
    const w = textWidth(segment);
    if (used + w > columns) break;
    out += segment;
    used += w;
  }
  return out;
}

/** One row of the containers table. */
export interface ContainerRow {
  id: string;
  name: string;
  state: string;
  health: string;
  uptime: string;
  restarts: string;
  cpu: string;
  mem: string;
  color: Color;
  /** Lower sorts first: problems first. */
  rank: number;
}

/**
 * A running container's uptime at the granularity an operator reads it (`docker ps` says "Up 5
 * minutes"): seconds in its first minute, whole minutes in its first hour, then hours and minutes,
 * days and hours. Issue #27: a row's text then changes once a minute, not at every refresh, and a
 * row whose text is unchanged is not drawn again (ContainersPane's memoised lines).
 */
export function uptimeText(ms: number): string {
  return ms >= 60_000 && ms < 3_600_000 ? `${Math.floor(ms / 60_000)}m` : formatDuration(ms);
}

/** Names compared as `localeCompare` does (the default locale), with one collator instead of one per call. */
const byName = new Intl.Collator().compare;

/** The last call of containerRows (App orders the selection by it, the pane draws it: one frame, one computation). */
let lastRows: { containers: readonly ContainerInfo[]; stats: Record<string, ContainerStats>; now: number; rows: ContainerRow[] } | undefined;

/** Containers as table rows, problems first (unhealthy, restarting, exited non-zero), then by name. */
export function containerRows(containers: readonly ContainerInfo[], stats: Record<string, ContainerStats>, now: number): ContainerRow[] {
  const l = lastRows;
  if (l && l.containers === containers && l.stats === stats && l.now === now) return l.rows;
  const rows = rowsOf(containers, stats, now);
  lastRows = { containers, stats, now, rows };
  return rows;
}

function rowsOf(containers: readonly ContainerInfo[], stats: Record<string, ContainerStats>, now: number): ContainerRow[] {
  return containers
    .map((c): ContainerRow => {
      const s = stats[c.id];
      const bad = c.health === 'unhealthy' || c.state === 'restarting' || c.state === 'dead' || (c.state === 'exited' && c.exitCode !== 0);
      const warn = c.health === 'starting' || c.state === 'paused' || c.state === 'created';
      const rank = bad ? 0 : warn ? 1 : c.state === 'running' ? 2 : 3;
      return {
        id: c.id,
        name: c.name,
        state: c.state === 'exited' ? `exited(${c.exitCode})` : c.state,
        health: c.health === 'none' ? '-' : c.health,
        uptime: c.state === 'running' && c.startedAt ? uptimeText(now - c.startedAt) : '-',
        restarts: String(c.restartCount),
        cpu: s?.cpuPercent !== undefined ? formatPercent(s.cpuPercent) : '-',
        mem: s ? `${formatBytes(s.memUsedBytes)}${s.memLimitBytes ? ` / ${formatBytes(s.memLimitBytes)}` : ''}` : '-',
        color: (bad ? 'red' : warn ? 'yellow' : c.state === 'running' ? 'green' : 'gray'),
        rank,
      };
    })
    .sort((a, b) => a.rank - b.rank || byName(a.name, b.name));
}

/** The columns of the containers table; optional ones drop first when the pane is narrow. */
export const CONTAINER_COLUMNS: { key: keyof ContainerRow; title: string; width: number; optional: number }[] = [
  { key: 'name', title: 'NAME', width: 22, optional: 0 },
  { key: 'state', title: 'STATE', width: 11, optional: 0 },
  { key: 'health', title: 'HEALTH', width: 9, optional: 0 },
  { key: 'cpu', title: 'CPU', width: 6, optional: 1 },
  { key: 'uptime', title: 'UP', width: 7, optional: 3 },
  { key: 'restarts', title: 'RST', width: 4, optional: 2 },
  { key: 'mem', title: 'MEM', width: 19, optional: 4 },
];

/** Columns that fit in `width`, dropping the most optional first. */
export function visibleColumns(width: number): typeof CONTAINER_COLUMNS {
  let cols = [...CONTAINER_COLUMNS];
  const total = () => cols.reduce((a, c) => a + c.width + 1, 0);
  while (total() > width) {
    const most = Math.max(...cols.map((c) => c.optional));
    if (most === 0) break;
    cols = cols.filter((c) => c.optional !== most);
  }
  return cols;
}

/** A windowed slice of rows around the selection, with how many are hidden. */
export function windowRows<T>(rows: readonly T[], selected: number, height: number): { rows: T[]; offset: number; hidden: number } {
  if (rows.length <= height) return { rows: [...rows], offset: 0, hidden: 0 };
  const visible = Math.max(1, height - 1); // one line for "+N more"
  const offset = Math.min(Math.max(0, selected - visible + 1), rows.length - visible);
  return { rows: rows.slice(offset, offset + visible), offset, hidden: rows.length - visible };
}

/** How an alert shows in the alerts pane. */
export function alertStateLabel(a: Alert, ack?: { acknowledged: boolean; silencedUntil?: number }, now = Date.now()): string {
  if (ack?.silencedUntil && ack.silencedUntil > now) return `silenced ${formatDuration(ack.silencedUntil - now)}`;
  if (ack?.acknowledged) return 'acknowledged';
  return a.state;
}
