import { describe, expect, it } from 'vitest';
import measureText, { measureCache } from '../../src/ui/ink/measure-text.js';
import wrapText, { wrapCache } from '../../src/ui/ink/wrap-text.js';
// Ink's own modules (not in its package exports), to compare with.
import inkMeasureText from '../../node_modules/ink/build/measure-text.js';
import inkWrapText from '../../node_modules/ink/build/wrap-text.js';

// Ink 6 keeps every text it ever measured or wrapped (vadimdemedes/ink#986); the console's swaps
// (scripts/build.mjs) give the same results with caches that stay bounded (issue #3).
describe('bounded measureText / wrapText', () => {
  it.each([
    ['', 0, 0],
    ['abc', 3, 1],
    ['ab\nabcd', 4, 2],
    ['\u001B[31m日本\u001B[39m', 4, 1],
    // Plain ASCII is counted, not measured by string-width: the same answers.
    ['cpu  91%\nload 1.0 0.5', 12, 2],
    ['x\n', 1, 2],
    ['\nab', 2, 2],
    ['a\tb', 2, 1],
  ])('measures %j as %i × %i, as Ink does', (text, width, height) => {
    expect(measureText(text)).toEqual({ width, height });
    expect(measureText(text)).toEqual(inkMeasureText(text));
  });

  it.each([
    ['hello world', 5, 'wrap'],
    ['\u001B[1mbold text that wraps\u001B[22m', 6, 'wrap'],
    ['hello world', 8, 'truncate'],
    ['hello world', 8, 'truncate-start'],
    ['hello world', 8, 'truncate-middle'],
    ['\u001B[32mgreen and long\u001B[39m', 7, 'truncate-end'],
    ['short', 10, 'truncate'],
  ] as const)('wraps %j at %i (%s) as Ink does', (text, width, type) => {
    expect(wrapText(text, width, type)).toBe(inkWrapText(text, width, type));
  });

  it('truncates with an ellipsis', () => {
    expect(wrapText('hello world', 8, 'truncate')).toBe('hello w…');
  });

  it('does not mix up a text and a width that concatenate alike (ink#998)', () => {
    expect(wrapText('ab', 12, 'wrap')).toBe('ab');
    expect(wrapText('ab1', 2, 'wrap')).toBe('ab\n1');
  });

  it('keeps at most 2 × 2,000 entries however many texts pass (a clock over a day)', () => {
    for (let i = 0; i < 10_000; i++) {
      measureText(`▇ 12:00:${i}`);
      wrapText(`12:00:${i}`, 20, 'truncate');
    }
    expect(measureCache.size).toBeLessThanOrEqual(4000);
    expect(wrapCache.size).toBeLessThanOrEqual(4000);
  });
});
