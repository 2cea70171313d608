import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_PAIR_GAP_MS, readSources } from '../../src/cli/check.js';
import { CheckHostSampler, namesCheck } from '../../src/cli/check-start.js';
import { HostSampler } from '../../src/services/host.js';
import type { CheckResult } from '../../src/domain/check.js';
import type { Source } from '../../src/state/sources.js';

// Issue #27: how `opsdeck check` places its reads in the 0.5 s sampling window. The sources here are
// fakes that only record when they are called: a slow first read (a loaded engine) and a long second
// read cannot be produced on demand by the real ones. Every assertion is an order or a lower bound
// (timers never fire early), never an upper bound on how long something took.

interface Calls {
  primedAt?: number;
  runAt: number[];
}

const result = (id: string): CheckResult => ({ id, kind: 'host', target: id, status: 'ok', message: '' });

/** A sampled source whose first read takes `primeMs`; `leadMs`: what its `lead` says. */
function sampled(id: string, primeMs: number, leadMs?: number): { source: Source; calls: Calls } {
  const calls: Calls = { runAt: [] };
  const source: Source = {
    id,
    refreshMs: 1000,
    checkMs: 1000,
    prime: async () => {
      await new Promise((r) => setTimeout(r, primeMs));
      calls.primedAt = Date.now();
    },
    run: async () => {
      calls.runAt.push(Date.now());
      return [result(id)];
    },
    ...(leadMs !== undefined ? { lead: () => leadMs } : {}),
  };
  return { source, calls };
}

function oneRead(id: string): { source: Source; calls: Calls } {
  const calls: Calls = { runAt: [] };
  return { source: { id, refreshMs: 1000, checkMs: 1000, run: async () => (calls.runAt.push(Date.now()), [result(id)]) }, calls };
}

describe('check: reads inside the sampling window (fake sources)', () => {
  it('a second read waits for the window to end; a one-read source reads at once, inside the window', async () => {
    const host = sampled('host', 0);
    const redis = oneRead('redis:cache');
    const windowEnd = Date.now() + 300;
    const out = await readSources([host.source, redis.source], windowEnd, (s) => s.prime?.());
    expect(out.map((r) => r[0]?.id)).toEqual(['host', 'redis:cache']);
    expect(host.calls.runAt).toHaveLength(1);
    expect(host.calls.runAt[0]).toBeGreaterThanOrEqual(windowEnd - 1);
    expect(redis.calls.runAt).toHaveLength(1);
    expect(redis.calls.runAt[0]).toBeLessThan(host.calls.runAt[0] as number);
  });

  it('a first read that ends after the window still gets MIN_PAIR_GAP_MS before its second (a slow engine)', async () => {
    const docker = sampled('docker', 150);
    const windowEnd = Date.now() + 50;
    await readSources([docker.source], windowEnd, (s) => s.prime?.());
    expect(docker.calls.primedAt).toBeGreaterThan(windowEnd);
    expect((docker.calls.runAt[0] as number) - (docker.calls.primedAt as number)).toBeGreaterThanOrEqual(MIN_PAIR_GAP_MS - 1);
  });

  it('a second read that takes a while (lead) starts that much before the window ends, each source on its own', async () => {
    const host = sampled('host', 0);
    const docker = sampled('docker', 0, 400);
    const windowEnd = Date.now() + 800;
    await readSources([host.source, docker.source], windowEnd, (s) => s.prime?.());
    // The docker source's second read starts about 400 ms before the window ends, the host's at its end.
    expect(docker.calls.runAt[0]).toBeGreaterThanOrEqual(windowEnd - 400 - 1);
    expect(docker.calls.runAt[0]).toBeLessThan(windowEnd);
    expect(host.calls.runAt[0]).toBeGreaterThanOrEqual(windowEnd - 1);
  });

  it('a first read already taken (the host before the command loaded) is not taken again', async () => {
    const host = sampled('host', 0);
    let primes = 0;
    const taken = Promise.resolve();
    await readSources([host.source], Date.now() + 20, (s) => (s.id === 'host' ? taken : (primes++, s.prime?.())));
    expect(primes).toBe(0);
    expect(host.calls.primedAt).toBeUndefined();
    expect(host.calls.runAt).toHaveLength(1);
  });
});

describe('check: the head start is taken only when the command line names check', () => {
  it.each([
    [['check'], true],
    [['check', '--json'], true],
    [['-c', 'x.yaml', 'check'], true],
    [['--config', 'check', 'backup', 'list'], false],
    [['--config=x.yaml', '--read-only', 'check'], true],
    [['-c', 'check'], false],
    [['--no-color', 'watch'], false],
    [[], false],
    [['--help'], false],
  ])('%j → %s', (args, expected) => {
    expect(namesCheck(args)).toBe(expected);
  });
});

describe("check: the host's CPU % leaves out the check's own CPU time", () => {
  // A fake /proc folder: the real one cannot be made to show chosen tick counts.
  const proc = mkdtempSync(join(tmpdir(), 'opsdeck-fake-proc-'));
  mkdirSync(join(proc, 'self'));
  mkdirSync(join(proc, 'net'));
  writeFileSync(join(proc, 'meminfo'), 'MemTotal: 1000 kB\nMemAvailable: 500 kB\n');
  writeFileSync(join(proc, 'mounts'), '');
  writeFileSync(join(proc, 'net/dev'), '');
  /** /proc/stat with `busy` user ticks and `idle` idle ticks; this process with `own` ticks (utime). */
  const ticks = (busy: number, idle: number, own: number) => {
    writeFileSync(join(proc, 'stat'), `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 ${busy} 0 0 ${idle} 0 0 0 0 0 0\n`);
    writeFileSync(join(proc, 'self/stat'), `4242 (node (check)) R 1 1 1 0 -1 4194304 0 0 0 0 ${own} 0 0 0 20 0 1 0 1 1 1\n`);
  };

  it('busy ticks of the host minus its own: 50 % busy, 30 of the 50 its own → 20 %', async () => {
    const s = new CheckHostSampler(proc);
    ticks(1000, 1000, 10);
    await s.sample();
    ticks(1500, 1500, 310);
    const r = await s.sample();
    expect(r.ok && r.value.cpuPercent).toBeCloseTo(20, 5);
    // The plain sampler over the same files: 50 %.
    const plain = new HostSampler(proc);
    ticks(1000, 1000, 10);
    await plain.sample();
    ticks(1500, 1500, 310);
    const p = await plain.sample();
    expect(p.ok && p.value.cpuPercent).toBeCloseTo(50, 5);
  });

  it('a saturated host (no idle ticks) keeps its busy figure: the check took its share from others', async () => {
    const s = new CheckHostSampler(proc);
    ticks(1000, 1000, 10);
    await s.sample();
    ticks(2000, 1001, 310);
    const r = await s.sample();
    expect(r.ok && r.value.cpuPercent).toBeCloseTo(99.9, 1);
  });

  it('never below 0 %', async () => {
    const s = new CheckHostSampler(proc);
    ticks(1000, 1000, 0);
    await s.sample();
    ticks(1100, 1900, 200);
    const r = await s.sample();
    expect(r.ok && r.value.cpuPercent).toBe(0);
  });
});
