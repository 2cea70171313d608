import { Box, Text, type Key } from 'ink';
import { useEffect, useImperativeHandle, useMemo, useRef, useState, type Ref } from 'react';
import { useRefState } from './useRefState.js';
import type { LogFollow, LogLine } from '../services/logs.js';
import { fit } from './format/cells.js';
import { compileFilter, FILTER_SYNTAX_NOTE, filterLines, logLineColor, printableLogText } from './format/logs.js';
import { commandFor, keyName, type KeyBinding } from './keys.js';
import { C } from './theme.js';

const MAX_LINES = 5000;

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
}

/**
 * Follows a container's (or a log file's) log live. Lines arrive in batches (flushed at most every
 * 100 ms) so a fast stream does not re-render per line; `/` filters by regex, `p` pauses, `g` jumps to
 * when the oldest firing alert started.
 */
export function LogsView(props: {
  target: LogTarget;
  follow: (t: LogTarget, onLine: (l: LogLine) => void, onEnd: (why: string) => void) => Promise<LogFollow>;
  keys: readonly KeyBinding[];
  width: number;
  height: number;
  jumpTo?: number | undefined;
  onBack: () => void;
  onQuit: () => void;
  onHelp: () => void;
  /** The console's one input handler hands this view its keys (see LogsKeys). */
  keysRef: Ref<LogsKeys>;
}) {
  const [lines, setLines] = useState<LogLine[]>([]);
  // Read synchronously by the input handler: "/ERROR⏎" may arrive in one burst.
  const [getPaused, setPaused] = useRefState(false);
  const [getFilter, setFilter] = useRefState('');
  const [getEditing, setEditing] = useRefState<string | undefined>(undefined);
  const paused = getPaused();
  const filter = getFilter();
  const editing = getEditing();
  const linesRef = useRef<LogLine[]>([]);
  const [ended, setEnded] = useState<string | undefined>();
  const [anchor, setAnchor] = useState<number | undefined>();
  const pending = useRef<LogLine[]>([]);

  useEffect(() => {
    let f: LogFollow | undefined;
    let cancelled = false;
    const timer = setInterval(() => {
      if (pending.current.length === 0) return;
      const batch = pending.current;
      pending.current = [];
      setLines((prev) => {
        const next = prev.concat(batch);
        linesRef.current = next.length > MAX_LINES ? next.slice(next.length - MAX_LINES) : next;
        return linesRef.current;
      });
    }, 100);
    props
      .follow(props.target, (l) => pending.current.push(l), (why) => setEnded(why))
      .then((x) => {
        if (cancelled) x.stop();
        else f = x;
      })
      .catch((e: Error) => setEnded(`cannot follow ${props.target.name}: ${e.message}`));
    return () => {
      cancelled = true;
      clearInterval(timer);
      f?.stop();
    };
    // Re-subscribe only when the target changes.
  }, [props.target.id]);

  const compiled = useMemo(() => compileFilter(filter), [filter]);
  const [frozen, setFrozen] = useState<LogLine[] | undefined>();
  const source = paused ? (frozen ?? lines) : lines;
  // Filtering runs in passes of at most FILTER_PASS_MS; an unfinished one goes on after this frame,
  // so q and ctrl-c are read in between (issue #13).
  const pass = compiled.filter ? filterLines(source, compiled.filter) : undefined;
  const shown = pass ? pass.shown : source;
  const [, setPasses] = useState(0);
  useEffect(() => {
    if (!pass || pass.complete) return;
    const t = setTimeout(() => setPasses((n) => n + 1), 10);
    return () => clearTimeout(t);
  });
  const bodyHeight = Math.max(1, props.height - 3);
  let start = Math.max(0, shown.length - bodyHeight);
  if (anchor !== undefined) {
    const i = shown.findIndex((l) => (l.at ?? 0) >= anchor);
    start = i >= 0 ? Math.min(i, Math.max(0, shown.length - bodyHeight)) : start;
  }
  const visible = shown.slice(start, start + bodyHeight);

  useImperativeHandle(props.keysRef, () => ({
    onKey: (input: string, key: Key) => {
      const editing = getEditing();
      if (editing !== undefined) {
        if (key.return) {
          setFilter(editing);
          setEditing(undefined);
        } else if (key.escape) setEditing(undefined);
        else if (key.backspace || key.delete) setEditing(editing.slice(0, -1));
        else if (input && !key.ctrl && !key.meta) setEditing(editing + input);
        return;
      }
      const paused = getPaused();
      const cmd = commandFor(props.keys, keyName(input, key), ['logs', 'global']);
      if (!cmd) return;
      if (cmd.id === 'app.quit') props.onQuit();
      else if (cmd.id === 'app.help') props.onHelp();
      else if (cmd.id === 'logs.filter') setEditing(getFilter());
      else if (cmd.id === 'logs.pause') {
        setFrozen(paused ? undefined : linesRef.current);
        setPaused(!paused);
        setAnchor(undefined);
      } else if (cmd.id === 'logs.jump' && props.jumpTo !== undefined) {
        setFrozen(linesRef.current);
        setPaused(true);
        setAnchor(props.jumpTo);
      } else if (cmd.id === 'logs.back') props.onBack();
    },
  }));

  const status = [
    paused ? 'PAUSED' : 'following',
    compiled.filter && !compiled.filter.off
      ? `filter /${filter}/ ${shown.length} of ${source.length} lines${pass && !pass.complete ? ` (filtering… ${pass.looked} of ${source.length})` : ''}`
      : `${source.length} lines`,
    anchor !== undefined ? `from ${new Date(anchor).toISOString().slice(11, 19)} (oldest firing alert)` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <Box flexDirection="column">
      <Box>
        <C bold color="cyan">{`Logs: ${props.target.name}`}</C>
        <Text> {fit(status, Math.max(10, props.width - props.target.name.length - 8))}</Text>
      </Box>
      {visible.map((l, i) => (
        <C key={`${start + i}`} color={logLineColor(l.text) ?? (l.stream === 'stderr' ? 'magenta' : undefined)}>
          {fit(printableLogText(l.text), props.width)}
        </C>
      ))}
      {visible.length === 0 ? <C dim>{ended ?? (source.length ? 'no line matches the filter' : 'waiting for log lines…')}</C> : null}
      {ended && visible.length ? <C color="yellow">{ended}</C> : null}
      {editing !== undefined ? (
        <Text wrap="truncate">
          /{editing}
          <Text inverse> </Text>
          <Text dimColor>  enter apply · esc cancel · {FILTER_SYNTAX_NOTE}</Text>
        </Text>
      ) : compiled.error ?? compiled.filter?.off ? (
        <C color="red">{compiled.error ?? compiled.filter?.off}</C>
      ) : null}
    </Box>
  );
}
