import { describe, expect, it } from 'vitest';
import { MIN_PAIR_GAP_MS, readSources } from '../../src/cli/check.js';
import { namesCheck } from '../../src/cli/check-start.js';
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
