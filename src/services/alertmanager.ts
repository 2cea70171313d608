import { displayUrl } from '../config/secrets.js';
import { parseAmAlerts, parseAmSilences, type AmAlert, type AmPostAlert, type AmSilence } from '../domain/alertmanager.js';
import { fail, ok, type Result } from '../domain/result.js';
import { basicAuth } from './http.js';

// Prometheus Alertmanager's API v2 (issue #25): POST /api/v2/alerts (the notify channel), GET
// /api/v2/alerts and /api/v2/silences (the console). The base URL may carry basic auth: fetch refuses
// credentials in a URL, so they go in an Authorization header. Errors name the Alertmanager by its
// host and port only (the URL is a secret as a whole), never throw.

/** `<base>/api/v2/<path>`, the base's own path (a route prefix) kept. */
export function amEndpoint(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/api/v2/${path}`;
}

/** The Alertmanager as an error or a check may name it: host and port. */
export function amHost(base: string): string {
  try {
    return new URL(base).host;
  } catch {
    return displayUrl(base);
  }
}

/** The outcome of a POST: delivered, or why not and whether trying again may help. */
export type AmPost = { ok: true } | { ok: false; error: string; retry: boolean; retryAfterMs?: number };

/** POSTs alerts to `<base>/api/v2/alerts`. 4xx (a refused alert) is not retried, except 408/429. */
export async function postAmAlerts(base: string, alerts: readonly AmPostAlert[], timeoutMs: number, headers: Record<string, string> = {}): Promise<AmPost> {
  const { url, authorization } = basicAuth(amEndpoint(base, 'alerts'));
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body: JSON.stringify(alerts),
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'opsdeck', ...(authorization ? { authorization } : {}) },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (e) {
    return { ok: false, error: `Alertmanager at ${amHost(base)}: ${networkWords(e, timeoutMs)}`, retry: true };
  }
  const text = (await res.text().catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 160);
  if (res.ok) return { ok: true };
  const retry = res.status >= 500 || [408, 425, 429].includes(res.status);
  const after = Number(res.headers.get('retry-after'));
  return { ok: false, error: `Alertmanager at ${amHost(base)} answered HTTP ${res.status}${text ? `: ${text}` : ''}`, retry, ...(Number.isFinite(after) && after > 0 ? { retryAfterMs: Math.min(after, 3600) * 1000 } : {}) };
}

/**
 * Whether `<base>` is an Alertmanager: its `GET /api/v2/status` answers an object with `versionInfo`
 * (any web server answers a POST with 200; `notify test` must not call that delivered).
 */
export async function confirmAlertmanager(base: string, timeoutMs: number): Promise<Result<true>> {
  const st = await getJson(base, 'status', timeoutMs);
  const v = st.ok ? (st.value as { versionInfo?: unknown } | null) : undefined;
  if (v && typeof v === 'object' && v.versionInfo) return ok(true);
  const why = st.ok ? 'its /api/v2/status is not Alertmanager\'s' : st.error.message.replace(`Alertmanager at ${amHost(base)}: `, '').replace(`Alertmanager at ${amHost(base)} `, '');
  return fail(st.ok ? 'invalid' : st.error.kind, 'alertmanager', `${amHost(base)} took the POST but does not answer as Alertmanager (${why}): is the url Alertmanager's own base, e.g. http://host:9093?`);
  return ok(true);
}

/** Creates a silence (`POST /api/v2/silences`); its id. */
export async function createAmSilence(base: string, timeoutMs: number, silence: { matchers: readonly { name: string; value: string; isRegex: boolean; isEqual: boolean }[]; startsAt: number; endsAt: number; createdBy: string; comment: string }): Promise<Result<string>> {
  const { url, authorization } = basicAuth(amEndpoint(base, 'silences'));
  const where = `Alertmanager at ${amHost(base)}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body: JSON.stringify({ ...silence, startsAt: new Date(silence.startsAt).toISOString(), endsAt: new Date(silence.endsAt).toISOString() }),
      headers: { 'content-type': 'application/json', 'user-agent': 'opsdeck', ...(authorization ? { authorization } : {}) },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (e) {
    return fail('unavailable', 'alertmanager', `${where}: ${networkWords(e, timeoutMs)}`);
  }
  const text = (await res.text().catch(() => '')).replace(/\s+/g, ' ').trim();
  if (!res.ok) return fail(res.status === 401 || res.status === 403 ? 'auth' : 'unavailable', 'alertmanager', `${where} answered HTTP ${res.status}${text ? `: ${text.slice(0, 160)}` : ''}`);
  try {
    const id = (JSON.parse(text) as { silenceID?: unknown }).silenceID;
    return typeof id === 'string' ? ok(id) : fail('invalid', 'alertmanager', `${where}: no silenceID in its answer`);
  } catch {
    return fail('invalid', 'alertmanager', `${where}: its answer was not JSON`);
  }
}

/** What the console reads: the alerts Alertmanager holds (active and suppressed) and its silences. */
export interface AmSnapshot {
  alerts: AmAlert[];
  silences: AmSilence[];
}

/** Reads `GET /api/v2/alerts` (active, silenced, inhibited) and `GET /api/v2/silences`. */
export async function readAlertmanager(base: string, timeoutMs: number): Promise<Result<AmSnapshot>> {
  const alerts = await getJson(base, 'alerts?active=true&silenced=true&inhibited=true&unprocessed=true', timeoutMs);
  if (!alerts.ok) return alerts;
  const parsedAlerts = parseAmAlerts(alerts.value);
  if (!parsedAlerts) return fail('invalid', 'alertmanager', `Alertmanager at ${amHost(base)}: /api/v2/alerts did not answer a list of alerts`);
  const silences = await getJson(base, 'silences', timeoutMs);
  if (!silences.ok) return silences;
  const parsedSilences = parseAmSilences(silences.value);
  if (!parsedSilences) return fail('invalid', 'alertmanager', `Alertmanager at ${amHost(base)}: /api/v2/silences did not answer a list of silences`);
  return ok({ alerts: parsedAlerts, silences: parsedSilences });
}

async function getJson(base: string, path: string, timeoutMs: number): Promise<Result<unknown>> {
  const { url, authorization } = basicAuth(amEndpoint(base, path));
  const where = `Alertmanager at ${amHost(base)}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json', 'user-agent': 'opsdeck', ...(authorization ? { authorization } : {}) }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (e) {
    const err = e as Error;
    return fail(err.name === 'TimeoutError' || err.name === 'AbortError' ? 'timeout' : 'unavailable', 'alertmanager', `${where}: ${networkWords(e, timeoutMs)}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    return fail(res.status === 401 || res.status === 403 ? 'auth' : res.status === 404 ? 'not-found' : 'unavailable', 'alertmanager', `${where} answered HTTP ${res.status} to /api/v2/${path.split('?')[0] ?? path}`);
  }
  try {
    return ok(await res.json());
  } catch {
    return fail('invalid', 'alertmanager', `${where}: /api/v2/${path.split('?')[0] ?? path} did not answer JSON`);
  }
}

/** What went wrong with a request, in words, without its URL. */
function networkWords(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const code = err.cause?.code;
  const words: Record<string, string> = { ECONNREFUSED: 'connection refused', ECONNRESET: 'connection reset', ENOTFOUND: 'host name not found', EAI_AGAIN: 'host name lookup failed', ETIMEDOUT: 'connection timed out', EHOSTUNREACH: 'host unreachable' };
  if (code) return words[code] ?? `network error ${code}`;
  if (err.message.includes('redirect')) return 'answered with a redirect (not followed)';
  return 'network error';
}
