// The widest-line package as Ink imports it (scripts/build.mjs points Ink's imports here): the same
// answers, counted without string-width for the texts the dashboard is made of (see simpleWidth),
// and remembered for the others in a bounded cache. Ink asks for the width of every text node of
// every frame (layout and clipping), so this was the console's largest cost per frame after the
// frame buffer (issue #3).
import widestLineOfPackage from 'widest-line';
import { BoundedCache } from './bounded-cache.js';
import { simpleWidth } from './width.js';

/** Widths of texts simpleWidth does not answer for (shared with tests). */
export const widthCache = new BoundedCache<number>(2000);

/** Printed width of the widest line of `text`, as the widest-line package gives it. */
export default function widestLine(text: string): number {
  return simpleWidth(text) ?? widthCache.get(text, () => widestLineOfPackage(text));
}
