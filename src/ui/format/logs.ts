import type { Color } from './cells.js';

/** Colour of a log line: ERROR red, WARN yellow (the operator's eye goes there first). */
export function logLineColor(text: string): Color | undefined {
  if (/\b(ERROR|FATAL|CRITICAL|PANIC|Traceback|Exception)\b|\berror\b|\bfatal\b/.test(text)) return 'red';
  if (/\b(WARN|WARNING)\b|\bwarn(ing)?\b/.test(text)) return 'yellow';
  return undefined;
}

/** Compiles a filter; an invalid expression is reported, not thrown. */
export function compileFilter(src: string): { re?: RegExp; error?: string } {
  if (!src) return {};
  try {
    return { re: new RegExp(src, 'i') };
  } catch (e) {
    return { error: `invalid regular expression: ${(e as Error).message}` };
  }
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
