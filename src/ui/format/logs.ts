import { logLevel } from '../../domain/log-level.js';
import { re2 } from '../../domain/re2.js';
import type { Color } from './cells.js';

/** Colour of a log line: ERROR red, WARN yellow (the operator's eye goes there first); the level is the domain's (src/domain/log-level.ts). */
export function logLineColor(text: string): Color | undefined {
  const level = logLevel(text);
  return level === 'error' ? 'red' : level === 'warn' ? 'yellow' : undefined;
}

/**
 * A compiled logs filter. Matching runs on RE2JS, a pure-JS port of RE2 whose time is linear in the
 * line's length whatever the pattern (issue #13: `(x+x+)+y` on a 3,000-character line froze the
 * console in JS's backtracking RegExp, deaf to q, ctrl-c and SIGTERM). Each line's answer is kept,
 * so a new batch of lines costs only its own lines.
 */
export interface LogFilter {
  test(text: string): boolean;
  /** Lines already tested, and their answer. */
  readonly seen: WeakMap<object, boolean>;
  /** Time spent on passes that have not yet caught up with every line (ms); 0 once one completes. */
  backlogMs: number;
  /** Set when filtering took too long in all: the filter is then off, and says why. */
  off?: string;
}

/** What RE2 syntax lacks that JS RegExp has; said in the prompt and the README. */
export const FILTER_SYNTAX_NOTE = 'RE2 syntax: no backreferences, no lookahead';

/** One filtering pass stops after this long and goes on after the next frame, so keys are read between passes. */
export const FILTER_PASS_MS = 200;
/** A filter still catching up after this long is turned off ("filter too slow"), never left running. */
export const FILTER_GIVE_UP_MS = 3000;

/** Compiles a filter (case-insensitive; lookbehind allowed); an invalid or unsupported expression is reported, not thrown. */
export function compileFilter(src: string): { filter?: LogFilter; error?: string } {
  if (!src) return {};
  try {
    const RE2JS = re2();
    const re = RE2JS.compile(RE2JS.translateRegExp(src), RE2JS.CASE_INSENSITIVE | RE2JS.LOOKBEHINDS);
    // A plain word (no regex syntax, the usual `ERROR` or an id) is matched by V8's RegExp: a literal
    // cannot backtrack, and it is several times cheaper per line than RE2JS on a live stream (issue #26).
    if (/^[\w =:,@/-]+$/.test(src)) {
      const lit = new RegExp(src, 'i');
      return { filter: { test: (text) => lit.test(text), seen: new WeakMap(), backlogMs: 0 } };
    }
    return { filter: { test: (text) => re.test(text), seen: new WeakMap(), backlogMs: 0 } };
  } catch (e) {
    const msg = (e as Error).message.replace(/^error parsing regexp: /, '');
    return { error: `invalid regular expression: ${msg} (${FILTER_SYNTAX_NOTE})` };
  }
}

/**
 * The lines a filter keeps, testing each line at most once. A pass stops after `passMs`: `complete`
 * is then false and the caller runs another pass after the next frame (keys are read in between).
 * When passes have not caught up with the lines after `giveUpMs` in all, the filter is turned off
 * (`filter.off`) and every line is shown: a slow filter is said, never a frozen console.
 */
export function filterLines<T extends { text: string }>(lines: readonly T[], f: LogFilter, now: () => number = () => performance.now(), passMs = FILTER_PASS_MS, giveUpMs = FILTER_GIVE_UP_MS): { shown: T[]; complete: boolean; looked: number } {
  if (f.off) return { shown: [...lines], complete: true, looked: lines.length };
  const start = now();
  const shown: T[] = [];
  let fresh = 0;
  let i = 0;
  for (; i < lines.length; i++) {
    const l = lines[i] as T;
    let hit = f.seen.get(l);
    if (hit === undefined) {
      // The clock is read every 32 new lines: cheap, and one line costs time linear in its length.
      if (fresh % 32 === 31 && now() - start > passMs) break;
      hit = f.test(l.text);
      f.seen.set(l, hit);
      fresh++;
    }
    if (hit) shown.push(l);
  }
  const complete = i === lines.length;
  f.backlogMs = complete ? 0 : f.backlogMs + (now() - start);
  if (f.backlogMs > giveUpMs) {
    f.off = `filter too slow (over ${Math.round(giveUpMs / 1000)} s on ${lines.length} lines): it is off; press / for a simpler one`;
    return { shown: [...lines], complete: true, looked: lines.length };
  }
  return { shown, complete, looked: i };
}

/**
 * A log line as the terminal can show it in one row: tabs expanded to the next multiple of 8 columns
 * (Java and Go stack traces start with one), and the other control characters (a carriage return
 * from a progress bar, a backspace, a bell) shown as a space. Left as they were, the terminal would
 * move its cursor on them: a tab takes up to 8 columns where Ink counts none, so a row can run past
 * the edge, wrap, and leave stale lines above the frame. Escape sequences are left to Ink, which keeps
 * colours and removes the rest. The filter still matches the line as it was logged.
 */
export function printableLogText(text: string): string {
  if (!/[\x00-\x08\x0a-\x1a\x1c-\x1f\x7f\t]/.test(text)) return text;
  let out = '';
  let col = 0;
  for (const ch of text) {
    if (ch === '\t') {
      const n = 8 - (col % 8);
      out += ' '.repeat(n);
      col += n;
    } else if (ch !== '\u001b' && (ch < ' ' || ch === '\x7f')) {
      out += ' ';
      col++;
    } else {
      out += ch;
      col++;
    }
  }
  return out;
}
