import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { withDiskDrill } from '../helpers/disk-lock.js';
import { docker } from '../helpers/docker-engine.js';
import { TmuxSession } from '../helpers/tmux.js';
import { Watcher } from '../helpers/watch.js';
import { rowCount } from '../helpers/sqlite.js';
import { startContainer, type DemoState } from '../../src/demo/workspace.js';

// `opsdeck demo` and the drills against the real demo stack (a Node API, a writer, redis-server,
// a container in the private Docker engine), watched by a real `opsdeck watch` process.

const host = inject('dockerHost');
const dir = join(mkdtempSync(join(tmpdir(), 'opsdeck-demo-')), 'ws');
const env = { DOCKER_HOST: host };
const config = join(dir, 'opsdeck.yaml');
let watcher: Watcher;
let summary: { dir: string; config: string; api: string; notes: string[] };

interface DemoJson {
  apiPid: number;
  writerPid: number;
  redis?: { pidFile: string };
  container?: { name: string; image: string };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  const r = await runCli(['demo', '--detach', '--json', '--dir', dir, '--interval', '1s'], { env, timeoutMs: 90_000 });
  expect(r.code, r.stderr).toBe(0);
  summary = JSON.parse(r.stdout) as typeof summary;
  watcher = new Watcher(config, env);
}, 120_000);

afterAll(async () => {
  await watcher?.stop();
  await runCli(['demo', '--stop', '--dir', dir], { env });
});

