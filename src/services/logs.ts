import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ContainerState } from '../domain/observations.js';
import type { DockerService, LogStream } from './docker.js';

/** One log line with where it came from. */
export interface LogLine {
  at?: number;
  stream: 'stdout' | 'stderr' | 'file';
  text: string;
}

/** A running log follow; `stop()` closes the stream. */
export interface LogFollow {
  stop(): void;
}

/** Calls `onLine` per complete line of a byte stream. */
function lines(stream: Readable, kind: LogLine['stream'], onLine: (l: LogLine) => void, timestamps: boolean): void {
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const raw = buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
      if (timestamps) {
        // Docker prefixes RFC3339Nano timestamps: "2026-11-23T03:33:32.146123456Z text"
        const sp = raw.indexOf(' ');
        const at = Date.parse(raw.slice(0, sp));
        onLine({ stream: kind, text: raw.slice(sp + 1), ...(Number.isNaN(at) ? {} : { at }) });
      } else onLine({ stream: kind, text: raw });
    }
  });
}

/**
 * Follows a container's log (last `tail` lines, then live). Demultiplexes stdout/stderr only for
 * non-TTY containers (docs/FACTS.md §1.6); the socket is unref'd so it never holds the process open.
 * When the stream ends (the container stopped or restarted), it waits for the container to run
 * again and follows on from the last line seen (issue #11: "log stream ended" for good after a
 * `docker restart`); `onEnd` reports both, as a status line.
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
  const seen = (l: LogLine) => {
    if (l.at !== undefined) {
      // After a reopen, `since` is whole seconds: what was already shown comes again; drop it.
      if (reopened && lastAt !== undefined && (l.at < lastAt || (l.at === lastAt && atLast.has(`${l.stream}:${l.text}`)))) return;
      if (l.at !== lastAt) atLast = new Set();
      lastAt = l.at;
      atLast.add(`${l.stream}:${l.text}`);
    }
    opts.onLine(l);
  };
  const open = async (tail: number | undefined, since?: number): Promise<void> => {
    const r = await docker.followLogs(id, { ...(tail !== undefined ? { tail } : {}), ...(since !== undefined ? { since } : {}) });
    if (!r.ok) throw new Error(r.error.message);
    const stream = r.value;
    current = stream;
    lines(stream.stdout, 'stdout', seen, true);
    if (stream.stderr) lines(stream.stderr, 'stderr', seen, true);
    let ended = false;
    const end = (why: string) => {
      if (ended || stopped) return;
      ended = true;
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
          emit(b.subarray(0, bytesRead).toString('utf8'));
        }
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
  };
}
