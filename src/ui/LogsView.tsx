import { Box, Text, type Key } from 'ink';
import { useEffect, useImperativeHandle, useMemo, useRef, useState, type Ref } from 'react';
import { useRefState } from './useRefState.js';
import type { LogFollow, LogLine, LogProgress } from '../services/logs.js';
import { LogBuffer } from '../domain/log-buffer.js';
import { fit } from './format/cells.js';
import { compileFilter, FILTER_GIVE_UP_MS, FILTER_SYNTAX_NOTE, logLineColor, printableLogText } from './format/logs.js';
import { commandFor, keyName, type KeyBinding } from './keys.js';
import { C } from './theme.js';

/** The view's buffer when the configuration says nothing (`log_view.buffer`): 32 MB of lines (issue #26). */
export const DEFAULT_LOG_BUFFER_BYTES = 32 * 1024 * 1024;
/** How often the view looks at its buffer and draws: at most one frame per tick, whatever the rate (4 a second: a frame of the full view costs ~10 ms of CPU, the lag target is 1 s). */
const TICK_MS = 250;
/** A filter's scan of the lines already held takes at most this much of each tick. */
const SCAN_MS = 50;
/** Lag at which the view says it is behind, and below which it says it caught up again (hysteresis). */
export const BEHIND_MS = 1000;
const CAUGHT_UP_MS = 500;

/**
 * The logs view's key handler. The console has one `useInput` and passes keys down: two Ink input
 * listeners hand off badly (a listener toggled by `isActive` re-registers after the next render, so
 * the key that opens help and the key that closes it can each reach the wrong view).
 */
export interface LogsKeys {
  onKey(input: string, key: Key): void;
}

/** What the logs view follows. */
export interface LogTarget {
  kind: 'container' | 'file';
  id: string;
  name: string;
  /** A container on a configured host (issue #25): the engine the follow goes to; undefined for the local one. */
  host?: string | undefined;
}

/**
 * Follows a container's (or a log file's) log live into a bounded buffer (`LogBuffer`: by bytes,
 * 32 MB unless configured; the filter tested on each line as it arrives). The view draws at most once
 * per 250 ms tick whatever the rate; `/` filters by regex, `p` pauses, `g` jumps to when the oldest
 * firing alert started, `G` skips to now. It says how far back the buffer reaches, and when the follow
 * cannot keep up it says "behind by ~N lines / T s" instead of "following" (issue #26).
 */
