import { createRequire } from 'node:module';
import type * as Re2js from 're2js';

// re2js (~270 KB of bundle; its top-level code ~20–30 ms) loads at its first use, not with every
// module that names it (issue #27): a restore, `check` or the console's first frame compile no RE2
// pattern unless the configuration has a format rule with a regex. Node's own require from
// node_modules (re2js's CommonJS build, the same API), so esbuild leaves it out of the bundle — like
// better-sqlite3, it is a run-time dependency beside dist/.
const load = createRequire(import.meta.url);
let loaded: typeof Re2js.RE2JS | undefined;

/** The RE2JS class, loaded on the first call. */
export function re2(): typeof Re2js.RE2JS {
  return (loaded ??= (load('re2js') as typeof Re2js).RE2JS);
}

/** The compiled pattern's type. */
export type RE2 = Re2js.RE2JS;
