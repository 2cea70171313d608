import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { Monitor } from '../../src/state/monitor.js';
import { buildSources } from '../../src/state/sources.js';
import { openStateDb } from '../../src/state/statedb.js';
import { createAppStore } from '../../src/state/store.js';
import { TestHttpServer } from '../helpers/http.js';

// The monitor's store holds check texts already redacted (issue #12): the console's panes cut a long
// message to their width before the frame filter sees it, and half a secret is not recognised.
// A real HTTP server answering 500, a secret from the environment in the probed URL's query.

let http: TestHttpServer;
beforeAll(async () => {
  http = await TestHttpServer.start();
});
afterAll(async () => {
  await http.close();
});

describe('monitor: what it stores is redacted', () => {
  it('check results, alerts and alert history hold *** where the secret was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-monred-'));
    const file = join(dir, 'opsdeck.yaml');
    writeFileSync(file, `failure_threshold: 1\nthresholds: {cpu: 100, memory: 100, disk: 100}\nendpoints:\n  - name: api\n    url: ${http.url}/500?q=\${Q}\n    critical: true\n`);
    const { config } = loadConfigFile(file, { Q: 'q-secret-value-77' });
    const store = createAppStore();
    const stateDb = await openStateDb(join(dir, 'state'));
    const mon = new Monitor({ config, store, sources: buildSources(config, store), stateDb });
    await mon.runAll();
    const expected = `${http.url}/500?q=*** answered HTTP 500 (expected 2xx/3xx)`;
    expect(store.getState().checks['http:api']).toMatchObject({ status: 'critical', message: expected, target: `${http.url}/500?q=***` });
    expect(store.getState().alerts['http:api']).toMatchObject({ state: 'firing', message: expected });
    expect(stateDb.prepare("SELECT message FROM alert_events WHERE check_id = 'http:api'").all()).toEqual([{ message: expected }]);
    mon.stop();
    stateDb.close();
  });
});
