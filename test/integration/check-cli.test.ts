import { mkdtempSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { docker, runContainer } from '../helpers/docker-engine.js';
import { TestHttpServer } from '../helpers/http.js';
import { RedisServer } from '../helpers/redis.js';

// `opsdeck check` end to end against a real Docker engine, redis-server, SQLite files and HTTP servers.

const host = inject('dockerHost');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-check-'));
const PASSWORD = 'pw-Zq93xVv';
let redis: RedisServer;
let http: TestHttpServer;
const goodDb = join(dir, 'good.db');

interface Report {
  status: string;
  checkedAt: string;
  checks: { id: string; kind: string; target: string; status: string; message: string; suppressedBy?: string }[];
}

/** Writes a config: calm host thresholds (the test machine is busy), plus the given sections. */
function config(name: string, body: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\nthresholds:\n  cpu: 100\n  disk: 100\n  memory: 100\ndocker:\n  host: ${host}\n${body}`);
  return file;
}

async function check(file: string) {
  const r = await runCli(['check', '--json', '--config', file], { env: { REDIS_PASSWORD: PASSWORD } });
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`not JSON: ${r.stdout}\n${r.stderr}`);
  }
  const byId = (id: string) => {
    const c = report.checks.find((x) => x.id === id);
    if (!c) throw new Error(`no check ${id} in ${report.checks.map((x) => x.id).join(', ')}`);
    return c;
  };
  return { ...r, report, byId };
}

beforeAll(async () => {
  redis = await RedisServer.start(PASSWORD);
  http = await TestHttpServer.start();
  const db = new Database(goodDb);
  db.exec('CREATE TABLE trades (id INTEGER PRIMARY KEY, sym TEXT, qty INT)');
  const ins = db.prepare('INSERT INTO trades (sym, qty) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 5000; i++) ins.run(`S${i % 50}`, i);
  })();
  db.close();
  runContainer(host, 'chk-web', ['--network', 'none', '--health-cmd', 'true', '--health-interval', '1s'], ['sleep', '3600']);
  runContainer(host, 'chk-sick', ['--network', 'none', '--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '1'], ['sleep', '3600']);
  runContainer(host, 'chk-stopped', ['--network', 'none'], ['sh', '-c', 'exit 3']);
  // Wait until Docker has run the health checks.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const web = docker(host, 'inspect', '-f', '{{.State.Health.Status}}', 'chk-web');
    const sick = docker(host, 'inspect', '-f', '{{.State.Health.Status}}', 'chk-sick');
    if (web === 'healthy' && sick === 'unhealthy') break;
    if (Date.now() > deadline) throw new Error(`health checks did not settle: web=${web} sick=${sick}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  await redis?.kill();
  await http?.close();
  docker(host, 'rm', '-f', 'chk-web', 'chk-sick', 'chk-stopped');
});

