// A Docker engine over ssh:// that keeps ONE ssh connection per engine (issue #25, part C).
//
// docker-modem's ssh transport (lib/ssh.js, 5.0.7) opens a new ssh connection — TCP, key exchange,
// authentication — for every HTTP request (docs/FACTS.md §2; its multiplexing PR was never merged),
// and a console polls version + list + inspects + stats every refresh. Here one ssh2 connection is
// made lazily and kept; each HTTP connection is an exec channel running `docker system dial-stdio`
// on the host (what the docker CLI does), and the HTTP agent keeps those channels alive between
// requests, so a warm poll costs neither a handshake nor a new remote process. The agent is handed
// to dockerode and to the transport's raw GET as a plain-HTTP agent.

import { createRequire } from 'node:module';
import { Agent } from 'node:http';
import type { Duplex } from 'node:stream';

/** What ssh2's Client.connect takes, as far as opsdeck uses it. */
export interface SshConnectConfig {
  host: string;
  port: number;
  username: string;
  readyTimeout: number;
  privateKey?: Buffer;
  agent?: string;
  hostVerifier: (key: Buffer) => boolean;
  keepaliveInterval?: number;
  keepaliveCountMax?: number;
}

interface SshClient {
  on(event: 'ready' | 'close' | 'end', l: () => void): SshClient;
  on(event: 'error', l: (e: Error) => void): SshClient;
  once(event: 'ready' | 'close', l: () => void): SshClient;
  once(event: 'error', l: (e: Error) => void): SshClient;
  connect(c: SshConnectConfig): void;
  exec(cmd: string, cb: (err: Error | undefined, stream: Duplex) => void): boolean;
  end(): void;
}

/** ssh2, resolved from docker-modem's own dependencies (opsdeck adds no dependency of its own for it). */
function ssh2Client(): SshClient {
  const fromModem = createRequire(createRequire(import.meta.url).resolve('docker-modem'));
  const { Client } = fromModem('ssh2') as { Client: new () => SshClient };
  return new Client();
}

/** Channels in flight or kept alive per engine; a poll asks for a few things at once. */
const MAX_CHANNELS = 8;

/** One kept ssh connection to an engine's host, and the HTTP agent whose sockets are dial-stdio channels on it. */
export class SshDialer {
  private ready?: Promise<SshClient> | undefined;
  readonly agent: Agent;

  constructor(private readonly config: SshConnectConfig) {
    this.agent = new Agent({ keepAlive: true, maxSockets: MAX_CHANNELS, maxFreeSockets: MAX_CHANNELS });
    // Node's agent takes the socket from the callback when createConnection returns nothing.
    (this.agent as unknown as { createConnection: (o: unknown, cb: (e: Error | null, s?: Duplex) => void) => undefined }).createConnection = (_o, cb) => {
      this.channel().then((s) => cb(null, s), (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))));
      return undefined;
    };
  }

  private lastFailure?: { at: number; text: string };

  /**
   * Why a request that started at `since` lost its connection, when `docker system dial-stdio` on
   * the host failed (its exit code and last stderr line): the HTTP client only sees the channel end
   * ("socket hang up"), and the exit status arrives just after; waited for up to `waitMs`.
   */
  async failureSince(since: number, waitMs = 300): Promise<string | undefined> {
    for (const until = Date.now() + waitMs; ; ) {
      if (this.lastFailure && this.lastFailure.at >= since) return this.lastFailure.text;
      if (Date.now() >= until) return undefined;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Closes the ssh connection (a later request opens a new one). */
  close(): void {
    const r = this.ready;
    this.ready = undefined;
    this.agent.destroy();
    void r?.then((c) => c.end(), () => undefined);
  }

  private connection(): Promise<SshClient> {
    if (this.ready) return this.ready;
    const conn = ssh2Client();
    const ready = new Promise<SshClient>((resolve, reject) => {
      conn.once('ready', () => resolve(conn));
      conn.once('error', reject);
    });
    // Whatever happens later (reset, host gone), the next request connects again; never an unhandled 'error'.
    const forget = () => {
      if (this.ready === ready) this.ready = undefined;
    };
    conn.on('error', forget);
    conn.on('close', forget);
    conn.on('end', forget);
    this.ready = ready;
    ready.catch(forget);
    // ssh keepalives: a connection that died silently (a host rebooted, a NAT forgot it) is found out
    // in ~15 s and dropped, so requests do not keep timing out on it; the next one connects again.
    conn.connect({ keepaliveInterval: 5_000, keepaliveCountMax: 3, ...this.config });
    return ready;
  }

  private async channel(): Promise<Duplex> {
    const conn = await this.connection();
    return new Promise<Duplex>((resolve, reject) => {
      const ok = conn.exec('docker system dial-stdio', (err, stream) => {
        if (err) return reject(err);
        whyItEnded(stream, (text) => (this.lastFailure = { at: Date.now(), text }));
        resolve(asSocket(stream));
      });
      if (!ok) reject(new Error('the ssh connection refused another channel'));
    });
  }
}

/**
 * When `docker system dial-stdio` fails on the host (dockerd down, no docker CLI, no permission),
 * the channel ends with its exit code and a line on stderr: told to `failed`, for the request's
 * error (see SshDialer.failureSince).
 */
function whyItEnded(stream: Duplex, failed: (text: string) => void): void {
  let stderr = '';
  const err = (stream as Duplex & { stderr?: Duplex }).stderr;
  err?.on('data', (d: Buffer) => (stderr = `${stderr}${d.toString()}`.slice(-1000)));
  stream.on('exit', (code: unknown) => {
    if (typeof code !== 'number' || code === 0) return;
    const line = stderr.trim().split('\n').at(-1) ?? '';
    failed(`docker system dial-stdio on the host exited ${code}${line ? `: ${line}` : ''}`);
  });
}

/**
 * Node's HTTP client and agent treat their socket as a net.Socket: they call setTimeout,
 * setKeepAlive, setNoDelay, ref and unref on it. An ssh2 channel has none of them (Node crashed on
 * setTimeout); as no-ops they change nothing: every call is bounded by its AbortSignal, and a kept
 * channel holds nothing open but the ssh connection.
 */
function asSocket(stream: Duplex): Duplex {
  const s = stream as Duplex & Record<string, unknown>;
  for (const m of ['setTimeout', 'setKeepAlive', 'setNoDelay', 'ref', 'unref']) if (typeof s[m] !== 'function') s[m] = () => s;
  return stream;
}
