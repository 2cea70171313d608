import { build, type Metafile } from 'esbuild';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkBundle, INK_SWAPS, inkSwapsPlugin, inkVersionProblem, preflight, ROOT, TESTED_INK, type InkSwap } from '../../scripts/ink-swaps.mjs';

// The build swaps some of Ink's internal modules for ours (scripts/ink-swaps.mjs). Ink's internals
// are not its API: these tests show the build's checks failing when Ink is not a tested version,
// when a redirect is missing or no longer matches anything Ink imports, and when application code
// imports a swap module — and passing for the real table (issue #15 part 4).

/** Ink bundled as scripts/build.mjs bundles it, with these swaps, plus whatever `extra` (a module's source) exports. */
async function bundle(swaps: readonly InkSwap[], extra = ''): Promise<Metafile> {
  const result = await build({
    stdin: { contents: `export { render } from 'ink';\n${extra}`, resolveDir: ROOT, loader: 'ts', sourcefile: 'entry.ts' },
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    // Not Ink's build: left out to keep each bundle quick.
    external: ['react', 'react/*', 'react-reconciler', 'react-reconciler/*', 'scheduler', 'yoga-layout', 'react-devtools-core'],
    plugins: [inkSwapsPlugin(swaps)],
    logLevel: 'silent',
  });
  return result.metafile;
}

const without = (specifier: string) => INK_SWAPS.filter((s) => s.specifier !== specifier);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const swapOf = (specifier: string) => INK_SWAPS.find((s) => s.specifier === specifier) as InkSwap;

describe('Ink pinned to a tested version', () => {
  it('package.json pins ink exactly, to a tested version, and the lockfile and node_modules agree', () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const lock = JSON.parse(readFileSync(resolve(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dependencies?: Record<string, string> }> };
    const installed = JSON.parse(readFileSync(resolve(ROOT, 'node_modules/ink/package.json'), 'utf8')) as { version: string };
    const pinned = pkg.dependencies.ink;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(TESTED_INK).toContain(pinned);
    expect(lock.packages['']?.dependencies?.ink).toBe(pinned);
    expect(lock.packages['node_modules/ink']?.version).toBe(pinned);
    expect(installed.version).toBe(pinned);
    expect(preflight()).toEqual([]);
  });

  it('refuses an Ink version that is not on the tested list, before and after bundling', () => {
    expect(inkVersionProblem('7.1.1', ['6.8.0'])).toBe(
      'ink 7.1.1 (node_modules/ink) is not on the tested list [6.8.0] in scripts/ink-swaps.mjs: prove the swaps against it (test/unit/ink-*.test.ts, test/ui/console.test.tsx) and add it, or install the pinned ink (npm ci)',
    );
    expect(inkVersionProblem('6.8.0', ['6.8.0'])).toBeUndefined();
    expect(preflight(INK_SWAPS, ['6.7.0'])).toEqual([expect.stringMatching(/^ink 6\.8\.0 \(node_modules\/ink\) is not on the tested list \[6\.7\.0\]/)]);
  });

  it('refuses a swap whose module does not exist', () => {
    expect(preflight([{ specifier: './output.js', target: 'src/ui/ink/frame.ts', replaces: 'build/output.js' }])).toEqual([
      'ink swap ./output.js → src/ui/ink/frame.ts: src/ui/ink/frame.ts does not exist',
    ]);
  });
});

describe('every swap proven by the bundle', () => {
  let all: Metafile;
  beforeAll(async () => {
    // cells.ts is the application module that used to import a swap module (issue #15).
    all = await bundle(INK_SWAPS, "export * from './src/ui/format/cells.ts';");
  });

  it('passes with the real table: each of Ink’s imports redirected, ours bundled, Ink’s own modules not', () => {
    expect(checkBundle(all)).toEqual([]);
    for (const s of INK_SWAPS) expect(Object.keys(all.inputs)).toContain(s.target);
    expect(Object.keys(all.inputs)).not.toContain('node_modules/ink/build/output.js');
  });

  it('fails on the version the bundle holds when it is not tested', () => {
    expect(checkBundle(all, INK_SWAPS, ['6.7.0'])).toEqual([expect.stringMatching(/^ink 6\.8\.0 \(node_modules\/ink\) is not on the tested list \[6\.7\.0\]/)]);
  });

  it.each(INK_SWAPS.map((s) => [s.specifier, s.target]))('fails when the redirect of %s is missing', async (specifier) => {
    const problems = checkBundle(await bundle(without(specifier)));
    const s = swapOf(specifier);
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^ink swap ${escape(specifier)} → ${escape(s.target)} did not apply: node_modules/ink/build/\\S+ → node_modules/`))]);
  });

  it('fails when Ink no longer imports a swapped specifier (renamed upstream)', () => {
    const renamed = INK_SWAPS.map((s) => (s.specifier === './wrap-text.js' ? { ...s, specifier: './wrap-lines.js' } : s));
    expect(checkBundle(all, renamed)).toEqual([
      "ink swap ./wrap-lines.js → src/ui/ink/wrap-text.ts was never used: no module of Ink's build imports ./wrap-lines.js (Ink changed: see scripts/ink-swaps.mjs)",
    ]);
  });

  it('fails when Ink’s own module is bundled by another path', () => {
    const meta = structuredClone(all);
    meta.inputs['node_modules/ink/build/output.js'] = { bytes: 1, imports: [] };
    expect(checkBundle(meta)).toEqual(["ink swap ./output.js: Ink's own node_modules/ink/build/output.js is in the bundle"]);
  });

  it('fails when application code imports a swap module instead of going through the redirect', async () => {
    const problems = checkBundle(await bundle(INK_SWAPS, "export { default as wrapText } from './src/ui/ink/wrap-text.ts';"));
    expect(problems).toEqual([
      "entry.ts imports src/ui/ink/wrap-text.ts, a swap module only Ink may reach (through the build's redirect): import shared code from a module both use, such as src/ui/ink/width.ts",
    ]);
  });
});
