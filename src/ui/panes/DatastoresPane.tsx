import { Box } from 'ink';
import { formatDuration } from '../../config/duration.js';
import { formatBytes, formatMs, formatPercent } from '../../domain/format.js';
import type { AppState } from '../../state/store.js';
import { fit, statusColor } from '../format/cells.js';
import { C } from '../theme.js';

/** SQLite databases and Redis instances, then HTTP endpoints, one line each. */
export function DatastoresPane(props: { state: Pick<AppState, 'checks' | 'databases' | 'redis' | 'endpoints'>; width: number; now: number }) {
  const { state, width, now } = props;
  const check = (id: string) => state.checks[id];
  const line = (id: string, label: string, text: string) => {
    const c = check(id);
    return (
      <C key={id} color={c ? statusColor(c.status) : 'gray'}>
        {fit(`${fit(label, 16)} ${text}`, width)}
      </C>
    );
  };
  const dbs = Object.entries(state.databases).map(([name, env]) => {
    const d = env.data;
    if (!d) return line(`sqlite:${name}`, `db ${name}`, env.error?.message ?? 'checking…');
    const problem = env.status === 'stale' ? `STALE: ${env.error?.message ?? ''} ` : check(`sqlite:${name}`)?.status !== 'ok' ? `${check(`sqlite:${name}`)?.message ?? ''} ` : '';
    return line(`sqlite:${name}`, `db ${name}`, `${problem}${formatBytes(d.sizeBytes)} wal ${formatBytes(d.walBytes)} · modified ${formatDuration(Math.max(0, now - d.lastModified))} ago${state.checks[`backup:${name}`] ? ` · ${state.checks[`backup:${name}`]?.message ?? ''}` : ''}`);
  });
  const redis = Object.entries(state.redis).map(([name, env]) => {
    const r = env.data;
    if (!r || env.status === 'error') return line(`redis:${name}`, `redis ${name}`, env.error?.message ?? 'checking…');
    const prefix = env.status === 'stale' ? `DOWN: ${env.error?.message ?? ''} · last seen: ` : '';
    return line(
      `redis:${name}`,
      `redis ${name}`,
      `${prefix}${formatMs(r.latencyMs)} · mem ${formatBytes(r.usedMemoryBytes)}${r.maxMemoryBytes ? ` / ${formatBytes(r.maxMemoryBytes)}` : ''} · hit ${r.hitRatio !== undefined ? formatPercent(r.hitRatio * 100) : '-'} · evicted ${r.evictedKeys} · rdb ${r.rdbLastBgsaveStatus ?? '-'}`,
    );
  });
  const endpoints = Object.entries(state.endpoints).map(([name, env]) => {
    const e = env.data;
    if (!e) return line(`http:${name}`, `http ${name}`, env.error?.message ?? 'checking…');
    const st = e.last.status !== undefined ? `HTTP ${e.last.status}` : (e.last.failure?.kind ?? 'down');
    return line(
      `http:${name}`,
      `http ${name}`,
      `${st} · ${formatMs(e.last.latencyMs)} (p95 ${e.window.p95LatencyMs !== undefined ? formatMs(e.window.p95LatencyMs) : '-'}) · errors ${formatPercent(e.window.errorRate)} · failures ${formatPercent(e.window.failureRate)}`,
    );
  });
  const all = [...dbs, ...redis, ...endpoints];
  return (
    <Box flexDirection="column">
      <C bold>Datastores & endpoints</C>
      {all.length ? all : <C dim>none configured</C>}
    </Box>
  );
}
