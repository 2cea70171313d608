import { describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import { retiredChecks } from '../../src/domain/retired.js';

// The checks a configuration change removed: only ids of a configured item the new file no longer has.

const cfg = (raw: Record<string, unknown>) => validate({ thresholds: { cpu: 100 }, ...raw }, 'test');

describe('retiredChecks', () => {
  const before = cfg({
    endpoints: [{ name: 'api', url: 'http://127.0.0.1:1/' }, { name: 'web', url: 'http://127.0.0.1:2/' }],
    redis: [{ name: 'cache', url: 'redis://127.0.0.1:1' }],
    databases: [{ name: 'shop', path: '/tmp/none.db' }],
    services: [{ name: 'worker', container: 'worker' }],
  });
  const ids = ['http:api', 'http:web', 'redis:cache', 'sqlite:shop', 'sqlite:shop:rows', 'backup:shop', 'container:worker', 'host:cpu', 'journal:restore:shop', 'system:health'];

  it('the ids of removed items, and only those', () => {
    const after = cfg({ endpoints: [{ name: 'web', url: 'http://127.0.0.1:2/' }], services: [{ name: 'worker', container: 'worker' }] });
    expect(retiredChecks(before, after, ids)).toEqual(['http:api', 'redis:cache', 'sqlite:shop', 'sqlite:shop:rows', 'backup:shop']);
  });

  it('nothing when nothing was removed; ids of no configured item are never guessed gone', () => {
    expect(retiredChecks(before, before, ids)).toEqual([]);
    expect(retiredChecks(before, cfg({}), ['host:cpu', 'journal:restore:shop', 'system:health', 'notify:x'])).toEqual([]);
  });
});
