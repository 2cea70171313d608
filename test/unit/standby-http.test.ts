import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import { buildSources } from '../../src/state/sources.js';
import { setStandby } from '../../src/state/standby.js';
import { createAppStore } from '../../src/state/store.js';

// A failover pair's standby is stopped on purpose (issue #21): its health_url not answering is not
// an alert (an operator's trial saw `http:api-b refused` WARNING all the time), while the same
// service, once it is not the standby, alerts as before. A real closed port on loopback.

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('the HTTP check of a failover standby', () => {
  it('is OK while the service is the standby, and fails like any other when it is not', async () => {
    const port = await closedPort();
    const config = validate({ name: 't', services: [{ name: 'api-b', health_url: `http://127.0.0.1:${port}/health` }, { name: 'other', health_url: `http://127.0.0.1:${port}/h` }] }, 't');
    const sources = buildSources(config, createAppStore());
    const run = async (id: string) => (await sources.find((s) => s.id === id)?.run())?.[0];
    expect((await run('http:api-b'))?.status).not.toBe('ok');
    setStandby('pair', 'api-b');
    const standby = await run('http:api-b');
    expect(standby?.status).toBe('ok');
    expect(standby?.message).toMatch(/the standby of a failover pair/);
    expect((await run('http:other'))?.status).not.toBe('ok');
    setStandby('pair', 'other'); // the pair switched: api-b serves now
    expect((await run('http:api-b'))?.status).not.toBe('ok');
  });
});
