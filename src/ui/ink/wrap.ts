// Ink 6.8's wrap-text.js with a bounded cache: what ./wrap-text.ts (the swap Ink's dom.js imports)
// and ./render-node-to-output.ts (the swap Ink's renderer imports) both use — a swap module is
// reached by Ink alone (scripts/ink-swaps.mjs), so the code they share lives here.
// Ink keeps every wrapped text in a module-level object (vadimdemedes/ink#986; Ink 7.1.1 still does,
// Ink 8.0.0 bounds it, and both need Node 22): it grew with every new clock or uptime text (issue #3).
// The key also separates text from width, which Ink 6's `text + width + type` did not
// (vadimdemedes/ink#998, fixed in Ink 8.0.0). Same wrapping otherwise, except that a truncated text
// is never wider than asked (see below) and a wrapped line never starts with the space it broke at
// (dropBreakSpaces).
import cliTruncate from 'cli-truncate';
import wrapAnsi from 'wrap-ansi';
import { BoundedCache } from './bounded-cache.js';
import { textWidth } from './width.js';

/** Entries kept (shared with tests). */
export const wrapCache = new BoundedCache<string>(2000);

/** Wraps or truncates a text to a width, as Ink's wrapText (wrap types: wrap, truncate, truncate-start|middle|end). */
export default function wrapText(text: string, maxWidth: number, wrapType: string): string {
  return wrapCache.get(`${maxWidth}\u0000${wrapType}\u0000${text}`, () => {
    if (wrapType === 'wrap') return dropBreakSpaces(wrapAnsi(text, maxWidth, { trim: false, hard: true }), maxWidth);
    if (wrapType.startsWith('truncate')) {
      const position = wrapType === 'truncate-middle' ? 'middle' : wrapType === 'truncate-start' ? 'start' : 'end';
      // cli-truncate keeps a wide character the cut falls inside, one column too many: a row of
      // Chinese text came out 81 columns wide at 80, the terminal wrapped its last column onto a
      // line Ink does not count, and stale copies of the header piled up above the frame. Ask for
      // one column less until it fits (Ink's own wrap-text has the same fault).
      let out = cliTruncate(text, maxWidth, { position });
      for (let w = maxWidth - 1; w > 0 && textWidth(out) > maxWidth; w--) out = cliTruncate(text, w, { position });
      return out;
    }
    return text;
  });
}

// SGR escape codes (colours, bold) at the start of a line: wrap-ansi opens the styles again on each line.
const STYLES_FIRST = /^(?:\u001B\[[0-9;]*m)*/;

/**
 * wrap-ansi, as Ink calls it (trim: false), starts a line with the space it broke at when the word
 * before filled the line: "…(docker stop -t 10). It" then " stays stopped…" (seen in an operator's
 * trial of the stop dialog), and "hello world" at 5 columns is "hello", " ", "world" — a blank row.
 * That space is dropped, and a line left with nothing to show goes.
 */
export function dropBreakSpaces(wrapped: string, maxWidth: number): string {
  if (!wrapped.includes('\n')) return wrapped;
  const lines = wrapped.split('\n');
  const out = [lines[0] ?? ''];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const styles = STYLES_FIRST.exec(line)?.[0] ?? '';
    if (line[styles.length] !== ' ' || textWidth(lines[i - 1] ?? '') !== maxWidth) {
      out.push(line);
      continue;
    }
    const rest = styles + line.slice(styles.length + 1);
    if (textWidth(rest) > 0) out.push(rest);
  }
  return out.join('\n');
}
