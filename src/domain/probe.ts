// Business and application probes (issue #23), pure: a number read (or why not) → the check
// `probe:<name>`, thresholded above and below like any check.

import type { ProbeConfig } from '../config/schema-probes.js';
import { downStatus, type CheckResult, type CheckStatus } from './check.js';

/** What reading a probe gave. */
export type ProbeReading = { ok: true; value: number; latencyMs: number } | { ok: false; message: string; latencyMs: number };

/** The level of a value against a probe's thresholds (critical first, then warning). */
export function probeLevel(p: Pick<ProbeConfig, 'warn_above' | 'critical_above' | 'warn_below' | 'critical_below'>, v: number): { status: CheckStatus; threshold?: string } {
  if (p.critical_above !== undefined && v > p.critical_above) return { status: 'critical', threshold: `> ${p.critical_above}` };
  if (p.critical_below !== undefined && v < p.critical_below) return { status: 'critical', threshold: `< ${p.critical_below}` };
  if (p.warn_above !== undefined && v > p.warn_above) return { status: 'warning', threshold: `> ${p.warn_above}` };
  if (p.warn_below !== undefined && v < p.warn_below) return { status: 'warning', threshold: `< ${p.warn_below}` };
  return { status: 'ok' };
}

/** A number for people: up to 2 decimals, no trailing zeros. */
export const probeNumber = (v: number): string => String(Math.round(v * 100) / 100);

/** The check of one reading. */
export function probeCheck(p: ProbeConfig, target: string, r: ProbeReading): CheckResult {
  const base = { id: `probe:${p.name}`, kind: 'probe' as const, target, latencyMs: r.latencyMs, ...(p.critical ? { critical: true } : {}) };
  if (!r.ok) return { ...base, status: downStatus(p.critical), message: `${p.name}: not read: ${r.message}` };
  const lvl = probeLevel(p, r.value);
  const shown = `${probeNumber(r.value)}${p.unit}`;
  return {
    ...base,
    status: lvl.status,
    value: r.value,
    ...(lvl.threshold ? { threshold: lvl.threshold } : {}),
    message: lvl.threshold ? `${p.name} is ${shown} (${lvl.threshold}${p.unit})` : `${p.name}: ${shown}`,
  };
}

/** The number at a dotted path of a JSON document (`stats.requests`, `items.0.n`), or why not. */
export function jsonNumber(doc: unknown, path: string): { value: number } | { error: string } {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return { error: `JSON field ${path} is missing` };
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined) return { error: `JSON field ${path} is missing` };
  const n = typeof cur === 'string' && cur.trim() !== '' ? Number(cur) : cur;
  if (typeof n !== 'number' || !Number.isFinite(n)) return { error: `JSON field ${path} is ${JSON.stringify(cur)}, not a number` };
  return { value: n };
}
