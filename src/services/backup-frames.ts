import type { Hash } from 'node:crypto';
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Transform } from 'node:stream';
import { constants, createBrotliCompress, createBrotliDecompress, createGunzip, createGzip, deflateRawSync, gunzipSync } from 'node:zlib';
import { Failure } from '../domain/errors.js';
import { InflateWorker } from './backup-inflate.js';
import { pausePoint } from './pause.js';

// Issue #27: a backup stored as independent brotli frames, so that a restore (and a backup)
// decompresses (compresses) two frames at once on two cores — brotli itself is single-threaded, and
// decompressing one 927 MiB stream was ~3.9 s of a 7.4 s restore (bench:backup).
//
// The stored file (`<id>.db.br`, format `br-frames-1`):
//   frame 0   a brotli stream of a short text (FRAMES_HEADER, then one line of JSON: format,
//             frameBytes, rawBytes) — what an older opsdeck, or `brotli -d`, finds first: it is not a
//             SQLite database, so nothing can mistake the file for a one-stream backup (Node's
//             decoder silently ignores what follows a finished stream; an older opsdeck gets "not a
//             readable SQLite database", never a database cut after its first frame);
//   frame 1…n brotli streams of the database's consecutive `frameBytes` slices (the last shorter).
// The manifest records `format`, `frameBytes` and `frames` (each frame's stored size, frame 0
// first): where each frame starts, so frames are read and decompressed side by side. The SHA-256
// is still that of the whole stored file, as before. By hand: `opsdeck backup extract`.

/** The format of a brotli-framed backup, as its manifest and its first frame say it. */
export const FRAMES_FORMAT = 'br-frames-1';
/**
 * The format of a backup in gzip members (issue #27, the default since): the same layout as
 * `br-frames-1`, each frame a gzip member (deflate level 1, its CRC-32 and size checked as it is
 * decompressed), the first one empty with the header text as its gzip comment — so `gunzip -c` of
 * the whole file gives the database and nothing else. zlib's inflate decompresses the 927 MiB bench
 * database in well under half brotli's CPU time (see README "Backup file format").
 */
export const GZ_FRAMES_FORMAT = 'gz-frames-1';
/** The formats of framed backups this opsdeck reads. */
export type FramesFormat = typeof FRAMES_FORMAT | typeof GZ_FRAMES_FORMAT;
/** The format new backups are written in. */
export const DEFAULT_FRAMES_FORMAT: FramesFormat = GZ_FRAMES_FORMAT;
/**
 * Bytes of the database in one frame (the last may be shorter): 16 MiB — big enough that a frame's
 * brotli start-up does not count, small enough that a few frames in memory stay small. Tests make
 * small databases of many frames with `OPSDECK_TEST_FRAME_KIB` (a reader takes the size from the manifest).
 */
export function frameBytes(env: NodeJS.ProcessEnv = process.env): number {
  const kib = Number(env.OPSDECK_TEST_FRAME_KIB);
  return Number.isInteger(kib) && kib > 0 ? kib << 10 : 16 << 20;
}
/** The first line of frame 0's text. */
export const FRAMES_HEADER = 'opsdeck backup in brotli frames (br-frames-1): not a SQLite database by itself; extract it with `opsdeck backup extract ID --to FILE` (README: "Backup file format")';
/** The first line of a `gz-frames-1` file's header comment. */
export const GZ_FRAMES_HEADER = 'opsdeck backup in gzip members (gz-frames-1): `gunzip -c < ID.db.br > OUT.db` gives the database; or `opsdeck backup extract ID --to FILE` (README: "Backup file format")';

const headerOf = (format: FramesFormat) => (format === GZ_FRAMES_FORMAT ? GZ_FRAMES_HEADER : FRAMES_HEADER);

/** Where a framed backup's frames are (from its manifest). */
export interface FramedLayout {
  format: FramesFormat;
  frameBytes: number;
  /** Stored size of each frame, frame 0 (the header) first. */
  frames: number[];
}

