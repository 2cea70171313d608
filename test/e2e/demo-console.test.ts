import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { docker } from '../helpers/docker-engine.js';
import { TmuxSession } from '../helpers/tmux.js';

// The README's command to run opsdeck, `opsdeck demo`, in a real terminal (tmux): the console opens
// on the demo stack; every drill makes its alert fire in the console's Alerts pane and its
// documented recovery (drill recover, or the restore wizard unattended) clears it; `q` stops and
// removes everything.

const host = inject('dockerHost');
const ws = join(mkdtempSync(join(tmpdir(), 'opsdeck-demo-console-')), 'ws');
const config = join(ws, 'opsdeck.yaml');
const env = { DOCKER_HOST: host };
let t: TmuxSession | undefined;

afterAll(async () => {
  t?.kill();
  await runCli(['demo', '--stop', '--dir', ws], { env });
});

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// drill, the alert the console must show, the documented recovery (opsdeck's own arguments).
const DRILLS: [string, string, string[]][] = [
  ['api-down', 'http:api', ['drill', 'recover', 'api-down']],
  ['api-slow', 'http:api', ['drill', 'recover', 'api-slow']],
  ['api-errors', 'http:api', ['drill', 'recover', 'api-errors']],
  ['redis-down', 'redis:cache', ['drill', 'recover', 'redis-down']],
  ['redis-oom', 'redis:cache', ['drill', 'recover', 'redis-oom']],
  ['db-corrupt', 'sqlite:trading', ['restore', '--db', 'trading', '--yes']],
  ['rows-deleted', 'sqlite:trading:rows', ['restore', '--db', 'trading', '--tables', 'critical', '--yes']],
  ['container-crashloop', 'container:worker', ['drill', 'recover', 'container-crashloop']],
  ['disk-pressure', 'host:disk:/', ['drill', 'recover', 'disk-pressure']],
];

describe('opsdeck demo in a terminal', () => {
  it('opens the console on the demo stack; each drill fires its alert there and its recovery clears it; q stops everything', async () => {
    t = TmuxSession.start(`opsdeck-demo-${process.pid}`, ['demo', '--dir', ws, '--interval', '1s'], { columns: 160, rows: 48, env });
    await t.waitFor((s) => /demo\b.*health/.test(s) && /Alerts \(/.test(s) && /opsdeck-demo-worker\s+running/.test(s), 120_000);
    for (const [drill, alert, recovery] of DRILLS) {
      const run = await runCli(['drill', 'run', drill, '--config', config], { env, timeoutMs: 60_000 });
      expect(run.code, `${drill}: ${run.stderr}`).toBe(0);
      const firing = new RegExp(`(CRITICAL|WARNING)\\s+${esc(alert)}\\s+\\S+\\s+firing`);
      await t.waitFor(firing, 60_000);
      const rec = await runCli([...recovery, '--config', config], { env, timeoutMs: 120_000 });
      expect(rec.code, `${drill} recovery: ${rec.stderr}`).toBe(0);
      const open = new RegExp(`${esc(alert)}\\s+\\S+\\s+(firing|resolving|pending)`);
      await t.waitFor((s) => !open.test(s) && /Alerts \(/.test(s), 60_000);
    }
    const state = JSON.parse(readFileSync(join(ws, 'demo.json'), 'utf8')) as { apiPid: number; writerPid: number };
    t.send('q');
    await t.waitFor(/EXIT=0/, 60_000);
    expect(alive(state.apiPid)).toBe(false);
    expect(alive(state.writerPid)).toBe(false);
    expect(docker(host, 'ps', '-aq', '--filter', 'name=opsdeck-demo-worker')).toBe('');
    expect(existsSync(ws)).toBe(false);
  }, 900_000);
});
