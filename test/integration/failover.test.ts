import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStateDb } from '../../src/state/statedb.js';
import { FailoverStore, type PairRow } from '../../src/state/failover.js';
import { HealStore } from '../../src/state/heal-store.js';
import { runCli } from '../helpers/cli.js';
import { docker, runContainer, TEST_IMAGE, TEST_LABEL } from '../helpers/docker-engine.js';
import { Watcher } from '../helpers/watch.js';

// Failover and the load rule (issue #21) against real containers in the private engine and a real
// `opsdeck watch`. One configuration, one watch, the scenarios in order (CI time is a budget):
// - the primary is killed; after its 3rd failed probe (never the 2nd) the backup is started — it
//   exits at once (unhealthy), so no switch is made, the backup is left stopped, the pair CRITICAL;
// - the backup is replaced by a good one: after 3 more failures the switch is made, the switch step
//   runs as a literal argv (an argument holding "; touch …" arrives as one argument), WARNING;
// - within the hold-down the primary is back and the backup dies: no switch (held), CRITICAL; a
//   new watch after a SIGKILL still has the backup active and does not switch either;
// - the failback runbook restores the primary (switch_back runs, the backup is stopped), OK;
// - a CPU-burning container keeps host CPU above the (lowered) threshold: the load runbook runs
//   once, not again within its cooldown (on a shared host, other load may start it first: what is
//   asserted is once per cooldown).

const host = inject('dockerHost');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-failover-'));
const config = join(dir, 'opsdeck.yaml');
const state = join(dir, 'state');
const P = `fo${process.pid}`;
const names = { prim: `${P}-prim`, back: `${P}-back`, burn: `${P}-burn` };
const out = join(dir, 'switched.txt');
const back = join(dir, 'switched-back.txt');
const pwned = join(dir, 'pwned');
const loadRuns = join(dir, 'load-runs.txt');
let w: Watcher | undefined;

const KILL = ['--stop-signal', 'KILL'];
const createStopped = (name: string, cmd: string[]) => docker(host, 'create', '--name', name, '--label', TEST_LABEL, ...KILL, TEST_IMAGE, ...cmd);

beforeAll(() => {
  const rb = join(dir, 'rb');
  mkdirSync(rb, { mode: 0o700 });
  // The load rule's runbook: one line per run in a file (what "start another worker" would do).
  writeFileSync(join(rb, 'scale-up.yaml'), `name: scale-up\ntitle: add capacity\ntarget: none\nsteps:\n  - id: add\n    title: Add a worker\n    why: CPU stays high.\n    action: exec\n    params: { argv: ["sh", "-c", "echo run >> \\"$1\\"", "sh", "${loadRuns}"] }\n`, { mode: 0o600 });
  runContainer(host, names.prim, [...KILL], ['sleep', '100000']);
  // The standby backup is stopped; this first one exits at once when started (an unhealthy backup).
  createStopped(names.back, ['sh', '-c', 'exit 1']);
  writeFileSync(
    config,
    `name: fotest
interval: 1s
refresh: 1s
failure_threshold: 1
recovery_threshold: 1
state_dir: ${state}
thresholds: {cpu: 100, memory: 100, disk: 100}
docker:
  host: ${host}
runbooks:
  dir: ${rb}
services:
  - name: prim
    container: ${names.prim}
  - name: back
    container: ${names.back}
failover:
  pairs:
    - name: web
      primary: prim
      backup: back
      check_every: 1s
      failures: 3
      hold_down: 5m
      healthy_within: 4s
      switch: ["sh", "-c", "printf %s \\"$1\\" > \\"$2\\"", "sh", "to back; touch ${pwned}", "${out}"]
      switch_back: ["sh", "-c", "printf %s \\"$1\\" > \\"$2\\"", "sh", "to prim", "${back}"]
  load:
    cpu: 90
    for: 2s
    runbook: scale-up
    cooldown: 10m
`,
  );
});

