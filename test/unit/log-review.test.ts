import { describe, expect, it } from 'vitest';
import { LogReviewer, newGroups, normalizeMessage } from '../../src/domain/log-review.js';
import { planCleanup, type LogFileFact } from '../../src/domain/log-cleanup.js';

// Issue #23: the log review's pattern normaliser and grouping, and the log cleanup's plan (pure).

describe('normalizeMessage', () => {
  it.each([
    ['2026-12-02T03:04:05.123Z ERROR order 1234 failed', '<ts> ERROR order <n> failed'],
    ['[2026-12-02 03:04:05,123] WARN slow', '[<ts>] WARN slow'],
    ['12:00:01 error: reset', '<ts> error: reset'],
    ['ERROR user 123e4567-e89b-12d3-a456-426614174000 not found', 'ERROR user <uuid> not found'],
    ['ERROR peer 10.0.0.12:5432 refused', 'ERROR peer <ip> refused'],
    ['ERROR bad pointer 0xdeadbeef in 9f8e7d6c5b', 'ERROR bad pointer <hex> in <hex>'],
    ['ERROR request req_A81bc9Z2 failed', 'ERROR request <id> failed'],
    ['WARN took 1532.5 ms, retry -3', 'WARN took <n> ms, retry <n>'],
    ['ERROR   spaced\tout', 'ERROR spaced out'],
    ['ERROR HTTP status failed', 'ERROR HTTP status failed'],
  ])('%s', (line, pattern) => {
    expect(normalizeMessage(line)).toBe(pattern);
  });
});

describe('LogReviewer', () => {
  it('counts ERROR and WARN lines and groups them by pattern, most frequent first', () => {
    const r = new LogReviewer('service:api');
    r.addText(['ERROR order 1 failed', 'INFO fine', 'WARN disk 91% full', 'ERROR order 22 failed', 'WARN disk 93% full', 'ERROR order 333 failed', 'Traceback (most recent call last):', 'debug x', ''].join('\n'));
    const v = r.result();
    expect(v).toMatchObject({ lines: 8, errors: 4, warnings: 2 });
    expect(v.groups.map((g) => [g.count, g.level, g.pattern])).toEqual([
      [3, 'error', 'ERROR order <n> failed'],
      [2, 'warn', 'WARN disk <n>% full'],
      [1, 'error', 'Traceback (most recent call last):'],
    ]);
    expect(v.groups[0]?.example).toBe('ERROR order 1 failed');
  });

  it('names the patterns no earlier review saw; none when there was no earlier review', () => {
    const r = new LogReviewer('log:app');
    r.addText('ERROR a 1\nERROR b 2\n');
    expect(newGroups(r.result(), undefined)).toEqual([]);
    expect(newGroups(r.result(), new Set(['error\tERROR a <n>'])).map((g) => g.pattern)).toEqual(['ERROR b <n>']);
  });
});

describe('planCleanup', () => {
  const DAY = 86_400_000;
  const now = Date.UTC(2026, 11, 2);
  const f = (path: string, days: number, writer?: number): LogFileFact => ({ path, size: 100, mtimeMs: now - days * DAY, ...(writer ? { writer: { pid: writer, command: 'w' } } : {}) });
  const rules = { livePath: '/l/app.log', deleteAfterMs: 30 * DAY, compressAfterMs: 7 * DAY, important: ['audit-*'], archiveDir: '/l/archive' };

  it('deletes the oldest, compresses the old, archives the important, skips what is written and leaves the rest', () => {
    const steps = planCleanup(
      [f('/l/app.log', 40), f('/l/app.log.1', 1), f('/l/app.log.2', 10), f('/l/app.log.3.gz', 10), f('/l/app.log.4.gz', 40), f('/l/app.log.5', 40), f('/l/audit-1.log', 50), f('/l/app.log.6', 12, 4242), f('/l/archive/audit-0.log', 90)],
      rules,
      now,
    );
    expect(steps.map((s) => [s.op, s.path])).toEqual([
      ['compress', '/l/app.log.2'],
      ['delete', '/l/app.log.4.gz'],
      ['delete', '/l/app.log.5'],
      ['skip', '/l/app.log.6'],
      ['archive', '/l/audit-1.log'],
    ]);
    expect(steps.find((s) => s.op === 'skip')).toMatchObject({ why: 'open for writing by pid 4242 (w)' });
  });
});

describe('addInSlices (a container log grouped in slices, issue #23)', () => {
  it('counts a text of several slices as one addText does, whole lines each, and lets timers run between slices', async () => {
    const { addInSlices } = await import('../../src/services/log-review.js');
    const lines = Array.from({ length: 100_000 }, (_, i) => (i % 3 === 0 ? `ERROR order ${i} failed` : i % 3 === 1 ? `WARN slow query ${i} ms\r` : `INFO fine ${'x'.repeat(i % 40)}`));
    const text = `${lines.join('\n')}\nERROR last line without newline`;
    expect(text.length).toBeGreaterThan(2 * (1 << 20));
    const whole = new LogReviewer('s');
    whole.addText(text);
    const sliced = new LogReviewer('s');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await addInSlices(sliced, text);
    clearInterval(timer);
    expect(sliced.result()).toEqual(whole.result());
    expect(sliced.result().lines).toBe(100_001);
    expect(ticks).toBeGreaterThan(0);
  });
});
