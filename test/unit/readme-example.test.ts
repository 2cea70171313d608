import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';

// The README's "full example" is what people copy: it must load as it stands (an operator found
// its failover pair naming services it did not declare). Every ${VAR} gets a placeholder value.

describe("the README's full configuration example", () => {
  it('loads without an error', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const at = readme.indexOf('A full example (`examples/trading.yaml`');
    expect(at).toBeGreaterThan(0);
    const block = /```yaml\n([\s\S]*?)\n```/.exec(readme.slice(at))?.[1] ?? '';
    expect(block).toMatch(/^services:/m);
    const env: Record<string, string> = {};
    for (const m of block.matchAll(/\$\{([A-Z0-9_]+)\}/g)) env[m[1] ?? ''] = `https://user:pw@example.invalid/${m[1] ?? ''}`;
    const file = join(mkdtempSync(join(tmpdir(), 'opsdeck-readme-')), 'opsdeck.yaml');
    writeFileSync(file, block);
    const loaded = loadConfigFile(file, { ...env, HOME: tmpdir() });
    expect(loaded.config.services.map((s) => s.name)).toContain('api-a');
  });
});
