import { Box } from 'ink';
import type { Color } from '../format/cells.js';
import { formatBytes, formatPercent } from '../../domain/format.js';
import type { ContainerGroup } from '../console/hosts.js';
import { containerRows, fit, visibleColumns, windowRows, type ContainerRow } from '../format/cells.js';
import { C, PaneTitle } from '../theme.js';

/**
 * The containers table with several engines (issue #25): one section per host — a header line
 * (the host, running/total, its gauges or why there are none, or why its engine is unreachable)
 * and its containers, problems first. Sections rather than a HOST column: at 80 columns a column
 * wide enough for a host name (9) pushes CPU and UP out of the table, while a section costs one row
 * per host and carries what a column could not (the host's CPU, memory and disk, its engine's error).
 */
export function HostsContainersPane(props: { groups: readonly ContainerGroup[]; filter: string | undefined; selected: number; focused: boolean; width: number; height: number; now: number }) {
  const { width, height, groups } = props;
  const all = groups.flatMap((g) => g.envelope.data?.containers ?? []);
  const title = `Containers (${all.filter((c) => c.state === 'running').length}/${all.length} running) · hosts: ${props.filter ?? 'all'}`;
  const cols = visibleColumns(width);
  const nameW = Math.max(10, width - cols.filter((c) => c.key !== 'name').reduce((a, c) => a + c.width + 1, 0) - 1);
  const w = (c: (typeof cols)[number]) => (c.key === 'name' ? nameW : c.width);
  const align = (k: string) => (k === 'cpu' || k === 'restarts' ? 'right' : 'left');
  const cells = (r: ContainerRow) => cols.map((c) => fit(String(r[c.key]), w(c), align(c.key))).join(' ');
  type Line = { kind: 'head'; key: string; text: string; color: Color } | { kind: 'row'; row: ContainerRow; index: number };
  const lines: Line[] = [];
  let index = 0;
  for (const g of groups) {
    lines.push({ kind: 'head', key: `h:${g.host}`, ...groupHead(g) });
    const d = g.envelope.data;
    if (!d) continue;
    for (const row of containerRows(d.containers, d.stats, props.now)) lines.push({ kind: 'row', row, index: index++ });
  }
  const selLine = Math.max(0, lines.findIndex((l) => l.kind === 'row' && l.index === props.selected));
  const win = windowRows(lines, selLine, Math.max(1, height - 2));
  return (
    <Box flexDirection="column">
      <PaneTitle focused={props.focused}>{title}</PaneTitle>
      <C dim>{cols.map((c) => fit(c.title, w(c), align(c.key))).join(' ')}</C>
      {win.rows.map((l) =>
        l.kind === 'head' ? (
          <C key={l.key} color={l.color} bold>{fit(l.text, width, 'left')}</C>
        ) : (
          <C key={`${l.row.id}`} color={l.row.color} inverse={props.focused && l.index === props.selected}>
            {cells(l.row)}
          </C>
        ),
      )}
      {win.hidden > 0 ? <C dim>{`+${win.hidden} more`}</C> : null}
    </Box>
  );
}

/** A host's header line: running/total and its gauges, or why its engine or metrics are missing. */
export function groupHead(g: ContainerGroup): { text: string; color: Color } {
  const e = g.envelope;
  const d = e.data;
  if (!d) return { text: `▸ ${g.host} · ${e.error ? `unreachable: ${e.error.message}` : 'loading…'}`, color: e.error ? 'red' : 'gray' };
  const running = `${d.containers.filter((c) => c.state === 'running').length}/${d.containers.length} running`;
  const stale = e.status === 'stale' ? ` · stale: ${e.error?.message ?? ''}` : '';
  return { text: `▸ ${g.host} · ${running}${g.remote ? ` · ${gaugesText(g)}` : ''}${stale}`, color: stale ? 'red' : 'cyan' };
}

/** "cpu 12% mem 1.2 GB/3.8 GB / 55%" from a host's metrics, or why there are none. */
function gaugesText(g: ContainerGroup): string {
  if (!g.metrics) return `no metrics: configured for ${g.host}`;
  const m = g.gauges;
  if (!m?.data) return m?.error ? `metrics: ${m.error.message}` : 'metrics: loading…';
  const v = m.data;
  const parts: string[] = [];
  if (v.cpuRatio !== undefined) parts.push(`cpu ${formatPercent(v.cpuRatio * 100)}`);
  if (v.memUsedBytes !== undefined && v.memTotalBytes) parts.push(`mem ${formatBytes(v.memUsedBytes)}/${formatBytes(v.memTotalBytes)}`);
  for (const f of v.filesystems) if (f.sizeBytes > 0) parts.push(`${f.mount} ${formatPercent((f.usedBytes / f.sizeBytes) * 100)}`);
  if (v.load1 !== undefined) parts.push(`load ${v.load1.toFixed(2)}`);
  return `${parts.join(' ') || 'metrics: no host gauges in the page'}${m.status === 'stale' ? ' (stale)' : ''}`;
}
