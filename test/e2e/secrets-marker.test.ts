import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { docker, runContainer } from '../helpers/docker-engine.js';
import { RedisServer } from '../helpers/redis.js';
import { requireBinary } from '../helpers/require.js';
import { cliPath, killAt, removePrivateCli, runCli, seedTrading, type Scenario } from '../helpers/restore-fixture.js';
import { TmuxSession } from '../helpers/tmux.js';

// One marker secret (issue #12), fed through the environment into every kind of field a config can
// hold — a plain string (the stack name), a container name, a path, URL userinfo (Redis, a
// health_url), a URL query (?token=), a whole URL given as a secret, the writers' stop/start
// commands — and then every output opsdeck makes is searched for it: check (table, JSON), backup
// (output, manifests), restore (output, and a run killed mid-way then resumed), watch (text, JSON,
// a failed reload), every console view reachable in tmux, and a dump of the state database.
// The expected number of hits everywhere is 0. Real services throughout: a container in the private
// Docker engine, redis-server with the marker as its password, an HTTP server that demands it as
// Basic auth, SQLite files, the writers: commands run by /bin/sh and that container.

const host = inject('dockerHost');
const MARK = `Mk${randomBytes(6).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-marker-'));
const stateDir = join(dir, 'state');
const config = join(dir, 'opsdeck.yaml');
const writerLog = join(dir, 'writer.log');
const env = { OPS_SECRET: MARK, HOOK_URL: '', OPSDECK_STATE_DIR: stateDir, DOCKER_HOST: host };
let redis: RedisServer;
let http: Server;
let port = 0;
const authSeen: string[] = [];

/** Every output searched, by what produced it: the test's whole point is that none holds MARK. */
const outputs: { what: string; text: string }[] = [];
function record(what: string, ...texts: string[]): void {
  for (const text of texts) outputs.push({ what, text });
}
function hits(from = 0): string[] {
  return outputs.slice(from).filter((o) => o.text.includes(MARK)).map((o) => `${o.what}: …${o.text.slice(Math.max(0, o.text.indexOf(MARK) - 80), o.text.indexOf(MARK) + 40)}…`);
}

/** The config; `refresh` set to `\${OPS_SECRET}` makes the broken edit a watch must not reload. */
function writeConfig(file: string, refresh = '1s'): void {
  writeFileSync(
    file,
    `name: stack-\${OPS_SECRET}
interval: 1s
refresh: ${refresh}
failure_threshold: 1
recovery_threshold: 1
thresholds: {cpu: 100, memory: 100, disk: 100}
docker:
  host: ${host}
services:
  - name: web
    container: \${OPS_SECRET}
    critical: true
  - name: api
    health_url: http://ops:\${OPS_SECRET}@127.0.0.1:${port}/auth
    critical: true
  - name: writer
    stop_command: echo stop-\${OPS_SECRET} >> ${writerLog}
    start_command: echo start-\${OPS_SECRET} >> ${writerLog}
endpoints:
  - name: hook
    url: http://127.0.0.1:${port}/fail?token=\${OPS_SECRET}&ms=1
    critical: true
  - name: whole
    url: \${HOOK_URL}
redis:
  - name: cache
    url: redis://:\${OPS_SECRET}@127.0.0.1:${redis.port}
databases:
  - name: trading
    path: data-\${OPS_SECRET}/trading.db
    critical_tables: [strategies, trades]
    normal_tables: [market_data]
    writers: [writer, web]
logs:
  - name: app
    path: logs-\${OPS_SECRET}/app.log
backup:
  dir: backups
`,
  );
}

/** Runs a long-lived command until `until` matches its stdout, then SIGTERM; returns its output. */
function runUntil(args: string[], until: (stdout: string) => boolean, onMatch?: () => void, then?: (stdout: string) => boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    void cliPath().then((bin) => {
      const child = spawn(process.execPath, [bin, ...args], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let phase = 0;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`opsdeck ${args.join(' ')}: never matched (phase ${phase})\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, 60_000);
      const step = () => {
        if (phase === 0 && until(stdout + stderr)) {
          phase = 1;
          onMatch?.();
        }
        if (phase === 1 && (!then || then(stdout + stderr))) {
          phase = 2;
          child.kill('SIGTERM');
        }
      };
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        step();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        step();
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  });
}

