import { describe, expect, it } from 'vitest';
import { printable, terminalSafe } from '../../src/domain/printable.js';

// Terminal safety (issue #12 point 8): values are shown, never obeyed by the terminal.

const ESC = '\x1b';
const BEL = '\x07';

describe('printable: a value as one safe line (check, every CLI line)', () => {
  it.each([
    ['plain text is unchanged', 'trading-db', 'trading-db'],
    ['OSC 0 (retitles the terminal) is shown', `st${ESC}]0;pwned${BEL}`, 'st\\x1b]0;pwned\\x07'],
    ['OSC 52 (writes the clipboard) is shown', `${ESC}]52;c;aGk=${BEL}x`, '\\x1b]52;c;aGk=\\x07x'],
    ['a newline never splits a row', 'web\nCRITICAL fake row', 'web\\nCRITICAL fake row'],
    ['carriage return and tab', 'a\rb\tc', 'a\\rb\\tc'],
    ['C1 8-bit CSI and DEL', 'a\x9b2Jb\x7f', 'a\\x9b2Jb\\x7f'],
    ['colour codes in a value are shown too', `${ESC}[31mred`, '\\x1b[31mred'],
    ['non-ASCII letters stay', 'café ▇ 日本', 'café ▇ 日本'],
  ])('%s', (_n, input, expected) => {
    expect(printable(input)).toBe(expected);
  });

  it('keepNewlines keeps the lines of a text; keepSgr keeps colours and only them', () => {
    expect(printable('one\ntwo\x07', { keepNewlines: true })).toBe('one\ntwo\\x07');
    expect(printable(`${ESC}[31;1mCRITICAL${ESC}[0m ${ESC}]0;t${BEL}`, { keepSgr: true })).toBe(`${ESC}[31;1mCRITICAL${ESC}[0m \\x1b]0;t\\x07`);
  });
});

describe('terminalSafe: every text of the console frame', () => {
  it.each([
    ['colours stay', `${ESC}[32mok${ESC}[39m`, `${ESC}[32mok${ESC}[39m`],
    ['OSC 0 terminated by BEL is removed whole', `st${ESC}]0;pwned${BEL}ack`, 'stack'],
    ['OSC 52 terminated by ST is removed whole', `a${ESC}]52;c;aGk=${ESC}\\b`, 'ab'],
    ['OSC 8 hyperlinks too (Ink keeps them)', `${ESC}]8;;http://x${BEL}link${ESC}]8;;${BEL}`, 'link'],
    ['cursor movement and screen clearing are removed', `a${ESC}[2J${ESC}[H${ESC}[1Ab`, 'ab'],
    ['8-bit CSI and OSC are removed', `a\x9b2Jb\x9d0;t\x07c`, 'abc'],
    ['an unterminated OSC loses its introducer: nothing live is left', `a${ESC}]0;title`, 'a0;title'],
    ['a newline from a value is shown, not a new row', 'x\nrow.db', 'x\\nrow.db'],
    ['bell, tab, carriage return are shown', `a${BEL}b\tc\rd`, 'a\\x07b\\tc\\rd'],
  ])('%s', (_n, input, expected) => {
    expect(terminalSafe(input)).toBe(expected);
  });
});
