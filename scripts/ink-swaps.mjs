// The Ink swaps (issue #15 part 4): which of Ink's internal imports the build points at our modules
// (src/ui/ink/*), the esbuild plugin that does it, and the checks that make it safe. Ink's internal
// modules are not its API: a new Ink may rename, inline or stop importing any of them, and the
// redirect would then quietly not happen (Ink's own module bundled, its leak back) or point at
// nothing. So the build (scripts/build.mjs) refuses to finish unless
// - the installed Ink is a version the swaps were proven against (TESTED_INK), and
// - esbuild's metafile shows every swap was used: each import of a swapped specifier by Ink's build
//   resolved to our module, our module is in the bundle, Ink's own module is not, and no module but
//   Ink's imports a swap module (application code shares code through src/ui/ink/width.ts instead).
// The exit plan (when each swap goes) is written in scripts/build.mjs.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root (esbuild's working directory: metafile paths are relative to it). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Ink versions every swap is proven against: test/unit/ink-output.test.ts and ink-caches.test.ts
 * compare ours with Ink's own modules, test/ui/console.test.tsx compares whole frames. Add a version
 * only after those pass against it (and package.json pins it exactly).
 */
export const TESTED_INK = ['6.8.0'];

/**
 * Each swap: the specifier as Ink's build imports it, our module (from the root), and the file of
 * Ink's package it replaces (none for a package import).
 */
export const INK_SWAPS = [
  // The frame buffer: rows of text segments instead of a grid of cell objects (issue #3, CPU).
  { specifier: './output.js', target: 'src/ui/ink/output.ts', replaces: 'build/output.js' },
  // Bounded caches instead of Ink 6's unbounded ones (vadimdemedes/ink#986, #998; issue #3, memory).
  { specifier: './measure-text.js', target: 'src/ui/ink/measure-text.ts', replaces: 'build/measure-text.js' },
  { specifier: './wrap-text.js', target: 'src/ui/ink/wrap-text.ts', replaces: 'build/wrap-text.js' },
  // Every text of the frame redacted and stripped of escape sequences but colours (issue #12).
  { specifier: './sanitize-ansi.js', target: 'src/ui/ink/sanitize-ansi.ts', replaces: 'build/sanitize-ansi.js' },
  // Fewer calls into yoga per node and frame (issue #27 point 2); widths counted without string-width
  // (issue #3: it took over the widest-line swap, whose only importer in Ink was this module).
  { specifier: './render-node-to-output.js', target: 'src/ui/ink/render-node-to-output.ts', replaces: 'build/render-node-to-output.js' },
];

/** A module of Ink's build (metafile path or absolute path). */
const isInk = (path) => /(^|[\\/])node_modules[\\/]ink[\\/]build[\\/]/.test(path);

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The esbuild plugin: Ink's imports of each swapped specifier resolve to our module (and only Ink's). */
export function inkSwapsPlugin(swaps = INK_SWAPS, root = ROOT) {
  return {
    name: 'ink-swaps',
    setup(b) {
      for (const s of swaps) {
        const path = resolve(root, s.target);
        b.onResolve({ filter: new RegExp(`^${escapeRegExp(s.specifier)}$`) }, (args) => (isInk(args.importer) ? { path } : undefined));
      }
    },
  };
}

/** Why an Ink version may not be built with the swaps (undefined when it may). */
export function inkVersionProblem(version, tested = TESTED_INK, where = 'node_modules/ink') {
  if (tested.includes(version)) return undefined;
  return `ink ${version} (${where}) is not on the tested list [${tested.join(', ')}] in scripts/ink-swaps.mjs: prove the swaps against it (test/unit/ink-*.test.ts, test/ui/console.test.tsx) and add it, or install the pinned ink (npm ci)`;
}

const versionOf = (packageDir) => JSON.parse(readFileSync(resolve(packageDir, 'package.json'), 'utf8')).version;

/** Before building: the installed Ink is tested, and every swap's module exists. One line per problem. */
export function preflight(swaps = INK_SWAPS, tested = TESTED_INK, root = ROOT) {
  const problems = [];
  const ink = resolve(root, 'node_modules/ink');
  if (!existsSync(resolve(ink, 'package.json'))) problems.push('ink is not installed (node_modules/ink): run npm ci');
  else {
    const p = inkVersionProblem(versionOf(ink), tested);
    if (p) problems.push(p);
  }
  for (const s of swaps) if (!existsSync(resolve(root, s.target))) problems.push(`ink swap ${s.specifier} → ${s.target}: ${s.target} does not exist`);
  return problems;
}

/**
 * After building: what esbuild's metafile (paths relative to `root`) proves about the swaps. One line
 * per problem; none when every swap took.
 */
export function checkBundle(metafile, swaps = INK_SWAPS, tested = TESTED_INK, root = ROOT) {
  const problems = [];
  const inputs = Object.entries(metafile.inputs);
  const bundled = new Set(Object.values(metafile.outputs).flatMap((o) => Object.keys(o.inputs)));

  // Every copy of Ink in the bundle is a tested version.
  const inkDirs = new Set(inputs.map(([path]) => path).filter(isInk).map((path) => path.replace(/[\\/]build[\\/].*$/, '')));
  if (inkDirs.size === 0) problems.push('Ink is not in the bundle, so its swaps could not be checked');
  for (const dir of inkDirs) {
    const p = inkVersionProblem(versionOf(resolve(root, dir)), tested, dir);
    if (p) problems.push(p);
  }

  for (const s of swaps) {
    // Every import of the specifier by Ink resolved to ours, and there was at least one.
    const missed = [];
    let used = 0;
    for (const [path, input] of inputs) {
      if (!isInk(path)) continue;
      for (const imp of input.imports) {
        if ((imp.original ?? imp.path) !== s.specifier) continue;
        if (imp.path === s.target) used++;
        else missed.push(`${path} → ${imp.path}`);
      }
    }
    if (missed.length > 0) problems.push(`ink swap ${s.specifier} → ${s.target} did not apply: ${missed.join(', ')}`);
    else if (used === 0) problems.push(`ink swap ${s.specifier} → ${s.target} was never used: no module of Ink's build imports ${s.specifier} (Ink changed: see scripts/ink-swaps.mjs)`);
    else if (!bundled.has(s.target)) problems.push(`ink swap ${s.specifier}: ${s.target} is not in the bundle`);
    // Ink's own module is not even read (by another path either).
    if (s.replaces && missed.length === 0) {
      for (const dir of inkDirs) if (metafile.inputs[`${dir}/${s.replaces}`]) problems.push(`ink swap ${s.specifier}: Ink's own ${dir}/${s.replaces} is in the bundle`);
    }
  }

  // Only Ink reaches a swap module (through the redirect); anything else shares code with it through
  // a module both import (src/ui/ink/width.ts).
  const targets = new Set(swaps.map((s) => s.target));
  for (const [path, input] of inputs) {
    if (isInk(path)) continue;
    for (const imp of input.imports) if (targets.has(imp.path)) problems.push(`${path} imports ${imp.path}, a swap module only Ink may reach (through the build's redirect): import shared code from a module both use, such as src/ui/ink/width.ts`);
  }
  return problems;
}
