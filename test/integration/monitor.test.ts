import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { EventBus, type EngineEvent } from '../../src/engine/events.js';
import { Monitor, type AlertEvent } from '../../src/state/monitor.js';
import { buildSources } from '../../src/state/sources.js';
import { openStateDb } from '../../src/state/statedb.js';
import { createAppStore } from '../../src/state/store.js';
import { docker, runContainer, startEngine, type PrivateEngine } from '../helpers/docker-engine.js';
import { RedisServer } from '../helpers/redis.js';

// The monitor loop against real services. Each runAll() is one evaluation (one "check interval"),
// so the hysteresis is exercised deterministically without waiting for timers.

function monitorFor(raw: Record<string, unknown>) {
  const config: Config = validate({ thresholds: { cpu: 100, disk: 100, memory: 100 }, ...raw }, 'test');
  const store = createAppStore();
  const events: AlertEvent[] = [];
  const bus = new EventBus();
  const onBus: EngineEvent[] = [];
  bus.subscribe('*', (e) => onBus.push(e));
  return {
    config,
    store,
    events,
    onBus,
    make: (stateDb?: Awaited<ReturnType<typeof openStateDb>>) =>
      new Monitor({ config, store, sources: buildSources(config, store), ...(stateDb ? { stateDb } : {}), bus, onAlert: (e) => events.push(e) }),
  };
}

describe('monitor loop: Redis killed and restarted', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis.kill();
  });

  it('fires on the third failed check, resolves on the second good one, and persists both', async () => {
    const stateDb = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-state-')));
    const m = monitorFor({ redis: [{ name: 'cache', url: redis.url }] });
    const mon = m.make(stateDb);
    await mon.runAll();
    expect(m.store.getState().checks['redis:cache']?.status).toBe('ok');
    expect(m.store.getState().redis.cache?.status).toBe('ok');

    await redis.kill();
    const states: string[] = [];
    for (let i = 0; i < 3; i++) {
      await mon.runAll();
      states.push(m.store.getState().alerts['redis:cache']?.state ?? 'none');
    }
    expect(states).toEqual(['pending', 'pending', 'firing']);
    expect(m.events.map((e) => `${e.transition}:${e.alert.checkId}`)).toContain('fired:redis:cache');
    // The pane keeps the last good figures, marked stale, with the reason.
    const env = m.store.getState().redis.cache;
    expect(env?.status).toBe('stale');
    expect(env?.error?.message).toMatch(/refused the connection/);
    expect(env?.data?.usedMemoryBytes).toBeGreaterThan(0);

    await redis.startAgain();
    const after: string[] = [];
    for (let i = 0; i < 2; i++) {
      await mon.runAll();
      after.push(m.store.getState().alerts['redis:cache']?.state ?? 'none');
    }
    expect(after).toEqual(['resolving', 'resolved']);
    mon.stop();

    // The same story on the event bus (issue #14): every run's result, the firing and the resolution.
    const cache = m.onBus.flatMap((e) => {
      if (e.type === 'check.result') return e.result.id === 'redis:cache' ? [`result:${e.result.status}`] : [];
      if (e.type === 'alert.fired' || e.type === 'alert.resolved') return e.alert.checkId === 'redis:cache' ? [e.type] : [];
      return [];
    });
    expect(cache).toEqual(['result:ok', 'result:critical', 'result:critical', 'result:critical', 'alert.fired', 'result:ok', 'result:ok', 'alert.resolved']);

    const rows = stateDb.prepare("SELECT event, status FROM alert_events WHERE check_id = 'redis:cache' ORDER BY id").all();
    expect(rows).toEqual([
      { event: 'fired', status: 'critical' },
      { event: 'resolved', status: 'ok' },
    ]);
    stateDb.close();
  });

  it('a monitor started after another recorded a firing takes the alert up: said firing again (not recorded twice), and its recovery is recorded as resolved', async () => {
    // Before: a restarted watch forgot alerts that fired before it started — the history never
    // said `resolved` and the incident was never mitigated (operator trial of #25).
    const stateDb = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-state-')));
    const raw = { redis: [{ name: 'cache', url: redis.url }] };
    const first = monitorFor(raw);
    const dead = first.make(stateDb);
    await redis.kill();
    for (let i = 0; i < 3; i++) await dead.runAll();
    dead.stop(); // as if SIGKILLed: nothing more from it
    const firedAt = first.store.getState().alerts['redis:cache']?.firedAt;
    expect(firedAt).toBeTypeOf('number');

    // Still down when the next monitor starts: firing at its first check, since the first firing.
    const second = monitorFor(raw);
    const mon = second.make(stateDb);
    await mon.runAll();
    expect(second.store.getState().alerts['redis:cache']).toMatchObject({ state: 'firing', firedAt });
    expect(second.events.filter((e) => e.alert.checkId === 'redis:cache').map((e) => `${e.transition}:${e.alert.firedAt}`)).toEqual([`fired:${firedAt}`]);
    await mon.runAll();
    expect(second.events.filter((e) => e.alert.checkId === 'redis:cache')).toHaveLength(1);
    mon.stop();

    // Fixed before a third monitor starts: its passing checks resolve the taken-up alert.
    await redis.startAgain();
    const third = monitorFor(raw);
    const mon3 = third.make(stateDb);
    await mon3.runAll();
    await mon3.runAll();
    mon3.stop();
    expect(third.events.map((e) => `${e.transition}:${e.alert.checkId}`)).toEqual(['resolved:redis:cache']);
    const rows = stateDb.prepare("SELECT event FROM alert_events WHERE check_id = 'redis:cache' ORDER BY id").pluck().all();
    expect(rows).toEqual(['fired', 'resolved']);
    stateDb.close();
  });

  it('runs sources on their own timers without overlapping and stops cleanly', async () => {
    const m = monitorFor({ interval: '1s', refresh: '500ms', redis: [{ name: 'cache', url: redis.url }] });
    const mon = m.make();
    mon.start();
    const deadline = Date.now() + 10_000;
    while (!m.store.getState().checks['redis:cache'] || !m.store.getState().checks['host:memory']) {
      if (Date.now() > deadline) throw new Error('monitor produced no results');
      await new Promise((r) => setTimeout(r, 50));
    }
    mon.stop();
    expect(m.store.getState().host.status).toBe('ok');
    expect(m.store.getState().checks['system:health']?.status).toBe('ok');
  });
});

