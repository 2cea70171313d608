// Verification actions for the recovery-verify runbook (issue #16): is the service healthy (its
// health_url and expect), does it do its job (every configured endpoint, plus the requests a step
// lists), and is it fast enough (p95 of a burst of GETs against the response-time threshold). None
// changes anything; each fails with the wrong answers named, so a run does not end "completed" on
// a service that still misbehaves. URLs are shown without credentials (displayUrl).

import { displayUrl } from '../../config/secrets.js';
import type { Config, ExpectConfig } from '../../config/schema.js';
import { Failure } from '../../domain/errors.js';
import { formatMs } from '../../domain/format.js';
import type { GenericDeps } from '../../engine/actions.js';
import type { Action, StepContext } from '../../engine/driver.js';
import { probeHttp } from '../../services/http.js';
import { mapLimit } from '../../services/util.js';

type X = StepContext<unknown, GenericDeps>;

/** The typed ids of the verification actions. */
export type VerifyActionId = 'verify.health' | 'verify.function' | 'verify.performance';

/** What to ask: a URL, what counts as healthy, how long to wait. */
interface Target {
  name: string;
  url: string;
  expect?: ExpectConfig;
  timeoutMs: number;
}

const config = (x: X): Config | undefined => x.deps.config;

/** Param `url`, else the health_url of the configured service named by param `service`. */
export function targetOf(x: X): Target {
  const p = x.step.params;
  if (typeof p?.url === 'string' && p.url) return { name: displayUrl(p.url), url: p.url, timeoutMs: 10_000 };
  const services = config(x)?.services ?? [];
  const names = services.filter((s) => s.health_url).map((s) => s.name).join(', ') || 'none with a health_url';
  if (typeof p?.service !== 'string' || !p.service) throw new Failure('params', `step ${x.step.id}: parameter service (a configured service with a health_url) or url is missing: expected one of: ${names}`);
  const s = services.find((e) => e.name === p.service);
  if (!s) throw new Failure('not-found', `step ${x.step.id}: no service named ${JSON.stringify(p.service)} in the configuration (expected one of: ${names})`);
  if (!s.health_url) throw new Failure('params', `step ${x.step.id}: service ${s.name} has no health_url (set services[].health_url, or pass param url)`);
  return { name: s.name, url: s.health_url, ...(s.expect ? { expect: s.expect } : {}), timeoutMs: s.timeout };
}

const expected = (e: ExpectConfig | undefined) =>
  [e?.status !== undefined ? `HTTP ${e.status}` : 'HTTP 2xx/3xx', e?.body_contains !== undefined ? `a body containing ${JSON.stringify(e.body_contains)}` : '', e?.json_path ? `${e.json_path}${e.equals !== undefined ? ` = ${JSON.stringify(e.equals)}` : ' present'}` : ''].filter(Boolean).join(', ');

const health: Action<unknown, GenericDeps> = {
  dangerous: false,
  preview(x) {
    const t = targetOf(x);
    return `GET ${displayUrl(t.url)} (${t.name}), expecting ${expected(t.expect)} within ${formatMs(t.timeoutMs)}`;
  },
  async execute(x) {
    const t = targetOf(x);
    const r = await probeHttp({ url: t.url, timeoutMs: t.timeoutMs, expect: t.expect });
    if (!r.ok) throw new Failure('unhealthy', `${t.name} is not healthy: ${r.failure?.message ?? 'no answer'}`);
    return `${t.name} is healthy: HTTP ${r.status ?? '?'} in ${formatMs(r.latencyMs)}`;
  },
};

/** One request of param `requests`: `"METHOD URL STATUS"`. */
export function parseRequest(text: string, step: string): { method: string; url: string; status: number } {
  const m = /^\s*([A-Za-z]+)\s+(\S+)\s+(\d{3})\s*$/.exec(text);
  if (!m) throw new Failure('params', `step ${step}: requests entry ${JSON.stringify(text)} is not "METHOD URL STATUS" (e.g. "GET http://127.0.0.1:8080/orders 200")`);
  return { method: (m[1] as string).toUpperCase(), url: m[2] as string, status: Number(m[3]) };
}

