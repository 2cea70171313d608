import { styledCharsFromTokens as originalChars, styledCharsToString as original, tokenize } from '@alcalzone/ansi-tokenize';
import { describe, expect, it } from 'vitest';
import { styledCharsFromTokens, styledCharsToString } from '../../src/ui/ansi-tokenize-fast.js';

// The console's cheaper styledCharsFromTokens / styledCharsToString (what Ink's Output builds each
// row with, issue #3) must give exactly what the package's give, for plain, styled, nested, reset
// and wide-character rows.
const E = '\u001B[';
const rows = [
  ['empty', ''],
  ['plain', 'idle0                     running     -           0.0% 1m3s'],
  ['one colour', `${E}31mred${E}39m plain`],
  ['colour to the end', `${E}32mgreen to the end`],
  ['bold and dim', `${E}1mbold${E}22m ${E}2mdim${E}22m ${E}1m${E}2mboth${E}22m`],
  ['nested', `${E}1m${E}36mbold cyan ${E}39mbold${E}22m none`],
  ['inverse row', `${E}7m${E}33midle1   running   0.0%${E}39m${E}27m`],
  ['reset in between', `${E}31ma${E}0mb${E}4mc${E}24m`],
  ['background', `${E}44m${E}37m blue bg ${E}49m white ${E}39m`],
  ['256 and truecolor', `${E}38;5;208morange${E}39m ${E}38;2;1;2;3mrgb${E}39m`],
  ['wide characters', `${E}31m日本語${E}39m ok ▇▇▁▂`],
] as const;

describe('styledCharsFromTokens / styledCharsToString (cheaper)', () => {
  it.each(rows)('%s', (_name, row) => {
    const chars = styledCharsFromTokens(tokenize(row));
    expect(chars).toEqual(originalChars(tokenize(row)));
    expect(styledCharsToString(chars)).toBe(original(chars));
  });

  it('cells with equal but separate style lists (as Ink builds them) print like the package', () => {
    const chars = styledCharsFromTokens(tokenize(`${E}31mab${E}39m`)).concat({ type: 'char', value: ' ', fullWidth: false, styles: [] });
    expect(styledCharsToString(chars)).toBe(original(chars));
  });
});
