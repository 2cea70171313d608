import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TmuxSession } from '../helpers/tmux.js';

// Runbooks in the console (issue #16), in a real terminal (tmux) on real processes: a user runbook
// of `exec` steps writing marker files, started with F on a firing alert (runbooks.map) and with `:`
// from the picker. Each answer shows in the step list: y runs a step, s skips one, y at a failure
// question tries it again (a counter file makes it fail twice), n stops the run; esc never answers.
// When the alert resolves, the keys pressed while it fired are audited (`console.keys`).

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-runbook-console-'));
const rb = join(dir, 'rb');
const config = join(dir, 'opsdeck.yaml');
const env = { OPSDECK_STATE_DIR: join(dir, 'state'), XDG_DATA_HOME: join(dir, 'data') };
const sessions: TmuxSession[] = [];
let n = 0;
const open = (...args: string[]) => {
  const s = TmuxSession.start(`opsdeck-rb-${process.pid}-${n++}`, ['--config', config, ...args], { columns: 80, rows: 24, env });
  sessions.push(s);
  return s;
};
const marker = (name: string) => join(dir, name);
const sh = (script: string) => JSON.stringify(['/bin/sh', '-c', script]);

/** A port nothing listens on yet: the endpoint is down until the test answers on it. */
let port = 0;
let server: Server | undefined;

function runbookFile(name: string, body: string): void {
  const file = join(rb, `${name}.yaml`);
  writeFileSync(file, body, { mode: 0o600 });
  chmodSync(file, 0o600);
}

