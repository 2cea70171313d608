import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { docker, runContainer } from '../helpers/docker-engine.js';
import { TestHttpServer } from '../helpers/http.js';
import { RedisServer } from '../helpers/redis.js';
import { TmuxSession } from '../helpers/tmux.js';

// The console in a real terminal (tmux) against real services: a private Docker engine, a real
// redis-server, a SQLite file and an HTTP server on loopback.

const host = inject('dockerHost');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-e2e-'));
const config = join(dir, 'opsdeck.yaml');
const state = join(dir, 'state');
let redis: RedisServer;
let http: TestHttpServer;
const sessions: TmuxSession[] = [];
let n = 0;

function open(size: { columns: number; rows: number }, ...extra: string[]): TmuxSession {
  const s = TmuxSession.start(`opsdeck-e2e-${process.pid}-${n++}`, ['--config', config, ...extra], { ...size, env: { OPSDECK_STATE_DIR: state, CI: 'true' } });
  sessions.push(s);
  return s;
}

beforeAll(async () => {
  redis = await RedisServer.start();
  http = await TestHttpServer.start();
  const db = new Database(join(dir, 'app.db'));
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);');
  db.close();
  // Its own compose project, so the pane shows it alone: other test files share the engine, and a
  // sick container of theirs would sort first and be the selected row.
  runContainer(host, 'e2e-web', ['--network', 'none', '--label', 'com.docker.compose.project=e2eweb'], ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "INFO request $i ok"; [ $((i % 5)) -eq 0 ] && echo "ERROR request $i failed"; sleep 0.2; done']);
  writeFileSync(
    config,
    `name: e2e-stack
interval: 1s
refresh: 1s
thresholds: {cpu: 100, memory: 100, disk: 100}
docker:
  host: ${host}
  compose_project: e2eweb
services:
  - name: web
    container: e2e-web
    critical: true
databases:
  - name: app
    path: app.db
redis:
  - name: cache
    url: ${redis.url}
endpoints:
  - name: api
    url: ${http.url}/ok
`,
  );
});

afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
});

afterAll(async () => {
  await redis?.kill();
  await http?.close();
  docker(host, 'rm', '-f', 'e2e-web');
});

describe.each([
  { columns: 80, rows: 24 },
  { columns: 160, rows: 48 },
])('console at $columns×$rows', (size) => {
  it('shows the real values; q exits 0 and restores the terminal', async () => {
    const t = open(size);
    // CPU % needs two samples, so it is the last figure to appear.
    const screen = await t.waitFor((s) => /e2e-web\s+running/.test(s) && /redis cache\s+\d+ ms/.test(s) && /http api\s+HTTP 200/.test(s) && /cpu\s+[█░]+\s+\d/.test(s));
    expect(screen).toContain(' e2e-stack ');
    // One frame on the screen: no stale copy of an earlier frame above or below it.
    expect(screen.match(/ e2e-stack /g)?.length).toBe(1);
    expect(screen.match(/^▶ Containers /gm)?.length).toBe(1);
    expect(screen).toMatch(/cpu\s+[█░]+\s+\d/);
    expect(screen).toMatch(/db app\s+\d/);
    expect(screen.split('\n').every((l) => l.length <= size.columns)).toBe(true);
    t.send('q');
    const after = await t.waitFor(/EXIT=0/);
    // The alternate screen is left: the console's frame is gone from the visible screen.
    expect(after).not.toContain('Containers');
  });
});

describe('console against failures', () => {
  it('killing Redis fires its alert within the failure threshold; it resolves after a restart', async () => {
    const t = open({ columns: 160, rows: 48 });
    await t.waitFor(/redis cache\s+\d+ ms/);
    await redis.kill();
    const fired = await t.waitFor(/CRITICAL\s+redis:cache\s+.*firing/, 30_000);
    expect(fired).toMatch(/Alerts \(\d+ firing\)/);
    expect(fired).toMatch(/redis cache\s+(DOWN|Redis at)/);
    await redis.startAgain();
    await t.waitFor((s) => !/redis:cache/.test(s) && /redis cache\s+\d+ ms/.test(s), 30_000);
  });

  it("a container's log lines appear in the logs view and the filter narrows them", async () => {
    const t = open({ columns: 120, rows: 40 });
    await t.waitFor(/e2e-web\s+running/);
    t.send('l');
    await t.waitFor(/Logs: e2e-web/);
    await t.waitFor(/INFO request \d+ ok/);
    // One burst, as a paste or a fast typist over SSH delivers it; "q" inside the filter must not quit.
    t.send('/quit|ERROR');
    t.send('Enter', false);
    const filtered = await t.waitFor(/filter \/quit\|ERROR\//);
    const body = filtered.split('\n').filter((l) => /request \d+/.test(l));
    expect(body.length).toBeGreaterThan(0);
    expect(body.every((l) => l.includes('ERROR'))).toBe(true);
    t.send('p');
    await t.waitFor(/PAUSED/);
    t.send('Escape', false);
    await t.waitFor(/Containers/);
  });

  it('restart asks first, then restarts the real container (StartedAt changes); audited', async () => {
    const before = docker(host, 'inspect', '-f', '{{.State.StartedAt}}', 'e2e-web');
    const t = open({ columns: 120, rows: 40 });
    await t.waitFor(/e2e-web\s+running/);
    t.send('r');
    await t.waitFor(/Restart container e2e-web/);
    expect(docker(host, 'inspect', '-f', '{{.State.StartedAt}}', 'e2e-web')).toBe(before);
    t.send('y');
    await t.waitFor(/restart e2e-web: e2e-web is running 3 s after/, 40_000);
    expect(docker(host, 'inspect', '-f', '{{.State.StartedAt}}', 'e2e-web')).not.toBe(before);
    const db = new Database(join(state, 'state.db'), { readonly: true });
    const row = db.prepare("SELECT action, target, outcome FROM audit WHERE action = 'container.restart' ORDER BY id DESC").get();
    db.close();
    expect(row).toEqual({ action: 'container.restart', target: 'e2e-web', outcome: 'ok' });
  });

  it('under --read-only the restart key is marked and refused with the reason', async () => {
    const before = docker(host, 'inspect', '-f', '{{.State.StartedAt}}', 'e2e-web');
    const t = open({ columns: 120, rows: 40 }, '--read-only');
    const s = await t.waitFor(/e2e-web\s+running/);
    expect(s).toContain('[READ-ONLY]');
    expect(s).toContain('restart(read-only)');
    t.send('r');
    await t.waitFor(/refused — opsdeck runs in --read-only mode/);
    expect(docker(host, 'inspect', '-f', '{{.State.StartedAt}}', 'e2e-web')).toBe(before);
  });
});
