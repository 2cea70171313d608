import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelLogCheck } from '../../src/state/hardware.js';
import { Watcher } from '../helpers/watch.js';

// Issue #23: hardware signs. A real tmpfs, watched through capacity.paths, remounted read-only turns
// its check hardware:readonly:<mount> CRITICAL in `opsdeck watch`; the kernel-log check reads
// /dev/kmsg (we are root here) or says it cannot. Needs root to mount: fails loudly otherwise.

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-hw-'));
const mnt = join(dir, 'data');
const config = join(dir, 'opsdeck.yaml');
let watcher: Watcher | undefined;

beforeAll(() => {
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`this test needs root to mount a tmpfs (docs/TESTING.md "Faults as root"): ${(e as Error).message}`);
  }
  writeFileSync(config, ['name: hw', 'interval: 1s', 'failure_threshold: 1', 'recovery_threshold: 1', 'thresholds: {cpu: 100, memory: 100, disk: 100}', `state_dir: ${join(dir, 'state')}`, `capacity: {paths: ["${mnt}"]}`, ''].join('\n'));
});
afterAll(async () => {
  await watcher?.kill('SIGTERM');
  try {
    execFileSync('umount', [mnt], { stdio: 'pipe' });
  } catch {
    // not mounted
  }
});

describe('hardware signs', () => {
  it('a tmpfs remounted read-only turns its check CRITICAL, and writable again resolves it', async () => {
    watcher = new Watcher(config);
    // Its first results arrive with the first run; then the remount.
    for (let i = 0; i < 100 && !watcher.lines.length; i++) await new Promise((r) => setTimeout(r, 100));
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    const fired = await watcher.waitFor('fired', `hardware:readonly:${mnt}`, 30_000);
    expect(fired.status).toBe('critical');
    expect(fired.message).toContain(`${mnt} (tmpfs on tmpfs) is mounted read-only`);
    execFileSync('mount', ['-o', 'remount,rw', mnt]);
    await watcher.waitFor('resolved', `hardware:readonly:${mnt}`, 30_000);
  });

  it('the kernel-log check reads /dev/kmsg as root (no I/O errors expected on this machine) or says it is not readable', () => {
    const c = kernelLogCheck();
    expect(c.id).toBe('hardware:kernel-log');
    if (process.getuid?.() === 0) expect(c.missing).toBeUndefined();
    expect(c.message).toMatch(/I\/O error|not readable/);
  });
});
