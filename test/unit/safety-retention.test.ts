import { describe, expect, it } from 'vitest';
import { safetyRetention, type SafetyCopyItem } from '../../src/domain/safety-retention.js';

// Safety copies under a retention (issue #13: seven restores kept 1.4 GB forever).

const DAY = 86_400_000;
const now = 100 * DAY;
const copy = (id: string, database: string | undefined, ageDays: number, open = false): SafetyCopyItem => ({ id, at: now - ageDays * DAY, open, ...(database ? { database } : {}) });

describe('safetyRetention', () => {
  it.each([
    ['the newest N of each database stay, older ones go', [copy('t1', 'trading', 10), copy('t2', 'trading', 20), copy('t3', 'trading', 30), copy('u1', 'users', 40)], { keepLast: 2, keepDays: 0 }, ['t3']],
    ['anything younger than N days stays', [copy('a', 'trading', 0.5), copy('b', 'trading', 0.9), copy('c', 'trading', 1.5)], { keepLast: 1, keepDays: 1 }, ['c']],
    ['an unfinished run is never removed, and does not take a place', [copy('open', 'trading', 90, true), copy('t1', 'trading', 10), copy('t2', 'trading', 20)], { keepLast: 1, keepDays: 0 }, ['t2']],
    ['a run the journal does not know is kept', [copy('x', undefined, 90), copy('t1', 'trading', 10), copy('t2', 'trading', 20)], { keepLast: 1, keepDays: 0 }, ['t2']],
  ])('%s', (_name, items, policy, removed) => {
    const d = safetyRetention(items, policy, now);
    expect(d.remove.sort()).toEqual(removed);
    for (const it of items) expect(d.keep.has(it.id)).toBe(!removed.includes(it.id));
  });

  it('says why each one is kept', () => {
    const d = safetyRetention([copy('open', 'trading', 90, true), copy('x', undefined, 90), copy('t1', 'trading', 10), copy('t2', 'trading', 0.5)], { keepLast: 1, keepDays: 1 }, now);
    expect(Object.fromEntries(d.keep)).toEqual({ open: 'unfinished run', x: 'run not in the journal', t2: 'newest 1' });
    expect(d.remove).toEqual(['t1']);
  });
});
