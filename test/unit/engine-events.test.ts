import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import type { Alert } from '../../src/domain/alerts.js';
import type { CheckResult, CheckStatus } from '../../src/domain/check.js';
import { EventBus, type EngineEvent, type EngineEventOf } from '../../src/engine/events.js';
import { AckStore } from '../../src/state/acks.js';
import { Monitor } from '../../src/state/monitor.js';
import type { Source } from '../../src/state/sources.js';
import { openStateDb } from '../../src/state/statedb.js';
import { createAppStore } from '../../src/state/store.js';

// The engine's event bus (issue #14): typed domain events from the monitor and the acks, on one bus.

const alert: Alert = { checkId: 'redis:cache', state: 'firing', failStreak: 3, passStreak: 0, status: 'critical', message: 'refused' };
const result: CheckResult = { id: 'redis:cache', kind: 'redis', target: 'cache', status: 'ok', message: 'PONG' };

describe('EventBus', () => {
  it('hands a typed listener only its type, a * listener every event, in subscription order', () => {
    const bus = new EventBus();
    const heard: string[] = [];
    bus.subscribe('alert.fired', (e) => {
      expectTypeOf(e).toEqualTypeOf<EngineEventOf<'alert.fired'>>();
      heard.push(`fired:${e.alert.checkId}`);
    });
    bus.subscribe('*', (e) => {
      expectTypeOf(e).toEqualTypeOf<EngineEvent>();
      heard.push(`*:${e.type}`);
    });
    bus.subscribe('check.result', (e) => heard.push(`result:${e.result.id}:${e.result.status}`));
    bus.emit({ type: 'alert.fired', at: 1, alert });
    bus.emit({ type: 'check.result', at: 2, result });
    bus.emit({ type: 'alert.silenced', at: 3, checkId: 'redis:cache', actor: 'ops', until: 60_000 });
    expect(heard).toEqual(['fired:redis:cache', '*:alert.fired', '*:check.result', 'result:redis:cache:ok', '*:alert.silenced']);
  });

  it('refuses ill-typed events and unknown types at compile time (npm run typecheck)', () => {
    const bus = new EventBus();
    // Never called: what is checked here is that tsc finds each error below.
    const _typeOnly = () => {
      // @ts-expect-error: an alert.fired event carries an alert, not a result
      bus.emit({ type: 'alert.fired', at: 4, result });
      // @ts-expect-error: every event says when it happened
      bus.emit({ type: 'check.result', result });
      // @ts-expect-error: no such event type
      bus.subscribe('alert.exploded', () => undefined);
      // @ts-expect-error: a check.result listener is handed check results, not alerts
      bus.subscribe('check.result', (_e: EngineEventOf<'alert.fired'>) => undefined);
    };
    expectTypeOf(bus.subscribe('*', () => undefined)).toEqualTypeOf<() => void>();
  });

  it('stops calling a listener once unsubscribed (also during an emit), and unsubscribing twice is harmless', () => {
    const bus = new EventBus();
    const heard: string[] = [];
    const offA = bus.subscribe('alert.resolved', () => {
      heard.push('a');
      offB(); // b subscribed after a: not called for this very event either
    });
    const offB = bus.subscribe('alert.resolved', () => heard.push('b'));
    const offAll = bus.subscribe('*', () => heard.push('*'));
    bus.emit({ type: 'alert.resolved', at: 1, alert });
    offA();
    offA();
    offAll();
    bus.emit({ type: 'alert.resolved', at: 2, alert });
    expect(heard).toEqual(['a', '*']);
  });

  it('a listener subscribed during an emit hears the next event, not this one; one subscribed again after leaving is called once', () => {
    const bus = new EventBus();
    const heard: string[] = [];
    let offLate: (() => void) | undefined;
    bus.subscribe('alert.resolved', (e) => {
      heard.push(`a${e.at}`);
      offLate ??= bus.subscribe('alert.resolved', (l) => heard.push(`late${l.at}`));
    });
    bus.emit({ type: 'alert.resolved', at: 1, alert });
    bus.emit({ type: 'alert.resolved', at: 2, alert });
    offLate?.();
    const again = bus.subscribe('alert.resolved', (e) => heard.push(`again${e.at}`));
    bus.emit({ type: 'alert.resolved', at: 3, alert });
    again();
    expect(heard).toEqual(['a1', 'a2', 'late2', 'a3', 'again3']);
  });

  it('a listener that throws (or rejects) reaches neither the emitter nor the listeners after it; it is counted and reported', async () => {
    const reported: string[] = [];
    const bus = new EventBus({
      onListenerError: (e, ev) => {
        reported.push(`${ev.type}: ${(e as Error).message}`);
        throw new Error('the reporter fails too');
      },
    });
    const heard: string[] = [];
    bus.subscribe('check.result', () => {
      throw new Error('boom');
    });
    bus.subscribe('check.result', async () => {
      await Promise.resolve();
      throw new Error('late boom');
    });
    bus.subscribe('check.result', (e) => heard.push(e.result.id));
    bus.subscribe('*', (e) => heard.push(`*:${e.type}`));
    expect(() => bus.emit({ type: 'check.result', at: 1, result })).not.toThrow();
    expect(heard).toEqual(['redis:cache', '*:check.result']);
    await new Promise((r) => setImmediate(r));
    expect(bus.errors).toBe(2);
    expect(reported).toEqual(['check.result: boom', 'check.result: late boom']);
  });
});