/** Frames compressed or decompressed at once: one per core, at most 3 (libuv's 4 threads also write and read). */
export function frameParallelism(): number {
  return Math.max(1, Math.min(3, availableParallelism()));
}

/**
 * Writes all of `buf` (a write may take only part of it: a full disk takes what fits and fails on the
 * next write — fs streams loop the same way); at `pos`, or at the file's position when null.
 */
async function writeAll(fh: FileHandle, buf: Buffer, pos: number | null, from = 0, to = buf.length): Promise<void> {
  for (let off = from; off < to; ) {
    const { bytesWritten } = await fh.write(buf, off, to - off, pos === null ? null : pos + off - from);
    if (bytesWritten <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO', syscall: 'write' });
    off += bytesWritten;
  }
}

const quality1 = (hint: number) => ({ [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_SIZE_HINT]: hint });

/** A frame's compressor: brotli quality 1, or a gzip member at deflate level 1. */
function compressor(format: FramesFormat, bytes: number): Transform {
  return format === GZ_FRAMES_FORMAT ? createGzip({ level: 1, chunkSize: 1 << 20 }) : createBrotliCompress({ chunkSize: 1 << 20, params: quality1(bytes) });
}

/** One frame (brotli quality 1, or a gzip member) of a byte range of `src`, in memory. */
function compressRange(src: string, start: number, end: number, format: FramesFormat): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const c = compressor(format, end - start);
    c.on('data', (b: Buffer) => chunks.push(b));
    c.on('end', () => resolve(Buffer.concat(chunks)));
    c.on('error', reject);
    createReadStream(src, { start, end: end - 1, highWaterMark: 1 << 20 })
      .on('error', reject)
      .pipe(c);
  });
}

/**
 * Compresses `src` into `dst` in `format` (`gz-frames-1` by default, or `br-frames-1`),
 * `frameParallelism()` frames at once, written in order while the SHA-256 of the stored bytes is
 * taken; fsynced. At most a few frames wait in memory (their compressed size).
 */
export async function compressFrames(src: string, dst: string, mode: number, format: FramesFormat = DEFAULT_FRAMES_FORMAT): Promise<{ sha256: string; size: number; layout: FramedLayout }> {
  const rawBytes = statSync(src).size;
  const FRAME_BYTES = frameBytes();
  const count = Math.ceil(rawBytes / FRAME_BYTES);
  const header = Buffer.from(`${headerOf(format)}\n${JSON.stringify({ format, frameBytes: FRAME_BYTES, rawBytes })}\n`);
  const out = await open(dst, 'w', mode);
  const hash = createHash('sha256');
  const frames: number[] = [];
  let size = 0;
  try {
    const append = async (b: Buffer) => {
      hash.update(b);
      frames.push(b.length);
      size += b.length;
      await writeAll(out, b, null);
    };
    await append(format === GZ_FRAMES_FORMAT ? gzipHeaderMember(header) : await compressRange0(header));
    const done = new Map<number, Buffer>();
    let next = 0;
    let written = 0;
    let writing = Promise.resolve();
    const flush = async () => {
      for (let b = done.get(written); b; b = done.get(written)) {
        done.delete(written);
        written++;
        await append(b);
      }
    };
    let failure: Error | undefined;
    await Promise.all(
      Array.from({ length: Math.min(frameParallelism(), count) }, async () => {
        while (next < count && failure === undefined) {
          const k = next++;
          done.set(k, await compressRange(src, k * FRAME_BYTES, Math.min(rawBytes, (k + 1) * FRAME_BYTES), format));
          writing = writing.then(flush);
          await writing;
        }
      }).map((p) => p.catch((e: unknown) => void (failure ??= e instanceof Error ? e : new Error(String(e))))),
    );
    if (failure !== undefined) throw failure;
    await writing;
    if (written !== count) throw new Error(`wrote ${written} of ${count} frames`);
    await out.sync();
  } finally {
    await out.close();
  }
  // The mode given at creation is narrowed by the umask only; say it exactly.
  chmodSync(dst, mode);
  return { sha256: hash.digest('hex'), size, layout: { format, frameBytes: FRAME_BYTES, frames } };
}