/** Every configured endpoint with its expect, then each of param `requests`. */
function functionChecks(x: X): { label: string; url: string; method: string; expect?: ExpectConfig; timeoutMs: number }[] {
  const eps = (config(x)?.endpoints ?? []).map((e) => ({ label: `endpoint ${e.name}`, url: e.url, method: e.method, ...(e.expect ? { expect: e.expect } : {}), timeoutMs: e.timeout }));
  const raw = x.step.params?.requests;
  const list: readonly string[] = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? (raw as readonly string[]) : [];
  const reqs = list.map((text) => {
    const r = parseRequest(text, x.step.id);
    return { label: `${r.method} ${displayUrl(r.url)}`, url: r.url, method: r.method, expect: { status: r.status }, timeoutMs: 10_000 };
  });
  return [...eps, ...reqs];
}

const fn: Action<unknown, GenericDeps> = {
  dangerous: false,
  preview(x) {
    const checks = functionChecks(x);
    return checks.length ? `ask ${checks.length} requests and check each answer: ${checks.map((c) => `${c.label} → ${expected(c.expect)}`).join('; ')}` : 'no endpoints configured and no requests given: nothing to check';
  },
  async execute(x) {
    const checks = functionChecks(x);
    if (!checks.length) return 'no endpoints configured and no requests given: nothing checked';
    const results = await mapLimit(checks, 4, async (c) => ({ c, r: await probeHttp({ url: c.url, method: c.method, timeoutMs: c.timeoutMs, expect: c.expect }) }));
    const wrong = results.filter(({ r }) => !r.ok);
    if (wrong.length) throw new Failure('check', `${wrong.length} of ${checks.length} answers wrong: ${wrong.map(({ c, r }) => `${c.label}: ${r.failure?.message ?? 'no answer'}`).join('; ')}`);
    return `all ${checks.length} answers right (${results.map(({ c, r }) => `${c.label} HTTP ${r.status ?? '?'}`).join(', ')})`;
  },
};

/** The q-quantile of sorted values (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

const countOf = (x: X): number => {
  const v = x.step.params?.count;
  return typeof v === 'number' && v >= 1 ? Math.floor(v) : 20;
};

const limitOf = (x: X): number => {
  const v = x.step.params?.p95_ms;
  return typeof v === 'number' && v > 0 ? v : (config(x)?.thresholds.response_time ?? 2_000);
};

const performance_: Action<unknown, GenericDeps> = {
  dangerous: false,
  preview(x) {
    const t = targetOf(x);
    return `${countOf(x)} GET requests to ${displayUrl(t.url)} (${t.name}), at most 4 at once; fails when p95 is above ${formatMs(limitOf(x))}`;
  },
  async execute(x) {
    const t = targetOf(x);
    const count = countOf(x);
    const limit = limitOf(x);
    const times: number[] = [];
    const failed: string[] = [];
    await mapLimit(Array.from({ length: count }, (_, i) => i), 4, async () => {
      if (x.signal.aborted) return;
      const r = await probeHttp({ url: t.url, timeoutMs: Math.max(t.timeoutMs, limit * 2) });
      times.push(r.latencyMs);
      if (!r.ok) failed.push(r.failure?.message ?? 'no answer');
      const n = times.length;
      if (n % 5 === 0 || n === count) x.say(`${t.name}: ${n}/${count} requests, slowest so far ${formatMs(Math.max(...times))}`);
    });
    if (x.signal.aborted) throw new Failure('cancelled', `${t.name}: performance check cancelled after ${times.length} requests`);
    const sorted = [...times].sort((a, b) => a - b);
    const figures = `p50 ${formatMs(quantile(sorted, 0.5))}, p95 ${formatMs(quantile(sorted, 0.95))}, max ${formatMs(sorted.at(-1) ?? 0)} over ${count} requests`;
    if (failed.length) throw new Failure('check', `${t.name}: ${failed.length} of ${count} requests failed (${failed[0] ?? ''}); ${figures}`);
    if (quantile(sorted, 0.95) > limit) throw new Failure('check', `${t.name} is slow: p95 above ${formatMs(limit)}: ${figures}`);
    return `${t.name} is fast enough (p95 within ${formatMs(limit)}): ${figures}`;
  },
};

/** The verification actions by id. */
export const VERIFY_ACTIONS: Record<VerifyActionId, Action<unknown, GenericDeps>> = {
  'verify.health': health,
  'verify.function': fn,
  'verify.performance': performance_,
};
