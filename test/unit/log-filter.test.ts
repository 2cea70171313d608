import { describe, expect, it } from 'vitest';
import { compileFilter, filterLines, type LogFilter } from '../../src/ui/format/logs.js';

// The logs filter (issue #13): `(x+x+)+y` over a 3,000-character line froze the console in JS's
// backtracking RegExp. RE2JS matches in time linear in the line; a pass is also bounded in time.

const lines = (texts: string[]) => texts.map((text) => ({ text }));

function filterOf(src: string): LogFilter {
  const c = compileFilter(src);
  if (!c.filter) throw new Error(`no filter: ${c.error ?? ''}`);
  return c.filter;
}

describe('compileFilter', () => {
  it('answers at once for the pattern that froze the console (with RegExp this test never ends)', () => {
    const f = filterOf('(x+x+)+y');
    expect(f.test('x'.repeat(3000))).toBe(false);
    expect(f.test(`${'x'.repeat(3000)}y`)).toBe(true);
  });

  it.each([
    ['case-insensitive, as before', 'error', 'ERROR disk full', true],
    ['JS named groups', '(?<code>5\\d\\d) ', 'GET / 503 12ms', true],
    ['lookbehind', '(?<=user=)bob', 'login user=bob', true],
    ['lookbehind that does not match', '(?<=user=)bob', 'login admin=bob', false],
    ['alternation and classes', 'warn(ing)?|\\bfatal\\b', 'a FATAL error', true],
  ])('%s', (_name, src, text, want) => {
    expect(filterOf(src).test(text)).toBe(want);
  });

  it.each([
    ['a backreference', '(\\w)\\1'],
    ['lookahead', 'foo(?=bar)'],
    ['a syntax error', '(['],
  ])('refuses %s with a message, never a throw', (_name, src) => {
    expect(compileFilter(src).error).toMatch(/^invalid regular expression: .*\(RE2 syntax: no backreferences, no lookahead\)$/);
  });
});

describe('filterLines', () => {
  it('keeps the matching lines and tests each line once', () => {
    const f = filterOf('err');
    let calls = 0;
    const counted: LogFilter = { ...f, test: (t) => (calls++, f.test(t)) };
    const ls = lines(['ok', 'ERR 1', 'fine', 'err 2']);
    expect(filterLines(ls, counted).shown.map((l) => l.text)).toEqual(['ERR 1', 'err 2']);
    expect(filterLines([...ls, { text: 'err 3' }], counted).shown).toHaveLength(3);
    expect(calls).toBe(5);
  });

  it('stops a pass at its budget and goes on in the next (keys are read in between)', () => {
    let t = 0;
    const f = filterOf('a');
    const slow: LogFilter = { ...f, test: (x) => ((t += 10), f.test(x)) };
    const ls = lines(Array.from({ length: 100 }, (_, i) => (i % 2 ? 'a' : 'b')));
    const first = filterLines(ls, slow, () => t, 200, 10_000);
    expect(first.complete).toBe(false);
    expect(first.looked).toBeLessThan(100);
    let last = first;
    for (let i = 0; i < 10 && !last.complete; i++) last = filterLines(ls, slow, () => t, 200, 10_000);
    expect(last.complete).toBe(true);
    expect(last.shown).toHaveLength(50);
  });

  it('turns a filter that cannot catch up off and says so, showing every line', () => {
    let t = 0;
    const f = filterOf('a');
    const slow: LogFilter = { ...f, test: (x) => ((t += 100), f.test(x)) };
    const ls = lines(Array.from({ length: 500 }, () => 'b'));
    let r = filterLines(ls, slow, () => t, 200, 1000);
    for (let i = 0; i < 20 && !slow.off; i++) r = filterLines(ls, slow, () => t, 200, 1000);
    expect(slow.off).toMatch(/^filter too slow \(over 1 s on 500 lines\): it is off; press \/ for a simpler one$/);
    expect(r.shown).toHaveLength(500);
  });
});
