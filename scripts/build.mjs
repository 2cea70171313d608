// Bundles src/cli/start.ts (the entry: the console's fast path, else src/cli/main.ts) into dist/ with esbuild so `opsdeck` starts fast (no tsx at run time).
// Heavy modules are loaded with dynamic import() and land in their own chunks, so `opsdeck --help`
// loads only the CLI parser. Native and optional modules stay external.
import { build } from 'esbuild';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { checkBundle, inkSwapsPlugin, preflight, ROOT } from './ink-swaps.mjs';

// Five of Ink's modules are swapped at build time (the packages on disk are unchanged); the table,
// the plugin and the checks are in scripts/ink-swaps.mjs:
// - its ./output.js (the frame buffer) goes to src/ui/ink/output.ts, which joins rows from the
//   strings written on them instead of a grid of one object per cell (see there);
// - its ./measure-text.js and ./wrap-text.js go to src/ui/ink/, the same functions with bounded
//   caches (Ink 6 keeps every text it ever measured or wrapped: vadimdemedes/ink#986);
// - its ./render-node-to-output.js goes to src/ui/ink/render-node-to-output.ts: one yoga call for a
//   node's left, top and width where Ink made up to seven, and the widths of the dashboard's texts
//   counted instead of asking string-width (widest-line, swapped on its own before; see there);
// - its ./sanitize-ansi.js goes to src/ui/ink/sanitize-ansi.ts: every text of the frame redacted and
//   stripped of escape sequences but colours (issue #12, see there).
// Ink's internal modules are not its API, so the swaps are made safe (issue #15 part 4): package.json
// pins Ink exactly; the build stops, one line per problem and no dist/ left behind, when the
// installed Ink is not on the tested list (TESTED_INK) or when esbuild's metafile does not prove
// every swap (each of Ink's imports of a swapped specifier resolved to ours, ours bundled, Ink's own
// module not, no module but Ink's importing a swap module). test/unit/ink-swaps.test.ts shows each
// check failing.
//
// Exit plan. Ink 6 is the last line for Node 20 (Ink 7 and 8 need Node >= 22), so the swaps stay
// while opsdeck supports Node 20; the move to Ink 8 comes with dropping Node 20 (engines.node).
// - measure-text, wrap-text: upstream fixed them in Ink 8.0.0 (2026-10), not in Ink 7 (7.1.1 still
//   keeps every text): a QuickLRU of 4,096 entries each (#986), and wrapText's key puts the text
//   last, delimited (#998). On Ink 8 both swaps go; first run test/unit/ink-caches.test.ts's
//   truncation case (a cut wide character must not make a row one column too wide) against Ink 8's
//   wrap-text, which still truncates with cli-truncate: if it fails, keep a wrap-text swap for that.
// - output, render-node-to-output: not leaks but CPU per frame (issues #3, #27); Ink 8's Output still builds a grid
//   of cell objects (its caches live for one frame). They go when `npm run bench:console` on Ink 8
//   without them stays within the console's CPU budget; otherwise they are carried to Ink 8's Output
//   and proven again cell by cell (test/unit/ink-output.test.ts, test/ui/console.test.tsx).
// - sanitize-ansi: Ink 8 still passes OSC sequences through and never redacts (issue #12). It goes
//   once the console redacts and strips its own texts before they reach Ink (in ui/format/, one safe
//   text component), with test/unit/sanitize-ansi.test.ts moved onto that.
// To move Ink: pin the new version, run `npm run build` (it names every swap that no longer
// applies), prove or drop each swap as above, then put the version on TESTED_INK.
// Paths below (entry, dist/) and the metafile's are the project's, wherever the build is run from.
process.chdir(ROOT);
const STAMP = 'dist/.build-inputs.json';
const BUILD_FILES = ['scripts/build.mjs', 'scripts/ink-swaps.mjs', 'package.json'];
// `--if-stale` (the tests' global setup, once per `npm test`): nothing to do when dist/ was built from
// exactly the files on disk now. CI builds dist/ in `npm ci` (the `prepare` script), then runs the
// suite three times (Node 20, 22, 24): each run rebuilt the same bundle (~1–3 s), and emptied dist/
// under any other test run in the same work tree (its CLI runs failed "Cannot find module").
if (process.argv.includes('--if-stale') && !process.env.OPSDECK_BUILD_METAFILE && upToDate()) process.exit(0);
const problems = preflight();
if (problems.length > 0) fail(problems);

