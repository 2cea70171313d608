import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { mountEntryOf, readMounts } from '../../src/services/hardware.js';
import { readOnlyChecks } from '../../src/state/hardware.js';

// Issue #23: hardware signs from /proc/mounts text (pure parts); the real remount is
// test/integration/hardware.test.ts.

const MOUNTS = [
  '/dev/vda / ext4 rw,relatime 0 0',
  '/dev/vdb /srv/data ext4 ro,relatime,errors=remount-ro 0 0',
  'tmpfs /srv/data/cache tmpfs rw,size=2048k 0 0',
  '/dev/vdc /mnt/with\\040space xfs rw 0 0',
].join('\n');

describe('read-only mounts', () => {
  it('parses the options and undoes the octal escapes', () => {
    const m = readMounts(MOUNTS);
    expect(m.map((x) => [x.mount, x.readOnly])).toEqual([['/', false], ['/srv/data', true], ['/srv/data/cache', false], ['/mnt/with space', false]]);
  });

  it('a path is on the longest mount above it', () => {
    const m = readMounts(MOUNTS);
    expect(mountEntryOf('/srv/data/cache/x', m)?.mount).toBe('/srv/data/cache');
    expect(mountEntryOf('/srv/data/trading.db', m)?.mount).toBe('/srv/data');
    expect(mountEntryOf('/srv/database', m)?.mount).toBe('/');
  });

  it('a watched file system mounted read-only is CRITICAL, one check per mount', () => {
    const config = configSchema.parse({ state_dir: '/srv/data/cache/state', databases: [{ name: 'a', path: '/srv/data/a.db' }, { name: 'b', path: '/srv/data/b.db' }], backup: { dir: '/srv/data/cache/backups' }, capacity: { paths: ['/'] } });
    const checks = readOnlyChecks(config, MOUNTS);
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['hardware:readonly:/srv/data', 'critical'],
      ['hardware:readonly:/srv/data/cache', 'ok'],
      ['hardware:readonly:/', 'ok'],
    ]);
    expect(checks[0]?.message).toBe('/srv/data (ext4 on /dev/vdb) is mounted read-only: nothing can be written there (after disk errors the kernel remounts read-only; see the kernel log)');
  });
});
