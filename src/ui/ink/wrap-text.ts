// Ink 6.8's wrap-text.js with a bounded cache; scripts/build.mjs points Ink's import here (its dom.js
// measures texts with it). The code is in ./wrap.ts, shared with ./render-node-to-output.ts.
export { default, dropBreakSpaces, wrapCache } from './wrap.js';