export function LogsView(props: {
  target: LogTarget;
  follow: (t: LogTarget, onLine: (l: LogLine) => void, onEnd: (why: string) => void) => Promise<LogFollow>;
  keys: readonly KeyBinding[];
  width: number;
  height: number;
  jumpTo?: number | undefined;
  /** The buffer's bound in bytes (config `log_view.buffer`), and in lines (`log_view.lines`). */
  bufferBytes?: number | undefined;
  bufferLines?: number | undefined;
  onBack: () => void;
  onQuit: () => void;
  onHelp: () => void;
  /** The console's one input handler hands this view its keys (see LogsKeys). */
  keysRef: Ref<LogsKeys>;
}) {
  // Read synchronously by the input handler: "/ERROR⏎" may arrive in one burst.
  const [getPaused, setPaused] = useRefState<number | undefined>(undefined);
  const [getFilter, setFilter] = useRefState('');
  const [getEditing, setEditing] = useRefState<string | undefined>(undefined);
  // `/` again shows the filter in use, selected: typing replaces it, backspace edits it (an operator's
  // trial typed "heal" after "/trades" and got /tradesheal).
  const selected = useRef(false);
  const paused = getPaused();
  const filter = getFilter();
  const editing = getEditing();
  const newBuffer = () => new LogBuffer<LogLine>(props.bufferBytes ?? DEFAULT_LOG_BUFFER_BYTES, props.bufferLines);
  const bufRef = useRef<LogBuffer<LogLine> | undefined>(undefined);
  bufRef.current ??= newBuffer();
  const buf = bufRef.current;
  const followRef = useRef<LogFollow | undefined>(undefined);
  const [ended, setEnded] = useState<string | undefined>();
  const [anchor, setAnchor] = useState<number | undefined>();
  const [, setTick] = useState(0);
  const lag = useRef<{ behind: boolean; progress?: LogProgress; skipped?: string }>({ behind: false });

  const compiled = useMemo(() => compileFilter(filter), [filter]);
  const compiledRef = useRef(compiled);
  compiledRef.current = compiled;
  const filterOn = compiled.filter && !compiled.filter.off ? compiled.filter : undefined;
  // The buffer takes a new filter in the render that shows it (an effect would leave one frame with
  // the new status over the old lines); its first scan pass runs here too.
  const applied = useRef<{ compiled: typeof compiled; buf: LogBuffer<LogLine> } | undefined>(undefined);
  if (applied.current?.compiled !== compiled || applied.current.buf !== buf) {
    buf.setFilter(filterOn ? (t) => filterOn.test(t) : undefined);
    if (filterOn) {
      filterOn.backlogMs = 0;
      buf.scan(SCAN_MS);
    }
    applied.current = { compiled, buf };
  }

  useEffect(() => {
    let cancelled = false;
    let drawn = '';
    // Another target: a buffer of its own (the filter stays).
    if (buf.end > 0) {
      const b = newBuffer();
      const f = compiledRef.current.filter;
      b.setFilter(f && !f.off ? (t) => f.test(t) : undefined);
      bufRef.current = b;
    }
    const b = bufRef.current as LogBuffer<LogLine>;
    followRef.current = undefined;
    lag.current = { behind: false };
    // One tick: the filter's scan goes on, the lag is read, and a frame is drawn only if something moved.
    const timer = setInterval(() => {
      const buf = b;
      const f = compiledRef.current.filter;
      if (f && !f.off && !buf.scanComplete) {
        const t0 = performance.now();
        buf.scan(SCAN_MS);
        f.backlogMs = buf.scanComplete ? 0 : f.backlogMs + (performance.now() - t0);
        if (f.backlogMs > FILTER_GIVE_UP_MS) {
          f.off = `filter too slow (over ${Math.round(FILTER_GIVE_UP_MS / 1000)} s on ${buf.size} lines): it is off; press / for a simpler one`;
          buf.setFilter(undefined);
        }
      }
      const p = followRef.current?.progress?.();
      const was = lag.current.behind;
      if (p) lag.current = { ...lag.current, progress: p, behind: was ? p.lagMs >= CAUGHT_UP_MS : p.lagMs >= BEHIND_MS };
      const key = `${buf.version}:${lag.current.behind}:${p ? Math.round(p.lagMs / 100) : ''}`;
      if (key === drawn) return;
      drawn = key;
      setTick((n) => n + 1);
    }, TICK_MS);
    props
      .follow(props.target, (l) => b.push(l), (why) => setEnded(why))
      .then((x) => {
        if (cancelled) x.stop();
        else followRef.current = x;
      })
      .catch((e: Error) => setEnded(`cannot follow ${props.target.name}: ${e.message}`));
    return () => {
      cancelled = true;
      clearInterval(timer);
      followRef.current?.stop();
    };
    // Re-subscribe only when the target changes (the filter is read through its ref at each tick).
  }, [props.target.id]);

  const skipToNow = () => {
    const f = followRef.current;
    setPaused(undefined);
    setAnchor(undefined);
    if (!f?.skipToNow) return;
    const p = lag.current.progress;
    const was = lag.current.behind && p ? `skipped ~${formatCount(behindLines(p))} lines (${(p.lagMs / 1000).toFixed(1)} s) at ${new Date().toISOString().slice(11, 19)}` : undefined;
    lag.current = { behind: false, ...(was ? { skipped: was } : {}) };
    f.skipToNow().catch((e: Error) => setEnded(`cannot skip to now: ${e.message}`));
  };

  const bodyHeight = Math.max(1, props.height - 3);
  let rows: { seq: number; line: LogLine }[];
  if (anchor !== undefined) {
    const from = buf.seqAtOrAfter(anchor);
    rows = from !== undefined ? buf.window(bodyHeight, { from }) : buf.window(bodyHeight, paused !== undefined ? { before: paused } : {});
    if (rows.length < bodyHeight) rows = buf.window(bodyHeight, paused !== undefined ? { before: paused } : {});
  } else rows = buf.window(bodyHeight, paused !== undefined ? { before: paused } : {});

  useImperativeHandle(props.keysRef, () => ({
    onKey: (input: string, key: Key) => {
      const editing = getEditing();
      if (editing !== undefined) {
        const wasSelected = selected.current;
        selected.current = false;
        if (key.return) {
          setFilter(editing);
          setEditing(undefined);
        } else if (key.escape) setEditing(undefined);
        else if (key.backspace || key.delete) setEditing(editing.slice(0, -1));
        // ctrl-u clears the line, as in a shell; it arrives as its control character. No control
        // character ever joins the pattern (it was typed into it, unseen, and the title miscounted it).
        else if (input === '\x15' || (key.ctrl && input === 'u')) setEditing('');
        else if (input && !key.ctrl && !key.meta) {
          const typed = input.replace(/[\x00-\x1f\x7f]/g, '');
          if (typed) setEditing(wasSelected ? typed : editing + typed);
          else selected.current = wasSelected;
        } else selected.current = wasSelected;
        return;
      }
      const paused = getPaused();
      const cmd = commandFor(props.keys, keyName(input, key), ['logs', 'global']);
      if (!cmd) return;
      if (cmd.id === 'app.quit') props.onQuit();
      else if (cmd.id === 'app.help') props.onHelp();
      else if (cmd.id === 'logs.filter') {
        selected.current = getFilter() !== '';
        setEditing(getFilter());
      }
      else if (cmd.id === 'logs.pause') {
        setPaused(paused !== undefined ? undefined : buf.end);
        setAnchor(undefined);
      } else if (cmd.id === 'logs.jump' && props.jumpTo !== undefined) {
        setPaused(buf.end);
        setAnchor(props.jumpTo);
      } else if (cmd.id === 'logs.now') skipToNow();
      else if (cmd.id === 'logs.back') props.onBack();
    },
  }));

  const { behind, status } = statusOf({
    buf,
    lag: lag.current,
    nowKey: props.keys.find((k) => k.id === 'logs.now')?.keys[0] ?? 'G',
    paused: paused !== undefined,
    filter: filterOn ? filter : undefined,
    anchor,
  });
  const room = Math.max(10, props.width - props.target.name.length - 8);
  return (
    <Box flexDirection="column">
      <Box>
        <C bold color="cyan">{`Logs: ${props.target.name}`}</C>
        <Text> </Text>
        {behind ? <C bold color="red">{fit(behind, room)}</C> : null}
        {behind ? <Text> · </Text> : null}
        <Text>{fit(status, Math.max(1, room - (behind ? behind.length + 3 : 0)))}</Text>
      </Box>
      {rows.map(({ seq, line: l }) => (
        <C key={`${seq}`} color={logLineColor(l.text) ?? (l.stream === 'stderr' ? 'magenta' : undefined)}>
          {fit(printableLogText(l.text), props.width)}
        </C>
      ))}
      {rows.length === 0 ? <C dim>{ended ?? (buf.size ? (buf.scanComplete ? 'no line matches the filter' : 'filtering…') : 'waiting for log lines…')}</C> : null}
      {ended && rows.length ? <C color="yellow">{ended}</C> : null}
      {editing !== undefined ? (
        <Text wrap="truncate">
          /{selected.current ? <Text inverse>{editing}</Text> : editing}
          <Text inverse> </Text>
          <Text dimColor>  {selected.current ? 'typing replaces it · backspace edits · ' : ''}enter apply · esc cancel · {FILTER_SYNTAX_NOTE}</Text>
        </Text>
      ) : compiled.error ?? compiled.filter?.off ? (
        <C color="red">{compiled.error ?? compiled.filter?.off}</C>
      ) : null}
    </Box>
  );
}

