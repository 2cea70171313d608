import { readFileSync } from 'node:fs';

// One way to ask about a process (issue #15: three `alive(pid)` existed, with different meanings of
// EPERM). Used by leases, run owners, the backup scheduler and the sweeping of temporary files.

/**
 * Whether a process with this pid exists on this machine. EPERM means it exists but belongs to
 * another user: alive (a temporary file or a lease of another user's live process is not ours to take).
 */
export function alive(pid: number | undefined): boolean {
  if (!pid || pid < 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** When a process started (ms since the epoch), from /proc; undefined where that cannot be read. */
export function processStartedAt(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]); // field 22 of stat: starttime, in clock ticks after boot
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return undefined;
    return btime * 1000 + (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}
