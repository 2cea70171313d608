import { describe, expect, it } from 'vitest';
import { earlyEvents, lateActions } from '../../src/cli/console-runtime.js';
import type { ConsoleLater } from '../../src/cli/console-later.js';
import { validate } from '../../src/config/load.js';
import type { CheckResult } from '../../src/domain/check.js';
import { EventBus, type EngineEvent } from '../../src/engine/events.js';
import { Monitor } from '../../src/state/monitor.js';
import type { Source } from '../../src/state/sources.js';
import { createAppStore } from '../../src/state/store.js';

// Issue #27 point 4: the console's healing, notifier, incident rules and scheduled backups load after
// its first frame (src/cli/console-later.ts). What that must not change: an alert the first results
// fire before they load is still heard by them (earlyEvents), the monitor runs their sources
// (Monitor.add), and their keys answer meanwhile (lateActions). A real EventBus, Monitor and store.

const fired = (checkId: string, at: number): EngineEvent => ({ type: 'alert.fired', at, alert: { checkId, state: 'firing', failStreak: 1, passStreak: 0, status: 'critical', message: 'down', since: at, firedAt: at } });

describe('earlyEvents', () => {
  it('the deferred listeners hear what the bus carried before they were released, in order, then each new event once', () => {
    const bus = new EventBus();
    const early: string[] = [];
    bus.subscribe('alert.fired', (e) => void early.push(e.alert.checkId));
    const held = earlyEvents(bus);
    bus.emit(fired('container:web', 1));
    const heard: string[] = [];
    const all: string[] = [];
    const { built, release } = held.attach(() => {
      bus.subscribe('alert.fired', (e) => void heard.push(e.alert.checkId));
      bus.subscribe('*', (e) => void all.push(e.type));
      return 'wired';
    });
    expect(built).toBe('wired');
    expect(Object.hasOwn(bus, 'subscribe')).toBe(false); // the bus's own subscribe is back
    // Built, not released yet (their sources have not run once): held, not heard.
    bus.emit(fired('redis:cache', 2));
    expect(heard).toEqual([]);
    expect(held.held).toBe(2);
    release();
    expect(heard).toEqual(['container:web', 'redis:cache']);
    expect(all).toEqual(['alert.fired', 'alert.fired']);
    bus.emit(fired('http:api', 3));
    expect(heard).toEqual(['container:web', 'redis:cache', 'http:api']);
    // The listener subscribed before was never told twice.
    expect(early).toEqual(['container:web', 'redis:cache', 'http:api']);
    expect(held.held).toBe(0);
  });

  it('a deferred listener that unsubscribes before the release hears nothing; one that unsubscribes after hears no more', () => {
    const bus = new EventBus();
    const held = earlyEvents(bus);
    bus.emit(fired('container:web', 1));
    const a: string[] = [];
    const b: string[] = [];
    let offA = () => undefined as void;
    let offB = () => undefined as void;
    const { release } = held.attach(() => {
      offA = bus.subscribe('alert.fired', (e) => void a.push(e.alert.checkId));
      offB = bus.subscribe('alert.fired', (e) => void b.push(e.alert.checkId));
    });
    offA();
    release();
    offB();
    bus.emit(fired('http:api', 2));
    expect(a).toEqual([]);
    expect(b).toEqual(['container:web']);
  });

  it('a listener that throws during the replay does not keep the others from hearing it', () => {
    const bus = new EventBus();
    const held = earlyEvents(bus);
    bus.emit(fired('container:web', 1));
    const heard: string[] = [];
    held.attach(() => {
      bus.subscribe('alert.fired', () => {
        throw new Error('broken listener');
      });
      bus.subscribe('alert.fired', (e) => void heard.push(e.alert.checkId));
    }).release();
    expect(heard).toEqual(['container:web']);
  });

  it('stop() holds nothing more (the deferred parts failed to load or the console ends)', () => {
    const bus = new EventBus();
    const held = earlyEvents(bus);
    held.stop();
    bus.emit(fired('container:web', 1));
    expect(held.held).toBe(0);
  });
});

