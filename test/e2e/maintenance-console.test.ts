import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { docker, runContainer } from '../helpers/docker-engine.js';
import { TmuxSession } from '../helpers/tmux.js';

// Issue #23 in a real terminal: the built console's M over a real container's log (the private
// engine), a real log file and a probe on a real SQLite file — the wiring of cli/console.ts, the
// Docker facade's logsSince and the state database the console holds, end to end.

const host = inject('dockerHost');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-maint-e2e-'));
const config = join(dir, 'opsdeck.yaml');
const sessions: TmuxSession[] = [];

beforeAll(() => {
  const shop = new Database(join(dir, 'shop.db'));
  shop.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT); INSERT INTO orders (status) VALUES ('failed'), ('ok');");
  shop.close();
  writeFileSync(join(dir, 'app.log'), `${new Date().toISOString()} WARN cache miss for key 77\n`);
  runContainer(host, 'maint-e2e-web', ['--network', 'none', '--label', 'com.docker.compose.project=mainte2e'], ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "ERROR payment $i declined"; sleep 0.5; done']);
  writeFileSync(
    config,
    `name: maint-e2e
interval: 1s
refresh: 1s
thresholds: {cpu: 100, memory: 100, disk: 100}
docker:
  host: ${host}
  compose_project: mainte2e
services:
  - name: web
    container: maint-e2e-web
databases:
  - {name: shop, path: shop.db, critical: false}
logs:
  - {name: app, path: app.log}
probes:
  - name: failed-orders
    database: shop
    sql: SELECT count(*) FROM orders WHERE status = 'failed'
    warn_above: 5
    unit: " orders"
`,
  );
});

afterAll(() => {
  for (const s of sessions.splice(0)) s.kill();
  docker(host, 'rm', '-f', 'maint-e2e-web');
});

describe('the console\'s maintenance view (M) in a terminal', () => {
  it('reviews the container\'s log and the log file, shows the probe with its recorded values; esc goes back', async () => {
    const t = TmuxSession.start(`opsdeck-maint-e2e-${process.pid}`, ['--config', config], { columns: 100, rows: 30, env: { OPSDECK_STATE_DIR: join(dir, 'state'), CI: 'true' } });
    sessions.push(t);
    await t.waitFor(/maint-e2e-web\s+running/);
    // Until the console's monitor has recorded a few probe values (polled in the state database).
    for (let n = 0, deadline = Date.now() + 20_000; n < 3; await new Promise((r) => setTimeout(r, 200))) {
      if (Date.now() > deadline) throw new Error('the console recorded no probe values');
      const state = new Database(join(dir, 'state', 'state.db'), { readonly: true, fileMustExist: true });
      n = (state.prepare("SELECT count(*) AS n FROM probe_values WHERE name = 'failed-orders'").get() as { n: number }).n;
      state.close();
    }
    t.send('M');
    const s = await t.waitFor((x) => /service web: \d+ ERROR, 0 WARN in \d+ lines · 1 pattern, first review · container maint-e2e-web/.test(x) && /log app: /.test(x) && /failed-orders +OK +1 orders/.test(x));
    expect(s).toMatch(/ERROR payment <n> declined/);
    expect(s).toMatch(/log app: 0 ERROR, 1 WARN in 1 lines · 1 pattern, first review · \//);
    expect(s).toMatch(/recorded: the next review compares with it/);
    expect(s).toMatch(/failed-orders +OK +1 orders +[▁▂▃▄▅▆▇█]{2,}/);
    expect(s.split('\n').every((l) => l.length <= 100)).toBe(true);
    t.send('Escape', false);
    await t.waitFor((x) => !x.includes('failed-orders') && /maint-e2e-web\s+running/.test(x));
    t.send('q');
    await t.waitFor(/EXIT=0/);
  });
});
