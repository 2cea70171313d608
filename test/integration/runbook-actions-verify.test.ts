import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { parseRequest, quantile, VERIFY_ACTIONS } from '../../src/runbooks/actions/verify.js';
import { configOf, harness, stepOf, type Harness } from '../helpers/runbook-actions.js';

// The verification actions of runbook files (issue #16) against a real HTTP server on loopback that
// answers slowly or wrongly on demand and counts the requests in flight at once.

let server: Server;
let url: string;
let h: Harness;
let config: Config;
let inFlight = 0;
let maxInFlight = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const end = (status: number, body: string) => {
      inFlight--;
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    };
    if (u.pathname === '/health') end(200, '{"status":"ok"}');
    else if (u.pathname === '/slow') setTimeout(() => end(200, '{"status":"ok"}'), Number(u.searchParams.get('ms') ?? 300));
    else if (u.pathname === '/500') end(500, 'boom');
    else if (u.pathname === '/orders' && req.method === 'POST') end(201, '{}');
    else end(404, 'not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  h = await harness(VERIFY_ACTIONS);
  config = configOf({
    services: [
      { name: 'api', health_url: `${url}/health`, expect: { status: 200, json_path: 'status', equals: 'ok' } },
      { name: 'api-wrong', health_url: `${url}/health`, expect: { json_path: 'status', equals: 'degraded' } },
      { name: 'slow', health_url: `${url}/slow?ms=300` },
      { name: 'worker' },
    ],
    endpoints: [{ name: 'health', url: `${url}/health`, expect: { status: 200 } }],
  });
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  h?.db.close();
});

const noteOf = (id: string) => h.journal.lines(id).find((l) => l.event === 'succeed')?.detail ?? '';

describe('verify.health', () => {
  it('passes on the service\'s health_url with its expect; fails naming what is wrong', async () => {
    const ok = await h.drive([stepOf('verify.health', { service: 'api' })], { config });
    expect(ok.outcome.kind).toBe('completed');
    expect(noteOf(ok.outcome.record.id)).toMatch(/^api is healthy: HTTP 200 in \d+ ms$/);

    const wrong = await h.drive([stepOf('verify.health', { service: 'api-wrong' })], { config });
    expect(wrong.outcome.kind).toBe('failed');
    if (wrong.outcome.kind === 'failed') expect(wrong.outcome.error).toMatchObject({ kind: 'unhealthy', message: `api-wrong is not healthy: ${url}/health: JSON field status is "ok" (expected "degraded")` });

    const byUrl = await h.drive([stepOf('verify.health', { url: `${url}/500` })], { config });
    if (byUrl.outcome.kind === 'failed') expect(byUrl.outcome.error.message).toBe(`${url}/500 is not healthy: ${url}/500 answered HTTP 500 (expected 2xx/3xx)`);
    else expect.fail('a 500 is not healthy');
  });

  it('names the parameter and the expected services when missing or without a health_url', () => {
    const a = VERIFY_ACTIONS['verify.health'];
    expect(() => a.preview?.(h.ctx(stepOf('verify.health'), { config }))).toThrow('parameter service (a configured service with a health_url) or url is missing: expected one of: api, api-wrong, slow');
    expect(() => a.preview?.(h.ctx(stepOf('verify.health', { service: 'worker' }), { config }))).toThrow('service worker has no health_url (set services[].health_url, or pass param url)');
  });
});

describe('verify.function', () => {
  it('checks every endpoint and each listed request; fails naming each wrong answer only', async () => {
    const good = await h.drive([stepOf('verify.function', { requests: [`POST ${url}/orders 201`, `GET ${url}/nope 404`] })], { config });
    expect(good.outcome.kind).toBe('completed');
    expect(noteOf(good.outcome.record.id)).toBe(`all 3 answers right (endpoint health HTTP 200, POST ${url}/orders HTTP 201, GET ${url}/nope HTTP 404)`);

    const bad = await h.drive([stepOf('verify.function', { requests: [`GET ${url}/500 200`, `GET ${url}/health 200`, `POST ${url}/orders 200`] })], { config });
    expect(bad.outcome.kind).toBe('failed');
    if (bad.outcome.kind === 'failed') expect(bad.outcome.error.message).toBe(`2 of 4 answers wrong: GET ${url}/500: ${url}/500 answered HTTP 500 (expected 200); POST ${url}/orders: ${url}/orders answered HTTP 201 (expected 200)`);
    expect(() => parseRequest('GET /x', 's')).toThrow('requests entry "GET /x" is not "METHOD URL STATUS"');
  });
});

describe('verify.performance', () => {
  it('fails on a slow server (p95 above p95_ms), at most 4 requests at once, saying progress as it goes', async () => {
    maxInFlight = 0;
    h.said.length = 0;
    const { outcome } = await h.drive([stepOf('verify.performance', { service: 'slow', count: 10, p95_ms: 100 })], { config });
    expect(outcome.kind).toBe('failed');
    if (outcome.kind === 'failed') expect(outcome.error.message).toMatch(/^slow is slow: p95 above 100 ms: p50 [\d.]+ m?s, p95 [\d.]+ m?s, max [\d.]+ m?s over 10 requests$/);
    expect(maxInFlight).toBe(4);
    expect(h.said.filter((l) => l.startsWith('slow: '))).toEqual([expect.stringMatching(/^slow: 5\/10 requests/), expect.stringMatching(/^slow: 10\/10 requests/)]);
  });

  it('passes a fast one against the response_time threshold (2 s by default)', async () => {
    const { outcome } = await h.drive([stepOf('verify.performance', { service: 'api' })], { config });
    expect(outcome.kind).toBe('completed');
    expect(noteOf(outcome.record.id)).toMatch(/^api is fast enough \(p95 within 2\.0 s\): p50 \d+ ms, p95 \d+ ms, max \d+ ms over 20 requests$/);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
  });
});
