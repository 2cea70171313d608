import { execFileSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

// Real receivers of notifications on loopback (issue #19; docs/TESTING.md "Mail and webhooks"): an
// HTTP server for Slack, webhooks and the SMS provider that records every request and answers
// what a test scripts per path (500 then 200), and a real SMTP server (smtp-server) with STARTTLS
// on a self-signed certificate and AUTH.

/** One request an HTTP receiver got. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  at: number;
}

/** A Node http server that records requests; `script(path, [500, 200])` answers those statuses in order (then 200). */
export class HttpReceiver {
  readonly requests: Received[] = [];
  private readonly scripts = new Map<string, number[]>();
  private server: Server | undefined;
  port = 0;

  async start(): Promise<this> {
    const s = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const path = req.url ?? '/';
        const key = [...this.scripts.keys()].find((p) => path.startsWith(p));
        const status = key ? (this.scripts.get(key)?.shift() ?? 200) : 200;
        this.requests.push({ path, headers: req.headers, body, status, at: Date.now() });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'receiver says no');
      });
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    this.server = s;
    this.port = (s.address() as AddressInfo).port;
    return this;
  }

  /** Answers the next requests to paths starting with `prefix` with these statuses. */
  script(prefix: string, statuses: number[]): void {
    this.scripts.set(prefix, [...statuses]);
  }

  /** The requests answered 200 to paths starting with `prefix`. */
  delivered(prefix: string): Received[] {
    return this.requests.filter((r) => r.path.startsWith(prefix) && r.status === 200);
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/** Whether a webhook request's `X-Opsdeck-Signature` is HMAC-SHA256(secret, "<timestamp>.<body>"). */
export function signatureValid(r: Received, secret: string): boolean {
  const ts = r.headers['x-opsdeck-timestamp'];
  const sig = r.headers['x-opsdeck-signature'];
  if (typeof ts !== 'string' || typeof sig !== 'string') return false;
  const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`);
  const got = Buffer.from(sig);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** One mail the SMTP receiver accepted. */
export interface Mail {
  from: string;
  to: string[];
  raw: string;
  /** The session had switched to TLS (STARTTLS) before the mail. */
  secure: boolean;
  user?: string;
}

/** A self-signed certificate for localhost / 127.0.0.1 (openssl), made once per test file. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
}

/** A real SMTP server on loopback: STARTTLS offered (a self-signed certificate), AUTH PLAIN/LOGIN required. */
export class SmtpReceiver {
  readonly mails: Mail[] = [];
  readonly authFailures: string[] = [];
  private server: SMTPServer | undefined;
  port = 0;

  constructor(private readonly user: string, private readonly password: string) {}

  async start(): Promise<this> {
    const { key, cert } = selfSignedCert();
    const s = new SMTPServer({
      key,
      cert,
      secure: false,
      authMethods: ['PLAIN', 'LOGIN'],
      // AUTH only after STARTTLS (allowInsecureAuth false): a password never crosses in clear.
      allowInsecureAuth: false,
      onAuth: (auth, _session, cb) => {
        if (auth.username === this.user && auth.password === this.password) return cb(null, { user: auth.username });
        this.authFailures.push(auth.username ?? '');
        return cb(new Error('authentication failed'));
      },
      onData: (stream, session, cb) => {
        let raw = '';
        stream.on('data', (d: Buffer) => (raw += d.toString()));
        stream.on('end', () => {
          this.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            secure: session.secure,
            ...(typeof session.user === 'string' ? { user: session.user } : {}),
          });
          cb();
        });
      },
      logger: false,
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    this.server = s;
    this.port = ((s as unknown as { server: Server }).server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/** Polls until `f` returns a truthy value (never a fixed sleep). */
export async function until<T>(f: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
