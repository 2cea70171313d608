import { Box } from 'ink';
import { useEffect, useSyncExternalStore } from 'react';
import type { CheckStatus } from '../../domain/check.js';
import { probeNumber } from '../../domain/probe.js';
import { fit, sparkline } from '../format/cells.js';
import { firstKey, type KeyBinding } from '../keys.js';
import { C } from '../theme.js';

/** One source of the console's log review (issue #23): its counts, its top patterns, which are new. */
export interface ReviewRow {
  /** `service api`, `log app`. */
  head: string;
  /** Where its lines came from: `container demo-api`, `/var/log/app.log` (last on its line: the counts come first). */
  from: string;
  /** Why it could not be read; the counts are then absent. */
  error?: string;
  errors?: number;
  warnings?: number;
  lines?: number;
  /** The most frequent patterns, then new ones beyond them; each marked when no earlier review saw it. */
  top: { level: 'error' | 'warn'; pattern: string; count: number; fresh: boolean }[];
  /** How many patterns in all, and how many are new; `first`: no earlier review of this source. */
  patterns: number;
  fresh: number;
  first: boolean;
}

/** A probe's value (from the monitor's latest result) and its recorded values (`probe_values`). */
export interface ProbeRow {
  name: string;
  unit: string;
  status?: CheckStatus | undefined;
  value?: number | undefined;
  message?: string | undefined;
  /** Recorded values, oldest first. */
  history: number[];
}

/** What the maintenance view (M) shows: computed by cli/console-maintenance.ts, never while drawing. */
export interface MaintView {
  review:
    | { state: 'idle' }
    | { state: 'reviewing'; since: number }
    | { state: 'done'; at: number; windowMs: number; recorded: boolean; sources: ReviewRow[] }
    | { state: 'failed'; error: string };
  probes: ProbeRow[];
}

/**
 * The maintenance view's data, outside React: `open` (as the view mounts) starts a review when none
 * was made in this console yet and reads the probes' values now and every interval until closed;
 * `again` reviews again. `get` returns the same object until something changed.
 */
export interface MaintSource {
  open: () => () => void;
  again: () => void;
  get: () => MaintView;
  subscribe: (listener: () => void) => () => void;
}

const hhmmss = (t: number) => `${new Date(t).toISOString().slice(11, 19)}Z`;
const STATUS_COLOR = { ok: 'green', warning: 'yellow', critical: 'red', unknown: 'gray' } as const;

type Line = { text: string; color?: 'red' | 'yellow' | 'green' | 'gray' | 'cyan'; bold?: boolean; dim?: boolean };

/** The log review's lines: per source a head line, then its top patterns (new ones marked NEW). */
export function reviewLines(v: MaintView['review']): Line[] {
  switch (v.state) {
    case 'idle':
    case 'reviewing':
      return [{ text: 'reviewing… (the last 24 h of every service\'s container log and logs: file)', dim: true }];
    case 'failed':
      return [{ text: `log review failed: ${v.error}`, color: 'red' }];
    case 'done': {
      if (!v.sources.length) return [{ text: 'nothing to review (no service with a container, no logs: entry)', dim: true }];
      const out: Line[] = [];
      for (const s of v.sources) {
        if (s.error !== undefined) {
          out.push({ text: `${s.head} (${s.from}): not read: ${s.error}`, color: 'red' });
          continue;
        }
        const news = s.first ? 'first review' : s.fresh ? `${s.fresh} new` : 'nothing new';
        out.push({ text: `${s.head}: ${s.errors ?? 0} ERROR, ${s.warnings ?? 0} WARN in ${s.lines ?? 0} lines · ${s.patterns} pattern${s.patterns === 1 ? '' : 's'}, ${news} · ${s.from}`, bold: true, ...(s.errors ? { color: 'red' as const } : s.warnings ? { color: 'yellow' as const } : {}) });
        for (const g of s.top) out.push({ text: `${g.fresh ? 'NEW' : '   '} ${String(g.count).padStart(6)} ${g.level === 'error' ? 'ERROR' : 'WARN '} ${g.pattern}`, ...(g.fresh ? { color: 'cyan' as const } : {}) });
      }
      return out;
    }
  }
}

/** M: the maintenance view — the log review (counts, top patterns, what is new) and the probes with their sparklines. */
export function MaintenanceDialog(props: { source: MaintSource | undefined; keys: readonly KeyBinding[]; readOnly: boolean; width: number; height: number }) {
  const { source, width } = props;
  const inner = width - 4;
  useEffect(() => source?.open(), [source]);
  const view = useSyncExternalStore(source?.subscribe ?? noSubscribe, source?.get ?? noView);
  const back = firstKey(props.keys, 'dialog.back');
  if (!source) {
    return (
      <Box flexDirection="column" borderStyle="round" width={width} paddingX={1}>
        <C bold>Maintenance</C>
        <C dim>{fit('not available in this console', inner)}</C>
        <C dim>{`${back} close`}</C>
      </Box>
    );
  }
  const r = view.review;
  const title = r.state === 'done'
    ? `Log review of the last ${Math.round(r.windowMs / 3_600_000)} h, ${hhmmss(r.at)} (${r.recorded ? 'recorded: the next review compares with it' : 'not recorded: --read-only'})`
    : 'Log review of the last 24 h';
  // Rows: border 2, two titles, the close line, and the probes (a line each, at least one).
  const probeRows = Math.max(1, view.probes.length);
  const room = Math.max(1, props.height - 5 - probeRows);
  const all = reviewLines(r);
  const shown = all.length > room ? [...all.slice(0, room - 1), { text: `… ${all.length - room + 1} more lines: opsdeck logs review`, dim: true }] : all;
  // The sparkline gives way to the message on a narrow terminal (16 values at 80 columns, 30 from 120).
  const spark = Math.max(0, Math.min(30, inner - 60));
  return (
    <Box flexDirection="column" borderStyle="round" width={width} paddingX={1}>
      <C bold>{fit(title, inner)}</C>
      {shown.map((l, i) => (
        <C key={i} {...(l.color ? { color: l.color } : {})} {...(l.bold ? { bold: true } : {})} {...(l.dim ? { dim: true } : {})}>
          {fit(l.text, inner)}
        </C>
      ))}
      <C bold>{fit('Probes (value now, recorded values)', inner)}</C>
      {view.probes.length === 0 ? <C dim>{fit('no probes configured (probes:)', inner)}</C> : null}
      {view.probes.slice(0, probeRows).map((p) => (
        <Box key={p.name}>
          <C>{fit(p.name, 18)} </C>
          <C color={STATUS_COLOR[p.status ?? 'unknown']}>{fit((p.status ?? 'waiting').toUpperCase(), 8)} </C>
          <C>{fit(p.value !== undefined ? `${probeNumber(p.value)}${p.unit}` : '—', 12, 'right')} </C>
          {spark > 0 ? <C color="cyan">{sparkline(p.history, spark)} </C> : null}
          <C dim>{fit(p.status === 'ok' || p.message === undefined ? `${p.history.length} recorded` : p.message, Math.max(0, inner - 40 - (spark > 0 ? spark + 1 : 0)))}</C>
        </Box>
      ))}
      <C dim>{`${back} close · ${firstKey(props.keys, 'app.refresh')} review again${r.state === 'reviewing' ? ' (reviewing…)' : ''}`}</C>
    </Box>
  );
}

const noSubscribe = () => () => undefined;
const EMPTY: MaintView = { review: { state: 'idle' }, probes: [] };
const noView = () => EMPTY;
