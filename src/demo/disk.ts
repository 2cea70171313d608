// The disk-pressure drill's ballast (issue #16): a real rotated log beside the API's live log, so
// the disk-pressure runbook has something true to remove, and a threshold between the disk's use
// with and without it, so removing it resolves the alert.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitError } from '../domain/errors.js';
import type { DemoState } from './workspace.js';

/** At most this much ballast (1 GiB), and at most a tenth of the free space. */
export const BALLAST_MAX_BYTES = 1024 ** 3;
/** Below this much ballast the two usages lie too close for a threshold between them to hold. */
export const BALLAST_MIN_BYTES = 64 * 1024 ** 2;
const CHUNK = 8 * 1024 ** 2;

/** The ballast: a rotation of the API's log (`api.log.1`), which disk-pressure may remove. */
export const ballastFile = (s: Pick<DemoState, 'dir'>) => join(s.dir, 'logs', 'api.log.1');

/** A filesystem's use as the monitor computes it (src/services/host.ts): used / (used + available). */
export interface DiskUse {
  usedBytes: number;
  availBytes: number;
  percent: number;
}

export async function diskUse(path: string): Promise<DiskUse> {
  const s = await statfs(path);
  const used = (s.blocks - s.bfree) * s.bsize;
  const avail = s.bavail * s.bsize;
  return { usedBytes: used, availBytes: avail, percent: used + avail > 0 ? (used / (used + avail)) * 100 : 0 };
}

/** How much ballast for this much free space; throws when there is too little room for a clear drill. */
export function ballastBytes(availBytes: number, max = BALLAST_MAX_BYTES): number {
  const bytes = Math.min(max, Math.floor(availBytes / 10 / CHUNK) * CHUNK);
  if (bytes < BALLAST_MIN_BYTES) {
    throw new ExitError(1, 'drill', `disk-pressure needs ${BALLAST_MIN_BYTES / 1024 ** 2} MiB of ballast (a tenth of the free space), and / has only ${Math.floor(availBytes / 1024 ** 2)} MiB free`);
  }
  return bytes;
}

/**
 * The threshold halfway between the use without and with the ballast, rounded to 4 decimals
 * (the config holds it as written) and kept strictly between them: the most margin either side.
 */
export function thresholdBetween(without: number, withBallast: number): number {
  const t = Math.round(((without + withBallast) / 2) * 1e4) / 1e4;
  if (!(t > without && t < withBallast)) throw new ExitError(1, 'drill', `the ballast moved the use of / only from ${without}% to ${withBallast}%: no threshold lies between them`);
  return t;
}

/**
 * Allocates `bytes` of real blocks: `fallocate -l` (instant: the blocks are reserved, nothing
 * written; a drill's own time counts in its detection time, and writing 1 GiB took seconds on a
 * loaded machine), else written out (random data: a compressing filesystem would not store zeros)
 * and synced. Either way the caller measures what the filesystem really counts.
 */
function writeBallast(file: string, bytes: number): void {
  try {
    execFileSync('fallocate', ['-l', String(bytes), file], { stdio: 'ignore', timeout: 30_000 });
    if (statSync(file).size === bytes) return;
  } catch {
    // no fallocate binary, or a filesystem without it (ZFS): written out below
  }
  const chunk = randomBytes(CHUNK);
  const fd = openSync(file, 'w', 0o600);
  try {
    for (let done = 0; done < bytes; done += CHUNK) writeSync(fd, chunk, 0, Math.min(CHUNK, bytes - done));
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(file, { force: true });
    throw new ExitError(1, 'drill', `writing the disk-pressure ballast ${file} failed: ${(e as Error).message}`);
  }
  closeSync(fd);
}

/** What the disk-pressure drill did: the ballast, its size, the use of / without and with it, the threshold. */
export interface Ballast {
  file: string;
  bytes: number;
  without: DiskUse;
  with: DiskUse;
  threshold: number;
}

/**
 * Writes the ballast beside the API's log on `/` and returns the threshold between the use of /
 * without and with it. Refuses a workspace on another filesystem (the alert is `host:disk:/`).
 */
export async function placeBallast(s: Pick<DemoState, 'dir'>, max = BALLAST_MAX_BYTES): Promise<Ballast> {
  const file = ballastFile(s);
  removeBallast(s);
  if (statSync(join(s.dir, 'logs')).dev !== statSync('/').dev) {
    throw new ExitError(1, 'drill', `disk-pressure fills / and the demo workspace ${s.dir} is on another filesystem: start the demo with --dir on / to practise it`);
  }
  const without = await diskUse('/');
  const bytes = ballastBytes(without.availBytes, max);
  writeBallast(file, bytes);
  const withBallast = await diskUse('/');
  try {
    return { file, bytes, without, with: withBallast, threshold: thresholdBetween(without.percent, withBallast.percent) };
  } catch (e) {
    removeBallast(s);
    throw e;
  }
}

/** Removes the ballast (none is fine). */
export function removeBallast(s: Pick<DemoState, 'dir'>): void {
  rmSync(ballastFile(s), { force: true });
}

/** The config text with `thresholds.disk` set (`undefined`: the thresholds block the drill wrote removed). */
export function withDiskThreshold(config: string, threshold: number | undefined): string {
  const text = config.replace(/\nthresholds:\n {2}disk: [\d.]+\n/, '\n');
  return threshold === undefined ? text : text.replace('\nservices:', `\nthresholds:\n  disk: ${threshold}\nservices:`);
}
