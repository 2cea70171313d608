import { describe, expect, it } from 'vitest';
import Output from '../../src/ui/ink/output.js';
// Ink's own frame buffer (not in its package exports), to compare with.
import InkOutput from '../../node_modules/ink/build/output.js';
import { cells } from '../helpers/render.js';

// The console's Output (scripts/build.mjs swaps it in for Ink's, issue #3: own CPU) joins rows from
// the strings written on them. What a terminal shows must be what Ink's would show: the same
// character in every cell, with the same styles. The bytes may differ (styles are not re-encoded).

const E = '\u001B[';

type Op = ['write', number, number, string, ((line: string, i: number) => string)[]?] | ['clip', { x1?: number; x2?: number; y1?: number; y2?: number }] | ['unclip'];

function both(width: number, height: number, ops: Op[]): { ours: string; ink: string } {
  const ours = new Output({ width, height });
  const ink = new InkOutput({ width, height });
  for (const op of ops) {
    for (const o of [ours, ink]) {
      if (op[0] === 'write') o.write(op[1], op[2], op[3], { transformers: op[4] ?? [] });
      else if (op[0] === 'clip') o.clip(op[1] as never);
      else o.unclip();
    }
  }
  return { ours: ours.get().output, ink: ink.get().output };
}

describe('Output (rows of segments) shows what Ink’s shows', () => {
  const box = (x: number, y: number, w: number, h: number): Op[] => [
    ['write', x, y, `╭${'─'.repeat(w - 2)}╮`],
    ['write', x, y + 1, Array.from({ length: h - 2 }, () => '│').join('\n')],
    ['write', x + w - 1, y + 1, Array.from({ length: h - 2 }, () => '│').join('\n')],
    ['write', x, y + h - 1, `╰${'─'.repeat(w - 2)}╯`],
  ];
  const cases: [string, number, number, Op[]][] = [
    ['empty frame', 10, 3, []],
    ['plain text with gaps', 40, 2, [['write', 0, 0, 'cpu'], ['write', 6, 0, '91%'], ['write', 20, 1, 'load 1.0']]],
    ['styled segments', 40, 1, [['write', 0, 0, `${E}32m████${E}39m░░░░`], ['write', 10, 0, `${E}1mbold${E}22m`], ['write', 16, 0, `${E}2m${E}31mdim red${E}39m${E}22m`]]],
    ['a style left open does not colour the gap or the next row', 30, 2, [['write', 0, 0, `${E}31mopen`], ['write', 10, 0, 'after'], ['write', 0, 1, 'next']]],
    ['multi-line text', 20, 4, [['write', 2, 1, 'one\ntwo\nthree']]],
    ['later write covers the middle of an earlier one', 30, 1, [['write', 0, 0, `${E}34mabcdefghijkl${E}39m`], ['write', 4, 0, `${E}7mXYZ${E}27m`]]],
    ['later write covers several earlier ones', 30, 1, [['write', 0, 0, 'aaa'], ['write', 4, 0, 'bbb'], ['write', 8, 0, 'ccc'], ['write', 2, 0, '1234567']]],
    ['later write starts before an earlier one', 30, 1, [['write', 5, 0, 'world'], ['write', 2, 0, 'hello']]],
    ['background fill, then text on it', 20, 2, [['write', 0, 0, `${E}44m${' '.repeat(12)}${E}49m\n${E}44m${' '.repeat(12)}${E}49m`], ['write', 1, 0, `${E}37mtext${E}39m`]]],
    ['boxes with text inside and beside', 40, 6, [...box(0, 0, 12, 5), ['write', 1, 1, 'inside'], ...box(14, 0, 10, 4), ['write', 15, 2, 'x']]],
    ['wide characters', 20, 1, [['write', 0, 0, `${E}31m日本語${E}39m ok`], ['write', 10, 0, '▇▁▂']]],
    ['clipped horizontally and vertically', 20, 5, [['clip', { x1: 2, x2: 8, y1: 1, y2: 3 }], ['write', 0, 0, 'abcdefghijkl\nabcdefghijkl\nabcdefghijkl\nabcdefghijkl'], ['unclip'], ['write', 10, 4, 'free']]],
    ['outside the clip', 20, 3, [['clip', { x1: 0, x2: 5, y1: 0, y2: 1 }], ['write', 10, 2, 'gone'], ['unclip']]],
    ['left of column 0', 20, 1, [['write', -2, 0, 'abcdef']]],
    ['below the frame', 10, 2, [['write', 0, 1, 'a\nb\nc']]],
    ['transformers apply per line with its index', 20, 2, [['write', 0, 0, 'x\ny', [(l, i) => `${E}3${i + 1}m${l}${i}${E}39m`]]]],
  ];
  it.each(cases)('%s', (_name, width, height, ops) => {
    const { ours, ink } = both(width, height, ops);
    expect(cells(ours)).toEqual(cells(ink));
  });

  it('a transformer is called once for a line it already made (the same <Text> frame after frame, issue #27), again for a new line or index', () => {
    let calls = 0;
    const red = (l: string, i: number) => {
      calls++;
      return `${E}31m${l}${i}${E}39m`;
    };
    const frame = (text: string) => {
      const o = new Output({ width: 20, height: 3 });
      o.write(0, 0, text, { transformers: [red] });
      return o.get().output;
    };
    const first = frame('ab\ncd');
    expect(calls).toBe(2);
    expect(frame('ab\ncd')).toBe(first);
    expect(calls).toBe(2);
    // The second line changed: only it is made again, and the frame shows it.
    expect(cells(frame('ab\nxy'))).toEqual(cells(both(20, 3, [['write', 0, 0, 'ab\nxy', [red]]]).ink));
    expect(calls).toBe(2 + 1 + 2);
    // Two transformers (a <Transform> inside a coloured <Text>): applied in order every time, as Ink does.
    const o = new Output({ width: 20, height: 1 });
    o.write(0, 0, 'q', { transformers: [red, (l) => `[${l}]`] });
    expect(o.get().output).toContain('[');
  });

  it('reports the frame height as Ink does', () => {
    const o = new Output({ width: 5, height: 3 });
    o.write(0, 0, 'a', { transformers: [] });
    expect(o.get().height).toBe(3);
  });
});
