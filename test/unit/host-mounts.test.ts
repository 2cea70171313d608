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

describe('host sampler: load and uptime through the kept /proc files (issue #27 point 2; a fake /proc folder: real figures cannot be set)', () => {
  it('reads /proc/loadavg and /proc/uptime as os.loadavg() and os.uptime() do, each refresh afresh; without them, the os functions answer', async () => {
    const proc = mkdtempSync(join(tmpdir(), 'opsdeck-fake-proc-'));
    mkdirSync(join(proc, 'net'));
    writeFileSync(join(proc, 'stat'), 'cpu  10 0 0 10 0 0 0 0 0 0\ncpu0 10 0 0 10 0 0 0 0 0 0\n');
    writeFileSync(join(proc, 'meminfo'), 'MemTotal: 1000 kB\nMemAvailable: 500 kB\n');
    writeFileSync(join(proc, 'net/dev'), '');
    writeFileSync(join(proc, 'mounts'), '');
    writeFileSync(join(proc, 'loadavg'), '1.36 0.54 0.34 1/745 27754\n');
    writeFileSync(join(proc, 'uptime'), '23874.30 30870.18\n');
    const sampler = new HostSampler(proc);
    const sample = async () => {
      const r = await sampler.sample();
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    };
    expect(await sample()).toMatchObject({ load: [1.36, 0.54, 0.34], uptimeSec: 23874.3 });
    writeFileSync(join(proc, 'loadavg'), '12.00 8.50 4.25 3/800 27800\n');
    writeFileSync(join(proc, 'uptime'), '23876.31 30871.00\n');
    expect(await sample()).toMatchObject({ load: [12, 8.5, 4.25], uptimeSec: 23876.31 });

    const bare = mkdtempSync(join(tmpdir(), 'opsdeck-fake-proc-'));
    mkdirSync(join(bare, 'net'));
    for (const f of ['stat', 'meminfo', 'net/dev', 'mounts']) writeFileSync(join(bare, f), f === 'stat' ? 'cpu  10 0 0 10 0 0 0 0 0 0\n' : '');
    const r = await new HostSampler(bare).sample();
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.load).toHaveLength(3);
    expect(r.value.uptimeSec).toBeGreaterThan(0);
  });
});
