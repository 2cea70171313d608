import { describe, expect, it } from 'vitest';
import { applyRetention, buckets } from '../../src/domain/retention.js';

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
