import { describe, expect, it } from 'vitest';
import { applyRetention, buckets, openAlertHolds } from '../../src/domain/retention.js';

const day = 86_400_000;
// Noon local time avoids DST edges for the simulated days.
const at = (y: number, m: number, d: number, h = 12) => new Date(y, m - 1, d, h).getTime();

describe('GFS retention, 7 daily / 4 weekly / 12 monthly', () => {
  it('over a simulated year of daily backups keeps exactly the right set', () => {
    const items = Array.from({ length: 366 }, (_, i) => {
      const t = at(2025, 11, 23) - i * day;
      return { id: new Date(t).toDateString(), createdAt: t, verified: true };
    });
    const { keep, remove } = applyRetention(items, { daily: 7, weekly: 4, monthly: 12 });
    const kept = [...keep.keys()].map((id) => new Date(id).getTime()).sort((a, b) => b - a).map((t) => buckets(t).day);
    // 7 newest days (23rd–17th); the newest of each of the last 4 ISO weeks (Sundays 23, 16, 9, 2
    // November; the 23rd counts twice); the newest of each of the last 12 months (month ends).
    expect(kept).toEqual([
      '2025-11-23', '2025-11-22', '2025-11-21', '2025-11-20', '2025-11-19', '2025-11-18', '2025-11-17',
      '2025-11-16', '2025-11-09', '2025-11-02', '2025-10-31', '2025-09-30', '2025-08-31', '2025-07-31', '2025-06-30',
      '2025-05-31', '2025-04-30', '2025-03-31', '2025-02-28', '2025-01-31', '2024-12-31',
    ]);
    expect(keep.size + remove.length).toBe(366);
    expect(keep.get(new Date(at(2025, 11, 23)).toDateString())).toEqual(['daily 2025-11-23', 'weekly 2025-W47', 'monthly 2025-11', 'newest verified']);
  });

  it('never removes the newest verified backup nor unverified ones newer than it', () => {
    const items = [
      { id: 'new-unverified', createdAt: at(2025, 11, 23, 18), verified: false },
      { id: 'also-unverified', createdAt: at(2025, 11, 23, 15), verified: false },
      { id: 'verified', createdAt: at(2025, 11, 23, 9), verified: true },
      { id: 'old', createdAt: at(2025, 11, 20), verified: true },
    ];
    const { keep, remove } = applyRetention(items, { daily: 1, weekly: 0, monthly: 0 });
    expect([...keep.keys()].sort()).toEqual(['also-unverified', 'new-unverified', 'verified']);
    expect(remove).toEqual(['old']);
  });

  it.each([
    [at(2025, 12, 29), '2026-W01'],
    [at(2021, 1, 3), '2020-W53'],
    [at(2025, 11, 23), '2025-W47'],
  ])('ISO week of %s is %s', (t, w) => expect(buckets(t).week).toBe(w));
});

const minute = 60_000;