describe('opsdeck demo', () => {
  it('starts a real stack and says what runs (API, writer, Redis, a container from a local image)', async () => {
    expect(summary.config).toBe(config);
    expect(summary.notes.join('\n')).toMatch(/API \(a Node process/);
    expect(summary.notes.join('\n')).toMatch(/redis-server on 127\.0\.0\.1:\d+/);
    expect(summary.notes.join('\n')).toMatch(/container opsdeck-demo-worker runs image opsdeck-test\/busybox:1 \(found locally\)/);
    // Every check OK (host gauges aside). Polled, up to three looks: on a loaded CI machine one answer
    // of the demo API took 2.3 s ("slow", threshold 2 s) — a timing, not a broken stack.
    let bad: { id: string; status: string; message?: string }[] = [];
    for (let look = 0; look < 3; look++) {
      const check = await runCli(['check', '--json', '--config', config], { env });
      const report = JSON.parse(check.stdout) as { status: string; checks: { id: string; status: string; message?: string }[] };
      bad = report.checks.filter((c) => c.status !== 'ok' && !c.id.startsWith('host:'));
      if (bad.length === 0) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(bad).toEqual([]);
    // The writer really writes.
    // rowCount closes its handle at once: one left for the garbage collector kept the file open in
    // this process, and the restore drills below were refused ("still open in pid …", seen in CI).
    const count = () => rowCount(join(dir, 'data/trading.db'), 'trades');
    const before = count();
    await new Promise((r) => setTimeout(r, 1000));
    expect(count()).toBeGreaterThan(before);
  });

  it('refuses a second demo in the same workspace', async () => {
    const r = await runCli(['demo', '--detach', '--dir', dir], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`opsdeck: a demo is already running in ${dir} (stop it with: opsdeck demo --stop)\n`);
  });
});

/** The demo's probe timeouts (s) per alert: the API 5 s, Redis 2 s, Docker 5 s; the host reads /proc. */
const TIMEOUT_S: Record<string, number> = { 'http:api': 5, 'redis:cache': 2, 'container:worker': 5, 'host:disk:/': 0 };
/**
 * How often each source checks (s): `interval` (1 s), or `refresh` (2 s) for the Docker engine,
 * whichever is longer. A crash loop counts double: the container is "running" for a moment between
 * Docker's restarts, and a look that lands there breaks the failure streak (seen: 14 s to 22.5 s
 * for the whole drill on a loaded 2-core machine; noted in the closing note as worth a better
 * crash-loop signal, e.g. a restart count that grew).
 */
const PERIOD_S: Record<string, number> = { 'container:worker': 4 };
/**
 * Slack for starting the drill's process, the config reload's 1 s poll and a 2-core machine running
 * other test files beside this one (seen: disk-pressure at 6.5 s for a 6 s bound, container-crashloop
 * at 18.7 s for 16 s). The regression this bound catches (issue #11: api-slow seen after 24 s, the
 * interval stretched by each slow answer) still fails it: api-slow's bound is 3 + 5 + 10 = 18 s.
 */
const SLACK_MS = 10_000;

describe('drills', () => {
  it('drill list names every scenario with its alert and recovery', async () => {
    const r = await runCli(['drill', 'list', '--json', '--config', config], { env });
    const names = (JSON.parse(r.stdout) as { drills: { name: string }[] }).drills.map((d) => d.name);
    expect(names).toEqual(['api-down', 'api-slow', 'api-errors', 'redis-down', 'redis-oom', 'db-corrupt', 'rows-deleted', 'rows-deleted-newest', 'container-crashloop', 'disk-pressure']);
    // Its commands carry this demo's --config; with no demo in the default folder, a placeholder, never a path that does not exist.
    expect(r.stdout).toContain(`--config ${config}`);
    const home = mkdtempSync(join(tmpdir(), 'opsdeck-nodemo-'));
    const bare = await runCli(['drill', 'list'], { env: { XDG_DATA_HOME: home, HOME: home } });
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stdout).toContain("--config '<demo dir>/opsdeck.yaml'");
    expect(bare.stdout).not.toContain(home);
  });

  it('refuses any config that is not the demo workspace', async () => {
    const other = join(mkdtempSync(join(tmpdir(), 'opsdeck-notdemo-')), 'opsdeck.yaml');
    (await import('node:fs')).writeFileSync(other, 'name: prod\n');
    const r = await runCli(['drill', 'run', 'api-down', '--config', other], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/drills act only on the demo workspace/);
  });

  it.each([
    ['api-down', 'http:api'],
    ['api-slow', 'http:api'],
    ['api-errors', 'http:api'],
    ['redis-down', 'redis:cache'],
    ['redis-oom', 'redis:cache'],
    ['container-crashloop', 'container:worker'],
    ['disk-pressure', 'host:disk:/'],
  ])('%s fires %s within failure_threshold × interval + one timeout; its recovery resolves it within the documented rule; score reports detect and recover times', (drill, alert) => (drill === 'disk-pressure' ? withDiskDrill(() => drillOnce(drill, alert)) : drillOnce(drill, alert)), 240_000);
});

async function drillOnce(drill: string, alert: string): Promise<void> {
  {
    const from = watcher.events.length;
    const t0 = Date.now();
    // No DOCKER_HOST here: a drill acts on the engine the demo runs on, not on the shell's default.
    const run = await runCli(['drill', 'run', drill, '--config', config], { env: {}, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`expect alert ${alert} to fire`);
    const fired = await watcher.waitFor('fired', alert, 60_000, from);
    // The API logs what the drill breaks (the log review and api-degraded read logs/api.log).
    if (drill === 'api-errors') expect(readFileSync(join(dir, 'logs', 'api.log'), 'utf8')).toMatch(/ ERROR GET \/api\/v1\/health 500: upstream failure \(drill\)/);
    if (drill === 'api-slow') expect(readFileSync(join(dir, 'logs', 'api.log'), 'utf8')).toMatch(/ WARN GET \/api\/v1\/health answered after \d+ ms \(slow\)/);
    // Detection (issue #11): failure_threshold (3) × interval (1 s) + the probe's timeout, plus slack
    // for starting processes, the config reload's 1 s poll (disk-pressure) and a loaded machine.
    expect(Date.parse(fired.at) - t0, `${drill} detected after ${Date.parse(fired.at) - t0} ms`).toBeLessThanOrEqual((3 * (PERIOD_S[alert] ?? 1) + (TIMEOUT_S[alert] ?? 5)) * 1000 + SLACK_MS);
    // The recovery command exactly as printed (with the --config it needs), run from another folder.
    const printed = /opsdeck (drill recover \S+ --config \S+)/.exec(run.stdout)?.[1];
    expect(printed, run.stdout).toBe(`drill recover ${drill} --config ${config}`);
    const rec = await runCli((printed ?? '').split(' '), { env: {}, timeoutMs: 60_000, cwd: tmpdir() });
    expect(rec.code, rec.stderr).toBe(0);
    const r0 = Date.now();
    const resolved = await watcher.waitFor('resolved', alert, 60_000, from);
    // Resolution (README, opsdeck watch): recovery_threshold (2) good checks; an alert raised by the
    // error rate (api-errors) after max(recovery_threshold, rate_recovery = 5) successes in a row.
    const rule = drill === 'api-errors' ? 5 : 2;
    expect(Date.parse(resolved.at) - r0, `${drill} resolved after ${Date.parse(resolved.at) - r0} ms`).toBeLessThanOrEqual((rule * (PERIOD_S[alert] ?? 1) + (TIMEOUT_S[alert] ?? 5)) * 1000 + SLACK_MS);
    const score = JSON.parse((await runCli(['drill', 'score', drill, '--json', '--config', config], { env })).stdout) as Record<string, unknown>;
    expect(score).toMatchObject({ drill, alert, tradesMissing: 0 });
    expect(score.timeToDetectSec).toBeGreaterThan(0);
    expect(score.timeToRecoverSec as number).toBeGreaterThan(score.timeToDetectSec as number);
    // Without a scenario, every drill run so far is scored, each on its own.
    const all = JSON.parse((await runCli(['drill', 'score', '--json', '--config', config], { env })).stdout) as { drills: { drill: string; timeToDetectSec: number | null }[] };
    expect(all.drills.map((x) => x.drill)).toContain(drill);
    expect(all.drills.every((x) => x.timeToDetectSec !== null)).toBe(true);
    // api-errors resolves only once its errors leave the 20-probe window: ~25 s on a quiet machine.
  }
}

// Issue #16: the runbooks recover these drills through the configuration, by running a service's
// stop_command then start_command through /bin/sh exactly as written (service-recovery for the
// worker, api-degraded's restart for the API). Here the commands alone, as the runbooks run them.
describe('drills recovered by the configured commands (what the runbooks run)', () => {
  const commands = async (name: string) => {
    const { loadConfig } = await import('../../src/config/load.js');
    const e = loadConfig({ file: config }).config.services.find((x) => x.name === name);
    return [e?.stop_command ?? 'false', e?.start_command ?? 'false'];
  };
  const sh = (command: string) => execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '' } });

  it.each([
    ['container-crashloop', 'worker', 'container:worker'],
    ['api-slow', 'api', 'http:api'],
  ])('%s: the %s service\'s stop_command and start_command resolve %s', async (drill, service, alert) => {
    const from = watcher.events.length;
    const run = await runCli(['drill', 'run', drill, '--config', config], { env: {}, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`recover: in the console: select the alert ${alert}, F runs \\S+ for ${service} \\(or: opsdeck runbook run \\S+ --target ${service} --config `));
    await watcher.waitFor('fired', alert, 60_000, from);
    expect(run.stderr).not.toMatch(/still open/);
    if (drill === 'api-slow') {
      // The same drill again while its alert is open: run, and said so (its score cannot count this firing).
      const again = await runCli(['drill', 'run', drill, '--config', config], { env: {}, timeoutMs: 60_000 });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(new RegExp(`^note: alert ${alert} is still open \\(fired [\\d.]+ s ago, not resolved since\\): this drill's score counts only a firing after it starts`));
    }
    const [stop, start] = await commands(service);
    expect(sh(stop ?? 'false')).toMatch(/^stopped /);
    expect(sh(start ?? 'false')).toMatch(/^(recreated|started) /);
    await watcher.waitFor('resolved', alert, 60_000, from);
    if (drill === 'container-crashloop') expect(docker(host, 'inspect', '-f', '{{.State.Status}} {{.HostConfig.RestartPolicy.Name}}', 'opsdeck-demo-worker')).toBe('running no');
  }, 240_000);
});

