import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostSampler } from '../../src/services/host.js';

describe('host sampler: the filesystems follow /proc/mounts (fake /proc folder: the real mounts cannot be changed on demand)', () => {
  it('a mount added or removed shows at the next sample (the parsed list is kept only while the text is the same)', async () => {
    const proc = mkdtempSync(join(tmpdir(), 'opsdeck-fake-proc-'));
    const data = mkdtempSync(join(tmpdir(), 'opsdeck-fake-mount-'));
    mkdirSync(join(proc, 'net'));
    writeFileSync(join(proc, 'stat'), 'cpu  10 0 0 10 0 0 0 0 0 0\ncpu0 10 0 0 10 0 0 0 0 0 0\n');
    writeFileSync(join(proc, 'meminfo'), 'MemTotal: 1000 kB\nMemAvailable: 500 kB\n');
    writeFileSync(join(proc, 'net/dev'), '');
    const root = '/dev/fake-root / ext4 rw 0 0\n';
    writeFileSync(join(proc, 'mounts'), root);
    const sampler = new HostSampler(proc);
    const mounts = async () => {
      const r = await sampler.sample();
      if (!r.ok) throw new Error(r.error.message);
      return r.value.filesystems.map((f) => f.mount);
    };
    expect(await mounts()).toEqual(['/']);
    expect(await mounts()).toEqual(['/']);
    writeFileSync(join(proc, 'mounts'), `${root}/dev/fake-data ${data} ext4 rw 0 0\n`);
    expect(await mounts()).toEqual(['/', data]);
    writeFileSync(join(proc, 'mounts'), root);
    expect(await mounts()).toEqual(['/']);
  });
});
