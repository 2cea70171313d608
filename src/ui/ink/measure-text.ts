// Ink 6.8's measure-text.js without its unbounded cache; scripts/build.mjs points Ink's import here.
// Ink keeps every text it ever measured in a module-level Map (vadimdemedes/ink#986, fixed in Ink 8, which needs Node 22; Ink 7.1 still has it,
// which needs Node 22): the console's clock, uptimes and CPU figures make new texts every second,
// so its heap grew for as long as it ran (issue #3, peak RSS). Here the width comes from
// ./widest-line.ts (counted, or from a bounded cache) and the height is counted. Same results.
import widestLine from './widest-line.js';

/** Width (widest line) and height (lines) of a text, as Ink's measureText. */
export default function measureText(text: string): { width: number; height: number } {
  if (text.length === 0) return { width: 0, height: 0 };
  let height = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) height++;
  return { width: widestLine(text), height };
}
