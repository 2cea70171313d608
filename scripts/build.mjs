// Bundles src/cli/main.ts into dist/ with esbuild so `opsdeck` starts fast (no tsx at run time).
// Heavy modules are loaded with dynamic import() and land in their own chunks, so `opsdeck --help`
// loads only the CLI parser. Native and optional modules stay external.
import { build } from 'esbuild';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Four of Ink's modules and one of its packages are swapped at build time (the packages on disk
// are unchanged):
// - its ./output.js (the frame buffer) goes to src/ui/ink/output.ts, which joins rows from the
//   strings written on them instead of a grid of one object per cell (see there);
// - its ./measure-text.js and ./wrap-text.js go to src/ui/ink/, the same functions with bounded
//   caches (Ink 6 keeps every text it ever measured or wrapped: vadimdemedes/ink#986);
// - its import of widest-line goes to src/ui/ink/widest-line.ts, which counts the widths of the
//   dashboard's texts instead of asking string-width (see there);
// - its ./sanitize-ansi.js goes to src/ui/ink/sanitize-ansi.ts: every text of the frame redacted and
//   stripped of escape sequences but colours (issue #12, see there).
const src = (p) => fileURLToPath(new URL(`../src/ui/${p}`, import.meta.url));
const fromInk = (importer) => /[\\/]node_modules[\\/]ink[\\/]build[\\/]/.test(importer);
const inkSwaps = {
  name: 'ink-swaps',
  setup(b) {
    b.onResolve({ filter: /^\.\/(output|measure-text|wrap-text|sanitize-ansi)\.js$/ }, (args) =>
      fromInk(args.importer) ? { path: src(`ink/${args.path.slice(2, -3)}.ts`) } : undefined,
    );
    b.onResolve({ filter: /^widest-line$/ }, (args) => (fromInk(args.importer) ? { path: src('ink/widest-line.ts') } : undefined));
  },
};

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: { main: 'src/cli/main.ts' },
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
  plugins: [inkSwaps],
  logLevel: 'warning',
  jsx: 'automatic',
  // React, react-reconciler and scheduler pick their development or production build from NODE_ENV
  // at require time; with the value fixed here esbuild drops the development builds (~750 KB of the
  // UI chunk: 1.7 MB → ~0.9 MB), so the console parses half as much on the way to its first frame
  // (issue #3). The console never ran them anyway: it set NODE_ENV=production before loading the UI.
  // Tests render src/ through vitest, not dist/, and keep React's development checks.
  define: { 'process.env.NODE_ENV': '"production"' },
});
writeFileSync('dist/cli.js', "#!/usr/bin/env node\nimport './main.js';\n");
chmodSync('dist/cli.js', 0o755);