/**
 * The first member of a `gz-frames-1` file: an empty gzip member whose header carries `text` as its
 * comment (RFC 1952 FCOMMENT, ISO 8859-1, zero-terminated) — `gunzip` skips it, opsdeck reads it.
 */
function gzipHeaderMember(text: Buffer): Buffer {
  // ID1 ID2 CM=deflate FLG=FCOMMENT MTIME=0 XFL=0 OS=255 (unknown); then the comment, an empty
  // deflate stream, CRC-32 0 and ISIZE 0 of the empty content.
  return Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0x10, 0, 0, 0, 0, 0, 0xff]), text, Buffer.from([0]), deflateRawSync(Buffer.alloc(0)), Buffer.alloc(8)]);
}

/** The comment of a `gz-frames-1` header member, when `buf` is one whole empty member with a comment. */
function gzipHeaderText(buf: Buffer): string | undefined {
  if (buf.length < 18 || buf[0] !== 0x1f || buf[1] !== 0x8b || buf[2] !== 8 || buf[3] !== 0x10) return undefined;
  const end = buf.indexOf(0, 10);
  if (end < 0) return undefined;
  try {
    const r = gunzipSync(buf, { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    if (r.buffer.length !== 0 || r.engine.bytesWritten !== buf.length) return undefined;
  } catch {
    return undefined;
  }
  return buf.subarray(10, end).toString('latin1');
}

function compressRange0(b: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const c = createBrotliCompress({ params: quality1(b.length) });
    c.on('data', (x: Buffer) => chunks.push(x));
    c.on('end', () => resolve(Buffer.concat(chunks)));
    c.on('error', reject);
    c.end(b);
  });
}

/**
 * The layout of a stored backup, from its manifest beside it (`<id>.json` for `<id>.db.br`):
 * undefined for a one-stream backup (every backup made before issue #27) or when there is no manifest.
 */
export function storedLayout(file: string): FramedLayout | undefined {
  const manifest = file.replace(/\.db\.br$/, '.json');
  if (manifest === file || !existsSync(manifest)) return undefined;
  let m: { format?: unknown; frameBytes?: unknown; frames?: unknown };
  try {
    m = JSON.parse(readFileSync(manifest, 'utf8')) as typeof m;
  } catch {
    return undefined;
  }
  if (m.format === undefined) return undefined;
  const ok = (m.format === FRAMES_FORMAT || m.format === GZ_FRAMES_FORMAT) && Number.isInteger(m.frameBytes) && (m.frameBytes as number) > 0 && Array.isArray(m.frames) && m.frames.length > 0 && m.frames.every((n) => Number.isInteger(n) && n > 0);
  if (!ok) throw new Failure('corrupt', `${manifest}: unknown backup format ${JSON.stringify(m.format)} or a damaged frame list (this opsdeck reads one-stream backups, ${FRAMES_FORMAT} and ${GZ_FRAMES_FORMAT})`);
  return { format: m.format as FramesFormat, frameBytes: m.frameBytes as number, frames: m.frames as number[] };
}

/** A decompression that did not give what the layout says: damage, found like a checksum mismatch. */
export class FrameMismatch extends Error {}

/**
 * Decompresses one brotli frame into `out` at `at`; its decompressed size. `first` gets the test hook
 * `extract:mid` (half of the first chunk reaches the file, then the process waits to be killed).
 */
