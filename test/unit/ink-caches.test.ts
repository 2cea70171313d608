import stringWidth from 'string-width';
import widestLineOfPackage from 'widest-line';
import { describe, expect, it } from 'vitest';
import { isNarrow, simpleWidth, widthCache } from '../../src/ui/ink/width.js';
import { textWidth as widestLine } from '../../src/ui/ink/width.js';
import measureText from '../../src/ui/ink/measure-text.js';
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
    ['hello world', 6, 'wrap'],
    ['\u001B[1mbold text that wraps\u001B[22m', 6, 'wrap'],
    ['hello world', 8, 'truncate'],
    ['hello world', 8, 'truncate-start'],
    ['hello world', 8, 'truncate-middle'],
    ['\u001B[32mgreen and long\u001B[39m', 7, 'truncate-end'],
    ['short', 10, 'truncate'],
  ] as const)('wraps %j at %i (%s) as Ink does', (text, width, type) => {
    expect(wrapText(text, width, type)).toBe(inkWrapText(text, width, type));
  });

  it('never starts a wrapped line with the space it broke at, where Ink does (" stays stopped", a blank row for "hello world" at 5)', () => {
    const preview = 'Docker sends SIGTERM, waits up to 10 s, then SIGKILL (docker stop -t 10). It stays stopped until started.';
    expect(inkWrapText(preview, 76, 'wrap').split('\n')[1]).toBe(' stays stopped until started.');
    expect(wrapText(preview, 76, 'wrap')).toBe('Docker sends SIGTERM, waits up to 10 s, then SIGKILL (docker stop -t 10). It\nstays stopped until started.');
    expect(inkWrapText('hello world', 5, 'wrap')).toBe('hello\n \nworld');
    expect(wrapText('hello world', 5, 'wrap')).toBe('hello\nworld');
    expect(wrapText('\u001B[33mhello world\u001B[39m', 5, 'wrap').split('\n').map((l) => l.replace(/\u001B\[\d+m/g, ''))).toEqual(['hello', 'world']);
    // A space that was not a break stays: the line before is not full.
    expect(wrapText('ab\n indented', 10, 'wrap')).toBe('ab\n indented');
  });

  it('truncates with an ellipsis', () => {
    expect(wrapText('hello world', 8, 'truncate')).toBe('hello w…');
  });

  it('truncates a row of Chinese text to at most the width asked (cli-truncate keeps a cut wide character: Ink gave 81 columns at 80)', () => {
    const row = 'CRITICAL http:quotes            6s     firing        http://127.0.0.1:9/健康检查'.padEnd(80);
    expect(stringWidth(inkWrapText(row, 80, 'truncate'))).toBe(81); // the fault this guards against
    const out = wrapText(row, 80, 'truncate');
    expect(stringWidth(out)).toBeLessThanOrEqual(80);
    expect(out).toMatch(/^CRITICAL http:quotes .*健康检…$/);
  });

  it('does not mix up a text and a width that concatenate alike (ink#998)', () => {
    expect(wrapText('ab', 12, 'wrap')).toBe('ab');
    expect(wrapText('ab1', 2, 'wrap')).toBe('ab\n1');
  });

  it('keeps at most 2 × 2,000 entries however many texts pass (a clock over a day)', () => {
    for (let i = 0; i < 10_000; i++) {
      measureText(`日 12:00:${i}`);
      wrapText(`12:00:${i}`, 20, 'truncate');
    }
    expect(widthCache.size).toBeLessThanOrEqual(4000);
    expect(wrapCache.size).toBeLessThanOrEqual(4000);
  });
});

// Widths counted without string-width (issue #3) must be string-width's.
describe('simpleWidth / widestLine', () => {
  it('every character the fast path calls one column wide is one column for string-width', () => {
    const wrong: string[] = [];
    for (let c = 0; c <= 0xffff; c++) if (isNarrow(c) && stringWidth(String.fromCharCode(c)) !== 1) wrong.push(c.toString(16));
    expect(wrong).toEqual([]);
  });

  const E = '\u001B[';
  it.each([
    ['plain', 'idle0   running   0.0% 14m22s'],
    ['bar and percent', `${E}32m█████${E}39m░░░░░░░░░░░░░░░   24%`],
    ['sparkline', `${E}36m▁▂▃▄▅▆▇█${E}39m`],
    ['border and separators', '╭──────╮\n│ a · b │\n╰──────╯'],
    ['dashes, ellipsis, Latin-1', 'no alerts — every check passes… café ±5 °C'],
    ['256 and truecolor', `${E}38;5;208morange${E}39m ${E}38;2;1;2;3mrgb${E}0m`],
    ['empty lines', '\n\nab\n'],
  ])('%s: counted, and as the package measures it', (_name, text) => {
    expect(simpleWidth(text)).toBeDefined();
    expect(widestLine(text)).toBe(widestLineOfPackage(text));
  });

  it.each([
    ['wide characters', '日本語 ok'],
    ['an emoji', 'ok ✅'],
    ['a combining accent', 'cafe\u0301'],
    ['a zero-width space', 'a\u200Bb'],
    ['a hyperlink (OSC 8)', '\u001B]8;;https://x\u0007link\u001B]8;;\u0007'],
    ['a cursor move', `${E}2Aup`],
    ['a tab', 'a\tb'],
  ])('%s: left to string-width, with the same answer', (_name, text) => {
    expect(simpleWidth(text)).toBeUndefined();
    expect(widestLine(text)).toBe(widestLineOfPackage(text));
  });
});
