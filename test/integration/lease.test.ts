import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lease, processIdentity, readLeases } from '../../src/state/lease.js';
import { openStateDb } from '../../src/state/statedb.js';

// Named leases (issue #10) against a real state database: each "process" below has its own SQLite
// connection and a real pid (this test's, or a live `sleep` child's; a dead one is a child that
// exited), so the pid checks are the real ones.

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** The pid of a live process (a sleeping child), as a second monitor's identity. */
function livePid(): number {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(c);
  return c.pid!;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid;
}

async function twoConnections() {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-lease-'));
  return { dir, a: await openStateDb(dir), b: await openStateDb(dir) };
}

describe('lease in the state database', () => {
  it('one holder at a time; renewed by its holder; released to the next', async () => {
    const { a, b } = await twoConnections();
    const w1 = new Lease(a, 'backup-scheduler', processIdentity('watch'), 1000);
    const w2 = new Lease(b, 'backup-scheduler', { ...processIdentity('watch'), pid: livePid() }, 1000);
    expect(w1.acquire(10_000)).toEqual({ held: true, taken: 'free' });
    expect(w2.acquire(10_001)).toMatchObject({ held: false, holder: { owner: 'watch', pid: process.pid } });
    expect(w1.acquire(11_000)).toEqual({ held: true });
    expect(readLeases(b)).toMatchObject([{ name: 'backup-scheduler', pid: process.pid, renewedAt: 11_000, expiresAt: 14_000 }]);
    w1.release();
    expect(w2.acquire(11_500)).toEqual({ held: true, taken: 'free' });
    const after = w1.acquire(11_600);
    expect(after.held).toBe(false);
    expect(after.lost).toBeUndefined(); // it had released it: nothing was lost
  });

  it('expires 3 intervals after the last renewal, even with its holder alive (a hung monitor)', async () => {
    const { a, b } = await twoConnections();
    const hung = new Lease(a, 'backup-scheduler', { ...processIdentity('watch'), pid: livePid() }, 1000);
    const w = new Lease(b, 'backup-scheduler', processIdentity('watch'), 1000);
    expect(hung.acquire(10_000).held).toBe(true);
    expect(w.acquire(12_999).held).toBe(false);
    expect(w.acquire(13_000)).toEqual({ held: true, taken: 'expired' });
    expect(hung.acquire(13_001)).toMatchObject({ held: false, lost: true, holder: { pid: process.pid } });
  });

  it('a holder whose pid is dead on this machine is expired at once', async () => {
    const { a, b } = await twoConnections();
    const dead = new Lease(a, 'backup-scheduler', { ...processIdentity('watch'), pid: deadPid() }, 60_000);
    expect(dead.acquire(10_000).held).toBe(true);
    expect(new Lease(b, 'backup-scheduler', processIdentity('console'), 60_000).acquire(10_001)).toEqual({ held: true, taken: 'holder-dead' });
  });

  it('a dead pid recorded by another host is not ours to judge: it waits for expiry', async () => {
    const { a, b } = await twoConnections();
    const remote = new Lease(a, 'backup-scheduler', { ...processIdentity('watch'), pid: deadPid(), host: 'elsewhere' }, 60_000);
    expect(remote.acquire(10_000).held).toBe(true);
    expect(new Lease(b, 'backup-scheduler', processIdentity('watch'), 60_000).acquire(10_001).held).toBe(false);
  });

  it('watch is preferred over the console, never the other way', async () => {
    const { a, b } = await twoConnections();
    const c = new Lease(a, 'backup-scheduler', { ...processIdentity('console'), pid: livePid() }, 1000);
    const w = new Lease(b, 'backup-scheduler', processIdentity('watch'), 1000);
    expect(c.acquire(10_000)).toEqual({ held: true, taken: 'free' });
    expect(w.acquire(10_100)).toEqual({ held: true, taken: 'preferred' });
    expect(c.acquire(11_000)).toMatchObject({ held: false, lost: true, holder: { owner: 'watch' } });
    expect(w.acquire(11_100)).toEqual({ held: true });
  });

  it('leases of different names are independent', async () => {
    const { a, b } = await twoConnections();
    expect(new Lease(a, 'backup-scheduler', processIdentity('watch'), 1000).acquire(1).held).toBe(true);
    expect(new Lease(b, 'notifications', { ...processIdentity('watch'), pid: livePid() }, 1000).acquire(1).held).toBe(true);
  });
});

describe('lease contended by real processes', () => {
  const out = resolve(import.meta.dirname, '../../.tmp', `lease-contender-${process.pid}.mjs`);
  beforeAll(async () => {
    mkdirSync(resolve(out, '..'), { recursive: true });
    await build({ entryPoints: [resolve(import.meta.dirname, '../helpers/lease-contender.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['better-sqlite3'], logLevel: 'error' });
  });
  afterAll(() => rmSync(out, { force: true }));

  /** Runs four contenders at once on the state folder `dir`. */
  const contenders = (dir: string, rounds: number) =>
    Promise.all(
      Array.from({ length: 4 }, () =>
        new Promise<{ held: number; errors: number }>((res, rej) => {
          const c = spawn(process.execPath, [out, dir, String(rounds)], { stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          c.on('close', (code) => (code === 0 ? res(JSON.parse(stdout) as { held: number; errors: number }) : rej(new Error(`contender exited ${code}: ${stderr}`))));
        }),
      ),
    );

  it('four processes opening a new state folder at once all migrate it (no "table … already exists", no "database is locked")', async () => {
    for (let i = 0; i < 5; i++) await expect(contenders(mkdtempSync(join(tmpdir(), 'opsdeck-state-race-')), 0)).resolves.toHaveLength(4);
  });

  it('four processes acquiring and releasing in a loop: never two holders at once, and no attempt errors (BEGIN IMMEDIATE)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-lease-procs-'));
    const db = await openStateDb(dir);
    db.exec('CREATE TABLE probe (active INTEGER NOT NULL, max_seen INTEGER NOT NULL); INSERT INTO probe VALUES (0, 0);');
    const runs = await contenders(dir, 150);
    const probe = db.prepare('SELECT active, max_seen AS maxSeen FROM probe').get() as { active: number; maxSeen: number };
    db.close();
    expect(probe).toEqual({ active: 0, maxSeen: 1 });
    expect(runs.map((r) => r.errors)).toEqual([0, 0, 0, 0]);
    // They really contended: more than one process held it at some point.
    expect(runs.filter((r) => r.held > 0).length).toBeGreaterThan(1);
  });
});
