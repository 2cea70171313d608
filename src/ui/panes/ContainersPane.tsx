import { Box } from 'ink';
import { memo } from 'react';
import type { DockerData, Envelope } from '../../state/store.js';
import { containerRows, fit, visibleColumns, windowRows, type Color, type ContainerRow } from '../format/cells.js';
import { C, PaneTitle } from '../theme.js';

/**
 * One line of the table, drawn again only when its text, colour or selection changed (issue #27: at
 * idle the figures of most rows read the same from one refresh to the next — uptimes in whole minutes —
 * so React skips them and Ink's layout keeps their measured boxes).
 */
const Line = memo(function Line(props: { text: string; color?: Color | undefined; inverse?: boolean; dim?: boolean }) {
  return (
    <C color={props.color} inverse={!!props.inverse} dim={!!props.dim}>
      {props.text}
    </C>
  );
});

type LineProps = { key: string; text: string; color?: Color | undefined; inverse: boolean };

/**
 * The table's rows, drawn again only when a row's text, colour or selection changed (issue #27 point
 * 2): at idle the rows read the same from one refresh to the next, and React then skips the whole
 * list at once instead of comparing each memoised line.
 */
const Rows = memo(
  function Rows(props: { lines: LineProps[] }) {
    return (
      <Box flexDirection="column">
        {props.lines.map((l) => (
          <Line key={l.key} color={l.color} inverse={l.inverse} text={l.text} />
        ))}
      </Box>
    );
  },
  (a, b) => a.lines.length === b.lines.length && a.lines.every((l, i) => sameLine(l, b.lines[i]!)),
);

const sameLine = (a: LineProps, b: LineProps): boolean => a.key === b.key && a.text === b.text && a.color === b.color && a.inverse === b.inverse;

/** Row texts by their figures and widths (bounded: cleared when full, as the width cache). */
const lineTexts = new Map<string, string>();
const LINE_TEXTS_MAX = 1024;

/**
 * Containers table: problems first; optional columns drop on narrow panes; windowed to the visible
 * rows with "+N more". A fixed-width table of our own rather than ink-table: ink-table 3 is
 * CommonJS and crashes under ink 6, and a windowed, column-dropping table needs control of each cell.
 */
export function ContainersPane(props: { docker: Envelope<DockerData>; configured: boolean; selected: number; focused: boolean; width: number; height: number; now: number }) {
  const { docker, width, height } = props;
  const title = `Containers${docker.data ? ` (${docker.data.containers.filter((c) => c.state === 'running').length}/${docker.data.containers.length} running)` : ''}`;
  const stale = docker.status === 'stale' || docker.status === 'error';
  if (!docker.data) {
    return (
      <Box flexDirection="column">
        <PaneTitle focused={props.focused}>{title}</PaneTitle>
        {/* No rows to show, so the reason may take several lines: it is what the operator needs. */}
        <C color={docker.status === 'error' ? 'red' : 'gray'} wrap="wrap">{!props.configured ? 'no Docker engine in this config (services name no container)' : docker.error ? docker.error.message : 'loading…'}</C>
      </Box>
    );
  }
  const rows = containerRows(docker.data.containers, docker.data.stats, props.now);
  const cols = visibleColumns(width);
  const nameW = Math.max(10, width - cols.filter((c) => c.key !== 'name').reduce((a, c) => a + c.width + 1, 0) - 1);
  const w = (c: (typeof cols)[number]) => (c.key === 'name' ? nameW : c.width);
  const win = windowRows(rows, props.selected, Math.max(1, height - 2 - (stale ? 1 : 0)));
  const cells = (r: ContainerRow) => {
    // The line of the same figures at the same widths, as last drawn (issue #27: at idle most rows read
    // the same from one refresh to the next; fitting their seven cells again was most of this pane's work).
    const key = `${nameW}\u0000${cols.length}\u0000${r.name}\u0000${r.state}\u0000${r.health}\u0000${r.uptime}\u0000${r.restarts}\u0000${r.cpu}\u0000${r.mem}`;
    let text = lineTexts.get(key);
    if (text === undefined) {
      text = cols.map((c) => fit(String(r[c.key]), w(c), c.key === 'cpu' || c.key === 'restarts' ? 'right' : 'left')).join(' ');
      if (lineTexts.size >= LINE_TEXTS_MAX) lineTexts.clear();
      lineTexts.set(key, text);
    }
    return text;
  };
  return (
    <Box flexDirection="column">
      <PaneTitle focused={props.focused}>{title}</PaneTitle>
      {stale ? <C color="red">stale: {docker.error?.message}</C> : null}
      <Line dim text={cols.map((c) => fit(c.title, w(c), c.key === 'cpu' || c.key === 'restarts' ? 'right' : 'left')).join(' ')} />
      {rows.length === 0 ? <C dim>no containers</C> : null}
      <Rows lines={win.rows.map((r, i): LineProps => ({ key: r.id, color: r.color, inverse: props.focused && win.offset + i === props.selected, text: cells(r) }))} />
      {win.hidden > 0 ? <C dim>{`+${win.hidden} more`}</C> : null}
    </Box>
  );
}
