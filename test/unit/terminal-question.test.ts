import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TerminalOperator, wrapQuestion } from '../../src/engine/operator.js';

// A long question at a terminal is wrapped at word boundaries to its width (operator trial: the
// terminal cut the give-up question mid-word at 80 columns, "tra|des").
const QUESTION =
  '1,204 rows of trades are still missing and no backup holds them; the safety copy /var/lib/opsdeck/safety/trading-20261203T031500Z.db holds 1,204 of them (giving them up does not delete it). Type trading to record them as given up';

describe('a question at a terminal', () => {
  it('is wrapped at words to the width; a word longer than the line (a path) is cut', () => {
    const lines = wrapQuestion(QUESTION, 60, '[type trading to confirm, anything else is N]');
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(59);
    // Every word of the question but the path is whole on one line.
    const words = new Set(lines.flatMap((l) => l.split(' ')));
    for (const w of QUESTION.split(' ').filter((w) => w.length < 59)) expect(words.has(w), w).toBe(true);
    expect(lines.at(-1)).toBe('[type trading to confirm, anything else is N]'); // the answers whole, on their own here
    expect(wrapQuestion('Go on?', 60, '[y/N]')).toEqual(['Go on? [y/N]']);
    expect(wrapQuestion(QUESTION, undefined, '[y/N]')).toEqual([`${QUESTION} [y/N]`]); // not a terminal: as it is
  });

  it('the operator writes the wrapped lines and asks on the last one', async () => {
    const input = new PassThrough();
    const output = Object.assign(new PassThrough(), { isTTY: true, columns: 60 });
    let shown = '';
    output.on('data', (d: Buffer) => {
      shown += d.toString();
      if (/\]\s*$/.test(shown)) input.write('n\n');
    });
    const op = new TerminalOperator(() => undefined, { input, output });
    try {
      const a = await op.ask({ text: QUESTION, skip: false });
      expect(a).toBe('n');
    } finally {
      op.close();
    }
    const plain = shown.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(plain).toMatch(/trades are still missing/);
    const rows = plain.split(/\r?\n/).filter((l) => l.trim());
    expect(rows.length).toBeGreaterThan(3); // written as lines, not one line the terminal cuts
    for (const r of rows) expect(r.length, r).toBeLessThanOrEqual(62); // the last one: the prompt, its answer echoed
  });
});
