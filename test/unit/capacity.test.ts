import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capacityCheck, project, stepSeries, theilSen, type CapacitySample } from '../../src/domain/capacity.js';
import { CapacityStore, capacityChecks, diskHistorySeed, hostHistorySeed, projections } from '../../src/state/capacity.js';
import { validate } from '../../src/config/load.js';
import { openStateDb } from '../../src/state/statedb.js';
import { createAppStore } from '../../src/state/store.js';
import { createHostHistory } from '../../src/ui/useHostHistory.js';

// Issue #23: capacity projection on injected samples (pure, injected times).

const DAY = 86_400_000;
const GB = 1e9;
const now = Date.UTC(2026, 11, 2, 12);

/** Daily samples for `days` days up to now, growing `perDay` bytes from `start`, of `total`. */
const daily = (days: number, start: number, perDay: number, total?: number): CapacitySample[] =>
  Array.from({ length: days }, (_, i) => ({ at: now - (days - 1 - i) * DAY, used: start + i * perDay, ...(total !== undefined ? { total } : {}) }));

describe('theilSen', () => {
  it('finds the line through exact points', () => {
    const fit = theilSen(daily(10, 10 * GB, 1 * GB));
    expect((fit?.slope ?? 0) * DAY).toBeCloseTo(1 * GB, 0);
  });

  it('is not moved by one burst that a least-squares line would follow', () => {
    const s = daily(20, 10 * GB, 1 * GB);
    (s[15] as CapacitySample).used += 40 * GB; // a log that filled the disk and was deleted the next day
    expect((theilSen(s)?.slope ?? 0) * DAY).toBeCloseTo(1 * GB, 0);
  });

  it('has no line under two distinct times', () => {
    expect(theilSen([{ at: now, used: 1 }])).toBeUndefined();
    expect(theilSen([{ at: now, used: 1 }, { at: now, used: 2 }])).toBeUndefined();
  });
});

describe('project', () => {
  it('gives the day the disk is full: 80 GB used of 100 GB, +2 GB a day → 10 days, 2026-12-12', () => {
    const p = project(daily(14, 54 * GB, 2 * GB, 100 * GB), now);
    expect(p.used).toBe(80 * GB);
    expect(p.growthPerDay).toBeCloseTo(2 * GB, 0);
    expect(p.daysLeft).toBeCloseTo(10, 5);
    expect(new Date(p.fullAt ?? 0).toISOString()).toBe('2026-12-12T12:00:00.000Z');
  });

  it('too few samples: no projection; shrinking or flat: never full; no limit: growth only', () => {
    expect(project(daily(2, GB, GB, 10 * GB), now, 3).growthPerDay).toBeUndefined();
    expect(project(daily(10, 50 * GB, -GB, 100 * GB), now).fullAt).toBeUndefined();
    const db = project(daily(10, GB, 1e6), now);
    expect(db.growthPerDay).toBeCloseTo(1e6, 0);
    expect(db.fullAt).toBeUndefined();
  });
});

describe('capacityCheck', () => {
  it.each([
    [14 * DAY, 'warning', /full in 10 days \(2026-12-12\), within the 14-day horizon/],
    [7 * DAY, 'ok', /full in 10 days \(2026-12-12\)$/],
  ])('horizon %s ms → %s', (horizon, status, message) => {
    const c = capacityCheck('disk:/data', '/data', project(daily(14, 54 * GB, 2 * GB, 100 * GB), now), horizon, now);
    expect(c).toMatchObject({ id: 'capacity:disk:/data', kind: 'capacity', status, value: 10 });
    expect(c.message).toMatch(message);
  });
});

describe('the console\'s disk history after a restart', () => {
  it('steps the samples into one value per refresh, the newest sample at or before each step', () => {
    const s = [{ at: 1000, used: 10 }, { at: 3000, used: 30 }];
    expect(stepSeries(s, 0, 5000, 1000, (x) => x.used)).toEqual([10, 10, 30, 30, 30]);
  });

  it('reads the last hour of each disk back from the state database into the host history (a real state db)', async () => {
    const db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-cap-seed-')));
    try {
      const t = Date.now();
      new CapacityStore(db).add([{ subject: 'disk:/data', target: '/data', used: 40, total: 100 }, { subject: 'db:shop', target: 'x', used: 5 }], t - 50 * 60_000);
      new CapacityStore(db).add([{ subject: 'disk:/data', target: '/data', used: 60, total: 100 }], t - 10 * 60_000);
      const seed = diskHistorySeed(db, t, 60_000);
      expect([...seed.keys()]).toEqual(['/data']);
      expect(seed.get('/data')).toEqual([...Array<number>(40).fill(40), ...Array<number>(11).fill(60)]);
      const { history, stop } = createHostHistory(createAppStore(), 60_000, seed);
      expect(history.disk('/data').last(3)).toEqual([60, 60, 60]);
      expect(history.disk('/data').size).toBe(51);
      stop();
    } finally {
      db.close();
    }
  });

  it('CPU and memory samples seed the history too, are never projected nor checked, and are kept a day (a real state db)', async () => {
    const db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-cap-host-')));
    try {
      const t = Date.now();
      const store = new CapacityStore(db);
      for (let i = 10; i >= 1; i--) store.add([{ subject: 'host:cpu', target: 'cpu', used: i * 5, total: 100 }, { subject: 'host:mem', target: 'memory', used: 3 * GB, total: 4 * GB }], t - i * 5 * 60_000);
      store.add([{ subject: 'host:mem', target: 'memory', used: 1, total: 2 }], t - 2 * DAY);
      const seed = hostHistorySeed(db, t, 60_000);
      expect(seed.cpu.slice(0, 6)).toEqual([50, 50, 50, 50, 50, 45]);
      expect(seed.cpu).toHaveLength(51);
      expect(seed.cpu.at(-1)).toBe(5);
      expect(seed.mem.at(-1)).toBe(75);
      const { history, stop } = createHostHistory(createAppStore(), 60_000, seed);
      expect(history.cpu.last(1)).toEqual([5]);
      expect(seed.mem).toHaveLength(61); // the older sample holds from the hour's start
      expect(history.mem.size).toBe(60); // the ring keeps an hour
      stop();
      const config = validate({ name: 'x' }, 'test');
      expect([...projections(db, config, t).keys()]).toEqual([]);
      expect(capacityChecks(db, config, t)).toEqual([]);
      expect(store.prune(t - 400 * DAY, t - DAY)).toBe(1); // the two-day-old memory sample
    } finally {
      db.close();
    }
  });
});