rmSync('dist', { recursive: true, force: true });
const result = await build({
  entryPoints: { main: 'src/cli/start.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
  external: ['better-sqlite3', 'dockerode', 'ssh2', 'cpu-features', 'systeminformation', 'react-devtools-core', 'ioredis'],
  // Bundled CommonJS dependencies call require() for Node built-ins.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  plugins: [inkSwapsPlugin(), zodEnglishOnly(), yogaWithoutFetch(), lazySegmenters(), httpByRequire()],
  absWorkingDir: ROOT,
  // Proves the swaps took (checkBundle).
  metafile: true,
  logLevel: 'warning',
  jsx: 'automatic',
  // React, react-reconciler and scheduler pick their development or production build from NODE_ENV
  // at require time; with the value fixed here esbuild drops the development builds (~750 KB of the
  // UI chunk: 1.7 MB → ~0.9 MB), so the console parses half as much on the way to its first frame
  // (issue #3). The console never ran them anyway: it set NODE_ENV=production before loading the UI.
  // Tests render src/ through vitest, not dist/, and keep React's development checks.
  define: { 'process.env.NODE_ENV': '"production"' },
});
// OPSDECK_BUILD_METAFILE=<file>: esbuild's metafile written there (what each chunk holds, issue #27).
if (process.env.OPSDECK_BUILD_METAFILE) writeFileSync(process.env.OPSDECK_BUILD_METAFILE, JSON.stringify(result.metafile));
const unproven = checkBundle(result.metafile);
if (unproven.length > 0) fail(unproven);
writeFileSync('dist/cli.js', cliShim());
chmodSync('dist/cli.js', 0o755);
writeFileSync(STAMP, JSON.stringify(stampOf([...Object.keys(result.metafile.inputs), ...BUILD_FILES], [...Object.keys(result.metafile.outputs), 'dist/cli.js'])));

/**
 * What dist/ was built from: size and mtime of every input esbuild read (src/ and the bundled
 * node_modules files, from its metafile) and of the build's own files, and the outputs it wrote. A
 * changed, added (it is imported by a changed file) or removed source, an `npm ci`, or a changed
 * build script makes it stale. Inputs that are not files (the plugins' virtual modules) are left out.
 */
function stampOf(inputs, outputs) {
  const files = {};
  for (const f of new Set(inputs)) {
    try {
      const st = statSync(f);
      files[f] = [st.size, st.mtimeMs];
    } catch {
      // a plugin's virtual module: made from files that are listed
    }
  }
  return { files, outputs };
}

/** dist/ holds the build of the files on disk now (see stampOf). */
function upToDate() {
  try {
    const old = JSON.parse(readFileSync(STAMP, 'utf8'));
    if (!old.outputs.every((f) => existsSync(f))) return false;
    const now = stampOf([...Object.keys(old.files), ...BUILD_FILES], []).files;
    return Object.keys(now).length === Object.keys(old.files).length && Object.entries(now).every(([f, v]) => old.files[f]?.[0] === v[0] && old.files[f]?.[1] === v[1]);
  } catch {
    return false;
  }
}

/**
 * The `opsdeck` command: V8's compile cache on (Node >= 22.1, `module.enableCompileCache`; absent on
 * Node 20, where nothing changes), then the bundle. Every start parses ~3 MB of bundle for the console
 * (issue #27: its first frame); with the cache, a start after the first reads V8's code for them
 * instead. The cache lives in the user's own cache folder ($XDG_CACHE_HOME or ~/.cache, `opsdeck/v8`),
 * never a shared /tmp (compiled code another user could plant); NODE_COMPILE_CACHE, when set, wins (Node
 * reads it at start). A folder that cannot be written only means no cache.
 */
function cliShim() {
  return `#!/usr/bin/env node
import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
try {
  module.enableCompileCache?.(join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'opsdeck', 'v8'));
} catch {
  // no cache: the same start as without
}
await import('./main.js');
`;
}

/**
 * zod's `locales` namespace (64 languages, ~310 KB of the main chunk every command parses at start,
 * issue #27) is bundled as English alone: opsdeck's messages are its own, in English, and zod's
 * default error map is `en`, imported by zod itself, not through this namespace. `z.locales.de`
 * would be undefined in the bundle; nothing in src/ uses `locales`.
 */
function zodEnglishOnly() {
  return {
    name: 'zod-english-only',
    setup(b) {
      b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
        /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: args.resolveDir.replace(/[\\/](classic|core)$/, '/locales/en.js'), namespace: 'zod-en' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(args.path)};`, resolveDir: ROOT, loader: 'js' }));
    },
  };
}

/**
 * Yoga's WebAssembly (Ink's layout engine) is embedded in its loader as a base64 data: URL, which the
 * loader hands to `fetch` whenever a global `fetch` exists, and to its own synchronous base64 decoder
 * otherwise. In Node, that first `fetch` loads and compiles undici (Node's fetch, built in but compiled
 * on first use): ~50–70 ms of the console's first frame (issue #27) for a string already in memory.
 * The bundle takes the decoder's path (`wa()`: the same bytes; `ya` is the minified loader's "get the
 * binary" function; instantiating already skips `fetch` for a data: URL). The build stops if the
 * loader no longer reads as expected (yoga-layout updated).
 */
function yogaWithoutFetch() {
  const test = 'function ya(){return w||"function"!=typeof fetch?';
  return {
    name: 'yoga-without-fetch',
    setup(b) {
      b.onLoad({ filter: /[\\/]yoga-layout[\\/]dist[\\/]binaries[\\/]yoga-wasm-base64-esm\.js$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (text.split(test).length !== 2) fail([`yoga-layout's loader (${args.path}) no longer reads ${test} once: see yogaWithoutFetch in scripts/build.mjs`]);
        return { contents: text.replace(test, 'function ya(){return w||!0?'), loader: 'js' };
      });
    },
  };
}

