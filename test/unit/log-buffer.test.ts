import { describe, expect, it } from 'vitest';
import { LogBuffer, lineBytes } from '../../src/domain/log-buffer.js';

// Issue #26: the logs view's buffer — bounded by bytes (and lines), the filter tested as lines
// arrive, the lines already held scanned in passes, windows read from the newest end or a position.

const line = (i: number, text = `line ${i}`) => ({ text, at: 1000 + i });

describe('LogBuffer', () => {
  it('keeps the newest lines within its byte bound, oldest dropped first; sequence numbers go on', () => {
    const per = lineBytes(line(0, 'x'.repeat(10)));
    const b = new LogBuffer<{ text: string; at: number }>(per * 100);
    for (let i = 0; i < 10_000; i++) b.push(line(i, `${String(i).padStart(10, '0')}`));
    expect(b.size).toBe(100);
    expect(b.bytes).toBeLessThanOrEqual(per * 100);
    expect(b.start).toBe(9_900);
    expect(b.end).toBe(10_000);
    expect(b.oldest()?.at).toBe(1000 + 9_900);
    expect(b.window(3).map((r) => r.seq)).toEqual([9_997, 9_998, 9_999]);
    expect(b.window(3, { before: 9_950 }).map((r) => r.line.text)).toEqual(['0000009947', '0000009948', '0000009949']);
    expect(b.window(2, { from: 0 }).map((r) => r.seq)).toEqual([9_900, 9_901]);
  });

  it('a line bound holds as well as the byte bound', () => {
    const b = new LogBuffer(1 << 30, 500);
    for (let i = 0; i < 2_000; i++) b.push(line(i));
    expect(b.size).toBe(500);
    expect(b.oldest()?.text).toBe('line 1500');
  });

  it('a filter set on held lines is caught up by scans; later lines are tested as they arrive', () => {
    const b = new LogBuffer(1 << 30);
    for (let i = 0; i < 1_000; i++) b.push(line(i, i % 10 === 0 ? `ERROR ${i}` : `INFO ${i}`));
    b.setFilter((t) => t.startsWith('ERROR'));
    expect(b.scanComplete).toBe(false);
    // A pass that runs out of time stops and goes on later: a clock that jumps 1 s each read.
    let t = 0;
    expect(b.scan(5, () => (t += 1000))).toBe(false);
    expect(b.looked).toBeGreaterThan(0);
    expect(b.looked).toBeLessThan(1_000);
    // Lines arriving during the catch-up wait for the scan, in order.
    b.push(line(1_000, 'ERROR late'));
    expect(b.scan(1_000)).toBe(true);
    expect(b.matchCount).toBe(101);
    b.push(line(1_001, 'ERROR live'));
    b.push(line(1_002, 'INFO live'));
    expect(b.matchCount).toBe(102);
    expect(b.window(3).map((r) => r.line.text)).toEqual(['ERROR 990', 'ERROR late', 'ERROR live']);
    expect(b.window(2, { from: 15 }).map((r) => r.line.text)).toEqual(['ERROR 20', 'ERROR 30']);
    b.setFilter(undefined);
    expect(b.window(1)[0]?.line.text).toBe('INFO live');
  });

  it('matches of dropped lines go with them', () => {
    const b = new LogBuffer(1 << 30, 50);
    b.setFilter((t) => t.includes('7'));
    for (let i = 0; i < 20_000; i++) b.push(line(i));
    expect(b.window(1000).every((r) => r.seq >= b.start && r.line.text.includes('7'))).toBe(true);
    expect(b.matchCount).toBe(b.window(1000).length);
  });

  it('finds the first line at or after a time (the jump to an alert)', () => {
    const b = new LogBuffer(1 << 30);
    for (let i = 0; i < 100; i++) b.push(line(i));
    expect(b.seqAtOrAfter(1050)).toBe(50);
    expect(b.seqAtOrAfter(5000)).toBeUndefined();
  });
});
