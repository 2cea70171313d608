import { writeSync } from 'node:fs';

/**
 * Test-only fault injection: with OPSDECK_TEST_PAUSE_AT=<point>, announce the point on stderr and
 * block the thread forever, so a test can SIGKILL the process exactly there. Synchronous on
 * purpose: it must also work inside a SQLite transaction.
 */
export function pausePoint(point: string): void {
  if (process.env.OPSDECK_TEST_PAUSE_AT !== point) return;
  writeSync(2, `paused at ${point}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}
