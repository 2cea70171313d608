// A remote host's gauges from its `opsdeck watch` metrics endpoint (issue #25, part C): the console
// shows another machine's CPU, memory and disks beside its containers. Only the host gauges of the
// shared metric names are read (README "Several hosts"); every other line of the Prometheus text
// format is skipped, and a malformed line is skipped rather than failing the scrape.

import type { HostGauges } from '../domain/observations.js';
import { fail, ok, type Result } from '../domain/result.js';

export type { HostGauges } from '../domain/observations.js';

/** One sample line of the text format: name, labels, value. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const WANTED = new Set([
  'opsdeck_host_cpu_usage_ratio',
  'opsdeck_host_memory_used_bytes',
  'opsdeck_host_memory_total_bytes',
  'opsdeck_host_filesystem_used_bytes',
  'opsdeck_host_filesystem_size_bytes',
  'opsdeck_host_load1',
]);

/**
 * Parses the sample lines of the Prometheus text exposition format (version 0.0.4) whose metric
 * name is in `wanted` (all when omitted): `name{a="x",b="y"} value [timestamp]`. Comments, other
 * names and lines that do not parse are skipped; `NaN`, `+Inf`, `-Inf` are read as numbers.
 */
export function parseMetrics(text: string, wanted?: ReadonlySet<string>): MetricSample[] {
  const out: MetricSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (!m?.[1]) continue;
    const name = m[1];
    if (wanted && !wanted.has(name)) continue;
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      const parsed = parseLabels(rest);
      if (!parsed) continue;
      Object.assign(labels, parsed.labels);
      rest = rest.slice(parsed.length);
    }
    const valueText = rest.trim().split(/\s+/)[0] ?? '';
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (valueText === '' || (Number.isNaN(value) && valueText !== 'NaN')) continue;
    out.push({ name, labels, value });
  }
  return out;
}

/** `{a="x",b="y"}` at the start of `s`: the labels and how many characters they took; undefined if malformed. */
function parseLabels(s: string): { labels: Record<string, string>; length: number } | undefined {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (s[i] === ' ' || s[i] === ',') i++;
    if (s[i] === '}') return { labels, length: i + 1 };
    const k = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i))?.[0];
    if (!k) return undefined;
    i += k.length;
    while (s[i] === ' ') i++;
    if (s[i] !== '=') return undefined;
    i++;
    while (s[i] === ' ') i++;
    if (s[i] !== '"') return undefined;
    i++;
    let v = '';
    for (; i < s.length && s[i] !== '"'; i++) {
      if (s[i] === '\\') {
        const n = s[++i];
        v += n === 'n' ? '\n' : (n ?? '');
      } else v += s[i];
    }
    if (s[i] !== '"') return undefined;
    labels[k] = v;
    i++;
  }
}

/** The host gauges among parsed samples. */
export function hostGauges(samples: readonly MetricSample[]): HostGauges {
  const g: HostGauges = { filesystems: [] };
  const fs = new Map<string, { used?: number; size?: number }>();
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    switch (s.name) {
      case 'opsdeck_host_cpu_usage_ratio':
        g.cpuRatio = s.value;
        break;
      case 'opsdeck_host_memory_used_bytes':
        g.memUsedBytes = s.value;
        break;
      case 'opsdeck_host_memory_total_bytes':
        g.memTotalBytes = s.value;
        break;
      case 'opsdeck_host_load1':
        g.load1 = s.value;
        break;
      case 'opsdeck_host_filesystem_used_bytes':
      case 'opsdeck_host_filesystem_size_bytes': {
        const mount = s.labels.mount;
        if (mount === undefined) break;
        const e = fs.get(mount) ?? {};
        if (s.name.endsWith('used_bytes')) e.used = s.value;
        else e.size = s.value;
        fs.set(mount, e);
        break;
      }
      default:
        break;
    }
  }
  for (const [mount, e] of fs) if (e.used !== undefined && e.size !== undefined) g.filesystems.push({ mount, usedBytes: e.used, sizeBytes: e.size });
  g.filesystems.sort((a, b) => a.mount.localeCompare(b.mount));
  return g;
}

/** At most this much of a metrics page is read (a host's opsdeck page is a few KB). */
const MAX_BYTES = 4 << 20;

/** Scrapes a host's metrics endpoint for its gauges; never throws. The URL may hold a secret: messages name the host instead. */
export async function scrapeHostGauges(url: string, timeoutMs: number, host: string): Promise<Result<HostGauges>> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'text/plain' } });
    if (!res.ok) {
      await res.body?.cancel();
      return fail('unavailable', 'metrics', `metrics of host ${host}: HTTP ${res.status}`);
    }
    const len = Number(res.headers.get('content-length') ?? 0);
    if (len > MAX_BYTES) {
      await res.body?.cancel();
      return fail('invalid', 'metrics', `metrics of host ${host}: ${len} bytes (expected at most ${MAX_BYTES})`);
    }
    const text = await res.text();
    return ok(hostGauges(parseMetrics(text.length > MAX_BYTES ? text.slice(0, MAX_BYTES) : text, WANTED)));
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    if (err.name === 'TimeoutError') return fail('timeout', 'metrics', `metrics of host ${host} did not answer in time`);
    const code = err.cause?.code;
    return fail('unavailable', 'metrics', `metrics of host ${host} unreachable${code ? ` (${code})` : ''}`);
  }
}
