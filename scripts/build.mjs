// Bundles src/cli/main.ts into dist/ with esbuild so `opsdeck` starts fast (no tsx at run time).
// Heavy modules are loaded with dynamic import() and land in their own chunks, so `opsdeck --help`
// loads only the CLI parser. Native and optional modules stay external.
import { build } from 'esbuild';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';

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
  logLevel: 'warning',
  jsx: 'automatic',
});
writeFileSync('dist/cli.js', "#!/usr/bin/env node\nimport './main.js';\n");
chmodSync('dist/cli.js', 0o755);
