import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The disk-pressure drill sets the demo's disk threshold between the use of / with and without its
// ballast (up to 1 GiB). Two test files running that drill at once (demo.test.ts, demo-runbooks.test.ts,
// in parallel vitest workers) move each other's figures by a ballast: one of them then measures / on
// the wrong side of its threshold. They take this lock around the drill, one at a time.

const LOCK = join(tmpdir(), 'opsdeck-disk-drill.lock');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Runs `fn` while no other test process runs a disk-pressure drill (a lock left by a dead process is taken over). */
export async function withDiskDrill<T>(fn: () => Promise<T>, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
      } catch {
        // being created or removed: look again
      }
      if (owner && !alive(owner)) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`another test held ${LOCK} for ${timeoutMs / 1000} s`);
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
