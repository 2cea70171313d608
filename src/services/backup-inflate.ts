import { Worker } from 'node:worker_threads';

// Issue #27 (third part): a restore's gzip members are inflated and written by worker threads, one
// per frame being decompressed, each into one output buffer of its own that it keeps from frame to
// frame and writes at the frame's offset with one positional write. Through zlib's stream every
// 256 KiB chunk was a new buffer: glibc's allocator gave them freshly mapped memory, and faulting in
// 927 MiB of it cost more system time than writing it (bench:backup: ~1–2 s of system time of a
// restore; with the allocator told to keep its memory the same stream code took less than half).
// The one-shot inflate is zlib's own (`_processChunk`, what `gunzipSync` runs) given the kept buffer
// as its output; a Node without it gets `gunzipSync` (the same checks, into new memory).
const INFLATE_WORKER = `const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
const fs = require('node:fs');
let out;
parentPort.on('message', ({ fd, buf, pos, limit }) => {
  let o;
  try {
    if (!out || out.length < limit + 65536) out = Buffer.allocUnsafe(limit + 65536);
    let consumed;
    if (typeof zlib.Gunzip.prototype._processChunk === 'function') {
      const g = new zlib.Gunzip({ chunkSize: out.length });
      g._outBuffer = out;
      g._outOffset = 0;
      o = g._processChunk(buf, zlib.constants.Z_FINISH);
      consumed = g.bytesWritten;
    } else {
      // A Node without zlib's one-shot internals: its public one-shot inflate, into new memory.
      const r = zlib.gunzipSync(buf, { info: true, chunkSize: 1 << 20 });
      o = r.buffer;
      consumed = r.engine.bytesWritten;
    }
    if (consumed !== buf.length) return parentPort.postMessage({ bad: 'a frame holds more than one gzip member' });
  } catch (e) {
    return parentPort.postMessage({ bad: 'a frame does not decompress (' + String((e && e.message) || e) + ')' });
  }
  if (o.length > limit) return parentPort.postMessage({ bad: 'a frame holds more than its share of the database' });
  try {
    for (let off = 0; off < o.length; ) {
      const n = fs.writeSync(fd, o, off, o.length - off, pos + off);
      if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO', syscall: 'write' });
      off += n;
    }
  } catch (e) {
    return parentPort.postMessage({ error: { message: String(e.message), code: e.code, errno: e.errno, syscall: e.syscall } });
  }
  parentPort.postMessage({ bytes: o.length });
});`;

/** A worker that inflates one gzip member at a time and writes it at its offset (see INFLATE_WORKER). */
export class InflateWorker {
  private readonly w = new Worker(INFLATE_WORKER, { eval: true });
  private pending: { resolve: (n: number) => void; reject: (e: Error) => void } | undefined;
  /** `bad` makes the error for a member that does not inflate to what the layout says (damage). */
  constructor(bad: (why: string) => Error) {
    this.w.on('message', (m: { bytes?: number; bad?: string; error?: { message: string; code?: string; errno?: number; syscall?: string } }) => {
      const p = this.pending;
      this.pending = undefined;
      if (!p) return;
      if (m.bad !== undefined) p.reject(bad(m.bad));
      else if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code, errno: m.error.errno, syscall: m.error.syscall }));
      else p.resolve(m.bytes ?? 0);
    });
    const fail = (e: Error) => {
      const p = this.pending;
      this.pending = undefined;
      p?.reject(e);
    };
    this.w.on('error', fail);
    this.w.on('exit', (code) => fail(new Error(`the decompressing thread ended (exit ${code})`)));
  }
  /** Inflates `buf` (handed over: not to be used after) and writes it to `fd` at `pos`; its size. */
  inflate(fd: number, buf: Buffer, pos: number, limit: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      // A buffer of its own (Buffer.allocUnsafe above 4 KiB): moved to the thread, not copied.
      const own = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
      this.w.postMessage({ fd, buf, pos, limit }, own ? [buf.buffer as ArrayBuffer] : []);
    });
  }
  stop(): Promise<number> {
    return this.w.terminate();
  }
}
