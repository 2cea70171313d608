// How opsdeck talks to a Docker engine: the dockerode clients (loaded lazily), the raw GET of the
// polling path, time-outs, and the mapping of every failure to a typed error (issue #15).

import { Agent, request } from 'node:http';
import type Dockerode from 'dockerode';
import { fail, ok, type ErrorKind, type Result } from '../../domain/result.js';
import { withTimeout } from '../util.js';
import type { DockerEndpoint } from './endpoint.js';

/** The HTTP status of a dockerode or raw-GET error (docker-modem sets `statusCode`, docs/FACTS.md §2); undefined for socket errors. */
export function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** Turns a dockerode / socket error into an actionable ServiceError. */
export function dockerError(err: unknown, endpoint: string, what: string): { kind: ErrorKind; message: string } {
  const e = err as NodeJS.ErrnoException & { json?: { message?: string } };
  // ssh2's errors carry a `level` (issue #25: ssh:// engines), read before the socket codes.
  const level = (err as { level?: unknown } | null)?.level;
  if (level === 'client-authentication') return { kind: 'auth', message: `ssh login to ${endpoint} refused (check hosts[].ssh.identity_file or the ssh agent's keys)` };
  if (level === 'handshake' || level === 'protocol')
    return { kind: 'auth', message: `ssh to ${endpoint} failed: ${e.message} (is the host's key in hosts[].ssh.known_hosts? ssh-keyscan adds it)` };
  if (level === 'client-timeout') return { kind: 'timeout', message: `ssh to ${endpoint} did not complete its handshake in time` };
  if (level === 'client-dns') return { kind: 'unavailable', message: `ssh to ${endpoint}: the host name does not resolve` };
  if (e.code === 'ENOENT') return { kind: 'unavailable', message: `no Docker engine socket at ${endpoint} (is dockerd running?)` };
  if (e.code === 'ECONNREFUSED')
    return { kind: 'unavailable', message: `Docker engine at ${endpoint} refused the connection (is dockerd running?)` };
  if (e.code === 'EACCES')
    return { kind: 'auth', message: `permission denied on ${endpoint} (run as root or join the docker group)` };
  if (e.code === 'ETIMEDOUT' || e.name === 'TimeoutError')
    return { kind: 'timeout', message: `Docker engine at ${endpoint} did not answer ${what} in time` };
  if (statusOf(err) === 404) return { kind: 'not-found', message: `${what}: ${e.json?.message ?? 'not found'}` };
  const detail = e.json?.message ?? e.message ?? String(err);
  return { kind: 'unknown', message: `Docker engine at ${endpoint}: ${what} failed: ${detail}` };
}

/** A call that takes the client and an AbortSignal the transport fires at the time-out. */
export type ClientCall<T> = (d: Dockerode, signal: AbortSignal) => Promise<T>;

/**
 * The transport under every Docker call: Results, never throws. Three ways to the engine:
 * - `get`: one JSON document for the polling path (version, list, inspect, stats) — over node:http
 *   for a local socket or a plain-HTTP engine, through dockerode for TLS (an ssh:// engine is plain HTTP over its dial-stdio channels, ./ssh.ts);
 * - `call`: dockerode with the time-out as a socket inactivity timer;
 * - `call(..., {long: true})` and `streamClient`: dockerode without that timer, for actions that block
 *   through a stop grace period and for log streams (docs/FACTS.md §1.7, §2).
 *
 * Why a raw GET beside dockerode (measured by `node bench/docker-get.mjs`, 2 shared cores, private
 * engine with 50 containers, 2026-12-02): a fresh process that asks for /version took 148 ms and
 * 43 MB RSS over node:http, 358 ms and 69 MB through dockerode (+210 ms, +25 MB: docker-modem loads
 * ssh2, dockerode gRPC/protobuf for BuildKit) — paid by every `check` and before a console's first
 * frame. A warm poll (version + list + 50 inspects) costs 1.5× the CPU through dockerode (26 vs
 * 18 ms per poll) and 1.14× the wall time. dockerode is still loaded, lazily, for actions and logs.
 */
export class DockerTransport {
  private client?: Dockerode;
  private longClient?: Dockerode;
  private plain?: PlainHttp | null;

  constructor(
    readonly endpoint: DockerEndpoint,
    readonly timeoutMs = 5_000,
    private readonly maxSockets = 32,
  ) {}

  /** GETs one JSON document; `viaClient` is the same request through dockerode, for TLS engines. */
  async get<T>(what: string, path: string, viaClient: ClientCall<T>): Promise<Result<T>> {
    const plain = this.plainHttp();
    if (!plain) return this.call(what, viaClient);
    const since = Date.now();
    try {
      return ok(await withTimeout(this.timeoutMs, (signal) => getJson<T>(plain, path, signal)));
    } catch (err) {
      return this.failure(await this.sshWhy(err, since), what);
    }
  }

  /** Runs one dockerode call under a time-out; `long` uses the client without the inactivity timer. */
  async call<T>(what: string, fn: ClientCall<T>, opts: { timeoutMs?: number; long?: boolean } = {}): Promise<Result<T>> {
    const since = Date.now();
    try {
      const d = opts.long ? await this.actionClient() : await this.docker();
      return ok(await withTimeout(opts.timeoutMs ?? this.timeoutMs, (signal) => fn(d, signal)));
    } catch (err) {
      return this.failure(await this.sshWhy(err, since), what);
    }
  }

