// Kernel pseudo-files kept open and read again with a positioned read (issue #27: the console reads
// three cgroup files per running container and the host's /proc files at every refresh).
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { bufferField, statField } from './stat-field.js';

/**
 * Kernel pseudo-files kept open and read again from offset 0 (issue #27: the console reads three
 * files per running container every refresh; open + read + close was three syscalls and a path walk
 * per file, a positioned read on a kept descriptor is one). A seq_file (cgroup and /proc files) is
 * generated afresh by a read at offset 0. A read that fails (the cgroup was removed: ENODEV, or the
 * descriptor went stale) closes the file and fails, so the caller looks again. At most `max` files
 * are kept; beyond that, out of descriptors, or once closed, a file is read the old way.
 */
export class OpenFiles {
  private readonly fds = new Map<string, number>();
  private buf = Buffer.allocUnsafe(16 * 1024);
  private shut = false;

  constructor(private readonly max = 1024) {}

  /** The whole text of `path`, read from offset 0 of its kept descriptor. Throws as readFileSync does. */
  read(path: string): string {
    const n = this.fill(path);
    return typeof n === 'string' ? n : this.buf.toString('utf8', 0, n);
  }

  /**
   * The number after `key ` at the start of a line of `path` (a stat file: `memory.stat`,
   * `cpu.stat`), 0 when absent — found in the bytes read, without making the file's text a string
   * (issue #27 point 2: memory.stat is ~1 KB per container per refresh, most of what these reads allocated).
   */
  field(path: string, key: string): number {
    const n = this.fill(path);
    if (typeof n === 'string') return statField(n, key);
    return bufferField(this.buf, n, key);
  }

  /**
   * The file's leading decimal number (`cpuacct.usage`, `memory.usage_in_bytes`, `memory.current`),
   * read from the bytes without making a string (issue #27 point 2); NaN when it does not start with one.
   */
  number(path: string): number {
    const n = this.fill(path);
    if (typeof n === 'string') return Number(n.trim());
    return leadingNumber(this.buf, n);
  }

  /** Reads `path` into this.buf and says how many bytes; the text itself when read the plain way. */
  private fill(path: string): number | string {
    let fd = this.fds.get(path);
    if (fd === undefined) {
      if (this.shut || this.fds.size >= this.max) return readFileSync(path, 'utf8');
      try {
        fd = openSync(path, 'r');
      } catch (e) {
        // Out of descriptors (EMFILE): the figures still come, the old way.
        if ((e as NodeJS.ErrnoException).code === 'EMFILE' || (e as NodeJS.ErrnoException).code === 'ENFILE') return readFileSync(path, 'utf8');
        throw e;
      }
      this.fds.set(path, fd);
    }
    try {
      let n = 0;
      for (;;) {
        const got = readSync(fd, this.buf, n, this.buf.length - n, n);
        n += got;
        if (got === 0 || n < this.buf.length) break;
        const bigger = Buffer.allocUnsafe(this.buf.length * 2);
        this.buf.copy(bigger, 0, 0, n);
        this.buf = bigger;
      }
      return n;
    } catch (e) {
      this.close(path);
      throw e;
    }
  }

  /** Closes the files for which `keep` says no. */
  retain(keep: (path: string) => boolean): void {
    for (const path of [...this.fds.keys()]) if (!keep(path)) this.close(path);
  }

  /** How many files are open (tests). */
  get size(): number {
    return this.fds.size;
  }

  /** Closes one file, or (no path) every file for good: later reads open, read and close as before. */
  close(path?: string): void {
    if (path === undefined) this.shut = true;
    for (const p of path === undefined ? [...this.fds.keys()] : [path]) {
      const fd = this.fds.get(p);
      if (fd === undefined) continue;
      this.fds.delete(p);
      try {
        closeSync(fd);
      } catch {
        // already gone
      }
    }
  }
}

/** The decimal number in the first `n` bytes of `buf`, as Number(text.trim()) reads an unsigned integer: blanks around it, 0 for none, NaN for anything else. */
export function leadingNumber(buf: Buffer, n: number): number {
  let i = 0;
  while (i < n && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  const start = i;
  let v = 0;
  for (; i < n; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
  }
  const digits = i > start;
  // As Number(text.trim()) does: only blanks and the line's end may follow the digits (a blank file is 0).
  for (; i < n; i++) if (buf[i] !== 0x0a && buf[i] !== 0x20 && buf[i] !== 0x09 && buf[i] !== 0x0d) return NaN;
  return digits ? v : 0;
}