/** The header's two parts: the red "BEHIND …" (when it is) and the rest of the status. */
function statusOf(o: { buf: LogBuffer<LogLine>; lag: { behind: boolean; progress?: LogProgress; skipped?: string }; nowKey: string; paused: boolean; filter: string | undefined; anchor: number | undefined }): { behind: string | undefined; status: string } {
  const { buf, anchor } = o;
  const p = o.lag.progress;
  const behind = o.lag.behind && p ? `BEHIND by ~${formatCount(behindLines(p))} lines / ${(p.lagMs / 1000).toFixed(1)} s · ${o.nowKey} skip to now` : undefined;
  const oldest = buf.oldest();
  const reach = oldest?.at !== undefined ? `back to ${new Date(oldest.at).toISOString().slice(11, 19)} (${formatAge(Date.now() - oldest.at)})` : '';
  const size = `${formatCount(buf.size)} lines, ${(buf.bytes / 1048576).toFixed(1)} of ${Math.round(buf.maxBytes / 1048576)} MB`;
  const status = [
    o.paused ? 'PAUSED' : behind ? '' : 'following',
    anchor !== undefined ? `from ${new Date(anchor).toISOString().slice(11, 19)} (oldest firing alert)` : '',
    o.filter !== undefined
      ? `filter /${o.filter}/ ${formatCount(buf.matchCount)} of ${size}${buf.scanComplete ? '' : ` (filtering… ${formatCount(buf.looked)} of ${formatCount(buf.size)})`}`
      : size,
    reach,
    !behind && o.lag.skipped ? o.lag.skipped : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return { behind, status };
}

/** Lines not read yet: counted by the follow when it can (a file), else the container's rate × the lag. */
function behindLines(p: LogProgress): number {
  return p.behindLines ?? Math.round((p.rate * p.lagMs) / 1000);
}

/** 1234567 → "1,234,567". */
function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** How far back, roughly: "45 s", "12 min", "3.5 h". */
function formatAge(ms: number): string {
  const s = Math.max(0, ms / 1000);
  return s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}