describe('opsdeck check against real services', () => {
  it('a healthy stack is OK (exit 0) and the JSON has the documented shape', async () => {
    const f = config('healthy', `services:
  - name: web
    container: chk-web
    critical: true
redis:
  - name: cache
    url: redis://:\${REDIS_PASSWORD}@127.0.0.1:${redis.port}
databases:
  - name: main
    path: good.db
endpoints:
  - name: api
    url: ${http.url}/ok
    expect: { status: 200, json_path: status, equals: ok }
backup:
  dir: backups
`);
    // Before any backup, the RPO check says so (a warning that names the command to run).
    const before = await check(f);
    expect(before.byId('backup:main')).toMatchObject({ status: 'warning', message: 'no verified backup of main (run: opsdeck backup create --db main && opsdeck backup verify --db main); no backup scheduled' });
    expect(before.code).toBe(1);
    for (const action of ['create', 'verify']) {
      const r = await runCli(['backup', action, '--db', 'main', '--config', f], { env: { REDIS_PASSWORD: PASSWORD, OPSDECK_STATE_DIR: join(dir, 'state') } });
      expect(r.code, r.stderr).toBe(0);
    }
    const { code, report, byId, stdout } = await check(f);
    expect(byId('backup:main').message).toMatch(/^last verified backup \d+s ago \(RPO 24h\); no backup scheduled$/);
    expect(report.status, stdout).toBe('ok');
    expect(code).toBe(0);
    expect(Object.keys(report).sort()).toEqual(['checkedAt', 'checks', 'notes', 'status']);
    expect(byId('container:web').message).toContain('running and healthy');
    expect(byId('redis:cache').message).toMatch(/answered in/);
    expect(byId('sqlite:main').message).toContain('quick_check ok');
    expect(byId('http:api').status).toBe('ok');
    expect(byId('docker:engine').status).toBe('ok');
    expect(byId('host:memory').kind).toBe('host');
    expect(byId('system:health').status).toBe('ok');
    // The Redis password never appears, not even inside the URL.
    expect(stdout).not.toContain(PASSWORD);
    expect(byId('redis:cache').target).toBe(`redis://:***@127.0.0.1:${redis.port}`);
  });

  it('the table output lists problems first and never shows the secret', async () => {
    const f = config('table', `services:
  - name: stopped
    container: chk-stopped
    critical: true
redis:
  - name: cache
    url: redis://:\${REDIS_PASSWORD}@127.0.0.1:${redis.port}
`);
    const r = await runCli(['check', '--config', f], { env: { REDIS_PASSWORD: PASSWORD } });
    expect(r.code).toBe(2);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^CRITICAL: /);
    const firstRow = lines.findIndex((l) => l.startsWith('STATUS')) + 1;
    expect(lines[firstRow]).toMatch(/^CRITICAL\s+container:stopped\s+chk-stopped is exited \(exit code 3/);
    expect(r.stdout).not.toContain(PASSWORD);
  });

  it.each([
    ['a stopped critical container is CRITICAL', 'chk-stopped', true, 'critical', 2, /chk-stopped is exited \(exit code 3/],
    ['an unhealthy critical container is CRITICAL', 'chk-sick', true, 'critical', 2, /chk-sick is unhealthy/],
    ['an unhealthy non-critical container is a WARNING', 'chk-sick', false, 'warning', 1, /chk-sick is unhealthy/],
    ['a missing container is reported by name', 'chk-nope', true, 'critical', 2, /no container named chk-nope/],
  ])('%s', async (_n, container, critical, status, exit, message) => {
    const { code, byId } = await check(config(`svc-${container}-${critical}`, `services:\n  - name: svc\n    container: ${container}\n    critical: ${critical}\n`));
    expect(byId('container:svc').status).toBe(status);
    expect(byId('container:svc').message).toMatch(message);
    expect(code).toBe(exit);
  });

  it('Redis killed is CRITICAL with an actionable message; Redis back is OK', async () => {
    const f = config('redis-down', `redis:\n  - name: cache\n    url: redis://:\${REDIS_PASSWORD}@127.0.0.1:${redis.port}\n`);
    await redis.kill();
    try {
      const { code, byId } = await check(f);
      expect(byId('redis:cache').status).toBe('critical');
      expect(byId('redis:cache').message).toBe(`Redis at redis://:***@127.0.0.1:${redis.port} refused the connection (is redis-server running?)`);
      expect(code).toBe(2);
    } finally {
      await redis.startAgain();
    }
    expect((await check(f)).code).toBe(0);
  });

  it('Redis near maxmemory is a WARNING', async () => {
    const f = config('redis-full', `redis:\n  - name: cache\n    url: redis://:\${REDIS_PASSWORD}@127.0.0.1:${redis.port}\n`);
    for (let i = 0; i < 50; i++) redis.cli('SET', `filler:${i}`, 'x'.repeat(20_000));
    const used = Number(/used_memory:(\d+)/.exec(redis.cli('INFO', 'memory'))?.[1]);
    redis.cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    redis.cli('CONFIG', 'SET', 'maxmemory', String(Math.ceil(used / 0.94)));
    try {
      const { code, byId } = await check(f);
      expect(byId('redis:cache').status).toBe('warning');
      expect(byId('redis:cache').message).toMatch(/memory 9\d% of maxmemory/);
      expect(code).toBe(1);
    } finally {
      redis.cli('CONFIG', 'SET', 'maxmemory', '0');
      redis.cli('FLUSHALL');
    }
  });

  it('a SQLite file that is missing, not a database or corrupted is CRITICAL', async () => {
    writeFileSync(join(dir, 'text.db'), 'this is not a database, just text '.repeat(200));
    const corrupt = join(dir, 'corrupt.db');
    const db = new Database(corrupt);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t(v);');
    const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 3000; i++) ins.run(`value-${i}`.repeat(5));
    })();
    db.close();
    // Overwrite pages 3–6 with garbage: the header stays valid, the b-tree does not.
    const fd = openSync(corrupt, 'r+');
    writeSync(fd, Buffer.alloc(4096 * 4, 0x5a), 0, 4096 * 4, 4096 * 2);
    closeSync(fd);
    const f = config('sqlite-bad', `databases:
  - name: missing
    path: nope/missing.db
  - name: text
    path: text.db
  - name: corrupt
    path: corrupt.db
backup:
  rpo: 1m
`);
    const { code, byId } = await check(f);
    expect(byId('sqlite:missing').message).toBe(`database file ${join(dir, 'nope/missing.db')} does not exist`);
    expect(byId('sqlite:text').message).toMatch(/is not a SQLite database/);
    expect(byId('sqlite:corrupt').message).toMatch(/failed quick_check|is corrupted/);
    for (const id of ['sqlite:missing', 'sqlite:text', 'sqlite:corrupt']) expect(byId(id).status).toBe('critical');
    expect(code).toBe(2);
  });

  it('HTTP: 500 is CRITICAL for a critical endpoint, a hang past the timeout too, slower than 2 s is a WARNING', async () => {
    const f = config('http', `endpoints:
  - name: err
    url: ${http.url}/500
    critical: true
  - name: hang
    url: ${http.url}/hang
    timeout: 1s
    critical: true
`);
    const { code, byId } = await check(f);
    expect(byId('http:err')).toMatchObject({ status: 'critical', message: `${http.url}/500 answered HTTP 500 (expected 2xx/3xx)` });
    expect(byId('http:hang')).toMatchObject({ status: 'critical', message: `${http.url}/hang did not answer within 1000 ms` });
    expect(code).toBe(2);
    const slow = await check(config('http-slow', `endpoints:\n  - name: slow\n    url: ${http.url}/slow?ms=2300\n`));
    expect(slow.byId('http:slow').status).toBe('warning');
    expect(slow.byId('http:slow').message).toMatch(/slow: answered in 2\.\d s \(threshold 2\.0 s\)/);
    expect(slow.code).toBe(1);
  });

  it('an unreachable Docker engine gives one engine alert; its containers are suppressed, not thirty alerts', async () => {
    const f = join(dir, 'no-engine.yaml');
    writeFileSync(f, `docker:\n  host: unix://${dir}/no-such.sock\nthresholds: {cpu: 100, disk: 100, memory: 100}\nservices:\n  - name: a\n    container: a\n    critical: true\n  - name: b\n    container: b\n`);
    const { code, report, byId } = await check(f);
    expect(byId('docker:engine').status).toBe('critical');
    expect(byId('docker:engine').message).toContain('2 container check(s) suppressed');
    expect(report.checks.filter((c) => c.suppressedBy === 'docker:engine').map((c) => c.id)).toEqual(['container:a', 'container:b']);
    expect(report.checks.filter((c) => c.status !== 'ok' && !c.suppressedBy).map((c) => c.id)).toEqual(['docker:engine', 'system:health']);
    expect(code).toBe(2);
  });

  it('issue #27: the host CPU read opens the window before the command and its configuration load; both CPU figures are still measured', async () => {
    const f = config('window', `services:\n  - name: web\n    container: chk-web\n`);
    const r = await runCli(['check', '--json', '--config', f], { env: { OPSDECK_TRACE_TIMING: '1' } });
    // The trace goes to stderr only: stdout stays one JSON document.
    const report = JSON.parse(r.stdout) as { checks: { id: string; value?: number }[] };
    const marks = r.stderr.split('\n').filter(Boolean).map((l) => /^\[\s*[\d.]+ ms\] (.*)$/.exec(l)?.[1] ?? `not a trace line: ${l}`);
    const at = (m: string) => {
      const i = marks.indexOf(m);
      if (i < 0) throw new Error(`no "${m}" in the trace:\n${r.stderr}`);
      return i;
    };
    expect(at('check: host sample started')).toBeLessThan(at('check: imported'));
    expect(at('check: imported')).toBeLessThan(at('check: config loaded'));
    expect(at('check: config loaded')).toBeLessThan(at('check: second read host'));
    expect(at('check: primed docker')).toBeLessThan(at('check: second read docker'));
    expect(report.checks.find((c) => c.id === 'host:cpu')?.value).toEqual(expect.any(Number));
    expect(report.checks.find((c) => c.id === 'container:web')?.value).toEqual(expect.any(Number));
    expect(r.code).toBe(0);
  });
});

