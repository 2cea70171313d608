import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/redis.js';

// Issue #23: `opsdeck deps` with the real npm. Offline — the registry on a loopback port nobody
// listens on — it says so and exits 0 instead of failing; a folder without a manifest is named.

describe('opsdeck deps', () => {
  it('offline, says so for each configured app instead of failing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-deps-'));
    const app = join(dir, 'app');
    const bare = join(dir, 'bare');
    mkdirSync(app);
    mkdirSync(bare);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fx', version: '1.0.0', dependencies: { 'left-pad': '1.0.0' } }));
    const config = join(dir, 'opsdeck.yaml');
    writeFileSync(config, [`state_dir: ${join(dir, 'state')}`, 'apps:', '  - {name: shop, dir: app}', '  - {name: bare, dir: bare}', ''].join('\n'));
    const port = await freePort();
    const env = { npm_config_registry: `http://127.0.0.1:${port}/`, npm_config_cache: join(dir, 'npm-cache') };
    const json = await runCli(['--config', config, 'deps', '--json'], { env, timeoutMs: 60_000 });
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { folders: { name: string; reports: { manager: string; offline?: string }[] }[] };
    expect(doc.folders.find((f) => f.name === 'shop')?.reports).toEqual([expect.objectContaining({ manager: 'npm', offline: 'the package registry cannot be reached (ECONNREFUSED)' })]);
    expect(doc.folders.find((f) => f.name === 'bare')?.reports).toEqual([]);
    const text = await runCli(['--config', config, 'deps'], { env, timeoutMs: 60_000 });
    expect(text.stdout).toContain(`shop npm (${app}): offline — the package registry cannot be reached`);
    expect(text.stdout).toContain(`bare (${bare}): no package.json, requirements.txt or pyproject.toml`);
  });
});
