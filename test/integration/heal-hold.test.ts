import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consoleActions } from '../../src/cli/console.js';
import { DockerService, resolveDockerEndpoint } from '../../src/services/docker.js';
import { AckStore } from '../../src/state/acks.js';
import { HealStore, type HealAction } from '../../src/state/heal-store.js';
import { openStateDb } from '../../src/state/statedb.js';
import { runCli } from '../helpers/cli.js';
import { docker, runContainer } from '../helpers/docker-engine.js';
import { Watcher } from '../helpers/watch.js';

// Operator trial finding: a console stop (`x` + `y`, audited `container.stop`) held a service for
// good — after a plain `docker start` outside opsdeck and a while healthy, a `docker kill` was "left
// alone". A start newer than the stop, by any means (Docker's StartedAt; the monitor seeing it
// healthy again), ends the hold. One real container in the private engine, one real `watch`.

const host = inject('dockerHost');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-heal-hold-'));
const config = join(dir, 'opsdeck.yaml');
const state = join(dir, 'state');
const hweb = `hold${process.pid}-hweb`;
let watch: Watcher | undefined;

beforeAll(() => {
  runContainer(host, hweb, ['--stop-signal', 'KILL'], ['sleep', '100000']);
  writeFileSync(
    config,
    `name: healhold
interval: 1s
refresh: 1s
failure_threshold: 1
recovery_threshold: 1
state_dir: ${state}
thresholds: {cpu: 100, memory: 100, disk: 100}
docker:
  host: ${host}
services:
  - name: hweb
    container: ${hweb}
heal:
  attempts: 3
  start_grace: 1s
  memory: {enabled: false}
`,
  );
});

afterAll(async () => {
  await watch?.kill('SIGKILL');
  try {
    docker(host, 'rm', '-f', hweb);
  } catch {
    // already gone
  }
});

async function actions(): Promise<HealAction[]> {
  const db = await openStateDb(state);
  try {
    return new HealStore(db).recent(200, 'hweb').reverse();
  } finally {
    db.close();
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}; actions: ${JSON.stringify((await actions()).map((a) => [a.kind, a.outcome, a.detail]))}; watch stderr: ${watch?.errors ?? ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const status = () => docker(host, 'inspect', '-f', '{{.State.Status}}', hweb);

describe('heal: an operator stop holds a service only until it is started again (any means)', () => {
  it('console stop → held (heal status says so) → docker start → docker kill → healed', { timeout: 90_000 }, async () => {
    const w = new Watcher(config);
    watch = w;
    await until('watch takes the healer lease', () => w.lines.some((l) => l.includes('"lease":"healer"') && l.includes('lease-taken')) || undefined, 20_000);

    // The console's stop (x, y): the Docker facade, audited `container.stop`, as App performs it.
    const db = await openStateDb(state);
    try {
      const dk = new DockerService(resolveDockerEndpoint(host));
      const info = await dk.inspect(hweb);
      if (!info.ok) throw new Error(info.error.message);
      const actionsOf = consoleActions({ readOnly: false, db, acks: new AckStore(db), docker: () => dk, monitor: () => { throw new Error('no monitor in this test'); }, entries: new Map(), configFile: undefined });
      const r = await actionsOf.containerAction('stop', info.value);
      expect(r.ok).toBe(true);
    } finally {
      db.close();
    }
    expect(status()).toBe('exited');
    const left = await until('hweb left alone (held)', async () => (await actions()).find((a) => a.kind === 'leave'), 20_000);
    expect(left.detail).toMatch(/stopped by .* \(container\.stop\): left alone until it is started again/);

    // heal status: held, not "on".
    const held = await runCli(['--config', config, 'heal', 'status']);
    expect(held.code, held.stderr).toBe(0);
    expect(held.stdout).toMatch(/^hweb\s+held \(stopped by .* at \d{4}-.*Z \(container\.stop\)\)/m);
    const heldJson = JSON.parse((await runCli(['--config', config, 'heal', 'status', '--json'])).stdout) as { subjects: { subject: string; healing: string; heldBy?: string }[] };
    expect(heldJson.subjects.find((s) => s.subject === 'hweb')).toMatchObject({ healing: 'held', heldBy: expect.stringMatching(/^stopped by /) as unknown });

    // Started outside opsdeck: the hold ends (status says "on" once the healer has seen it fine).
    const from = w.events.length;
    docker(host, 'start', hweb);
    await w.waitFor('resolved', 'container:hweb', 20_000, from);
    await until('heal status says on', async () => {
      const j = JSON.parse((await runCli(['--config', config, 'heal', 'status', '--json'])).stdout) as { subjects: { subject: string; healing: string }[] };
      return j.subjects.find((s) => s.subject === 'hweb')?.healing === 'on' || undefined;
    }, 10_000);

    // Killed: healed (service-recovery), not left alone.
    docker(host, 'kill', hweb);
    const healed = await until('hweb healed after the kill', async () => (await actions()).find((a) => a.kind === 'restart' && a.outcome !== 'running'), 60_000);
    expect(healed).toMatchObject({ trigger: 'down', outcome: 'ok' });
    expect(status()).toBe('running');
    expect((await actions()).filter((a) => a.kind === 'leave')).toHaveLength(1);
    // The latest actions: a restart says how it ended; the hold ("leave") carries no outcome word.
    const text = (await runCli(['--config', config, 'heal', 'status'])).stdout;
    expect(text).toMatch(/ hweb restart service-recovery #1: ok /);
    expect(text).toMatch(/ hweb leave: stopped by /);
  });

  it('heal enable of an unknown service: exit 64, one line naming the known ones', async () => {
    const r = await runCli(['--config', config, 'heal', 'enable', 'nosuch']);
    expect(r.code).toBe(64);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/heal enable nosuch: unknown service or Redis "nosuch" \(known: hweb\)/);
  });
});