describe('keep_last and keep_hourly (issue #10), restic semantics', () => {
  // Three days of a 15-minute schedule, newest 2025-11-23 23:45 local time (Fri 21 – Sun 23 Nov: one ISO week).
  const newest = new Date(2025, 10, 23, 23, 45).getTime();
  const items = Array.from({ length: 3 * 96 }, (_, i) => ({ id: `b${i}`, createdAt: newest - i * 15 * minute, verified: true }));
  const hhmm = (id: string) => {
    const d = new Date(items.find((b) => b.id === id)!.createdAt);
    return `${d.getDate()} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  };

  it.each([
    // last, hourly, daily, weekly, monthly → backups kept
    [24, 0, 0, 0, 0, 24], // the 24 newest
    [0, 48, 0, 0, 0, 48], // the newest of each of the 48 newest hours that have one
    [0, 0, 7, 0, 0, 3], // only three days have backups
    [24, 48, 7, 4, 12, 24 + 48 - 6 + 1], // the defaults: last 6 h ∪ :45 of each of 48 hours (6 shared) ∪ the 21st's last
  ])('last %i, hourly %i, daily %i, weekly %i, monthly %i keeps %i', (last, hourly, daily, weekly, monthly, kept) => {
    const { keep, remove } = applyRetention(items, { last, hourly, daily, weekly, monthly });
    expect(keep.size).toBe(kept);
    expect(keep.size + remove.length).toBe(items.length);
  });

  it('says why each is kept: last n/N, hourly bucket, daily…', () => {
    const { keep } = applyRetention(items, { last: 24, hourly: 48, daily: 7, weekly: 4, monthly: 12 });
    expect(keep.get('b0')).toEqual(['last 1/24', 'hourly 2025-11-23T23', 'daily 2025-11-23', 'weekly 2025-W47', 'monthly 2025-11', 'newest verified']);
    expect(keep.get('b23')).toEqual(['last 24/24']);
    expect(hhmm('b24')).toBe('23 17:45');
    expect(keep.get('b24')).toEqual(['hourly 2025-11-23T17']);
    expect(keep.has('b25')).toBe(false);
    // The oldest hour kept by keep_hourly is the 22nd's first; the 21st keeps only its last backup.
    expect([...keep.keys()].map(hhmm).filter((t) => t.startsWith('22 00') || t.startsWith('21'))).toEqual(['22 00:45', '21 23:45']);
  });

  it('with one backup a day, keep_hourly 48 keeps 48 days (restic counts hours that have a backup)', () => {
    const daily = Array.from({ length: 100 }, (_, i) => ({ id: `d${i}`, createdAt: at(2025, 11, 23) - i * day, verified: true }));
    expect(applyRetention(daily, { hourly: 48, daily: 0, weekly: 0, monthly: 0 }).keep.size).toBe(48);
  });
});

describe('prune holds for open sqlite alerts (issue #10)', () => {
  const newest = new Date(2025, 10, 23, 23, 45).getTime();
  // Two days of 15-minute backups; rows were lost (alert fired) 36 hours before the newest.
  const items = Array.from({ length: 2 * 96 }, (_, i) => ({ id: `b${i}`, createdAt: newest - i * 15 * minute, verified: true }));
  const firedAt = newest - 36 * 60 * minute;
  const before = items.filter((b) => b.createdAt < firedAt).map((b) => b.id);
  const policy = { last: 24, hourly: 0, daily: 1, weekly: 0, monthly: 0 };

  it('without a hold, a 15-minute schedule prunes every backup older than the alert', () => {
    const { remove } = applyRetention(items, policy);
    expect(before.every((id) => remove.includes(id))).toBe(true);
  });

  it('with the hold, every backup taken before the alert fired is kept, and says why', () => {
    const holds = openAlertHolds([{ checkId: 'sqlite:trading:rows', event: 'fired', at: firedAt }], 'trading');
    const { keep, remove } = applyRetention(items, policy, holds);
    expect(before.length).toBeGreaterThan(40);
    for (const id of before) expect(keep.get(id)).toContain(`taken before open alert sqlite:trading:rows (fired 2025-11-22 11:45)`);
    // Backups after the alert still follow the policy.
    expect(remove.length).toBe(items.length - before.length - 24);
  });

  const ev = (checkId: string, event: string, at: number) => ({ checkId, event, at });
  it.each([
    ['no events', [], []],
    ['fired, not resolved', [ev('sqlite:trading', 'fired', 100)], [100]],
    ['fired then resolved', [ev('sqlite:trading', 'fired', 100), ev('sqlite:trading', 'resolved', 200)], []],
    ['resolved then fired again', [ev('sqlite:trading', 'fired', 100), ev('sqlite:trading', 'resolved', 200), ev('sqlite:trading', 'fired', 300)], [300]],
    ['fired twice (a restarted monitor): the first counts', [ev('sqlite:trading:rows', 'fired', 100), ev('sqlite:trading:rows', 'fired', 300)], [100]],
    ['acknowledged is not resolved', [ev('sqlite:trading', 'fired', 100), ev('sqlite:trading', 'acknowledged', 150)], [100]],
    ['another database', [ev('sqlite:tradingx', 'fired', 100), ev('sqlite:other:rows', 'fired', 100)], []],
    ['not a sqlite alert', [ev('backup:trading', 'fired', 100), ev('http:api', 'fired', 100)], []],
    ['two open alerts', [ev('sqlite:trading', 'fired', 100), ev('sqlite:trading:rows', 'fired', 50)], [50, 100]],
  ])('%s', (_name, events, starts) => {
    expect(openAlertHolds(events, 'trading').map((h) => h.before)).toEqual(starts);
  });
});
