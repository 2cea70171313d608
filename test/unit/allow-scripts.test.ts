import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Supply chain (issue #12 point 10): npm 11 warns about dependencies whose install scripts are not
// reviewed in package.json's `allowScripts`, and a later npm blocks them. Every package of the
// lockfile with an install script must have a decision there (true: it runs; false: it is skipped).

const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
const lock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean; optional?: boolean }> };

/** `node_modules/a/node_modules/@s/b` → `@s/b`. */
const nameOf = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('allowScripts in package.json', () => {
  it('decides on every dependency with an install script', () => {
    const withScripts = Object.entries(lock.packages).filter(([path, p]) => path && p.hasInstallScript).map(([path]) => nameOf(path));
    expect(withScripts.length).toBeGreaterThan(0);
    const undecided = withScripts.filter((name) => !Object.keys(pkg.allowScripts ?? {}).some((k) => k === name || k.startsWith(`${name}@`)));
    expect(undecided).toEqual([]);
  });

  it('lets the native SQLite binding and esbuild build; skips the optional SSH and gRPC helpers', () => {
    expect(pkg.allowScripts).toEqual({ 'better-sqlite3': true, esbuild: true, ssh2: false, 'cpu-features': false, protobufjs: false });
  });
});
