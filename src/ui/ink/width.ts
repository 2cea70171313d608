import widestLineOfPackage from 'widest-line';
import { BoundedCache } from './bounded-cache.js';

/** Widths of texts of 16 characters or more, and of shorter ones simpleWidth does not answer for (shared with tests). */
export const widthCache = new BoundedCache<number>(2000);

/**
 * Printed width of the widest line of `text`, as the widest-line package gives it: counted by
 * simpleWidth when it can, else asked of widest-line (string-width) and kept in a bounded cache. The
 * one width function of the console: Ink reaches it through the render-node-to-output swap (./render-node-to-output.ts,
 * wired by scripts/build.mjs), the frame buffer and the other swaps import it here, and so does the
 * console's own formatting (src/ui/format/cells.ts) — never the swap module itself (issue #15).
 */
export function textWidth(text: string): number {
  // Issue #27: every width is kept, not only string-width's. The console runs without TurboFan
  // (src/cli/console-runtime.ts), where simpleWidth's loop over each character was the largest single
  // cost of an idle frame; most of a frame's texts are the last frame's, and a Map lookup hashes the
  // string natively. Short texts are counted (a lookup costs about what counting them does).
  if (text.length < 16) return simpleWidth(text) ?? widthCache.get(text, () => widestLineOfPackage(text));
  return widthCache.get(text, () => simpleWidth(text) ?? widestLineOfPackage(text));
}

/**
 * Printed widths without string-width for the texts the dashboard is made of (issue #3: string-width
 * splits every text into grapheme clusters and tests each against an emoji regex, which made it the
 * console's largest cost per frame after the frame buffer itself).
 *
 * `simpleWidth` answers for text made only of printable ASCII, the one-column characters the panes
 * draw with (Latin-1 letters and signs, dashes, quotes, bullets and the ellipsis, box drawing, block
 * elements and shades: bars, sparklines, borders) and SGR escape codes (colours, bold), which take no
 * column. Lines are split at '\n'; the widest counts. Anything else (wide or combining characters,
 * emoji, other escape sequences) gives undefined, for string-width to answer. Every character the
 * fast path accepts is checked against string-width in test/unit/ink-caches.test.ts.
 */
export function simpleWidth(text: string): number | undefined {
  let widest = 0;
  let width = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      width++;
    } else if (c === 10) {
      if (width > widest) widest = width;
      width = 0;
    } else if (c === 0x1b) {
      // ESC [ parameters m: a colour or style, no column. Other sequences: not ours to judge.
      if (text.charCodeAt(i + 1) !== 0x5b) return undefined;
      let j = i + 2;
      while (j < text.length && isSgrParameter(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) !== 0x6d) return undefined;
      i = j;
    } else if (isNarrow(c)) {
      width++;
    } else {
      return undefined;
    }
  }
  return width > widest ? width : widest;
}

const isSgrParameter = (c: number): boolean => (c >= 0x30 && c <= 0x39) || c === 0x3b;

/** One-column characters outside ASCII that the dashboard draws with (see simpleWidth). */
export function isNarrow(c: number): boolean {
  return (
    (c >= 0xa0 && c <= 0xff && c !== 0xad) || // Latin-1 letters and signs (not the soft hyphen)
    (c >= 0x2010 && c <= 0x2027) || // dashes, quotes, bullets, ellipsis
    (c >= 0x2500 && c <= 0x259f) || // box drawing, block elements, shades
    c === 0x25b6 || // ▶ the focused pane's mark: on every frame, and string-width's first call costs ~75 ms (issue #27)
    c === 0x25b8 // ▸ a host's section in the containers pane
  );
}