/** A source whose one check answers with the status set on it, as many times as it is run. */
function fakeSource(): { source: Source; status: { now: CheckStatus } } {
  const status = { now: 'ok' as CheckStatus };
  const source: Source = {
    id: 'http:api',
    refreshMs: 1000,
    checkMs: 1000,
    run: async () => [{ id: 'http:api', kind: 'http', target: 'http://ops:hunter22@api/health', status: status.now, message: `GET http://ops:hunter22@api/health: ${status.now}` }],
  };
  return { source, status };
}

describe('Monitor on the bus', () => {
  it('emits check.result for every recorded result (redacted, store already written) and alert.fired then alert.resolved', async () => {
    const config = validate({ interval: '1s', failure_threshold: 3, recovery_threshold: 2 }, 't');
    const store = createAppStore();
    const bus = new EventBus();
    const events: EngineEvent[] = [];
    const inStore: (string | undefined)[] = [];
    bus.subscribe('*', (e) => events.push(e));
    // What a listener of alert.* reads from the store is the alert as the event says it is.
    bus.subscribe('alert.fired', (e) => inStore.push(store.getState().alerts[e.alert.checkId]?.state));
    bus.subscribe('alert.resolved', (e) => inStore.push(store.getState().alerts[e.alert.checkId]?.state));
    bus.subscribe('check.result', () => {
      throw new Error('a broken listener must not stop the monitor');
    });
    const onAlert: string[] = [];
    let clock = 10_000;
    const { source, status } = fakeSource();
    const m = new Monitor({ config, store, sources: [source], bus, now: () => clock, onAlert: (e) => onAlert.push(e.transition) });

    const statuses: CheckStatus[] = ['ok', 'critical', 'critical', 'critical', 'ok', 'ok'];
    for (const s of statuses) {
      status.now = s;
      clock += 1000;
      await m.runAll();
    }

    const alerts = events.filter((e) => e.type.startsWith('alert.'));
    expect(alerts.map((e) => `${e.type}@${e.at}`)).toEqual(['alert.fired@14000', 'alert.resolved@16000']);
    expect(alerts.map((e) => (e.type === 'alert.fired' || e.type === 'alert.resolved' ? `${e.alert.checkId}:${e.alert.status}` : ''))).toEqual(['http:api:critical', 'http:api:ok']);
    expect(inStore).toEqual(['firing', 'resolved']);
    expect(onAlert).toEqual(['fired', 'resolved']);

    const results = events.flatMap((e) => (e.type === 'check.result' ? [e.result] : []));
    // One per run for the source's check and one for the system health composite.
    expect(results.filter((r) => r.id === 'http:api').map((r) => r.status)).toEqual(statuses);
    expect(results.filter((r) => r.id === 'system:health')).toHaveLength(statuses.length);
    for (const r of results) expect(`${r.message} ${r.target}`).not.toContain('hunter22');
    expect(results[0]?.message).toContain('ops:***@api');
    // The throwing listener was called for every result and broke nothing: the alert still resolved.
    expect(bus.errors).toBe(results.length);
    expect(store.getState().alerts['http:api']?.state).toBe('resolved');
  });
});

describe('AckStore on the bus', () => {
  it('emits alert.acknowledged and alert.silenced once saved, with who and until when', async () => {
    const db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-events-')));
    const bus = new EventBus();
    const events: EngineEvent[] = [];
    bus.subscribe('*', (e) => events.push(e));
    const acks = new AckStore(db, 1000, () => 5000, bus);
    acks.ack('redis:cache', 4000, 5000);
    acks.silence('redis:cache', 60_000, 6000);
    acks.lapse('redis:cache', 7000);
    db.close();
    expect(events).toEqual([
      { type: 'alert.acknowledged', at: 5000, checkId: 'redis:cache', actor: expect.any(String) as string, firedAt: 4000 },
      { type: 'alert.silenced', at: 6000, checkId: 'redis:cache', actor: expect.any(String) as string, until: 66_000 },
    ]);
  });
});