  /** Over ssh://, a lost connection says what `docker system dial-stdio` on the host said (./ssh.ts); other errors as they are. */
  private async sshWhy(err: unknown, since: number): Promise<unknown> {
    const ssh = this.endpoint.ssh;
    if (!ssh || statusOf(err) !== undefined || (err as { name?: string } | null)?.name === 'TimeoutError') return err;
    const why = await ssh.failureSince(since);
    return why ? new Error(why) : err;
  }

  /**
   * A new client without the inactivity timeout, for long-lived streams (logs, events): dockerode's
   * `timeout` is a socket inactivity timer that would cut a quiet `logs?follow` (docs/FACTS.md §2).
   */
  async streamClient(): Promise<Dockerode> {
    const { default: Docker } = await import('dockerode');
    return new Docker({ ...this.endpoint.options });
  }

  private failure<T>(err: unknown, what: string): Result<T> {
    const { kind, message } = dockerError(err, this.endpoint.display, what);
    return fail(kind, 'docker', message);
  }

  private async docker(): Promise<Dockerode> {
    if (!this.client) {
      const { default: Docker } = await import('dockerode');
      // Over ssh the socket is an ssh2 channel without setTimeout (Node's http client calls it for
      // `timeout` and crashed the process, issue #25): there the AbortSignal of withTimeout alone bounds a call.
      this.client = new Docker({ ...this.endpoint.options, timeout: this.timeoutMs });
    }
    return this.client;
  }

  private async actionClient(): Promise<Dockerode> {
    this.longClient ??= await this.streamClient();
    return this.longClient;
  }

  private plainHttp(): PlainHttp | undefined {
    if (this.plain === undefined) {
      const o = this.endpoint.options;
      // keepAlive: a poll is ~50 requests every refresh; idle sockets are unref'd by the agent.
      // An ssh:// engine brings its own agent (its sockets are dial-stdio channels, ./ssh.ts).
      const own = (o as { agent?: unknown }).agent;
      const agent = own instanceof Agent ? own : new Agent({ keepAlive: true, maxSockets: this.maxSockets });
      this.plain = o.socketPath
        ? { agent, socketPath: o.socketPath }
        : o.protocol === 'http' && o.host
          ? { agent, host: o.host, port: Number(o.port ?? 2375) }
          : null;
    }
    return this.plain ?? undefined;
  }
}

/** How to reach an engine over plain HTTP (a unix socket or tcp without TLS). */
interface PlainHttp {
  agent: Agent;
  socketPath?: string;
  host?: string;
  port?: number;
}

/** GETs one JSON document from the Engine API; a status ≥ 400 rejects like docker-modem does (statusCode, json). */
function getJson<T>(to: PlainHttp, path: string, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const req = request(
      { agent: to.agent, path, method: 'GET', signal, headers: { accept: 'application/json' }, ...(to.socketPath ? { socketPath: to.socketPath } : { host: to.host, port: to.port }) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300 && json !== undefined) return resolve(json as T);
          const message = (json as { message?: string } | undefined)?.message ?? text.trim();
          reject(Object.assign(new Error(`(HTTP code ${status}) ${message}`), { statusCode: status, json: { message } }));
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A long-lived GET whose answer is newline-delimited JSON (the events stream). */
export interface JsonLineStream {
  /** Ends the request; `onEnd` is not called for a close asked for. */
  close(): void;
}

/**
 * Opens a long-lived GET on a plain-HTTP engine (unix socket or tcp without TLS) and hands each
 * line of its answer, parsed, to `onLine`; `onOpen` once the engine answered 200; `onEnd` once,
 * with why, when the stream ends, fails or does not answer within `openTimeoutMs`. Its own
 * connection (no agent): it must not hold a socket of the polling path's pool. Undefined when the
 * engine is not plain HTTP (TLS, or ssh://, which keep polling).
 */
export function openJsonLines(
  endpoint: DockerEndpoint,
  path: string,
  openTimeoutMs: number,
  on: { onOpen: () => void; onLine: (v: unknown) => void; onEnd: (why: string) => void },
): JsonLineStream | undefined {
  const o = endpoint.options;
  if (endpoint.ssh || !(o.socketPath || (o.protocol === 'http' && o.host))) return undefined;
  let done = false;
  const end = (why: string) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    req.destroy();
    on.onEnd(why);
  };
  const req = request(
    { agent: false, path, method: 'GET', headers: { accept: 'application/json' }, ...(o.socketPath ? { socketPath: o.socketPath } : { host: o.host, port: Number(o.port ?? 2375) }) },
    (res) => {
      clearTimeout(timer);
      if (res.statusCode !== 200) {
        res.resume();
        return end(`the engine answered ${path} with HTTP ${res.statusCode ?? 0}`);
      }
      on.onOpen();
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.trim()) continue;
          try {
            on.onLine(JSON.parse(line));
          } catch {
            // a line that is not JSON is skipped; the next list corrects anything it meant
          }
        }
      });
      res.on('error', (e) => end(e.message));
      res.on('end', () => end('the engine closed the stream'));
      res.on('close', () => end('the stream was closed'));
    },
  );
  const timer = setTimeout(() => end(`no answer to ${path} in ${openTimeoutMs} ms`), openTimeoutMs);
  timer.unref();
  // A stream left open must never keep the process alive.
  req.on('socket', (sock) => sock.unref());
  req.on('error', (e) => end(dockerError(e, endpoint.display, 'events').message));
  req.end();
  return {
    close: () => {
      done = true;
      clearTimeout(timer);
      req.destroy();
    },
  };
}
