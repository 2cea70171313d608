import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/redis.js';
import { Watcher } from '../helpers/watch.js';

// Issue #23 on the real CLI: business and application probes — an SQL count on a real SQLite file
// crossing its threshold alerts in `opsdeck watch`; a JSON field of a real HTTP server on loopback;
// a query that would write is refused, read-only; `opsdeck probes` shows the recorded values.

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-probes-'));
const config = join(dir, 'opsdeck.yaml');
const shop = join(dir, 'shop.db');
let server: Server | undefined;
let watcher: Watcher | undefined;
let errorRate = 1.5;

beforeAll(async () => {
  const db = new Database(shop);
  db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT); INSERT INTO orders (status) VALUES ('ok'), ('failed'), ('ok');");
  db.close();
  const port = await freePort();
  server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ stats: { errorRate, requests: 1200 } })));
  await new Promise<void>((r) => server?.listen(port, '127.0.0.1', r));
  writeFileSync(
    config,
    [
      'name: probes',
      'interval: 1s',
      'failure_threshold: 1',
      'recovery_threshold: 1',
      'thresholds: {cpu: 100, memory: 100, disk: 100}',
      `state_dir: ${join(dir, 'state')}`,
      'databases:',
      '  - {name: shop, path: shop.db, critical: false}',
      'probes:',
      '  - name: failed-orders',
      '    database: shop',
      "    sql: SELECT count(*) FROM orders WHERE status = 'failed'",
      '    warn_above: 2',
      '    critical_above: 4',
      '    unit: " orders"',
      '  - name: api-errors',
      `    url: http://127.0.0.1:${port}/metrics`,
      '    json_path: stats.errorRate',
      '    warn_above: 5',
      '    unit: "%"',
      '  - name: sneaky',
      '    database: shop',
      '    sql: DELETE FROM orders',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await watcher?.kill('SIGTERM');
  server?.closeAllConnections();
  server?.close();
});

describe('opsdeck probes', () => {
  it('reads an SQL count and a JSON field; a writing query is refused and changes nothing', async () => {
    const r = await runCli(['--config', config, 'probes', '--json']);
    expect(r.stderr).toBe('');
    const probes = (JSON.parse(r.stdout) as { probes: { name: string; status: string; value?: number; message: string }[] }).probes;
    expect(probes.find((p) => p.name === 'failed-orders')).toMatchObject({ status: 'ok', value: 1 });
    expect(probes.find((p) => p.name === 'api-errors')).toMatchObject({ status: 'ok', value: 1.5 });
    expect(probes.find((p) => p.name === 'sneaky')?.status).toBe('warning');
    expect(probes.find((p) => p.name === 'sneaky')?.message).toMatch(/sneaky: not read: the query must be one SELECT/);
    expect(r.code).toBe(1);
    const db = new Database(shop, { readonly: true });
    expect((db.prepare('SELECT count(*) AS n FROM orders').get() as { n: number }).n).toBe(3);
    db.close();
  });

  it('an SQL metric crossing its threshold alerts in the monitor, and an HTTP one too; values are recorded for the sparkline', async () => {
    watcher = new Watcher(config);
    const db = new Database(shop);
    db.exec("INSERT INTO orders (status) VALUES ('failed'), ('failed'), ('failed'), ('failed')");
    db.close();
    const fired = await watcher.waitFor('fired', 'probe:failed-orders', 30_000);
    expect(fired.status).toBe('critical');
    expect(fired.message).toBe('failed-orders is 5 orders (> 4 orders)');
    errorRate = 9.25;
    const http = await watcher.waitFor('fired', 'probe:api-errors', 30_000);
    expect(http).toMatchObject({ status: 'warning', message: 'api-errors is 9.25% (> 5%)' });

    const r = await runCli(['--config', config, 'probes']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/failed-orders +CRITICAL +5 orders +[▁▂▃▄▅▆▇█ ]+ failed-orders is 5 orders/);
    const json = await runCli(['--config', config, 'probes', '--json']);
    const history = (JSON.parse(json.stdout) as { probes: { name: string; history: number[] }[] }).probes.find((p) => p.name === 'failed-orders')?.history ?? [];
    expect(history.at(-1)).toBe(5);
  });
});
