import { describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../src/config/schema.js';
import { evaluateBackupAge } from '../../src/domain/evaluate.js';
import { describeRun, nextDue, retryDelay, scheduleFor, scheduleView, type LastRuns } from '../../src/domain/schedule.js';

// The backup schedule's decisions (issue #10): when the next backup is due, and what the RPO check says.

const min = 60_000;
const db = { name: 'shop', path: 'shop.db' } as DatabaseConfig;

describe('scheduleFor', () => {
  it.each<[number | 'off' | undefined, number | 'off' | undefined, number | undefined]>([
    [undefined, undefined, undefined],
    [undefined, 15 * min, 15 * min],
    [5 * min, 15 * min, 5 * min],
    ['off', 15 * min, undefined],
    [5 * min, undefined, 5 * min],
    [undefined, 'off', undefined],
  ])('database %s, global %s → %s', (own, global, expected) => {
    expect(scheduleFor({ backup_schedule: own }, { schedule: global })).toBe(expected);
  });
});

describe('nextDue', () => {
  const failed = (at: number, failures = 1): LastRuns => ({ failures, lastFailure: { at, message: 'disk full' } });
  it.each<[string, number, number | undefined, LastRuns | undefined, number, number]>([
    ['no verified backup: now', 15 * min, undefined, undefined, 1000, 1000],
    ['newest verified + schedule', 15 * min, 0, undefined, 1000, 15 * min],
    ['a failure waits 1 min', 15 * min, 0, failed(20 * min), 21 * min, 21 * min],
    ['then 2, 4, 8 min', 15 * min, 0, failed(20 * min, 3), 21 * min, 24 * min],
    ['never longer than the schedule', 15 * min, 0, failed(20 * min, 9), 21 * min, 35 * min],
    ['a failure before the newest verified backup is over', 15 * min, 30 * min, failed(20 * min), 31 * min, 45 * min],
    ['a failure with no verified backup at all still waits', 15 * min, undefined, failed(20 * min), 20 * min + 1, 21 * min],
  ])('%s', (_name, every, newest, runs, now, due) => {
    expect(nextDue(every, newest, runs, now)).toBe(due);
  });

  it.each([
    [1, 60_000],
    [2, 120_000],
    [5, 900_000],
    [6, 900_000],
  ])('retry delay after %i failures is %i ms (15-minute schedule)', (n, ms) => expect(retryDelay(15 * min, n)).toBe(ms));
  it('a 1-minute schedule retries every minute', () => expect(retryDelay(min, 4)).toBe(min));
});

describe('RPO check with a schedule', () => {
  const rpo = 60 * min;
  const view = (every: number | undefined, newest: number | undefined, runs: LastRuns | undefined, now: number) => scheduleView(every, newest, runs, now, 90_000);
  it.each<[string, number | undefined, number | undefined, LastRuns | undefined, number, string, string]>([
    ['no schedule', undefined, 0, undefined, 25_000, 'ok', 'last verified backup 25s ago (RPO 1h); no backup scheduled'],
    ['next in 12m', 15 * min, 0, undefined, 3 * min, 'ok', 'last verified backup 3m ago (RPO 1h); next scheduled in 12m'],
    ['seconds', 15 * min, 0, undefined, 15 * min - 40_000, 'ok', 'last verified backup 14m ago (RPO 1h); next scheduled in 40s'],
    ['due now', 15 * min, 0, undefined, 15 * min + 5000, 'ok', 'last verified backup 15m ago (RPO 1h); scheduled backup due now'],
    ['running', 15 * min, 0, { failures: 0, running: { since: 15 * min } }, 15 * min + 7000, 'ok', 'last verified backup 15m ago (RPO 1h); scheduled backup running for 7s'],
    ['overdue: nobody runs the schedule', 15 * min, 0, undefined, 50 * min, 'ok', 'last verified backup 50m ago (RPO 1h); scheduled backup overdue by 35m (is a watch or console running?)'],
    ['overdue: a restore is unfinished (the schedule waits for it: no backup is taken, a warning)', 15 * min, 0, { failures: 0, restoreOpen: true }, 50 * min, 'warning', 'last verified backup 50m ago (RPO 1h); scheduled backup waits for the unfinished restore (due 35m ago; resume or roll it back)'],
    ['failed: a warning with its error', 15 * min, 0, { failures: 1, lastFailure: { at: 15 * min, message: 'backup folder /b: no space left on device' } }, 15 * min + 20_000, 'warning',
      'scheduled backup failed 20s ago: backup folder /b: no space left on device; last verified backup 15m ago (RPO 1h); retry in 40s'],
    ['no verified backup yet, scheduled', 15 * min, undefined, undefined, 1000, 'warning', 'no verified backup of shop; scheduled backup due now'],
    ['beyond the RPO', 15 * min, 0, undefined, 61 * min, 'warning', 'newest verified backup of shop is 1h1m old, beyond the RPO of 1h; scheduled backup overdue by 46m (is a watch or console running?)'],
  ])('%s', (_name, every, newest, runs, now, status, message) => {
    const r = evaluateBackupAge(db, newest, rpo, now, view(every, newest, runs, now));
    expect(r.message).toBe(message);
    expect(r.status).toBe(status);
  });

  it('unscheduled and no backup: names the commands to run', () => {
    expect(evaluateBackupAge(db, undefined, rpo, 1000).message).toBe('no verified backup of shop (run: opsdeck backup create --db shop && opsdeck backup verify --db shop); no backup scheduled');
  });
});

describe('a scheduled run, in one line', () => {
  it.each<[string, Parameters<typeof describeRun>[0], boolean, string]>([
    ['created and verified', { created: 'shop-1', verified: [{ id: 'shop-1', ok: true, message: 'ok' }] }, true, 'shop-1 created and verified'],
    ['and pruned', { created: 'shop-1', verified: [{ id: 'shop-1', ok: true, message: 'ok' }], pruned: 3 }, true, 'shop-1 created and verified; pruned 3'],
    ['prune refused: still a good backup', { created: 'shop-1', verified: [], pruneError: 'not pruned: state database locked' }, true, 'shop-1 created and verified; not pruned: state database locked'],
    ['verification failed', { created: 'shop-1', verified: [{ id: 'shop-1', ok: false, message: 'integrity_check failed: page 3' }] }, false, 'shop-1 failed verification: integrity_check failed: page 3'],
    ['create failed', { error: 'backup folder /b: ENOSPC: no space left on device' }, false, 'backup folder /b: ENOSPC: no space left on device'],
    ['nothing created, no error', {}, false, 'no backup was created'],
  ])('%s', (_name, r, ok, message) => {
    expect(describeRun(r)).toEqual({ ok, message });
  });
});
