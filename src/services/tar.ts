import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';

// A plain POSIX (pax/ustar) tar writer for one purpose (issue #17): a files backup set goes off-host
// as one archive, so one `copy_command` (`cp {{backup.path}} /mnt/offsite/`) and one
// `copy_verify_command` (`sha256sum /mnt/offsite/{{backup.file}}`) serve database backups and file
// sets alike. The archive is deterministic (fixed owner, times from the set's manifest): made again
// from the same set it has the same sha256. `tar -xf` reads it.

/** One entry of an archive: its name inside, the file whose bytes it holds, its mode and mtime (s). */
export interface TarEntry {
  name: string;
  file?: string;
  data?: Buffer;
  mode: number;
  mtime: number;
}

const BLOCK = 512;

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, size: number, mode: number, mtime: number, type: '0' | 'x'): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(Math.min(size, 0o77777777777), 12), 124, 'ascii');
  h.write(octal(Math.max(0, Math.floor(mtime)), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** A pax record `"<len> key=value\n"`, its length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len += 1;
  return `${len}${body}`;
}

const pad = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/**
 * Writes `entries` as a tar archive to `dst` (mode `mode`), fsynced; its sha256 and size. A name over
 * 100 bytes or a file of 8 GiB or more gets a pax header (POSIX.1-2001), as GNU and BSD tar write.
 */
export async function writeTar(dst: string, entries: readonly TarEntry[], mode: number): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const fh = await open(dst, 'w', mode);
  const put = async (b: Buffer) => {
    hash.update(b);
    size += b.length;
    await fh.write(b);
  };
  try {
    for (const e of entries) {
      const bytes = e.data ? e.data.length : (await stat(e.file ?? '')).size;
      const pax = [Buffer.byteLength(e.name) > 100 ? paxRecord('path', e.name) : '', bytes > 0o77777777777 ? paxRecord('size', String(bytes)) : ''].join('');
      if (pax) {
        const body = Buffer.from(pax, 'utf8');
        await put(header(`PaxHeaders/${e.name.slice(-80)}`, body.length, 0o644, e.mtime, 'x'));
        await put(body);
        await put(pad(body.length));
      }
      await put(header(e.name, bytes, e.mode, e.mtime, '0'));
      let written = 0;
      if (e.data) {
        await put(e.data);
        written = e.data.length;
      } else {
        for await (const chunk of createReadStream(e.file ?? '', { highWaterMark: 1 << 20 })) {
          await put(chunk as Buffer);
          written += (chunk as Buffer).length;
        }
      }
      // A file that changed size while it was archived would corrupt every entry after it.
      if (written !== bytes) throw new Error(`${e.file ?? e.name} changed size while it was archived`);
      await put(pad(bytes));
    }
    await put(Buffer.alloc(2 * BLOCK));
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest('hex'), size };
}