describe('monitor loop: the Docker engine stops mid-run', () => {
  let engine: PrivateEngine;
  beforeAll(async () => {
    engine = await startEngine(mkdtempSync(join(tmpdir(), 'opsdeck-dockerd2-')));
    for (const n of ['a', 'b']) runContainer(engine.host, `mon-${n}`, ['--network', 'none', '--restart', 'always'], ['sleep', '3600']);
    runContainer(engine.host, 'mon-c', ['--network', 'none'], ['sleep', '3600']);
  }, 120_000);
  afterAll(async () => {
    await engine?.stop();
  });

  it('gives one engine alert with the containers suppressed; a firing container alert is not lost and still resolves', async () => {
    const m = monitorFor({
      docker: { host: engine.host },
      services: ['a', 'b', 'c'].map((n) => ({ name: n, container: `mon-${n}`, critical: true })),
    });
    const mon = m.make();
    await mon.runAll();
    expect(['a', 'b', 'c'].map((n) => m.store.getState().checks[`container:${n}`]?.status)).toEqual(['ok', 'ok', 'ok']);

    docker(engine.host, 'stop', '-t', '1', 'mon-c');
    for (let i = 0; i < 3; i++) await mon.runAll();
    expect(m.store.getState().alerts['container:c']?.state).toBe('firing');
    m.events.length = 0;

    await engine.stop();
    for (let i = 0; i < 4; i++) await mon.runAll();
    const fired = m.events.filter((e) => e.transition === 'fired').map((e) => e.alert.checkId);
    expect(fired.filter((id) => id.startsWith('container:') || id === 'docker:engine')).toEqual(['docker:engine']);
    const alerts = m.store.getState().alerts;
    expect(alerts['container:a']).toMatchObject({ state: 'ok', suppressedBy: 'docker:engine' });
    expect(alerts['container:c']).toMatchObject({ state: 'firing', suppressedBy: 'docker:engine' });
    expect(m.store.getState().checks['docker:engine']?.message).toMatch(/3 container check\(s\) suppressed/);
    expect(m.store.getState().docker.status).toBe('stale');

    // The engine comes back (a and b restart by policy); c is started by hand and resolves.
    engine = await startEngine(engine.dataDir);
    docker(engine.host, 'start', 'mon-c');
    const deadline = Date.now() + 30_000;
    while (docker(engine.host, 'inspect', '-f', '{{.State.Running}}', 'mon-a') !== 'true') {
      if (Date.now() > deadline) throw new Error('mon-a did not come back');
      await new Promise((r) => setTimeout(r, 200));
    }
    for (let i = 0; i < 2; i++) await mon.runAll();
    const resolved = m.events.filter((e) => e.transition === 'resolved').map((e) => e.alert.checkId);
    expect(resolved).toEqual(expect.arrayContaining(['docker:engine', 'container:c']));
    expect(m.store.getState().alerts['container:c']?.state).toBe('resolved');
    mon.stop();
  });
});
