// Ink 6.8's measure-text.js without its unbounded cache; scripts/build.mjs points Ink's import here.
// Ink keeps every text it ever measured in a module-level Map (vadimdemedes/ink#986; Ink 7.1.1 still
// does, Ink 8.0.0 bounds it, and both need Node 22): the console's clock, uptimes and CPU figures
// make new texts every second, so its heap grew for as long as it ran (issue #3, peak RSS). Here the
// width comes from ./width.ts (counted, or from a bounded cache) and the height is counted. Same results.
import { textWidth } from './width.js';

/** Width (widest line) and height (lines) of a text, as Ink's measureText. */
export default function measureText(text: string): { width: number; height: number } {
  if (text.length === 0) return { width: 0, height: 0 };
  let height = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) height++;
  return { width: textWidth(text), height };
}