beforeAll(async () => {
  requireBinary('sqlite3');
  redis = await RedisServer.start(MARK);
  http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/auth') {
      authSeen.push(req.headers.authorization ?? '');
      const ok = req.headers.authorization === `Basic ${Buffer.from(`ops:${MARK}`).toString('base64')}`;
      res.writeHead(ok ? 200 : 401).end(ok ? 'ok' : 'who are you');
    } else res.writeHead(500).end('broken');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const addr = http.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  // A webhook-like URL given whole as a secret: its path holds the marker.
  env.HOOK_URL = `http://127.0.0.1:${port}/hook/${MARK}`;
  // PID 1 ignores SIGTERM unless it traps it: trapped, so the restore's docker stop is quick.
  runContainer(host, MARK, ['--network', 'none'], ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 1; done"]);
  mkdirSync(join(dir, `data-${MARK}`));
  mkdirSync(join(dir, `logs-${MARK}`));
  writeFileSync(join(dir, `logs-${MARK}`, 'app.log'), 'INFO boot\n');
  seedTrading(join(dir, `data-${MARK}`, 'trading.db'), 50);
  writeConfig(config);
}, 120_000);

afterAll(async () => {
  await redis?.kill();
  http?.closeAllConnections();
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
  docker(host, 'rm', '-f', MARK);
  await removePrivateCli();
});

const cli = (args: string[]) => runCli(['--config', config, ...args], { env, cwd: dir, timeoutMs: 90_000 });