/**
 * `node:http` is taken with Node's require, not imported as an ES module. On Node 22 and 24 an ES
 * import of a built-in builds its namespace from every export, and `http`'s include getters
 * (WebSocket, CloseEvent, MessageEvent) that load Node's bundled undici, and with it tls, http2, zlib
 * and worker_threads: ~60–70 ms of CPU where `require('node:http')` takes ~9 ms (Node 20 has no such
 * exports: ~9 ms either way). The Docker facade imports it, so every console, `check` and `restore`
 * paid it on Node 22 and 24 (issue #27; test/unit/console-first-frame.test.ts holds the console's
 * chunk to loading neither zlib nor worker_threads on every Node). Each chunk's banner defines
 * `require` (createRequire), which esbuild's require of an external uses.
 */
function httpByRequire() {
  return {
    name: 'http-by-require',
    setup(b) {
      b.onResolve({ filter: /^(node:)?http$/ }, (args) =>
        args.namespace === 'http-by-require' ? { path: 'node:http', external: true } : args.importer.includes('node_modules') ? undefined : { path: 'node:http', namespace: 'http-by-require' },
      );
      b.onLoad({ filter: /.*/, namespace: 'http-by-require' }, () => ({ contents: "module.exports = require('node:http');", loader: 'js' }));
    },
  };
}

/**
 * string-width (two copies: Ink's and wrap-ansi's) and slice-ansi each build an `Intl.Segmenter` as
 * they load; the first one initialises ICU's segmentation (~10–20 ms of the console's first frame,
 * issue #27 point 4) although the dashboard's frame never segments a text (ASCII and the box and
 * gauge characters take their fast paths). Each is built at its first `segment` call instead (the
 * same segmenter, the same results). The build stops if a module no longer reads as expected.
 */
function lazySegmenters() {
  const swaps = [
    { file: /[\\/]node_modules[\\/](?:wrap-ansi[\\/]node_modules[\\/])?string-width[\\/]index\.js$/, text: 'const segmenter = new Intl.Segmenter();', name: 'segmenter', method: 'segment', make: 'new Intl.Segmenter()' },
    { file: /[\\/]node_modules[\\/]slice-ansi[\\/]tokenize-ansi\.js$/, text: "const GRAPHEME_SEGMENTER = new Intl.Segmenter(undefined, {granularity: 'grapheme'});", name: 'GRAPHEME_SEGMENTER', method: 'segment', make: "new Intl.Segmenter(undefined, {granularity: 'grapheme'})" },
    // string-width 8's emoji test: V8 builds `\p{RGI_Emoji}` (a class of ~3,600 strings) as the
    // module loads, ~17–25 ms of the console's first frame (issue #27 point 4, CPU profile), for a
    // test that only a segment outside simpleWidth's fast paths reaches. Its only use is `.test(`.
    // (wrap-ansi's string-width 7 has no such regex: its emoji-regex is built per call.)
    { file: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/, not: /[\\/]wrap-ansi[\\/]/, text: 'const rgiEmojiRegex = /^\\p{RGI_Emoji}$/v;', name: 'rgiEmojiRegex', method: 'test', make: "new RegExp('^\\\\p{RGI_Emoji}$', 'v')" },
  ];
  return {
    name: 'lazy-segmenters',
    setup(b) {
      // One onLoad per file (esbuild takes the first that answers): every swap whose file matches applies.
      const filter = new RegExp(swaps.map((s) => s.file.source).join('|'));
      b.onLoad({ filter }, (args) => {
        let text = readFileSync(args.path, 'utf8');
        for (const swap of swaps.filter((s) => s.file.test(args.path) && !s.not?.test(args.path))) {
          if (text.split(swap.text).length !== 2) fail([`${args.path} no longer reads ${swap.text} once: see lazySegmenters in scripts/build.mjs`]);
          // Every other use (outside line comments) must be the one method the stand-in has.
          const code = text.split('\n').filter((l) => !l.trim().startsWith('//')).join('\n');
          const uses = (re) => code.match(new RegExp(re, 'g'))?.length ?? 0;
          if (uses(`\\b${swap.name}\\b`) !== uses(`\\b${swap.name}\\.${swap.method}\\(`) + 1) fail([`${args.path} uses ${swap.name} other than by .${swap.method}(: see lazySegmenters in scripts/build.mjs`]);
          const lazy = `let ${swap.name}__built; const ${swap.name} = { ${swap.method}: (s) => (${swap.name}__built ??= ${swap.make}).${swap.method}(s) };`;
          text = text.replace(swap.text, () => lazy);
        }
        return { contents: text, loader: 'js' };
      });
    },
  };
}

/** Stops the build: one line per problem, and no dist/ a test or a user could run by mistake. */
function fail(lines) {
  rmSync('dist', { recursive: true, force: true });
  for (const line of lines) console.error(`build: ${line}`);
  process.exit(1);
}