function decompressFrame(buf: Buffer, out: FileHandle, at: number, limit: number, first: boolean, format: FramesFormat): Promise<number> {
  return new Promise((resolve, reject) => {
    // 256 KiB chunks that stay in the CPU's cache between the decoder and the write (issue #27's measure).
    // Gunzip checks each member's CRC-32 and size of what it decompressed.
    const d = format === GZ_FRAMES_FORMAT ? createGunzip({ chunkSize: 1 << 18 }) : createBrotliDecompress({ chunkSize: 1 << 18 });
    let pos = at;
    const writes: Promise<void>[] = [];
    let hook = first && process.env.OPSDECK_TEST_PAUSE_AT === 'extract:mid';
    // Every write is handled at once (a failed write unhandled until the frame's end would end the process).
    let failed: Error | undefined;
    const track = (p: Promise<void>) => {
      writes.push(
        p.catch((e: unknown) => {
          failed ??= e instanceof Error ? e : new Error(String(e));
          d.destroy(failed);
        }),
      );
    };
    d.on('data', (c: Buffer) => {
      if (pos + c.length - at > limit) {
        d.destroy(new FrameMismatch('a frame holds more than its share of the database'));
        return;
      }
      if (hook) {
        hook = false;
        const half = c.length >> 1;
        const rest = c.subarray(half);
        const restAt = pos + half;
        track(
          writeAll(out, c, pos, 0, half)
            .then(() => new Promise((r) => setTimeout(r, 100)))
            .then(() => {
              pausePoint('extract:mid');
              return writeAll(out, rest, restAt);
            }),
        );
      } else track(writeAll(out, c, pos));
      pos += c.length;
    });
    // A damaged member fails its CRC-32 or does not inflate: damage, like a brotli stream that does not decode.
    d.on('error', (e) => reject(format === GZ_FRAMES_FORMAT && e !== failed && !(e instanceof FrameMismatch) ? new FrameMismatch(`a frame does not decompress (${e.message})`) : e));
    d.on('end', () => {
      // Node's brotli decoder stops at the end of the first stream and ignores the rest (gunzip at the
      // first byte that starts no member): a frame is one stream, whole.
      if (d.bytesWritten !== buf.length) reject(new FrameMismatch(`a frame holds more than one ${format === GZ_FRAMES_FORMAT ? 'gzip member' : 'brotli stream'}`));
      else
        void Promise.all(writes).then(() => {
          if (failed) reject(failed);
          else resolve(pos - at);
        });
    });
    d.end(buf);
  });
}

/**
 * Decompresses a framed backup (`br-frames-1`, `gz-frames-1`) into `part` (created 0600), frames side by side, the stored
 * bytes hashed into `hash` in order. Throws `FrameMismatch` when the file's size, a frame's size or
 * the header differ from the layout (the caller then reports a checksum mismatch: damage). With
 * `sync` (a restore) the written pages are flushed every 64 MiB while later frames decompress; the
 * caller fsyncs the file at the end (beside its check of the copy, issue #27), once `flushed` is
 * settled: those flushes are not waited for before the copy can be checked (issue #27's third part:
 * waiting for them put most of the write-back between the last write and the check).
 */
