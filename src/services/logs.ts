import { open, stat } from 'node:fs/promises';
import type { ContainerState } from '../domain/observations.js';
import type { DockerService, LogStream } from './docker.js';
import { LogDemuxer } from './log-demux.js';

/** One log line with where it came from. */
export interface LogLine {
  at?: number;
  stream: 'stdout' | 'stderr' | 'file';
  text: string;
}

/**
 * How far a follow is behind (issue #26). `lagMs` is how old the newest line received was when it
 * arrived: its Docker timestamp against this host's clock as its chunk came off the socket. A follow
 * that keeps up receives each line within milliseconds of its writing; one that cannot (the console
 * reads slower than the container writes: the lines queue in the socket and the daemon) receives
 * older and older lines. Lines written before the follow opened (the first `tail`) are history, not
 * lag. A quiet container leaves the last figure as it was (it was caught up when its last line came).
 * Measured against the engine's clock: a remote engine whose clock is off shifts it by as much.
 */
export interface LogProgress {
  /** Age of the newest line when it arrived (ms; 0 when none yet or only history). */
  lagMs: number;
  /** Lines per second the container wrote, from the Docker timestamps of the last ¼ s or so of lines received (0 until known). */
  rate: number;
  /** Lines and bytes received since the follow opened. */
  lines: number;
  bytes: number;
  /** Lines not read yet, when the follow can count them (a file: its unread bytes over the mean line length). */
  behindLines?: number;
}

/** A running log follow; `stop()` closes the stream. */
export interface LogFollow {
  stop(): void;
  /** How far behind the follow is. */
  progress?(): LogProgress;
  /** Drops what is queued and follows on from now (container logs): the lines in between are never read. */
  skipToNow?(): Promise<void>;
}

/**
 * Follows a container's log (last `tail` lines, then live). The stream is taken apart by
 * `LogDemuxer` (frame headers unless the container has a TTY, docs/FACTS.md §1.6; lines split on
 * Buffers). When the stream ends (the container stopped or restarted), it waits for the container to
 * run again and follows on from the last line seen (issue #11: "log stream ended" for good after a
 * `docker restart`); `onEnd` reports both, as a status line. `progress()` says how far behind the
 * follow is, `skipToNow()` drops the backlog (issue #26).
 */
export async function followContainerLogs(
  docker: DockerService,
  id: string,
  opts: { tail?: number; onLine: (l: LogLine) => void; onEnd?: (why: string) => void; pollMs?: number },
): Promise<LogFollow> {
  let stopped = false;
  let current: LogStream | undefined;
  let lastAt: number | undefined;
  /** Lines shown with the timestamp `lastAt` (ms: several lines can share one). */
  let atLast = new Set<string>();
  let reopened = false;
  /** Lines written before this are the history the follow opened with, not lag. */
  let openedAt = Date.now();
  /** When the chunk being split came off the socket. */
  let chunkAt = 0;
  const p: LogProgress = { lagMs: 0, rate: 0, lines: 0, bytes: 0 };
  /** The rate's window: the first Docker timestamp in it and the lines since. */
  let windowAt: number | undefined;
  let windowLines = 0;
  const seen = (l: LogLine) => {
    if (l.at !== undefined) {
      // After a reopen, `since` is whole seconds: what was already shown comes again; drop it.
      if (reopened && lastAt !== undefined && (l.at < lastAt || (l.at === lastAt && atLast.has(`${l.stream}:${l.text}`)))) return;
      if (l.at !== lastAt) {
        atLast = new Set();
        lastAt = l.at;
      }
      atLast.add(`${l.stream}:${l.text}`);
      p.lagMs = l.at >= openedAt ? Math.max(0, chunkAt - l.at) : 0;
      if (windowAt === undefined || l.at < windowAt) windowAt = l.at;
      windowLines++;
      if (l.at - windowAt >= 250) {
        p.rate = (windowLines * 1000) / (l.at - windowAt);
        windowAt = l.at;
        windowLines = 0;
      }
    }
    p.lines++;
    opts.onLine(l);
  };
  const open = async (tail: number | undefined, since?: number | string): Promise<void> => {
    const r = await docker.followLogs(id, { ...(tail !== undefined ? { tail } : {}), ...(since !== undefined ? { since } : {}) });
    if (!r.ok) throw new Error(r.error.message);
    const stream = r.value;
    if (stopped) {
      stream.close(); // stopped while this one opened (a skip, a reopen): nobody reads it
      return;
    }
    current = stream;
    const demux = new LogDemuxer(stream.tty, true, seen);
    stream.raw.on('data', (d: Buffer) => {
      if (current !== stream) return; // a skip replaced it: what it still delivers is dropped
      chunkAt = Date.now();
      p.bytes += d.length;
      demux.push(d);
    });
    let ended = false;
    const end = (why: string) => {
      if (ended || stopped || current !== stream) return;
      ended = true;
      demux.end();
      opts.onEnd?.(`${why}; following again when it runs`);
      void waitAndReopen();
    };
    stream.onEnd((err) => end(err ? err.message : 'the log stream ended (container stopped or restarting)'));
  };
  const waitAndReopen = async (): Promise<void> => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500).unref());
      if (stopped) return;
      const info = await docker.inspect(id);
      if (!info.ok) {
        if (info.error.kind === 'not-found') {
          opts.onEnd?.('the container was removed; its log ends here');
          return;
        }
        continue; // the engine may be restarting too: keep waiting
      }
      // Docker's State.Running, which a paused or restarting container also has.
      if (!RUNNING.has(info.value.state)) continue;
      reopened = true;
      try {
        await open(undefined, lastAt !== undefined ? Math.floor(lastAt / 1000) : undefined);
      } catch {
        continue; // it stopped again between the look and the open: keep waiting
      }
      opts.onEnd?.(`${info.value.name} started again at ${new Date(info.value.startedAt ?? Number.NaN).toLocaleTimeString()}; following its log`);
      return;
    }
  };
  await open(opts.tail ?? 200);
  return {
    stop: () => {
      stopped = true;
      current?.close();
    },
    progress: () => ({ ...p }),
    skipToNow: async () => {
      const old = current;
      const now = Date.now();
      // Docker's `since` takes fractional seconds. With a tail the engine reads the log file from its
      // end (without one it reads the whole file to find `since`: seconds of daemon CPU on a flooded
      // log); 10,000 lines reach back far enough for what was written while the follow opens.
      current = undefined;
      old?.close();
      openedAt = now;
      reopened = true;
      p.lagMs = 0;
      windowAt = undefined;
      windowLines = 0;
      await open(10_000, (now / 1000).toFixed(3));
    },
  };
}

