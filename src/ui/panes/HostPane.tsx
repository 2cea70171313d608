import { Box, Text } from 'ink';
import { memo } from 'react';
import type { Thresholds } from '../../config/schema.js';
import { formatBytes, formatPercent } from '../../domain/format.js';
import type { Envelope } from '../../state/store.js';
import type { HostSample } from '../../services/host.js';
import { bar, fit, levelColor, sparkline, type Color } from '../format/cells.js';
import { C } from '../theme.js';
import type { HostHistory } from '../useHostHistory.js';

/** Host gauges: CPU, memory, each disk, network — bars coloured at the thresholds, with the last hour's sparkline. */
export function HostPane(props: { host: Envelope<HostSample>; thresholds: Thresholds; history: HostHistory; width: number; maxRows: number }) {
  const { host, thresholds: t, width } = props;
  const h = host.data;
  if (!h) return <C color={host.status === 'error' ? 'red' : 'gray'}>{host.error ? `host: ${host.error.message}` : 'host: sampling…'}</C>;
  const spark = Math.max(0, Math.min(30, width - 40));
  const barW = Math.max(6, Math.min(20, width - 30 - spark));
  const gauge = (key: string, label: string, pct: number | undefined, warn: number, crit: number | undefined, series: number[], extra: string) => (
    <Gauge
      key={key}
      label={fit(label, 6)}
      color={pct === undefined ? 'gray' : levelColor(pct, warn, crit)}
      bar={bar(pct ?? 0, barW)}
      pct={` ${fit(pct === undefined ? '…' : formatPercent(pct), 5, 'right')} `}
      spark={spark > 0 ? sparkline(series, spark, 100) : undefined}
      extra={` ${extra}`}
    />
  );
  const disks = h.filesystems.slice(0, Math.max(1, props.maxRows - 3));
  return (
    <Box flexDirection="column">
      {gauge('cpu', 'cpu', h.cpuPercent, t.cpu, t.cpu_critical, props.history.cpu.last(spark), `load ${h.load[0].toFixed(2)}`)}
      {gauge('mem', 'mem', h.memory.percent, t.memory, t.memory_critical, props.history.mem.last(spark), formatBytes(h.memory.usedBytes))}
      {disks.map((f) => gauge(`disk:${f.mount}`, fit(f.mount, 6).trim(), f.percent, t.disk, t.disk_critical, props.history.disk(f.mount).last(spark), `${formatBytes(f.sizeBytes - f.usedBytes)} free`))}
      <Box>
        <Text>{fit('net', 6)}</Text>
        <Text>
          in {fit(h.network.rxBytesPerSec !== undefined ? `${formatBytes(h.network.rxBytesPerSec)}/s` : '…', 11)} out{' '}
          {fit(h.network.txBytesPerSec !== undefined ? `${formatBytes(h.network.txBytesPerSec)}/s` : '…', 11)}
        </Text>
        {spark > 0 ? <C color="cyan">{sparkline(props.history.net.last(spark), Math.max(0, spark - 10))}</C> : null}
      </Box>
    </Box>
  );
}

/**
 * One gauge line, its texts made by HostPane: drawn again only when one of them changed (issue #27: at
 * idle the disks' lines read the same from one refresh to the next, and often the memory's).
 */
const Gauge = memo(function Gauge(p: { label: string; color: Color; bar: string; pct: string; spark: string | undefined; extra: string }) {
  return (
    <Box>
      <Text>{p.label}</Text>
      <C color={p.color}>{p.bar}</C>
      <Text>{p.pct}</Text>
      {p.spark !== undefined ? <C color="cyan">{p.spark}</C> : null}
      <C dim>{p.extra}</C>
    </Box>
  );
});
