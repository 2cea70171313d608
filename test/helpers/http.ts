import { createServer, type Server } from 'node:http';

/** A real HTTP server on loopback with routes that misbehave on demand. */
export class TestHttpServer {
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Base URL, e.g. http://127.0.0.1:41234 */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Routes: /ok → 200 {"status":"ok"}, /500 → 500, /hang → never answers,
   * /slow?ms=N → 200 after N ms, /flaky?every=N → every Nth request 500.
   */
  static async start(): Promise<TestHttpServer> {
    let n = 0;
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/ok') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      } else if (url.pathname === '/500') {
        res.writeHead(500).end('internal error');
      } else if (url.pathname === '/hang') {
        // never answer
      } else if (url.pathname === '/slow') {
        setTimeout(() => res.writeHead(200).end('{"status":"ok"}'), Number(url.searchParams.get('ms') ?? 2500));
      } else if (url.pathname === '/flaky') {
        n++;
        const every = Number(url.searchParams.get('every') ?? 2);
        if (n % every === 0) res.writeHead(500).end('boom');
        else res.writeHead(200).end('{"status":"ok"}');
      } else {
        res.writeHead(404).end('not found');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    return new TestHttpServer(server, typeof addr === 'object' && addr ? addr.port : 0);
  }

  /** Closes the server and every open (hanging) connection. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
