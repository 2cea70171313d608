import { describe, expect, it } from 'vitest';
import { capacityCheck, project, theilSen, type CapacitySample } from '../../src/domain/capacity.js';

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
