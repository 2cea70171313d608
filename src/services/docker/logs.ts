// Opening a container's log as live streams, or reading its last lines once (issue #15: one concern
// of the Docker facade; following, reopening and line splitting stay in services/logs.ts).

import type { Readable } from 'node:stream';
import { ok, type Result } from '../../domain/result.js';
import type { ContainerReader } from './containers.js';
import type { DockerTransport } from './transport.js';

/**
 * A followed container log, with Docker's timestamps, until the container stops. The bytes come as
 * Docker sends them: multiplexed (8-byte frame headers) unless the container has a TTY; taken apart
 * by `LogDemuxer` (src/services/log-demux.ts, issue #26), not by docker-modem's demuxStream.
 */
export interface LogStream {
  /** The response body as it comes off the socket. */
  raw: Readable;
  /** A TTY container: one raw stream, no frame headers. */
  tty: boolean;
  /** Called once when the stream ends (container stopped or restarting: no error) or fails. */
  onEnd(fn: (err?: Error) => void): void;
  /** Closes the stream. */
  close(): void;
}

/** The streaming response dockerode resolves a follow to. */
type FollowResponse = Readable & { destroy(): void; socket?: { unref?: unknown } };

/** Opens container log streams on the client without the inactivity timer (a quiet log is not a dead one). */
export class LogReader {
  constructor(
    private readonly t: DockerTransport,
    private readonly containers: ContainerReader,
  ) {}

  /**
   * Follows a container's log: the last `tail` lines (all when undefined), or those since `since`
   * (Unix seconds, a fraction allowed: "1764730000.250"), then live. The socket is unref'd so it never
   * holds the process open.
   */
  async follow(idOrName: string, opts: { tail?: number; since?: number | string } = {}): Promise<Result<LogStream>> {
    const info = await this.containers.inspect(idOrName);
    if (!info.ok) return info;
    const opened = await this.t.call(
      `follow the log of ${info.value.name}`,
      async (d, abortSignal) => {
        const stream = (await d.getContainer(info.value.id).logs({
          follow: true, stdout: true, stderr: true, timestamps: true, abortSignal,
          ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
          ...(opts.since !== undefined ? { since: opts.since } : {}),
        })) as unknown as FollowResponse;
        return { stream };
      },
      { long: true },
    );
    if (!opened.ok) return opened;
    const { stream } = opened.value;
    // Over ssh:// the socket is an ssh2 channel, which has no unref (issue #25): the stream is closed explicitly anyway.
    if (typeof stream.socket?.unref === 'function') (stream.socket as { unref(): void }).unref();
    return ok({
      raw: stream,
      tty: info.value.tty,
      onEnd(fn) {
        let ended = false;
        const once = (err?: Error) => {
          if (ended) return;
          ended = true;
          fn(err);
        };
        stream.on('end', () => once());
        stream.on('error', (e: Error) => once(e));
      },
      close: () => stream.destroy(),
    });
  }

  /**
   * The last `lines` lines of a container's log, once (no follow): stdout and stderr in the order
   * written, without timestamps. A non-TTY log arrives multiplexed (an 8-byte frame header: stream,
   * 3 zero bytes, big-endian length; docs/FACTS.md §1.6) and is taken apart here.
   */
  async tail(idOrName: string, lines: number): Promise<Result<string[]>> {
    const info = await this.containers.inspect(idOrName);
    if (!info.ok) return info;
    const got = await this.t.call(`read the log of ${info.value.name}`, (d, abortSignal) => d.getContainer(info.value.id).logs({ follow: false, stdout: true, stderr: true, tail: lines, abortSignal }));
    if (!got.ok) return got;
    const raw = Buffer.isBuffer(got.value) ? got.value : Buffer.from(String(got.value));
    const text = info.value.tty ? raw.toString('utf8') : demux(raw);
    return ok(text.split(/\r?\n/).filter((l, i, all) => l !== '' || i < all.length - 1));
  }

  /**
   * Everything a container logged since `since` (Unix seconds), once, as one text (stdout and stderr
   * together, no timestamps): the log review's read (issue #23). Held in memory whole: a day of a
   * chatty service's log is read at once.
   */
  async since(idOrName: string, since: number): Promise<Result<string>> {
    const info = await this.containers.inspect(idOrName);
    if (!info.ok) return info;
    const got = await this.t.call(`read the log of ${info.value.name}`, (d, abortSignal) => d.getContainer(info.value.id).logs({ follow: false, stdout: true, stderr: true, since, abortSignal }), { long: true, timeoutMs: 120_000 });
    if (!got.ok) return got;
    const raw = Buffer.isBuffer(got.value) ? got.value : Buffer.from(String(got.value));
    return ok(info.value.tty ? raw.toString('utf8') : demux(raw));
  }
}

/** The payloads of a multiplexed log, concatenated (a truncated last frame is kept as far as it goes). */
function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  for (let i = 0; i + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(parts).toString('utf8');
}
