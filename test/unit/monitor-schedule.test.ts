import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { validate } from '../../src/config/load.js';
import type { CheckResult } from '../../src/domain/check.js';
import { Monitor } from '../../src/state/monitor.js';
import type { Source } from '../../src/state/sources.js';
import { createAppStore } from '../../src/state/store.js';

// The monitor's timers (issue #11): a source runs on its interval counted from its start, not
// from the end of its last run. Fake source and fake timers: the answer time is injected exactly.

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function slowSource(answerMs: number, intervalMs: number, status: CheckResult['status'] = 'critical') {
  const starts: number[] = [];
  const source: Source = {
    id: 'http:slow',
    refreshMs: intervalMs,
    checkMs: intervalMs,
    run: async () => {
      starts.push(Date.now());
      await new Promise((r) => setTimeout(r, answerMs));
      return [{ id: 'http:slow', kind: 'http', target: 'x', status, message: 'slow' }];
    },
  };
  return { source, starts };
}

describe('monitor schedule (fake source: injected answer time)', () => {
  it.each([
    [250, 1000, [0, 1000, 2000, 3000]],
    [2500, 1000, [0, 2500, 5000, 7500]],
  ])('answers in %i ms at a %i ms interval: runs start at %j, never overlapping', async (answerMs, intervalMs, expected) => {
    const { source, starts } = slowSource(answerMs, intervalMs);
    const config = validate({ interval: `${intervalMs}ms`, failure_threshold: 3 }, 't');
    const store = createAppStore();
    const fired: number[] = [];
    const m = new Monitor({ config, store, sources: [source], onAlert: (e) => e.transition === 'fired' && fired.push(e.at) });
    m.start();
    await vi.advanceTimersByTimeAsync((expected.at(-1) ?? 0) + 10);
    m.stop();
    // (a timer of 0 ms waits 1 ms in Node: a run right after a slow one starts 1 ms late)
    expect(starts).toHaveLength(expected.length);
    starts.forEach((at, i) => expect(at - (expected[i] ?? 0)).toBeLessThanOrEqual(5));
    // Every run counted as a check: fired at the end of the third, within failure_threshold × interval + one answer time.
    expect(fired).toHaveLength(1);
    expect((fired[0] ?? 0) - ((expected[2] ?? 0) + answerMs)).toBeLessThanOrEqual(5);
    expect(fired[0]).toBeLessThanOrEqual(3 * Math.max(intervalMs, answerMs) + answerMs);
  });
});

describe('one store update per source run (issue #27: the idle console woke every store listener twice)', () => {
  it('a run writes its results and the system health together: every listener sees both, once', async () => {
    const { source } = slowSource(10, 1000, 'ok');
    const config = validate({ interval: '1000ms' }, 't');
    const store = createAppStore();
    const seen: { slow: string | undefined; health: string | undefined }[] = [];
    // Each update that changed the checks, as a listener sees them.
    store.subscribe((s, prev) => s.checks !== prev.checks && seen.push({ slow: s.checks['http:slow']?.status, health: s.checks['system:health']?.message }));
    const m = new Monitor({ config, store, sources: [source] });
    m.start();
    await vi.advanceTimersByTimeAsync(20);
    m.stop();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.slow).toBe('ok');
    expect(seen[0]?.health).toMatch(/^system health 100%/);
  });
});