export async function extractFrames(file: string, layout: FramedLayout, part: string, hash: Hash, sync: boolean): Promise<{ flushed: Promise<void> }> {
  const inp = await open(file, 'r');
  try {
    const stored = layout.frames.reduce((a, b) => a + b, 0);
    if ((await inp.stat()).size !== stored) throw new FrameMismatch(`the file is not the size its frames add up to`);
    const starts: number[] = [];
    layout.frames.reduce((at, n) => (starts.push(at), at + n), 0);
    const readFrame = async (k: number): Promise<Buffer> => {
      const n = layout.frames[k] as number;
      const buf = Buffer.allocUnsafe(n);
      const { bytesRead } = await inp.read(buf, 0, n, starts[k]);
      if (bytesRead !== n) throw new FrameMismatch('the file ended inside a frame');
      hash.update(buf);
      return buf;
    };
    // Frame 0: the header says the format and the database's size.
    const first = await readFrame(0);
    const headerText = layout.format === GZ_FRAMES_FORMAT ? (gzipHeaderText(first) ?? '') : await decompressToBuffer(first);
    const HEADER = headerOf(layout.format);
    const json = headerText.startsWith(`${HEADER}\n`) ? headerText.slice(HEADER.length + 1).trim() : '';
    let rawBytes = -1;
    try {
      const h = JSON.parse(json) as { format?: unknown; frameBytes?: unknown; rawBytes?: unknown };
      if (h.format === layout.format && h.frameBytes === layout.frameBytes && Number.isInteger(h.rawBytes)) rawBytes = h.rawBytes as number;
    } catch {
      // not the header
    }
    const count = layout.frames.length - 1;
    if (rawBytes < 0 || Math.ceil(rawBytes / layout.frameBytes) !== count) throw new FrameMismatch('its first frame is not the header its manifest says');
    const out = await open(part, 'w', 0o600);
    // The periodic flushes go through a handle of their own, left open until they are done (the
    // writes' handle closes when the last frame is written).
    let syncer: FileHandle | undefined;
    let flushing: Promise<void> = Promise.resolve();
    const flushed = () => flushing.finally(() => syncer?.close());
    // gz-frames-1: inflated and written by threads of their own (INFLATE_WORKER); the test hook
    // `extract:mid` (half a chunk written, then killed) keeps the stream path.
    const threads = layout.format === GZ_FRAMES_FORMAT && process.env.OPSDECK_TEST_PAUSE_AT !== 'extract:mid' ? Array.from({ length: Math.min(frameParallelism(), count) }, () => new InflateWorker((why) => new FrameMismatch(why))) : [];
    try {
      let next = 1;
      // Reads are chained in frame order, so the SHA-256 sees the stored bytes in order.
      let reading: Promise<unknown> = Promise.resolve();
      syncer = sync ? await open(part, 'r') : undefined;
      let unflushed = 0;
      let failure: Error | undefined;
      await Promise.all(
        Array.from({ length: Math.min(frameParallelism(), count) }, async (_, t) => {
          // A failed frame stops the others after the frame they are on (never a write after close).
          while (next <= count && failure === undefined) {
            const k = next++;
            const read = reading.then(() => readFrame(k));
            reading = read.catch(() => undefined);
            const buf = await read;
            const want = k < count ? layout.frameBytes : rawBytes - (count - 1) * layout.frameBytes;
            const thread = threads[t];
            const got = thread ? await thread.inflate(out.fd, buf, (k - 1) * layout.frameBytes, want) : await decompressFrame(buf, out, (k - 1) * layout.frameBytes, want, k === 1, layout.format);
            if (got !== want) throw new FrameMismatch('a frame holds less than its share of the database');
            unflushed += got;
            if (syncer && unflushed >= 64 << 20) {
              // Write-back of what is written overlaps the frames still being decompressed (the
              // final fsync then has little left to do).
              unflushed = 0;
              const h = syncer;
              flushing = flushing.then(() => h.datasync());
            }
          }
        }).map((p) => p.catch((e: unknown) => void (failure ??= e instanceof Error ? e : new Error(String(e))))),
      );
      if (failure !== undefined) throw failure;
    } catch (e) {
      await flushed().catch(() => undefined);
      throw e;
    } finally {
      // Every thread has answered for its frame (the loops above await each one): no write after close.
      await Promise.all(threads.map((w) => w.stop()));
      await out.close();
    }
    const done = flushed();
    // Handled here too: the caller may throw (a checksum mismatch) before it waits for it.
    done.catch(() => undefined);
    return { flushed: done };
  } finally {
    await inp.close();
  }
}

function decompressToBuffer(buf: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const d = createBrotliDecompress();
    d.on('data', (c: Buffer) => chunks.push(c));
    d.on('error', () => reject(new FrameMismatch('its first frame does not decompress')));
    d.on('end', () => (d.bytesWritten === buf.length ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new FrameMismatch('its first frame holds more than one stream'))));
    d.end(buf);
  });
}
