// npm run bench:console:frame — what one idle refresh costs the console to draw (issue #27 point 2),
// in process (bench/console-frame.tsx), without TurboFan as the console runs. BENCH_BEFORE_ROOT=<a
// checkout of the code before, with node_modules>: its source is measured too, alternating with this
// tree's, ROUNDS times (3), in the same run; medians printed. N refreshes per round (60).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { median } from './lib.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bench-frame-'));
const here = resolve('.');

/** Bundles the harness against `root`'s src/ and Ink swaps (the harness's ../src imports are redirected there). */
async function bundle(root, out) {
  const { inkSwapsPlugin } = await import(join(root, 'scripts/ink-swaps.mjs'));
  // The harness imports ../src/…js; for another tree, the same module of that tree (.ts or .tsx).
  const redirect = {
    name: 'other-tree',
    setup(b) {
      if (root === here) return;
      b.onResolve({ filter: /^\.\.\/src\// }, (args) => {
        if (!args.importer.endsWith('console-frame.tsx')) return undefined;
        const base = join(root, args.path.replace(/^\.\.\//, '').replace(/\.js$/, ''));
        return { path: existsSync(`${base}.tsx`) ? `${base}.tsx` : `${base}.ts` };
      });
    },
  };
  const noDevtools = { name: 'no-devtools', setup(b) { b.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'x', namespace: 'no-devtools' })); b.onLoad({ filter: /.*/, namespace: 'no-devtools' }, () => ({ contents: 'export default {}' })); } };
  await build({
    entryPoints: [join(here, 'bench/console-frame.tsx')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, jsx: 'automatic', nodePaths: [join(root, 'node_modules')],
    plugins: [redirect, inkSwapsPlugin(undefined, `${root}/`), noDevtools], define: { 'process.env.NODE_ENV': '"production"' },
    external: ['better-sqlite3', 'dockerode', 'ssh2', 'cpu-features', 'systeminformation', 'ioredis'],
    banner: { js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" }, logLevel: 'error',
  });
}

const trees = [['now', here]];
if (process.env.BENCH_BEFORE_ROOT) trees.unshift(['before', resolve(process.env.BENCH_BEFORE_ROOT)]);
for (const [label, root] of trees) await bundle(root, join(dir, `${label}.mjs`));
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();
const runs = Object.fromEntries(trees.map(([label]) => [label, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [label] of trees) {
    const out = execFileSync(process.execPath, ['--no-turbofan', join(dir, `${label}.mjs`)], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '2' }, cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
    runs[label].push(JSON.parse(out.trim().split('\n').at(-1)).msPerRefresh);
  }
}
console.log(`\nconsole frame benchmark: 50 idle containers, 160x48, ${process.env.N ?? 60} refreshes x ${ROUNDS} rounds, no TurboFan`);
console.log(`load average before ${loadBefore}, after ${load()} (> 2: measured under load)\n`);
for (const [label] of trees) console.log(`${label.padEnd(8)} CPU ms per refresh: median ${median(runs[label]).toFixed(2)}  (${runs[label].map((x) => x.toFixed(2)).join(', ')})`);