describe('database drills are recovered with the restore wizard', () => {
  const trades = async (sql: string, ...args: (number | string)[]) => {
    const Db = (await import('better-sqlite3')).default;
    const db = new Db(join(dir, 'data/trading.db'), { readonly: true, timeout: 5000 });
    try {
      return (db.prepare(sql).get(...args) as { n: number }).n;
    } finally {
      db.close();
    }
  };
  const lastDrill = () => (JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as { drills: { scenario: string; startedAt: number; maxTradeId: number; tradeCount: number; backupMaxTradeId?: number; backupTradeCount?: number }[] }).drills.at(-1);

  it('rows-deleted fires sqlite:trading:rows; a merge restore (writer stopped and started by its commands) brings every trade back: 0 lost', async () => {
    const from = watcher.events.length;
    const run = await runCli(['drill', 'run', 'rows-deleted', '--config', config], { env, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('opsdeck restore --db trading --merge');
    const fired = await watcher.waitFor('fired', 'sqlite:trading:rows', 60_000, from);
    expect(fired.message).toMatch(/trades is missing 100 rows \(id \d+–\d+\)/);
    const writerBefore = (JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as DemoJson).writerPid;
    const r = await runCli(['restore', '--db', 'trading', '--merge', '--yes', '--config', config], { env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/stopped command:writer/);
    expect(r.stdout).toMatch(/trades: 100 missing rows back/);
    const writerAfter = (JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as DemoJson).writerPid;
    expect(alive(writerBefore)).toBe(false);
    expect(alive(writerAfter)).toBe(true);
    await watcher.waitFor('resolved', 'sqlite:trading:rows', 60_000, from);
    const score = JSON.parse((await runCli(['drill', 'score', 'rows-deleted', '--json', '--config', config], { env })).stdout) as Record<string, number>;
    expect(score).toMatchObject({ drill: 'rows-deleted', tradesMissing: 0 });
  }, 240_000);

  it('db-corrupt (a backup, then garbage over the file) fires sqlite:trading; the whole-file restore brings every trade committed before it back, and the score matches the database', async () => {
    const from = watcher.events.length;
    const run = await runCli(['drill', 'run', 'db-corrupt', '--config', config], { env, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('opsdeck restore --db trading');
    await watcher.waitFor('fired', 'sqlite:trading', 60_000, from);
    // Scored before the recovery: one line that says why, not SQLite's error alone.
    const early = await runCli(['drill', 'score', 'db-corrupt', '--config', config], { env });
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/^opsdeck: cannot read trades from \S+trading\.db: .+ \(recover the database first\)\n$/);
    // Trades the writer managed to commit into the corrupt file after the drill began are not in
    // any backup: this operator gives them up (the restore names them first).
    const r = await runCli(['restore', '--db', 'trading', '--yes', '--accept-loss', '--config', config], { env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    await watcher.waitFor('resolved', 'sqlite:trading', 60_000, from);
    const d = lastDrill();
    expect(d?.backupMaxTradeId).toBe(d?.maxTradeId); // the drill's backup holds every trade before it
    const score = JSON.parse((await runCli(['drill', 'score', 'db-corrupt', '--json', '--config', config], { env })).stdout) as Record<string, number>;
    // Checked against the database: every trade committed before the drill is there
    // (ids are reused after a restore, so a trade is "the same" by id and a time before the drill).
    const before = new Date(d?.startedAt ?? 0).toISOString();
    const present = await trades('SELECT count(*) AS n FROM trades WHERE id <= ? AND executed_at <= ?', d?.maxTradeId ?? 0, before);
    expect(present).toBe(d?.tradeCount);
    expect(score).toMatchObject({ tradesMissing: 0, tradesMissingCoveredByBackup: 0, tradesCountedAt: 'now' });
  }, 240_000);

  it("a drill's score stays as it was when the next drill began: a later loss is the later drill's (an operator's trial saw db-corrupt's 0 turn into 19)", async () => {
    const d = lastDrill();
    expect(d?.scenario).toBe('db-corrupt');
    const run = await runCli(['drill', 'run', 'redis-down', '--config', config], { env, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    // After redis-down began, 5 trades db-corrupt counted go (as a later drill's restore could drop them).
    const Db = (await import('better-sqlite3')).default;
    const db = new Db(join(dir, 'data/trading.db'), { timeout: 5000 });
    let gone: Record<string, unknown>[] = [];
    try {
      gone = db.prepare('SELECT portfolio_id, symbol, side, qty, price, executed_at FROM trades WHERE id <= ? ORDER BY id DESC LIMIT 5').all(d?.maxTradeId ?? 0) as Record<string, unknown>[];
      expect(db.prepare('DELETE FROM trades WHERE id IN (SELECT id FROM trades WHERE id <= ? ORDER BY id DESC LIMIT 5)').run(d?.maxTradeId ?? 0).changes).toBe(5);
    } finally {
      db.close();
    }
    const first = JSON.parse((await runCli(['drill', 'score', 'db-corrupt', '--json', '--config', config], { env })).stdout) as Record<string, unknown>;
    expect(first).toMatchObject({ tradesMissing: 0, tradesCountedAt: 'next drill' });
    const later = JSON.parse((await runCli(['drill', 'score', 'redis-down', '--json', '--config', config], { env })).stdout) as Record<string, unknown>;
    expect(later).toMatchObject({ tradesMissing: 5, tradesCountedAt: 'now' });
    const text = (await runCli(['drill', 'score', 'db-corrupt', '--config', config], { env })).stdout;
    expect(text).toMatch(/trades committed before the drill: \d+, missing when the next drill started: 0/);
    expect(text).toMatch(/trades committed during the drill \(up to the next drill\): \d+, missing when the next drill started: \d+/);
    // The operator re-enters them under new ids (as the rows alert advises for trades a merge kept aside): not missing any more.
    const again = new Db(join(dir, 'data/trading.db'), { timeout: 5000 });
    try {
      const insert = again.prepare('INSERT INTO trades (portfolio_id, symbol, side, qty, price, executed_at) VALUES (@portfolio_id, @symbol, @side, @qty, @price, @executed_at)');
      for (const row of gone) insert.run(row);
    } finally {
      again.close();
    }
    const reentered = JSON.parse((await runCli(['drill', 'score', 'redis-down', '--json', '--config', config], { env })).stdout) as Record<string, unknown>;
    expect(reentered).toMatchObject({ tradesMissing: 0, tradesCountedAt: 'now' });
    const rec = await runCli(['drill', 'recover', 'redis-down', '--config', config], { env, timeoutMs: 60_000 });
    expect(rec.code, rec.stderr).toBe(0);
  }, 120_000);
});

describe('opsdeck demo --stop', () => {
  it('stops every process and container and removes the workspace', async () => {
    const state = JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as DemoJson;
    const redisPid = state.redis ? Number(readFileSync(state.redis.pidFile, 'utf8')) : 0;
    await watcher.stop();
    const r = await runCli(['demo', '--stop', '--dir', dir], { env });
    expect(r.code).toBe(0);
    for (const pid of [state.apiPid, state.writerPid, redisPid]) expect(alive(pid)).toBe(false);
    expect(docker(host, 'ps', '-aq', '--filter', 'name=opsdeck-demo-worker')).toBe('');
    expect(existsSync(dir)).toBe(false);
  });

  // Here, between the two demos of this file: the worker's name is the demo's own.
  it('a worker whose command cannot start is removed, not left "Created" for --stop to miss', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'opsdeck-demo-nostart-'));
    const s: DemoState = { dir: ws, config: join(ws, 'opsdeck.yaml'), db: join(ws, 'trading.db'), startedAt: 0, apiPort: 1, notes: [], interval: '1s', drills: [] };
    const r = await startContainer(s, env, ['/no/such/command']);
    expect(r.started).toBe(false);
    expect(r.note).toMatch(/^no container: starting opsdeck-test\/busybox:1 failed: /);
    expect(s.container).toBeUndefined();
    expect(docker(host, 'ps', '-aq', '--filter', 'name=opsdeck-demo-worker')).toBe('');
  });
});

// The README's command to run opsdeck, `opsdeck demo`, in a real terminal (tmux): the console opens
// on the demo stack; every drill makes its alert fire in the console's Alerts pane and its
// documented recovery (drill recover, or the restore wizard unattended) clears it; `q` stops and
// removes everything. In this file, after the first demo stopped: two demos in one Docker engine
// would share the worker container's name.
const ws2 = join(mkdtempSync(join(tmpdir(), 'opsdeck-demo-console-')), 'ws');
const config2 = join(ws2, 'opsdeck.yaml');
let t: TmuxSession | undefined;
afterAll(async () => {
  t?.kill();
  await runCli(['demo', '--stop', '--dir', ws2], { env });
});
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// drill, the alert the console must show, the runbook F runs on it, and its target (issue #16:
// every drill recovered from its alert, in the console, without a shell command).
const DRILLS: [string, string, string, string][] = [
  ['api-down', 'http:api', 'service-recovery', 'api'],
  ['api-slow', 'http:api', 'api-degraded', 'api'],
  ['api-errors', 'http:api', 'api-degraded', 'api'],
  ['redis-down', 'redis:cache', 'redis-recovery', 'cache'],
  ['redis-oom', 'redis:cache', 'redis-recovery', 'cache'],
  ['db-corrupt', 'sqlite:trading', 'restore-database', 'trading'],
  ['rows-deleted', 'sqlite:trading:rows', 'restore-database', 'trading'],
  ['rows-deleted-newest', 'sqlite:trading:rows', 'restore-database', 'trading'],
  ['container-crashloop', 'container:worker', 'service-recovery', 'worker'],
  ['disk-pressure', 'host:disk:/', 'disk-pressure', '/'],
];

/** Selects the alert in the Alerts pane: A, then j (and k) until its details are the ones shown. */
async function selectAlert(t: TmuxSession, alert: string): Promise<void> {
  t.send('A');
  const selected = new RegExp(`▸ ${esc(alert)}:`);
  for (const key of [...'jjjjjj', ...'kkkkkkkkkkkk']) {
    if (selected.test(t.capture())) return;
    t.send(key);
    await new Promise((r) => setTimeout(r, 200));
  }
  await t.waitFor(selected, 5_000);
}

/** What is being asked now: the step list's waiting row (runbooks) or the last step line (the restore wizard). */
const asking = (s: string) => `${(s.match(/[^\n]*waiting for your answer[^\n]*/g) ?? []).join('|')}#${(s.match(/\[\d+\/\d+\][^\n]*/g) ?? []).at(-1) ?? ''}`;

/**
 * An operator at 3 a.m.: selects the alert, reads "F: run RUNBOOK for TARGET", presses F and
 * answers y to every question until the run says it completed (the restore wizard: enter on the way
 * it suggests, then y; giving rows up: the database's name typed, then enter), then esc back to the dashboard.
 */
async function recoverFromAlert(t: TmuxSession, alert: string, runbook: string, target: string): Promise<void> {
  await selectAlert(t, alert);
  await t.waitFor(new RegExp(`F: run ${esc(runbook)} for ${esc(target)}`), 10_000);
  t.send('F');
  const restore = runbook === 'restore-database';
  if (restore) {
    await t.waitFor(/Restore wizard: trading/);
    t.send('Enter', false);
  }
  const done = restore ? /restore wizard finished/ : new RegExp(`${esc(runbook)} for ${esc(target)}: completed`);
  // Whole-file restores ask to give up rows the backup lacks: trades written after the drill began
  // (the score below fails if one committed before it is lost).
  const giveUp = new RegExp(`type ${esc(target)} and enter to give them up`);
  const asked = restore ? new RegExp(`y yes, run it · n no, stop the restore here|${giveUp.source}`) : /y yes, run it · n no, stop the runbook here|y try it again/;
  const failed = /did not finish|NOT complete|restore failed|ended with exit/;
  for (;;) {
    const screen = await t.waitFor((s) => done.test(s) || failed.test(s) || (asked.test(s) && !/esc back to the dashboard/.test(s)), 180_000);
    if (done.test(screen)) break;
    if (failed.test(screen)) throw new Error(`${runbook} for ${target} did not finish:\n${screen}`);
    const q = asking(screen);
    if (restore && giveUp.test(screen)) {
      t.send(target);
      t.send('Enter', false);
    } else t.send('y');
    await t.waitFor((s) => asking(s) !== q || done.test(s) || failed.test(s), 180_000);
  }
  t.send('Escape', false);
  await t.waitFor(/Alerts \(/);
}

/** The last transition the console recorded for an alert ('fired', 'resolved'), from the demo's state database. */
const lastTransition = async (ws: string, alert: string): Promise<string | undefined> => {
  const Db = (await import('better-sqlite3')).default;
  const db = new Db(join(ws, 'state/state.db'), { readonly: true, timeout: 5000 });
  try {
    return (db.prepare("SELECT event FROM alert_events WHERE check_id = ? AND event IN ('fired', 'resolved') ORDER BY at DESC, rowid DESC LIMIT 1").get(alert) as { event: string } | undefined)?.event;
  } finally {
    db.close();
  }
};

/** Polls `fn` until it returns a value (every 250 ms), or fails naming `what` and the last value seen. */
async function pollFor<T>(what: string, fn: () => Promise<{ done: boolean; value: T }>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await fn();
    if (r.done) return r.value;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s; last seen: ${JSON.stringify(r.value)}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

const kept = async (ws: string) => {
  const Db = (await import('better-sqlite3')).default;
  const db = new Db(join(ws, 'data/trading.db'), { readonly: true, timeout: 5000 });
  try {
    return (db.prepare('SELECT count(*) AS n FROM _opsdeck_conflicts_trades').get() as { n: number }).n;
  } finally {
    db.close();
  }
};
// The operator reviews the kept trades and clears the table (here: drops it), so the next drills start clean.
const dropConflicts = async (ws: string) => {
  const Db = (await import('better-sqlite3')).default;
  const db = new Db(join(ws, 'data/trading.db'), { timeout: 5000 });
  try {
    db.exec('DROP TABLE _opsdeck_conflicts_trades');
  } finally {
    db.close();
  }
};

describe('opsdeck demo in a terminal', () => {
  it('opens the console on the demo stack; each drill fires its alert there and its recovery clears it; q stops everything', async () => {
    t = TmuxSession.start(`opsdeck-demo-${process.pid}`, ['demo', '--dir', ws2, '--interval', '1s'], { columns: 160, rows: 48, env });
    await t.waitFor((s) => /demo\b.*health/.test(s) && /Alerts \(/.test(s) && /opsdeck-demo-worker\s+running/.test(s), 120_000);
    const term = t;
    const consoleDrill = async (drill: string, alert: string, runbook: string, target: string): Promise<void> => {
      const t = term;
      // A drill starts from a closed alert: one still open from an earlier drill's side effects (the
      // API answers 503 while the database is corrupt) would fire before the drill began, and its
      // recovery would not count as this drill's (seen in CI: consoleKeys null).
      await pollFor(`${alert} closed before ${drill}`, async () => {
        const last = await lastTransition(ws2, alert);
        return { done: last !== 'fired', value: last };
      }, 90_000);
      const run = await runCli(['drill', 'run', drill, '--config', config2], { env, timeoutMs: 60_000 });
      expect(run.code, `${drill}: ${run.stderr}`).toBe(0);
      const firing = new RegExp(`(CRITICAL|WARNING)\\s+${esc(alert)}\\s+\\S+\\s+firing`);
      await t.waitFor(firing, 60_000);
      await recoverFromAlert(t, alert, runbook, target);
      if (drill === 'rows-deleted-newest') {
        // The trades whose ids the writer reused are kept, not lost; the alert says where, and
        // stays until the operator has reviewed them (here: dropped the table).
        expect(await kept(ws2)).toBeGreaterThan(0);
        const c = JSON.parse((await runCli(['check', '--json', '--config', config2], { env })).stdout) as { checks: { id: string; status: string; message: string }[] };
        expect(c.checks.find((x) => x.id === 'sqlite:trading:rows')).toMatchObject({ status: 'warning', message: expect.stringMatching(/rows of trades in _opsdeck_conflicts_trades/) as unknown });
        // Scored while they are kept: a trade in the conflicts table is not lost.
        const before = JSON.parse((await runCli(['drill', 'score', drill, '--json', '--config', config2], { env })).stdout) as Record<string, unknown>;
        expect(before, drill).toMatchObject({ drill, tradesMissing: 0 });
        await dropConflicts(ws2);
      }
      const open = new RegExp(`${esc(alert)}\\s+\\S+\\s+(firing|resolving|pending)`);
      await t.waitFor((s) => !open.test(s) && /Alerts \(/.test(s), 90_000);
      // The screen can hide a row (a crowded pane says "+N more"): the score is read once the console
      // has recorded the resolution (and, with it, its keys).
      const score = await pollFor(`${drill}: ${alert} resolved in the console's record`, async () => {
        const value = JSON.parse((await runCli(['drill', 'score', drill, '--json', '--config', config2], { env })).stdout) as Record<string, unknown>;
        return { done: value.timeToRecoverSec !== null && value.consoleKeys !== null, value };
      }, 90_000);
      // Recovered in the console, by keys, with no committed trade lost.
      if (drill !== 'rows-deleted-newest') expect(score, drill).toMatchObject({ drill, tradesMissing: 0 });
      expect(score, drill).toMatchObject({ consoleKeys: expect.any(Number) as unknown });
      expect(score.consoleKeys, drill).toBeGreaterThan(0);
    };
    for (const [drill, alert, runbook, target] of DRILLS) {
      if (drill === 'disk-pressure') await withDiskDrill(() => consoleDrill(drill, alert, runbook, target));
      else await consoleDrill(drill, alert, runbook, target);
    }
    // Issue #18: the console (holding the incident-rules lease) opened an incident when the first
    // critical drill alert fired, and the other drills' alerts joined it; its milestones are in order,
    // and once resolved its postmortem draft has every section.
    const list = JSON.parse((await runCli(['incident', 'list', '--json', '--config', config2], { env })).stdout) as { incidents: { id: string; status: string }[] };
    expect(list.incidents).toHaveLength(1);
    const id = (list.incidents[0] as { id: string }).id;
    const resolved = await runCli(['incident', 'resolve', id, '--config', config2], { env });
    expect(resolved.code, resolved.stderr).toBe(0);
    const shown = JSON.parse((await runCli(['incident', 'show', id, '--json', '--config', config2], { env })).stdout) as { incident: { severity: string; checks: string[]; milestones: Record<string, number | undefined> } };
    expect(shown.incident.severity).toMatch(/^P[12]$/);
    expect(shown.incident.checks).toEqual(expect.arrayContaining(['redis:cache', 'http:api']));
    const m = shown.incident.milestones;
    const times = ['detected', 'acknowledged', 'mitigated', 'resolved'].map((k) => m[k]).filter((v): v is number => v !== undefined);
    expect(m.detected).toBeDefined();
    expect(m.resolved).toBeDefined();
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const md = (await runCli(['incident', 'export', id, '--format', 'md', '--config', config2], { env })).stdout;
    for (const h of ['Summary', 'Impact', 'Timeline', 'Actions taken', 'Recovery targets', 'Follow-ups']) expect(md).toMatch(new RegExp(`^#+ ${h}`, 'm'));
    const state = JSON.parse(readFileSync(join(ws2, 'demo.json'), 'utf8')) as { apiPid: number; writerPid: number };
    t.send('q');
    const end = await t.waitFor(/EXIT=0/, 60_000);
    // The scores are printed as the demo ends (its workspace and record are removed).
    expect(end).toMatch(/drill scores of this demo/);
    // "Missing now" counts, for every drill before it, the kept trades this operator reviewed and
    // dropped after rows-deleted-newest; each drill's own 0 was asserted right after its recovery.
    // A drill's recovery that drops trades written during it says so (" + N LOST of M written during
    // it"): a whole-file restore of the corrupt file may. The API and Redis drills touch no trade:
    // trades of their window that a later drill's restore dropped are that drill's, not theirs.
    for (const [drill] of DRILLS) expect(end).toMatch(new RegExp(`${esc(drill)}\\s+detected [\\d.]+s · recovered [\\d.]+s · trades missing (?:now|at the next drill) \\d+ of \\d+( \\+ \\d+ LOST of \\d+ written during it)? · console: \\d+ keys`));
    for (const drill of ['api-down', 'api-slow', 'api-errors', 'redis-down', 'redis-oom']) expect(end).not.toMatch(new RegExp(`${esc(drill)}\\s+detected.*LOST`));
    expect(alive(state.apiPid)).toBe(false);
    expect(alive(state.writerPid)).toBe(false);
    expect(docker(host, 'ps', '-aq', '--filter', 'name=opsdeck-demo-worker')).toBe('');
    expect(existsSync(ws2)).toBe(false);
  }, 900_000);
});