describe('one marker secret through every field: 0 hits in every output', () => {
  it('check: the table and the JSON; the health_url with user:pass@ is sent as Basic auth and is OK', async () => {
    const from = outputs.length;
    const table = await cli(['check']);
    record('check (table)', table.stdout, table.stderr);
    const json = await cli(['check', '--json']);
    record('check --json', json.stdout, json.stderr);
    const report = JSON.parse(json.stdout) as { checks: { id: string; status: string; message: string; target: string }[] };
    const byId = (id: string) => report.checks.find((c) => c.id === id);
    // What the marker reached, redacted: proves each field was really in play.
    expect(byId('http:api')).toMatchObject({ status: 'ok', target: `http://ops:***@127.0.0.1:${port}/auth` });
    expect(authSeen.at(-1)).toBe(`Basic ${Buffer.from(`ops:${MARK}`).toString('base64')}`);
    expect(byId('http:hook')).toMatchObject({ status: 'critical', message: `http://127.0.0.1:${port}/fail?token=***&ms=1 answered HTTP 500 (expected 2xx/3xx)` });
    expect(byId('http:whole')?.message).toBe('*** answered HTTP 500 (expected 2xx/3xx)');
    expect(byId('redis:cache')).toMatchObject({ status: 'ok', target: `redis://:***@127.0.0.1:${redis.port}` });
    expect(byId('container:web')).toMatchObject({ status: 'ok', target: '***' });
    expect(byId('sqlite:trading')).toMatchObject({ status: 'ok', target: join(dir, 'data-***', 'trading.db') });
    expect(table.stdout).toMatch(/^CRITICAL\s+http:hook\s+http:\/\/127\.0\.0\.1:\d+\/fail\?token=\*\*\*&ms=1 answered HTTP 500/m);
    expect(hits(from)).toEqual([]);
  });

  it('backup create, verify and list; the manifests', async () => {
    const from = outputs.length;
    for (const args of [['backup', 'create', '--verify'], ['backup', 'create', '--json'], ['backup', 'verify', '--all', '--json'], ['backup', 'list']]) {
      const r = await cli(args);
      expect(r.code, r.stderr).toBe(0);
      record(args.join(' '), r.stdout, r.stderr);
    }
    const bdir = join(dir, 'backups', 'trading');
    const manifests = readdirSync(bdir).filter((f) => f.endsWith('.json'));
    expect(manifests.length).toBeGreaterThan(0);
    for (const f of manifests) {
      const text = readFileSync(join(bdir, f), 'utf8');
      record(`manifest ${f}`, text);
      expect((JSON.parse(text) as { sourcePath: string }).sourcePath).toBe(join(dir, 'data-***', 'trading.db'));
    }
    expect(hits(from)).toEqual([]);
  });

  it('restore: the writer is stopped and started by its commands (with the real value); the output holds no marker', async () => {
    const from = outputs.length;
    const r = await cli(['restore', '--db', 'trading', '--yes']);
    record('restore --yes', r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/stopped command:writer, \*\*\*/);
    expect(readFileSync(writerLog, 'utf8')).toBe(`stop-${MARK}\nstart-${MARK}\n`);
    expect(docker(host, 'inspect', '-f', '{{.State.Running}}', MARK)).toBe('true');
    expect(hits(from)).toEqual([]);
  });

  it('a restore killed after stopping the writer: the journal keeps its commands redacted, and --resume takes them from the configuration', async () => {
    const from = outputs.length;
    const s = { dir, env, config } as unknown as Scenario;
    const killed = await killAt('after:stop-writers', ['--config', config, 'restore', '--db', 'trading', '--yes'], s);
    expect(killed.paused).toBe(true);
    record('killed restore (stderr)', killed.stderr);
    const dump = execFileSync('sqlite3', [join(stateDir, 'state.db'), '.dump runs'], { encoding: 'utf8' });
    record('state.db dump while the restore is unfinished', dump);
    expect(dump).toContain(`"stopCommand":"echo stop-*** >> ${writerLog}"`);
    expect(dump).toContain('"stopped":["command:writer","***"]');
    expect(docker(host, 'inspect', '-f', '{{.State.Running}}', MARK)).toBe('false');
    const check = await cli(['check', '--json']);
    record('check --json with an unfinished restore', check.stdout, check.stderr);
    const resumed = await cli(['restore', '--db', 'trading', '--resume', '--yes']);
    record('restore --resume', resumed.stdout, resumed.stderr);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/started command:writer, \*\*\*/);
    expect(docker(host, 'inspect', '-f', '{{.State.Running}}', MARK)).toBe('true');
    expect(readFileSync(writerLog, 'utf8').split('\n').filter(Boolean).slice(-2)).toEqual([`stop-${MARK}`, `start-${MARK}`]);
    expect(hits(from)).toEqual([]);
  }, 120_000);

  it('watch (text): FIRED lines, and a reload that fails on `refresh: ${OPS_SECRET}`', async () => {
    const from = outputs.length;
    const file = join(dir, 'watch-text.yaml');
    writeConfig(file);
    const w = await runUntil(
      ['watch', '--config', file],
      (o) => /FIRED\s+http:hook/.test(o) && /FIRED\s+http:whole/.test(o),
      () => writeConfig(file, '${OPS_SECRET}'),
      (o) => o.includes('configuration not reloaded'),
    );
    record('watch (text)', w.stdout, w.stderr);
    expect(w.stdout).toMatch(/FIRED\s+http:hook CRITICAL: http:\/\/127\.0\.0\.1:\d+\/fail\?token=\*\*\*&ms=1 answered HTTP 500/);
    expect(w.stderr).toMatch(/configuration not reloaded: .*refresh: expected a duration .*got "\$\{OPS_SECRET\}" \(from the environment; its value is not shown\)/);
    expect(hits(from)).toEqual([]);
  });

  it('watch --json: one JSON object per line, always — FIRED lines, the failed reload and the end', async () => {
    const from = outputs.length;
    const file = join(dir, 'watch-json.yaml');
    writeConfig(file);
    const w = await runUntil(
      ['watch', '--json', '--config', file],
      (o) => o.includes('"check":"http:hook"') && o.includes('"check":"http:whole"'),
      () => writeConfig(file, '${OPS_SECRET}'),
      (o) => o.includes('"reload-failed"'),
    );
    record('watch --json', w.stdout, w.stderr);
    expect(w.code).toBe(0);
    const lines = w.stdout.split('\n').filter(Boolean);
    const docs = lines.map((l) => JSON.parse(l) as { event?: string; message?: string; error?: { message: string } });
    expect(docs.find((d) => d.event === 'fired' && d.message?.includes('token=***'))).toBeDefined();
    expect(docs.find((d) => d.event === 'reload-failed')?.error?.message).toMatch(/refresh: .*"\$\{OPS_SECRET\}"/);
    expect(docs.at(-1)).toMatchObject({ event: 'stopped' });
    expect(hits(from)).toEqual([]);
  });

  it('the console: dashboard, the log picker, alert details (enter) and help, captured in tmux', async () => {
    const from = outputs.length;
    const t = TmuxSession.start(`opsdeck-marker-${process.pid}`, ['--config', config], { columns: 160, rows: 48, env: { ...env } });
    try {
      const capture = (what: string) => {
        record(`console: ${what}`, t.capture(), execFileSync('tmux', ['capture-pane', '-p', '-e', '-t', t.name], { encoding: 'utf8' }));
      };
      // The header's stack name, firing alerts, and the container named by the marker.
      await t.waitFor((s) => s.includes('stack-***') && /Alerts \([1-9]\d* firing\)/.test(s) && /\*\*\*\s+running/.test(s), 40_000);
      capture('dashboard');
      t.send('o');
      const picker = await t.waitFor(/Follow which log\?/);
      expect(picker).toContain('logs-***/app.log');
      capture('log picker');
      t.send('Escape', false);
      await t.waitFor((s) => !s.includes('Follow which log?'));
      t.send('A');
      // Alert details of each firing alert in turn, until the token's and the whole URL's were seen.
      const seen = new Set<string>();
      for (let i = 0; i < 8 && seen.size < 2; i++) {
        t.send('Enter', false);
        const details = await t.waitFor(/probe history \(newest last\)/);
        if (details.includes('token=***')) seen.add('hook');
        if (/\*\*\* answered HTTP 500/.test(details)) seen.add('whole');
        capture(`alert details #${i + 1}`);
        t.send('Escape', false);
        await t.waitFor((s) => !s.includes('probe history'));
        t.send('Down', false);
      }
      expect([...seen].sort()).toEqual(['hook', 'whole']);
      t.send('?');
      await t.waitFor(/Keys of the dashboard/);
      capture('help');
      t.send('Escape', false);
      t.send('q');
      await t.waitFor(/EXIT=0/);
    } finally {
      t.kill();
    }
    expect(hits(from)).toEqual([]);
  }, 120_000);

  it('the state database: a full dump holds no marker; the folder is 0700, its files 0600', () => {
    const dump = execFileSync('sqlite3', [join(stateDir, 'state.db'), '.dump'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    record('sqlite3 state.db .dump', dump);
    // It has what it should: alert history of the marker's checks, audit rows, the restore journal.
    expect(dump).toMatch(/INSERT INTO alert_events VALUES\(\d+,\d+,'http:hook','fired','critical','http:\/\/127\.0\.0\.1:\d+\/fail\?token=\*\*\*&ms=1 answered HTTP 500/);
    expect(dump).toMatch(/INSERT INTO audit VALUES\(.*'restore\.start-writers','trading','ok'/);
    expect(dump).toMatch(/INSERT INTO runs VALUES/);
    expect(hits()).toEqual([]);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(stateDir).filter((x) => x.startsWith('state.db'))) expect([f, statSync(join(stateDir, f)).mode & 0o777]).toEqual([f, 0o600]);
  });
});
