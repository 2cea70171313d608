// Ink 6.8's measure-text.js with a bounded cache; scripts/build.mjs points Ink's import here.
// Ink keeps every text it ever measured in a module-level Map (vadimdemedes/ink#986, fixed in Ink 7,
// which needs Node 22): the console's clock, uptimes and CPU figures make new texts every second,
// so its heap grew for as long as it ran (issue #3, peak RSS). Same results, at most 2 × 2,000 entries.
// Plain ASCII texts (most of the dashboard) are measured by counting, without string-width or the cache.
import widestLine from 'widest-line';
import { BoundedCache } from './bounded-cache.js';
import { asciiWidth } from './width.js';

/** Entries kept (shared with tests). */
export const measureCache = new BoundedCache<{ width: number; height: number }>(2000);

/** Width (widest line) and height (lines) of a text, as Ink's measureText. */
export default function measureText(text: string): { width: number; height: number } {
  if (text.length === 0) return { width: 0, height: 0 };
  const ascii = asciiWidth(text);
  if (ascii !== undefined) return { width: ascii, height: text.split('\n').length };
  return measureCache.get(text, () => ({ width: widestLine(text), height: text.split('\n').length }));
}
