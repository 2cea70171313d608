import { displayUrl } from '../config/secrets.js';
import type { ExpectConfig } from '../config/schema.js';
import type { HttpFailureKind, HttpProbe } from '../domain/observations.js';

// Its observation types live in the domain (issue #15); re-exported for the callers of this service.
export type { HttpFailureKind, HttpProbe };

const MAX_BODY = 256 * 1024;

/** Fetches a URL once with a hard timeout and checks the expected status, body text or JSON field. */
export async function probeHttp(opts: {
  url: string;
  method?: string;
  timeoutMs: number;
  expect?: ExpectConfig | undefined;
  now?: () => number;
}): Promise<HttpProbe> {
  const target = displayUrl(opts.url);
  const at = (opts.now ?? Date.now)();
  const t0 = performance.now();
  const base = { at, target };
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs);
  timer.unref();
  try {
    const { url, authorization } = basicAuth(opts.url);
    const headers: Record<string, string> = { 'user-agent': 'opsdeck', ...(authorization ? { authorization } : {}) };
    const res = await fetch(url, { method: opts.method ?? 'GET', signal: ac.signal, redirect: 'follow', headers });
    const needBody = !!(opts.expect?.body_contains !== undefined || opts.expect?.json_path);
    const body = needBody ? await readLimited(res) : (await res.body?.cancel(), '');
    const latencyMs = performance.now() - t0;
    const wanted = opts.expect?.status;
    const statusOk = wanted !== undefined ? res.status === wanted : res.status < 400;
    if (!statusOk) {
      const expected = wanted !== undefined ? `expected ${wanted}` : 'expected 2xx/3xx';
      return { ...base, status: res.status, latencyMs, ok: false, failure: { kind: 'status', message: `${target} answered HTTP ${res.status} (${expected})` } };
    }
    const bodyProblem = checkBody(body, opts.expect);
    if (bodyProblem) return { ...base, status: res.status, latencyMs, ok: false, failure: { kind: 'body', message: `${target}: ${bodyProblem}` } };
    return { ...base, status: res.status, latencyMs, ok: true };
  } catch (e) {
    const latencyMs = performance.now() - t0;
    return { ...base, latencyMs, ok: false, failure: classify(e, target, opts.timeoutMs, ac.signal.aborted) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `http://user:pass@host/…` as fetch can send it: the URL without its credentials and a Basic
 * `Authorization` header (issue #12: fetch refuses a URL with credentials, so such a health_url
 * always failed). fetch drops the header on a redirect to another origin (Fetch standard, §4.4).
 */
export function basicAuth(raw: string): { url: string; authorization?: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { url: raw }; // fetch says what is wrong with it
  }
  if (!u.username && !u.password) return { url: raw };
  const credentials = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  u.username = '';
  u.password = '';
  return { url: u.href, authorization: `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}` };
}

async function readLimited(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= MAX_BODY) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Checks body text and JSON field expectations; returns the problem or undefined. */
export function checkBody(body: string, expect: ExpectConfig | undefined): string | undefined {
  if (!expect) return undefined;
  if (expect.body_contains !== undefined && !body.includes(expect.body_contains))
    return `body does not contain ${JSON.stringify(expect.body_contains)}`;
  if (expect.json_path) {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      return `body is not JSON (expected field ${expect.json_path})`;
    }
    let cur: unknown = doc;
    for (const part of expect.json_path.split('.')) {
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
    }
    if (cur === undefined) return `JSON field ${expect.json_path} is missing`;
    if (expect.equals !== undefined && cur !== expect.equals)
      return `JSON field ${expect.json_path} is ${JSON.stringify(cur)} (expected ${JSON.stringify(expect.equals)})`;
  }
  return undefined;
}

function classify(e: unknown, target: string, timeoutMs: number, aborted: boolean): { kind: HttpFailureKind; message: string } {
  if (aborted) return { kind: 'timeout', message: `${target} did not answer within ${timeoutMs} ms` };
  const cause = (e as { cause?: NodeJS.ErrnoException }).cause;
  const code = cause?.code ?? '';
  if (code === 'ECONNREFUSED') return { kind: 'refused', message: `${target} refused the connection (is the service running?)` };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'dns', message: `${target}: host name cannot be resolved` };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return { kind: 'other', message: `${target} closed the connection` };
  if (/CERT|TLS|SSL/i.test(code)) return { kind: 'tls', message: `${target}: TLS error ${code}` };
  return { kind: 'other', message: `${target}: ${cause?.message ?? (e as Error).message}` };
}
