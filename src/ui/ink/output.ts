// Ink 6.8's output.js (the frame buffer every render writes into), rebuilt around rows of text
// segments instead of a grid of one object per cell; scripts/build.mjs points Ink's import here.
//
// Why (issue #3, the console's own CPU): Ink's Output.get() made ~7,700 cell objects a frame at
// 160×48, tokenized every written line into more objects, then serialised each row again cell by
// cell — a quarter of the console's busy time and most of what its garbage collector did. Here a
// row is a sorted list of the strings written on it, each with its column and width: a frame is
// joined from them with spaces in the gaps. A write that lands on top of earlier text (rare in a
// layout of boxes: a background, a border drawn over text) cuts the covered part out of the older
// segments with slice-ansi, as Ink's clipping does, so the last write wins cell by cell as before.
// What the terminal shows is the same as Ink's (test/unit/ink-output.test.ts compares both, cell by
// cell and style by style, on the dashboard and on overlapping writes). The bytes differ: styles are
// not re-encoded, and a segment with escape codes is followed by a reset so it cannot colour the gap.
import sliceAnsi from 'slice-ansi';
import { textWidth } from './width.js';

type Transformer = (line: string, index: number) => string;
interface Clip {
  x1?: number;
  x2?: number;
  y1?: number;
  y2?: number;
}
type Operation = { type: 'write'; x: number; y: number; text: string; transformers: Transformer[] } | { type: 'clip'; clip: Clip } | { type: 'unclip' };

/** A string written on a row: columns [x, x + width). */
interface Segment {
  x: number;
  width: number;
  text: string;
}

const RESET = '\u001B[0m';

/** Printed width of one line (widest-line of a text without '\n' is its width). */
const lineWidth = textWidth;

/**
 * The last lines a transformer made, by line index (issue #27 point 2): a text's transformer is its
 * <Text>'s colour closure, the same function for as long as the <Text> is not rendered again — a
 * memoised container line keeps it for minutes — so its lines come out the same at every frame and
 * are not coloured and measured again. Transformers are pure (a colour or a user's <Transform> of the
 * line and its index); an entry goes with its function.
 */
const transformed = new WeakMap<Transformer, { line: string; out: string; width: number }[]>();

/** `line` (the `index`th of its text) through `transformers`, and its width. */
function transformLine(line: string, index: number, transformers: Transformer[]): { out: string; width: number } {
  if (transformers.length !== 1) {
    let out = line;
    for (let i = 0; i < transformers.length; i++) out = transformers[i]!(out, index);
    return { out, width: lineWidth(out) };
  }
  const fn = transformers[0]!;
  let lines = transformed.get(fn);
  const hit = lines?.[index];
  if (hit && hit.line === line) return hit;
  const out = fn(line, index);
  const entry = { line, out, width: lineWidth(out) };
  if (!lines) transformed.set(fn, (lines = []));
  lines[index] = entry;
  return entry;
}

/** Puts `s` on a row (sorted, non-overlapping), cutting away whatever it covers. */
function place(row: Segment[], s: Segment): void {
  const last = row.at(-1);
  if (last === undefined || s.x >= last.x + last.width) {
    row.push(s);
    return;
  }
  const end = s.x + s.width;
  const kept: Segment[] = [];
  for (const o of row) {
    const oEnd = o.x + o.width;
    if (oEnd <= s.x || o.x >= end) {
      kept.push(o);
      continue;
    }
    if (o.x < s.x) kept.push({ x: o.x, width: s.x - o.x, text: sliceAnsi(o.text, 0, s.x - o.x) });
    if (oEnd > end) kept.push({ x: end, width: oEnd - end, text: sliceAnsi(o.text, end - o.x, o.width) });
  }
  kept.push(s);
  kept.sort((a, b) => a.x - b.x);
  row.length = 0;
  row.push(...kept);
}

function joinRow(row: Segment[]): string {
  let out = '';
  let col = 0;
  // Index loops in what runs every frame: without TurboFan (the console) for…of allocates per step.
  for (let i = 0; i < row.length; i++) {
    const s = row[i]!;
    if (s.x > col) out += ' '.repeat(s.x - col);
    out += s.text;
    if (s.text.includes('\u001B')) out += RESET;
    col = s.x + s.width;
  }
  return out.trimEnd();
}

/** Ink's Output: the same constructor, write/clip/unclip and get(). */
export default class Output {
  width: number;
  height: number;
  operations: Operation[] = [];

  constructor(options: { width: number; height: number }) {
    this.width = options.width;
    this.height = options.height;
  }

  write(x: number, y: number, text: string, options: { transformers: Transformer[] }): void {
    if (!text) return;
    this.operations.push({ type: 'write', x, y, text, transformers: options.transformers });
  }

  clip(clip: Clip): void {
    this.operations.push({ type: 'clip', clip });
  }

  unclip(): void {
    this.operations.push({ type: 'unclip' });
  }

  get(): { output: string; height: number } {
    const rows: Segment[][] = [];
    for (let y = 0; y < this.height; y++) rows.push([]);
    const clips: Clip[] = [];
    const ops = this.operations;
    for (let o = 0; o < ops.length; o++) {
      const op = ops[o]!;
      if (op.type === 'clip') {
        clips.push(op.clip);
        continue;
      }
      if (op.type === 'unclip') {
        clips.pop();
        continue;
      }
      let { x, y } = op;
      let lines = op.text.split('\n');
      const clip = clips.at(-1);
      if (clip) {
        // Ink's clipping, step for step.
        const clipX = typeof clip.x1 === 'number' && typeof clip.x2 === 'number';
        const clipY = typeof clip.y1 === 'number' && typeof clip.y2 === 'number';
        if (clipX && (x + textWidth(op.text) < clip.x1! || x > clip.x2!)) continue;
        if (clipY && (y + lines.length < clip.y1! || y > clip.y2!)) continue;
        if (clipX) {
          const x1 = clip.x1!;
          const x2 = clip.x2!;
          lines = lines.map((line) => {
            const from = x < x1 ? x1 - x : 0;
            const w = lineWidth(line);
            const to = x + w > x2 ? x2 - x : w;
            return sliceAnsi(line, from, to);
          });
          if (x < x1) x = x1;
        }
        if (clipY) {
          const y1 = clip.y1!;
          const y2 = clip.y2!;
          const from = y < y1 ? y1 - y : 0;
          const to = y + lines.length > y2 ? y2 - y : lines.length;
          lines = lines.slice(from, to);
          if (y < y1) y = y1;
        }
      }
      for (let index = 0; index < lines.length; index++) {
        const row = rows[y + index];
        // A text taller than the frame: Ink drops the lines below it.
        if (!row) continue;
        const t = transformLine(lines[index] as string, index, op.transformers);
        let line = t.out;
        let width = t.width;
        let at = x;
        if (at < 0) {
          // Ink drops the cells left of column 0.
          line = sliceAnsi(line, -at);
          width = lineWidth(line);
          at = 0;
        }
        if (width > 0) place(row, { x: at, width, text: line });
      }
    }
    return { output: rows.map(joinRow).join('\n'), height: rows.length };
  }
}