const RUNNING = new Set<ContainerState>(['running', 'paused', 'restarting']);

/** Follows a log file: its last `tail` lines, then appended lines (polled every 500 ms; handles truncation). */
export async function followFile(path: string, opts: { tail?: number; onLine: (l: LogLine) => void; onEnd?: (why: string) => void }): Promise<LogFollow> {
  let pos = 0;
  let stopped = false;
  let partial = '';
  const emit = (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) opts.onLine({ stream: 'file', text: p });
  };
  const st = await stat(path);
  const fh = await open(path, 'r');
  const tailBytes = Math.min(st.size, 256 * 1024);
  const first = Buffer.alloc(tailBytes);
  await fh.read(first, 0, tailBytes, st.size - tailBytes);
  pos = st.size;
  const initial = first.toString('utf8').split('\n');
  if (tailBytes < st.size) initial.shift();
  partial = initial.pop() ?? '';
  for (const l of initial.slice(-(opts.tail ?? 200))) opts.onLine({ stream: 'file', text: l });
  // Behind (issue #26): a poll reads at most 1 MB, so a file growing faster leaves bytes unread; the
  // lag is how long some have stayed unread, the lines behind those bytes over the mean line length.
  const p: LogProgress = { lagMs: 0, rate: 0, lines: 0, bytes: 0 };
  let unread = 0;
  let backlogSince: number | undefined;
  const timer = setInterval(() => {
    void (async () => {
      if (stopped) return;
      try {
        const s = await stat(path);
        if (s.size < pos) pos = 0; // truncated or rotated in place
        if (s.size > pos) {
          const b = Buffer.alloc(Math.min(s.size - pos, 1024 * 1024));
          const { bytesRead } = await fh.read(b, 0, b.length, pos);
          pos += bytesRead;
          p.bytes += bytesRead;
          const text = b.subarray(0, bytesRead).toString('utf8');
          for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) p.lines++;
          emit(text);
        }
        unread = Math.max(0, s.size - pos);
        backlogSince = unread > 0 ? (backlogSince ?? Date.now()) : undefined;
      } catch (e) {
        opts.onEnd?.((e as Error).message);
      }
    })();
  }, 500);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
      void fh.close();
    },
    progress: () => ({ ...p, lagMs: backlogSince !== undefined ? Date.now() - backlogSince : 0, behindLines: p.lines ? Math.round(unread / (p.bytes / p.lines)) : 0 }),
    skipToNow: async () => {
      pos = (await stat(path)).size;
      partial = '';
      unread = 0;
      backlogSince = undefined;
    },
  };
}