afterAll(async () => {
  await w?.kill('SIGKILL');
  for (const c of Object.values(names)) {
    try {
      docker(host, 'rm', '-f', c);
    } catch {
      // already gone
    }
  }
});

interface FoLine {
  event: string;
  action: string;
  pair: string;
  fails?: number;
  active?: string;
  detail: string;
}
const foLines = (): FoLine[] => (w?.lines ?? []).flatMap((l) => {
  try {
    const e = JSON.parse(l) as FoLine;
    return e.event === 'failover' ? [e] : [];
  } catch {
    return [];
  }
});

async function pair(): Promise<PairRow> {
  const db = await openStateDb(state);
  try {
    return new FailoverStore(db).get('web');
  } finally {
    db.close();
  }
}

async function auditActions(): Promise<string[]> {
  const db = await openStateDb(state);
  try {
    return (db.prepare("SELECT action FROM audit WHERE action LIKE 'failover.%' OR action LIKE 'failback.%' ORDER BY id").all() as { action: string }[]).map((r) => r.action);
  } finally {
    db.close();
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}; failover lines: ${JSON.stringify(foLines())}; watch stderr: ${w?.errors ?? ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const status = (c: string) => docker(host, 'inspect', '-f', '{{.State.Status}}', c);

describe('failover and load (issue #21), real containers, a real watch', () => {
  it('switches after the 3rd failure, never to an unhealthy backup, holds down, fails back; the load rule runs once per cooldown', { timeout: 120_000 }, async () => {
    w = new Watcher(config);
    await until('the watch holds the healer lease', () => w?.lines.some((l) => l.includes('"lease":"healer"') && l.includes('lease-taken')), 20_000);
    await until('the pair is recorded with the primary active', async () => (await pair()).updatedAt > 0 || undefined, 10_000);
    expect((await pair()).active).toBe('primary');

    // 1. The primary dies; the backup would not come up: no switch.
    docker(host, 'kill', names.prim);
    const refused = await until('a refused switch', () => foLines().find((e) => e.action === 'refused'), 30_000);
    const before = foLines().slice(0, foLines().indexOf(refused));
    expect(before.filter((e) => e.action === 'probe-failed').map((e) => e.fails)).toEqual([1, 2, 3]);
    expect(refused.fails).toBe(3);
    expect(refused.detail).toMatch(/NOT switched: backup back did not become healthy/);
    let p = await pair();
    expect(p.active).toBe('primary');
    expect(p.status).toBe('critical');
    expect(status(names.back)).not.toBe('running');
    expect(existsSync(out)).toBe(false);
    // The stopped standby is not an alert of its own (its container check says it is the standby).
    expect(w.events.filter((e) => e.event === 'fired' && e.check === 'container:back')).toEqual([]);

    // 2. A good backup: three failures more, then the switch, its step as a literal argv.
    docker(host, 'rm', '-f', names.back);
    createStopped(names.back, ['sleep', '100000']);
    const switched = await until('the switch', () => foLines().find((e) => e.action === 'switched'), 30_000);
    // Every decision (a refusal while the bad backup was there, then the switch) came at the 3rd
    // failed probe in a row, right after the 2nd, never at the 2nd.
    const lines = foLines().slice(0, foLines().indexOf(switched) + 1);
    const decisions = lines.filter((e) => e.action === 'refused' || e.action === 'switched');
    for (const d of decisions) {
      const probes = lines.slice(0, lines.indexOf(d)).filter((e) => e.action === 'probe-failed').slice(-3);
      expect(probes.map((e) => e.fails)).toEqual([1, 2, 3]);
      expect(d.fails).toBe(3);
    }
    expect(lines.filter((e) => e.action === 'probe-failed').map((e) => e.fails).every((f) => f !== undefined && f <= 3)).toBe(true);
    expect(switched.active).toBe('backup');
    expect(status(names.back)).toBe('running');
    expect(readFileSync(out, 'utf8')).toBe(`to back; touch ${pwned}`);
    expect(existsSync(pwned)).toBe(false);
    p = await pair();
    expect(p.active).toBe('backup');
    expect(p.status).toBe('warning');
    expect(p.message).toMatch(/failed over at .*: backup back active .*failback: opsdeck runbook run failback --target prim/);

    // 3. Within the hold-down: the primary is back, the backup dies — no switch (no flapping).
    docker(host, 'start', names.prim);
    docker(host, 'kill', names.back);
    const held = await until('held down', () => foLines().find((e) => e.action === 'held'), 20_000);
    expect(held.detail).toMatch(/NOT switched: hold-down after the switch at/);
    await new Promise((r) => setTimeout(r, 2500));
    expect(foLines().filter((e) => e.action === 'switched')).toHaveLength(1);
    p = await pair();
    expect(p.active).toBe('backup');
    expect(p.status).toBe('critical');

    // Which side is active survives a restart: a new watch (the old one SIGKILLed) still serves from
    // the backup and, still within the hold-down, does not switch either.
    await w.kill('SIGKILL');
    const first = foLines();
    w = new Watcher(config);
    await until('the new watch holds the healer lease', () => w?.lines.some((l) => l.includes('"lease":"healer"') && l.includes('lease-taken')), 20_000);
    await until('the new watch probes the pair', () => foLines().some((e) => e.action === 'probe-failed') || undefined, 10_000);
    await new Promise((r) => setTimeout(r, 2000));
    expect(foLines().filter((e) => e.action === 'switched')).toHaveLength(0);
    expect((await pair()).active).toBe('backup');

    // 4. The failback runbook restores the primary — refused (and nothing changed) under --read-only first.
    const ro = await runCli(['--config', config, '--read-only', 'runbook', 'run', 'failback', '--target', 'prim', '--yes']);
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toMatch(/read-only/);
    expect((await pair()).active).toBe('backup');
    expect(existsSync(back)).toBe(false);
    const fb = await runCli(['--config', config, 'runbook', 'run', 'failback', '--target', 'prim', '--yes']);
    expect(fb.code, fb.stderr + fb.stdout).toBe(0);
    expect(readFileSync(back, 'utf8')).toBe('to prim');
    p = await pair();
    expect(p.active).toBe('primary');
    expect(status(names.prim)).toBe('running');
    expect(status(names.back)).not.toBe('running');
    await until('the pair is OK again', async () => ((await pair()).status === 'ok' ? true : undefined), 10_000);
    const audit = await auditActions();
    for (const a of ['failover.start', 'failover.refuse', 'failover.switch', 'failover.hold']) expect(audit).toContain(a);
    expect(audit.some((a) => a.startsWith('failback.'))).toBe(true);

    // 5. Load: a container burning CPU keeps host CPU above 90 %; the runbook runs once per cooldown.
    runContainer(host, names.burn, [...KILL], ['sh', '-c', 'yes > /dev/null & yes > /dev/null & wait']);
    try {
      await until('the load runbook ran', () => existsSync(loadRuns) || undefined, 30_000);
      await new Promise((r) => setTimeout(r, 4000));
    } finally {
      docker(host, 'rm', '-f', names.burn);
    }
    expect(readFileSync(loadRuns, 'utf8').trim().split('\n')).toEqual(['run']);
    // Once across both watches (the cooldown is counted from the state database: on this shared host,
    // other load may have started it in the first watch already).
    expect([...first, ...foLines()].filter((e) => e.action === 'load' && e.detail.startsWith('started'))).toHaveLength(1);
    const db = await openStateDb(state);
    try {
      const runs = new HealStore(db).recent(10, 'load');
      expect(runs).toHaveLength(1);
      expect(runs[0]?.outcome).toBe('ok');
    } finally {
      db.close();
    }
  });
});