describe('opsdeck check: usage and configuration errors', () => {
  it('an unknown option is a usage error, exit 64, one line', async () => {
    const r = await runCli(['check', '--bogus']);
    expect(r.code).toBe(64);
    expect(r.stderr.trim().split('\n')[0]).toBe("opsdeck: unknown option '--bogus'");
  });

  it('a drill without --config and no demo in the default workspace says where it looked and what to do (exit 1)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'opsdeck-nodemo-'));
    const r = await runCli(['drill', 'run', 'api-down'], { env: { HOME: home, XDG_DATA_HOME: join(home, 'data') } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`opsdeck: no demo in ${join(home, 'data', 'opsdeck', 'demo')} (drills act on a demo workspace): start one with opsdeck demo, or pass the demo's --config\n`);
  });

  it('an unknown command says so and lists the commands, exit 64', async () => {
    const r = await runCli(['--config', 'x.yaml', 'bogus']);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe("opsdeck: unknown command 'bogus' (expected one of: check, backup, restore, db, runbook, incident, notify, heal, logs, capacity, probes, deps, watch, demo, drill; no command opens the console; opsdeck --help)\n");
  });

  it('a config error is exit 78; under --json it is one JSON error document', async () => {
    const f = join(dir, 'broken.yaml');
    writeFileSync(f, 'services:\n  - name: a\n    critical: maybe\n');
    const r = await runCli(['check', '--json', '--config', f]);
    expect(r.code).toBe(78);
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'config', message: `${f}: services[0].critical: expected boolean, got the text "maybe"` } });
    const plain = await runCli(['check', '--config', f]);
    expect(plain.code).toBe(78);
    expect(plain.stderr).toBe(`opsdeck: ${f}: services[0].critical: expected boolean, got the text "maybe"\n`);
    expect(plain.stdout).toBe('');
  });

  it('with no config at all it checks the host and notes what it could not reach', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'opsdeck-empty-'));
    const r = await runCli(['check', '--json'], { cwd, env: { XDG_CONFIG_HOME: cwd, DOCKER_HOST: host } });
    const report = JSON.parse(r.stdout) as Report & { notes: string[] };
    expect(report.notes[0]).toMatch(/no config file found/);
    expect(report.checks.some((c) => c.id === 'host:memory')).toBe(true);
    expect(report.checks.some((c) => c.id === 'container:chk-web')).toBe(true);
    const redisCheck = report.checks.find((c) => c.id === 'redis:redis');
    expect(redisCheck?.message).toMatch(/127\.0\.0\.1:6379 refused the connection .* not checked/);
    expect(redisCheck?.status).toBe('ok');
  });

  it('a set but unreachable REDIS_URL is CRITICAL', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'opsdeck-empty-'));
    const r = await runCli(['check', '--json'], { cwd, env: { XDG_CONFIG_HOME: cwd, DOCKER_HOST: host, REDIS_URL: 'redis://:topsecret99@127.0.0.1:1' } });
    const report = JSON.parse(r.stdout) as Report;
    expect(report.checks.find((c) => c.id === 'redis:redis')?.status).toBe('critical');
    expect(r.stdout).not.toContain('topsecret99');
    expect(r.code).toBe(2);
  });
});
