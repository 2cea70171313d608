import { createServer, type Server } from 'node:http';
import type { ListenAddr } from '../config/schema-metrics.js';
import { fail, ok, type Result } from '../domain/result.js';

// The HTTP side of the Prometheus endpoint (issue #25): GET (or HEAD) /metrics answers the text a
// scrape asks for, anything else 404, a wrong method 405. Plain HTTP, no authentication (README
// "Prometheus": keep it on loopback or behind a proxy).

/** One scrape's answer: the exposition text and its content type. */
export interface MetricsText {
  contentType: string;
  body: string;
}

/** A listening endpoint. */
export interface MetricsServer {
  /** The address bound (the real port when 0 was asked). */
  readonly address: ListenAddr;
  close(): Promise<void>;
}

/**
 * Listens on `addr` and answers GET /metrics with `render()`'s text. A port in use or an address that
 * is not this machine's is an `invalid` error naming the address (the CLI turns it into one line and
 * an exit code); a `render` that throws answers 500 with one line, never a stack.
 */
export async function serveMetrics(addr: ListenAddr, render: () => Promise<MetricsText>): Promise<Result<MetricsServer>> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: opsdeck serves GET /metrics only\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed: GET /metrics\n');
      return;
    }
    render().then(
      (m) => {
        res.writeHead(200, { 'content-type': m.contentType, 'content-length': Buffer.byteLength(m.body), 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : m.body);
      },
      (e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`opsdeck could not collect its metrics: ${e instanceof Error ? e.message : String(e)}\n`);
      },
    );
  });
  // A scrape is one short request; an idle keep-alive socket must not hold `close()` up.
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  // Prometheus keeps one connection per target; a flood of idle ones is refused, not held.
  server.maxConnections = 64;
  const listening = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    server.listen({ host: addr.host, port: addr.port, exclusive: true }, () => resolve(undefined));
  });
  const shown = addr.host.includes(':') ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
  if (listening) return fail('invalid', shown, listenProblem(shown, listening));
  server.on('error', () => undefined);
  const a = server.address();
  const address = { host: addr.host, port: typeof a === 'object' && a ? a.port : addr.port };
  return ok({ address, close: () => closeServer(server) });
}

/** Why an address cannot be listened on, and what to do, in one line. */
function listenProblem(shown: string, e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'EADDRINUSE':
      return `${shown} is already in use (another opsdeck watch or exporter?); choose another port, or stop what listens there (ss -ltnp)`;
    case 'EADDRNOTAVAIL':
      return `${shown} is not an address of this machine; use 127.0.0.1 (or an address ip addr lists)`;
    case 'EACCES':
      return `${shown}: permission denied (ports below 1024 need root); choose a port above 1024 such as 9464`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${shown}: the host name does not resolve; use an IP address such as 127.0.0.1`;
    default:
      return `${shown}: cannot listen (${e.code ?? e.message})`;
  }
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  await closed;
}