describe('Monitor.add', () => {
  it('runs a source added after start at once; the health says it is still checking until it answered', async () => {
    const config = validate({ interval: '1s', refresh: '1s' }, 'test');
    const store = createAppStore();
    const ok = (id: string): CheckResult => ({ id, kind: 'container', target: id, status: 'ok', message: 'fine' });
    const first: Source = { id: 'first', refreshMs: 1000, checkMs: 1000, run: () => Promise.resolve([ok('first:a')]) };
    // Its first run answers when the test says; later runs at once.
    let answer: (r: CheckResult[]) => void = () => undefined;
    const firstAnswer = new Promise<CheckResult[]>((r) => (answer = r));
    let runs = 0;
    const late: Source = { id: 'late', refreshMs: 1000, checkMs: 1000, run: () => (runs++ === 0 ? firstAnswer : Promise.resolve([ok('late:b')])) };
    const monitor = new Monitor({ config, store, sources: [first] });
    monitor.start();
    try {
      await until(() => store.getState().checks['first:a']);
      const ran = monitor.add([late]);
      // Another result is recorded while the late source has not answered: it is pending.
      await monitor.runAll();
      await until(() => store.getState().checks['system:health']?.pending?.includes('late'));
      answer([ok('late:b')]);
      await ran; // resolves once the added source ran once
      expect(store.getState().checks['late:b']).toBeDefined();
      await monitor.runAll();
      expect(store.getState().checks['system:health']?.pending ?? []).toEqual([]);
    } finally {
      monitor.stop();
    }
  });
});

describe('lateActions', () => {
  it('before the deferred parts load: the healing pane says so and E, I, N say to try again; after: theirs', () => {
    const ref: { later?: ConsoleLater } = {};
    const a = lateActions(() => ref.later);
    expect(a.healing?.()).toMatchObject({ on: false });
    expect(a.healing?.().why).toMatch(/still loading/);
    expect(a.enableHeal?.('web').ok).toBe(false);
    expect(a.enableHeal?.('web').text).toMatch(/still loading .* try again/);
    expect(a.declareIncident?.('P2', 'db down')).toMatchObject({ ok: false });
    expect(a.noteIncident?.('INC-1', 'x')).toMatchObject({ ok: false });
    ref.later = {
      sources: () => [],
      stop: () => Promise.resolve(),
      actions: {
        healing: () => ({ on: true, holder: 'this console', subjects: [], recent: [] }),
        enableHeal: () => ({ ok: true, text: 'enabled' }),
        declareIncident: () => ({ ok: true, text: 'declared' }),
        noteIncident: () => ({ ok: true, text: 'noted' }),
      },
    };
    expect(a.healing?.()).toMatchObject({ on: true });
    expect(a.enableHeal?.('web')).toEqual({ ok: true, text: 'enabled' });
    expect(a.declareIncident?.('P2', 'db down')).toEqual({ ok: true, text: 'declared' });
  });
});

async function until<T>(f: () => T | undefined | false, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${f.toString()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the host source in its first run', () => {
  it('has no CPU % yet (it needs two reads): the health says it is still checking the host until the CPU check came', async () => {
    // The real host source reading /proc (operator trial: "health 100% OK · every check passes" was
    // shown while the CPU gauge was still empty).
    const { buildSources } = await import('../../src/state/sources.js');
    const config = validate({ interval: '1s', refresh: '1s' }, 'test');
    const store = createAppStore();
    const host = buildSources(config, store).find((s) => s.id === 'host') as Source;
    const monitor = new Monitor({ config, store, sources: [host] });
    try {
      await monitor.runAll();
      expect(store.getState().checks['host:cpu']).toBeUndefined();
      expect(store.getState().checks['system:health']?.pending).toEqual(['host']);
      await new Promise((r) => setTimeout(r, 100)); // the CPU % is the difference of two reads some time apart
      await monitor.runAll();
      expect(store.getState().checks['host:cpu']).toBeDefined();
      expect(store.getState().checks['system:health']?.pending ?? []).toEqual([]);
    } finally {
      monitor.stop();
      host.close?.();
    }
  });
});
