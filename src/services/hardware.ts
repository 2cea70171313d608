// Hardware signs (issue #23): a watched file system remounted read-only (the kernel does that after
// I/O errors on ext4 with errors=remount-ro) and I/O errors in the kernel log (/dev/kmsg, when this
// user may read it). Nothing throws: a kernel log that cannot be read says so.

import { closeSync, constants, openSync, readFileSync, readSync } from 'node:fs';
import { uptime } from 'node:os';

/** A mount from /proc/mounts. */
export interface MountEntry {
  device: string;
  mount: string;
  type: string;
  readOnly: boolean;
}

/** The mounts of /proc/mounts (octal escapes undone), or none when it cannot be read. */
export function readMounts(text?: string): MountEntry[] {
  let t = text;
  if (t === undefined) {
    try {
      t = readFileSync('/proc/mounts', 'utf8');
    } catch {
      return [];
    }
  }
  const un = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return t
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length >= 4)
    .map(([device, mount, type, opts]) => ({ device: un(device ?? ''), mount: un(mount ?? ''), type: type ?? '', readOnly: (opts ?? '').split(',').includes('ro') }));
}

/** The mount entry a path lives on (the last mounted over it wins, as the kernel sees it). */
export function mountEntryOf(path: string, mounts: readonly MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) {
    if (m.mount === '/' || path === m.mount || path.startsWith(`${m.mount}/`)) {
      if (!best || m.mount.length >= best.mount.length) best = m;
    }
  }
  return best;
}

// What the kernel writes when a disk fails (block layer, SCSI, ATA, NVMe, file systems).
const IO_ERROR = /I\/O error|blk_update_request|Buffer I\/O error|critical medium error|Medium Error|Unrecovered read error|EXT4-fs error|XFS \(\S+\): .*(?:error|corruption)|BTRFS (?:error|critical)|nvme\S*: .*(?:I\/O|timeout|failed)|ata\d+(?:\.\d+)?: .*(?:failed command|exception)|Remounting filesystem read-only/;

/** The kernel log's I/O error lines since `sinceMs`, or why it could not be read. */
export function kernelIoErrors(sinceMs: number, now = Date.now()): { readable: true; lines: string[] } | { readable: false; why: string } {
  let fd: number;
  try {
    fd = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return { readable: false, why: `/dev/kmsg: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  const bootMs = now - uptime() * 1000;
  const lines: string[] = [];
  const buf = Buffer.alloc(16 * 1024);
  try {
    // One record per read; EAGAIN at the end of the buffer; EPIPE when a record was overwritten meanwhile.
    for (let i = 0; i < 100_000; i++) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue;
        if (code === 'EAGAIN') break;
        if (i === 0) return { readable: false, why: `/dev/kmsg: ${code ?? (e as Error).message}` };
        break;
      }
      if (n <= 0) break;
      const rec = buf.toString('utf8', 0, n);
      const semi = rec.indexOf(';');
      const usec = Number(rec.slice(0, semi).split(',')[2]);
      const at = bootMs + usec / 1000;
      const text = rec.slice(semi + 1).split('\n')[0] ?? '';
      if (at >= sinceMs && IO_ERROR.test(text)) lines.push(text);
    }
  } finally {
    closeSync(fd);
  }
  return { readable: true, lines };
}
