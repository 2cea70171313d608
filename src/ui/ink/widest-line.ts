// The widest-line package as Ink imports it: scripts/build.mjs points Ink's `import widestLine from
// 'widest-line'` here (render-node-to-output.js; its measure-text.js is swapped whole), and nothing
// else imports this file (the build fails if anything does, issue #15): the console's code uses
// textWidth from ./width.js, which this is. The same answers as the package, counted without string-width for the texts the
// dashboard is made of and remembered for the others in a bounded cache. Ink asks for the width of
// every text node of every frame (layout and clipping), so this was the console's largest cost per
// frame after the frame buffer (issue #3).
import { textWidth } from './width.js';

/** Printed width of the widest line of `text`, as the widest-line package gives it. */
export default function widestLine(text: string): number {
  return textWidth(text);
}
