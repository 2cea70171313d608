import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { consoleRecord, parseConsoleKeys } from '../../src/cli/demo.js';
import { ballastBytes, ballastFile, BALLAST_MIN_BYTES, diskUse, thresholdBetween, withDiskThreshold } from '../../src/demo/disk.js';
import { writeDemoConfig, type DemoState } from '../../src/demo/workspace.js';
import { recordAudit } from '../../src/state/acks.js';
import { openStateDb, stateDir } from '../../src/state/statedb.js';
import { CLI, runCli } from '../helpers/cli.js';
import { withDiskDrill } from '../helpers/disk-lock.js';

// Issue #16: every drill is recoverable through a runbook, and the runbooks act on the demo's
// configuration: stop_command / start_command of the API, the worker and Redis (run through /bin/sh
// exactly as written), the API's log under logs: (disk-pressure removes its rotations). Real
// processes: a demo started by the built CLI (no container: the integration test owns the worker's
// name in the shared engine), its commands run by /bin/sh.

const NO_DOCKER = { DOCKER_HOST: `unix://${join(tmpdir(), 'opsdeck-no-docker.sock')}` };

const sh = (command: string) => {
  try {
    return { code: 0, out: execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', timeout: 60_000 }) };
  } catch (e) {
    const err = e as { status: number | null; stdout: string; stderr: string };
    return { code: err.status ?? 1, out: `${err.stdout}${err.stderr}` };
  }
};

const health = async (port: number): Promise<{ ok: boolean; ms: number }> => {
  const t0 = Date.now();
  try {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/health`, { signal: AbortSignal.timeout(1500) });
    await r.body?.cancel();
    return { ok: r.ok, ms: Date.now() - t0 };
  } catch {
    return { ok: false, ms: Date.now() - t0 };
  }
};

describe('the demo config names its commands shell-quoted', () => {
  it('each command, run by /bin/sh, gives opsdeck exactly its words (a path with a space and a quote)', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'opsdeck-demo-q-')), "it's a dir");
    execFileSync('mkdir', ['-p', dir]);
    // A stand-in CLI that prints the words it was given.
    const cli = join(dir, 'argv.mjs');
    writeFileSync(cli, 'console.log(JSON.stringify(process.argv.slice(2)));\n');
    const s: DemoState = {
      dir, config: join(dir, 'opsdeck.yaml'), db: join(dir, 'trading.db'), startedAt: 0, apiPort: 1234, notes: [], interval: '5s', drills: [],
      redis: { port: 6390, pidFile: join(dir, 'redis.pid') },
      container: { name: 'opsdeck-demo-worker', id: 'x', image: 'busybox', dockerHost: 'unix:///var/run/docker.sock' },
    };
    writeDemoConfig(s, cli);
    const { config } = loadConfig({ file: s.config });
    const entries = [...config.services, ...config.redis];
    const words = (command: string | undefined) => JSON.parse(sh(command ?? 'false').out) as string[];
    for (const [name, part] of [['api', 'api'], ['worker', 'worker'], ['writer', 'writer'], ['cache', 'redis']] as const) {
      const e = entries.find((x) => x.name === name);
      expect(words(e?.stop_command), name).toEqual(['drill', `stop-${part}`, '--config', s.config]);
      expect(words(e?.start_command), name).toEqual(['drill', `start-${part}`, '--config', s.config]);
    }
    // The worker keeps its compose service (the commands win over it in service-recovery).
    expect(config.services.find((x) => x.name === 'worker')).toMatchObject({ compose_service: 'worker' });
    expect(config.logs).toEqual([{ name: 'api', path: join(dir, 'logs', 'api.log'), important: [] }]); // important: the cleanup's default (issue #23)
  });
});

describe('on a running demo', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'opsdeck-demo-rb-')), 'ws');
  const file = join(dir, 'opsdeck.yaml');
  const state = () => JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as DemoState;
  const entry = (name: string) => {
    const { config } = loadConfig({ file });
    const e = [...config.services, ...config.redis].find((x) => x.name === name);
    if (!e?.stop_command || !e.start_command) throw new Error(`${name} has no commands`);
    return { stop: e.stop_command, start: e.start_command };
  };

  beforeAll(async () => {
    const r = await runCli(['demo', '--detach', '--json', '--dir', dir, '--interval', '1s'], { env: NO_DOCKER, timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await runCli(['demo', '--stop', '--dir', dir], { env: NO_DOCKER });
  });

  it('the api commands stop and start the real API: idempotent, each waits for its effect, start clears the injected fault', async () => {
    const { stop, start } = entry('api');
    const { apiPort, apiPid } = state();
    expect(stop).toContain(`'${CLI}' drill stop-api --config '${file}'`);
    let r = sh(stop);
    expect(r, r.out).toMatchObject({ code: 0, out: `stopped the API (pid ${apiPid})\n` });
    // Returned only once the effect is real: the port refuses at once.
    expect((await health(apiPort)).ok).toBe(false);
    r = sh(stop);
    expect(r).toMatchObject({ code: 0, out: 'the API was not running\n' });
    // A fault injected (api-slow), then a start: the API answers at once, fast, its control file normal.
    writeFileSync(join(dir, 'control.json'), '{"mode":"slow","delayMs":2500}\n');
    r = sh(start);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^started the API \(pid \d+\) on port \d+\n$/);
    const h = await health(apiPort);
    expect(h.ok).toBe(true);
    expect(h.ms).toBeLessThan(1000);
    expect(JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8'))).toEqual({ mode: 'normal' });
    // A start on a running API (api-errors, not restarted): already running, and the fault is cleared too.
    writeFileSync(join(dir, 'control.json'), '{"mode":"errors","errorShare":1}\n');
    r = sh(start);
    expect(r).toMatchObject({ code: 0, out: `the API already runs (pid ${state().apiPid}); its injected fault is cleared\n` });
    expect(state().apiPid).not.toBe(apiPid);
    for (let i = 0; i < 3; i++) expect((await health(apiPort)).ok).toBe(true);
  }, 60_000);

  it('the cache commands stop and start the real redis-server: idempotent, a killed one is started again', async () => {
    const s = state();
    if (!s.redis) return expect.fail('the demo has no Redis (redis-server is installed on the test machines)');
    const { stop, start } = entry('cache');
    const ping = () => sh(`redis-cli -p ${s.redis?.port} PING 2>/dev/null`).out.trim();
    expect(ping()).toBe('PONG');
    const pid = Number(readFileSync(s.redis.pidFile, 'utf8'));
    let r = sh(stop);
    expect(r).toMatchObject({ code: 0, out: `stopped redis-server (pid ${pid})\n` });
    expect(ping()).not.toBe('PONG');
    expect(sh(stop)).toMatchObject({ code: 0, out: 'redis-server was not running\n' });
    r = sh(start);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^started redis-server \(pid \d+\) on port \d+\n$/);
    expect(ping()).toBe('PONG');
    expect(sh(start).out).toMatch(/^redis-server already runs/);
    // redis-down: SIGKILL, the pid file left behind; start runs it again.
    process.kill(Number(readFileSync(s.redis.pidFile, 'utf8')), 'SIGKILL');
    r = sh(start);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^started redis-server/);
    expect(ping()).toBe('PONG');
  }, 60_000);

  it('disk-pressure: a ballast rotated log beside the API log; the threshold lies strictly between the use of / with and without it; removing the ballast alone clears it; recover puts it all back; score says not recovered in the console, then reads the console record', () =>
    withDiskDrill(async () => {
    const run = await runCli(['drill', 'run', 'disk-pressure', '--config', file], { env: NO_DOCKER, timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`F runs disk-pressure for / (or: opsdeck runbook run disk-pressure --target / --config ${file})`);
    expect(run.stdout).toContain(`fallback: opsdeck drill recover disk-pressure --config ${file}`);
    const ballast = ballastFile({ dir });
    expect(ballast).toBe(join(dir, 'logs', 'api.log.1')); // <base>.<digits> beside the live logs/api.log
    const bytes = readFileSync(ballast).length;
    expect(bytes).toBeGreaterThanOrEqual(BALLAST_MIN_BYTES);
    expect(bytes).toBeLessThanOrEqual(1024 ** 3);
    const threshold = loadConfig({ file }).config.thresholds.disk;
    const withBallast = (await diskUse('/')).percent;
    expect(withBallast).toBeGreaterThan(threshold);
    // What the disk-pressure runbook does: remove the rotated log, never the live one.
    (await import('node:fs')).rmSync(ballast);
    const without = (await diskUse('/')).percent;
    expect(without).toBeLessThan(threshold);
    expect(existsSync(join(dir, 'logs', 'api.log'))).toBe(true);
    // Both sides have room: each at least a quarter of the ballast's share of the disk.
    const share = withBallast - without;
    expect(threshold - without).toBeGreaterThan(share / 4);
    expect(withBallast - threshold).toBeGreaterThan(share / 4);
    const rec = await runCli(['drill', 'recover', 'disk-pressure', '--config', file], { env: NO_DOCKER });
    expect(rec.code, rec.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toMatch(/thresholds:/);
    expect(loadConfig({ file }).config.thresholds.disk).toBe(85);

    // drill score: no console record yet, then the console's record for this alert.
    let score = await runCli(['drill', 'score', 'disk-pressure', '--config', file], { env: NO_DOCKER });
    expect(score.stdout).toContain('  console:   not recovered in the console\n');
    const started = state().drills.at(-1)?.startedAt ?? 0;
    const db = await openStateDb(stateDir(loadConfig({ file }).config.state_dir));
    // One of an earlier episode (fired before the drill) is not this drill's.
    recordAudit(db, { action: 'console.keys', target: 'host:disk:/', outcome: 'ok', detail: JSON.stringify({ keys: 99, firedAt: started - 60_000, resolvedAt: started - 1000, runbooks: [] }) });
    recordAudit(db, { action: 'console.keys', target: 'host:disk:/', outcome: 'ok', detail: JSON.stringify({ keys: 4, firedAt: started + 3000, resolvedAt: started + 15_500, runbooks: ['disk-pressure'] }) });
    db.close();
    score = await runCli(['drill', 'score', 'disk-pressure', '--config', file], { env: NO_DOCKER });
    expect(score.stdout).toContain('  console:   4 keys, 12.5s from detection to recovery (runbooks: disk-pressure)\n');
    const json = JSON.parse((await runCli(['drill', 'score', 'disk-pressure', '--json', '--config', file], { env: NO_DOCKER })).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ drill: 'disk-pressure', alert: 'host:disk:/', consoleKeys: 4, consoleMs: 12_500, consoleRunbooks: ['disk-pressure'] });
  }), 180_000);
});

describe('the ballast and its threshold (pure)', () => {
  it('is 1 GiB at most, a tenth of the free space, and refused when that is too little', () => {
    expect(ballastBytes(100 * 1024 ** 3)).toBe(1024 ** 3);
    expect(ballastBytes(2 * 1024 ** 3)).toBeLessThanOrEqual(2 * 1024 ** 3 / 10);
    expect(() => ballastBytes(100 * 1024 ** 2)).toThrow(/disk-pressure needs 64 MiB of ballast \(a tenth of the free space\), and \/ has only 100 MiB free/);
  });
  it('lies strictly between the two usages, halfway; none when they are too close', () => {
    expect(thresholdBetween(22.5, 23.5)).toBe(23);
    const t = thresholdBetween(41.00001, 41.0009);
    expect(t).toBeGreaterThan(41.00001);
    expect(t).toBeLessThan(41.0009);
    expect(() => thresholdBetween(41.00001, 41.00002)).toThrow(/no threshold lies between them/);
  });
  it('is written into the config and taken out again (a fractional percent)', () => {
    const cfg = 'name: demo\nservices:\n  - name: api\n';
    const set = withDiskThreshold(cfg, 23.4567);
    expect(set).toBe('name: demo\nthresholds:\n  disk: 23.4567\nservices:\n  - name: api\n');
    expect(withDiskThreshold(withDiskThreshold(set, 12.5), undefined)).toBe(cfg);
  });
});

describe("the console's record for a drill", () => {
  it('reads console.keys details, and takes the first episode fired in the drill, before the next drill on that alert', () => {
    expect(parseConsoleKeys('{"keys":3,"firedAt":10,"resolvedAt":20,"runbooks":["service-recovery"]}')).toEqual({ keys: 3, firedAt: 10, resolvedAt: 20, runbooks: ['service-recovery'] });
    expect(parseConsoleKeys('{"keys":"3"}')).toBeUndefined();
    expect(parseConsoleKeys('not json')).toBeUndefined();
    const e = (firedAt: number) => ({ keys: firedAt, firedAt, resolvedAt: firedAt + 1, runbooks: [] });
    expect(consoleRecord([e(5), e(30), e(12)], 10, undefined)?.firedAt).toBe(12);
    expect(consoleRecord([e(5), e(30)], 10, 20)).toBeUndefined();
  });
});