beforeAll(async () => {
  mkdirSync(rb, { mode: 0o700 });
  chmodSync(rb, 0o700);
  port = await freePortBelowEphemeral();
  runbookFile(
    'e2e-book',
    [
      'name: e2e-book',
      'title: Bring the test endpoint back',
      'description: four exec steps for the console test',
      'target: endpoint',
      'steps:',
      '  - id: first',
      '    title: write the first marker',
      '    why: proves y runs a step.',
      `    exec: ${sh(`echo hello from the first step; touch ${marker('m1')}`)}`,
      '  - id: second',
      '    title: write the second marker',
      '    why: proves s skips a step.',
      `    exec: ${sh(`touch ${marker('m2')}`)}`,
      '  - id: flaky',
      '    title: fail twice then succeed',
      '    why: proves y at a failure tries it again.',
      `    exec: ${sh(`n=$(cat ${marker('count')} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${marker('count')}; [ $n -ge 3 ]`)}`,
      '  - id: last',
      '    title: write the last marker',
      '    why: proves n stops the run.',
      `    exec: ${sh(`touch ${marker('m4')}`)}`,
      '',
    ].join('\n'),
  );
  runbookFile(
    'e2e-none',
    ['name: e2e-none', 'title: Write one marker', 'description: one step, no target', 'target: none', 'steps:', '  - id: only', '    title: write the picked marker', '    why: proves the picker starts a runbook.', `    exec: ${sh(`touch ${marker('picked')}`)}`, ''].join('\n'),
  );
  writeFileSync(
    config,
    [
      'name: rbtest',
      'interval: 1s',
      'refresh: 1s',
      'thresholds: {cpu: 100, memory: 100, disk: 100}',
      'endpoints:',
      '  - name: dead',
      `    url: http://127.0.0.1:${port}/`,
      '    timeout: 500ms',
      'runbooks:',
      `  dir: ${rb}`,
      '  map:',
      '    "http:dead": e2e-book',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  for (const s of sessions) s.kill();
  await new Promise<void>((res) => (server ? server.close(() => res()) : res()));
});

describe('runbooks in the console', () => {
  it('F runs the alert’s runbook: y runs, s skips, y at a failure retries, n stops — each in the step list; keys audited as the alert resolves', async () => {
    const t = open();
    // The endpoint refuses: its alert fires (the pane says what F runs while it is pending already;
    // keys count from the firing on), and the alert pane says what F runs.
    await t.waitFor((screen) => /Alerts \(1 firing\)/.test(screen) && /F: run e2e-book for dead/.test(screen), 30_000);
    t.send('F');
    await t.waitFor(/Runbook e2e-book for dead \(alert http:dead\)/);
    let s = await t.waitFor(/y yes, run it · n no, stop the runbook here · s skip this step/);
    expect(s).toMatch(/\? 1\. write the first marker\s+waiting for your answer/);
    expect(s).toMatch(/why: proves y runs a step\./);
    expect(s).toMatch(/\[1\/4\] write the first marker: run: \/bin\/sh -c/);

    // Esc answers nothing: the question stays.
    t.send('Escape', false);
    await t.waitFor(/esc does not answer: press one of the keys above/);
    expect(existsSync(marker('m1'))).toBe(false);

    t.send('y');
    s = await t.waitFor(/\? 2\. write the second marker\s+waiting for your answer/);
    expect(s).toMatch(/✓ 1\. write the first marker\s+done in/);
    expect(s).toContain('hello from the first step');
    expect(existsSync(marker('m1'))).toBe(true);

    t.send('s');
    s = await t.waitFor(/\? 3\. fail twice then succeed\s+waiting for your answer/);
    expect(s).toMatch(/– 2\. write the second marker\s+skipped/);
    expect(existsSync(marker('m2'))).toBe(false);

    t.send('y');
    s = await t.waitFor(/y try it again · n stop the runbook here · s skip it and go on/);
    expect(s).toMatch(/✗ 3\. fail twice then succeed\s+failed: waiting for your answer/);
    expect(s).toMatch(/fail twice then succeed FAILED: command failed \(exit 1\)/);
    t.send('y');
    await t.waitFor(/✗ 3\. fail twice then succeed\s+failed \(attempt 2\): waiting for your answer/);
    t.send('y');
    s = await t.waitFor(/\? 4\. write the last marker\s+waiting for your answer/);
    expect(s).toMatch(/✓ 3\. fail twice then succeed\s+done in \S+ \(attempt 3\)/);
    expect(readFileSync(marker('count'), 'utf8').trim()).toBe('3');

    t.send('n');
    s = await t.waitFor(/e2e-book for dead did not finish:/);
    expect(s).toMatch(/■ 4\. write the last marker\s+stopped here \(not run\)/);
    expect(s).toMatch(/esc back to the dashboard/);
    expect(existsSync(marker('m4'))).toBe(false);
    t.send('Escape', false);
    await t.waitFor(/Alerts \(\d+ firing\)/);

    // The endpoint answers again: the alert resolves and the keys pressed meanwhile are audited.
    server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((res) => server?.listen(port, '127.0.0.1', res));
    const audited = await waitForAudit(30_000);
    expect(audited.keys).toBeGreaterThanOrEqual(8); // F, esc, y, s, y, y, y, n, esc
    expect(audited.runbooks).toEqual(['e2e-book']);
    expect(audited.resolvedAt).toBeGreaterThan(audited.firedAt);
    t.send('q');
    await t.waitFor(/EXIT=0/);
  }, 120_000);

  it(': picks a runbook from the catalog (user runbooks marked) and runs it to completion', async () => {
    const t = open();
    await t.waitFor(/rbtest/);
    // The catalog is read after the first full frame (issue #27): until then `:` says it is still
    // loading, and a person presses it again — as here, until the picker opens.
    let s = '';
    for (let i = 0; i < 20 && !/Run which runbook\?/.test(s); i++) {
      t.send(':');
      s = await t.waitFor(/Run which runbook\?|still loading/, 10_000).catch(() => '');
      if (!/Run which runbook\?/.test(s)) await new Promise((r) => setTimeout(r, 500));
    }
    s = await t.waitFor(/Run which runbook\?/);
    expect(s).toMatch(/e2e-none\s+Write one marker\s+user/);
    const row = s.split('\n').find((l) => l.includes('e2e-none'));
    const key = /(\d)\) e2e-none/.exec(row ?? '')?.[1];
    expect(key).toBeDefined();
    t.send(key ?? '2');
    await t.waitFor(/Runbook e2e-none/);
    await t.waitFor(/\? 1\. write the picked marker\s+waiting for your answer/);
    t.send('y');
    await t.waitFor(/e2e-none: completed/);
    expect(t.capture()).toMatch(/✓ 1\. write the picked marker\s+done in/);
    expect(existsSync(marker('picked'))).toBe(true);
    t.send('Escape', false);
    await t.waitFor(/rbtest/);
    t.send('q');
    await t.waitFor(/EXIT=0/);
  }, 60_000);

  it('under --read-only : and F are refused with the reason, and nothing runs', async () => {
    const t = open('--read-only');
    await t.waitFor(/Alerts \(\d+ firing\)/);
    // Sent again until the console hears it (a key typed before Ink reads the terminal is lost).
    await pressUntil(t, ':', /runbook picker: refused — opsdeck runs in --read-only mode/);
    expect(t.capture()).not.toMatch(/Run which runbook\?/);
    await pressUntil(t, 'F', /run the selected alert's runbook: refused — opsdeck runs in --read-only mode/);
    expect(t.capture()).not.toMatch(/Runbook e2e-book/);
    t.send('q');
    await t.waitFor(/EXIT=0/);
  }, 60_000);
});

/**
 * A free port below the ephemeral range (32768–60999 on Linux): a probe's own source port is never
 * it, so a connection to it cannot meet itself (a self-connect answered the "dead" endpoint once).
 */
async function freePortBelowEphemeral(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const candidate = 20_000 + Math.floor(Math.random() * 10_000);
    const probe = createServer();
    const ok = await new Promise<boolean>((res) => {
      probe.once('error', () => res(false));
      probe.listen(candidate, '127.0.0.1', () => res(true));
    });
    if (ok) {
      await new Promise<void>((res) => probe.close(() => res()));
      return candidate;
    }
  }
  throw new Error('no free port below 30000');
}

/** Sends a key every 2 s until the screen shows what it does. */
async function pressUntil(t: TmuxSession, key: string, re: RegExp): Promise<string> {
  for (let i = 0; ; i++) {
    t.send(key);
    try {
      return await t.waitFor(re, 2000);
    } catch (e) {
      if (i >= 5) throw e;
    }
  }
}

/** The `console.keys` audit entry of http:dead, once the alert resolved. */
async function waitForAudit(timeoutMs: number): Promise<{ keys: number; firedAt: number; resolvedAt: number; runbooks: string[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const db = new Database(join(dir, 'state', 'state.db'), { readonly: true });
    try {
      const row = db.prepare("SELECT detail FROM audit WHERE action = 'console.keys' AND target = 'http:dead' ORDER BY id DESC LIMIT 1").get() as { detail: string } | undefined;
      if (row) return JSON.parse(row.detail) as { keys: number; firedAt: number; resolvedAt: number; runbooks: string[] };
    } finally {
      db.close();
    }
    if (Date.now() > deadline) throw new Error('no console.keys audit entry for http:dead');
    await new Promise((r) => setTimeout(r, 200));
  }
}
