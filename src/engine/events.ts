import type { Alert, AlertTransition } from '../domain/alerts.js';
import type { CheckResult } from '../domain/check.js';
import type { Severity } from '../domain/incident.js';

/**
 * The payload of each event kind, by its type (issue #14: incidents, notifications and self-healing
 * subscribe here instead of being wired into the monitor). A new kind is one more line here; the
 * union, the typed `subscribe` and `emit` follow from this map.
 */
export interface EngineEventMap {
  /** An alert fired (its failure streak reached `failure_threshold`). */
  'alert.fired': { alert: Alert };
  /** A firing alert resolved (its pass streak reached `recovery_threshold`). */
  'alert.resolved': { alert: Alert };
  /** An operator acknowledged the current firing episode of an alert (it lapses when the alert resolves). */
  'alert.acknowledged': { checkId: string; actor: string; firedAt?: number };
  /** An operator silenced an alert until `until` (ms). */
  'alert.silenced': { checkId: string; actor: string; until: number };
  /** One result the monitor recorded into the store, secrets already redacted. */
  'check.result': { result: CheckResult };
  /** The incident rules opened, joined (`raised` when its class rose), re-opened or mitigated an incident (issue #18; for notifications, #19). */
  'incident.changed': { incident: string; action: 'opened' | 'joined' | 'reopened' | 'mitigated'; severity: Severity; checkId: string; raised?: Severity };
  /**
   * The healer (issue #20, in the `healer` lease holder only) started or ended a healing action,
   * stopped healing a subject (escalated), left it to a person or Docker, took the lease over from a
   * stale holder, or an operator enabled healing again. `checkId`: the alert it answers.
   */
  /**
   * The failover manager (issue #21, in the `healer` lease holder only) decided about a pair:
   * `switched` (to `active`), `refused` (the other side would not become healthy: no switch),
   * `held` (within the hold-down: no switch), `failed-back` (the failback runbook), or the load rule ran
   * its runbook (`load`). The incident timeline reads the audit entries of the same decisions.
   */
  'failover.acted': { pair: string; action: 'switched' | 'refused' | 'held' | 'failed-back' | 'load'; active?: 'primary' | 'backup'; detail: string };
  'heal.acted': { subject: string; action: 'started' | 'ended' | 'escalated' | 'left' | 'takeover' | 'enabled'; detail: string; checkId?: string; runbook?: string; attempt?: number; outcome?: 'ok' | 'failed' };
}

/** The type of an event ('alert.fired', 'check.result', …). */
export type EngineEventType = keyof EngineEventMap;

/** One event of type `K` (of each type, for a union): its payload, its type and when it happened (ms since the epoch). */
export type EngineEventOf<K extends EngineEventType> = K extends EngineEventType ? { type: K; at: number } & EngineEventMap[K] : never;

/** Every event the bus carries, discriminated by `type`. */
export type EngineEvent = EngineEventOf<EngineEventType>;

/**
 * A listener. It runs synchronously inside `emit` — for the monitor, inside its record step — so it
 * must not do slow work there: start it and return. What it returns is ignored, except that a
 * returned promise's rejection is caught and counted like a throw (an async listener is not awaited).
 */
export type Listener<E> = (event: E) => unknown;

/** Options of a bus. */
export interface EventBusOptions {
  /** Told of every listener that threw or rejected (after `errors` was counted); its own throw is ignored. */
  onListenerError?: (error: unknown, event: EngineEvent) => void;
}

interface Subscription {
  type: EngineEventType | '*';
  listener: Listener<EngineEvent>;
}

/**
 * A typed, synchronous, in-process event bus. Listeners are called in the order they subscribed
 * (typed and '*' listeners in one order). A listener that throws never reaches the emitter nor stops
 * the listeners after it: the throw is counted in `errors` and passed to `onListenerError`.
 */
export class EventBus {
  // One ordered set rather than a set per type: "in subscription order" then holds across typed and
  // '*' listeners, and the few listeners a process has make filtering by type cheap.
  private readonly subs = new Set<Subscription>();
  /** `subs` as an array, made again only when a listener comes or goes (issue #27: an emit copied the set each time — ~55 check results a refresh). */
  private order: Subscription[] = [];
  private failures = 0;

  constructor(private readonly opts: EventBusOptions = {}) {}

  /** How many listener calls threw or rejected since the bus was made. */
  get errors(): number {
    return this.failures;
  }

  /** Listens to one type of event, or to every event with '*'; returns the unsubscribe function. */
  subscribe<K extends EngineEventType>(type: K, listener: Listener<EngineEventOf<K>>): () => void;
  subscribe(type: '*', listener: Listener<EngineEvent>): () => void;
  subscribe(type: EngineEventType | '*', listener: Listener<never>): () => void {
    // Sound: emit only hands a listener the events of the type it subscribed to.
    const sub: Subscription = { type, listener: listener as Listener<EngineEvent> };
    this.subs.add(sub);
    this.order = [...this.subs];
    return () => {
      if (this.subs.delete(sub)) this.order = [...this.subs];
    };
  }

  /**
   * Calls every listener of the event's type and every '*' listener, synchronously. A listener
   * subscribed during an emit hears the next event, not this one; one unsubscribed during it is not called.
   */
  emit(event: EngineEvent): void {
    // The array of this moment: a subscription during the emit makes a new one, so this loop does not see it.
    const order = this.order;
    for (let i = 0; i < order.length; i++) {
      const sub = order[i]!;
      if ((sub.type !== event.type && sub.type !== '*') || !this.subs.has(sub)) continue;
      try {
        const r = sub.listener(event);
        if (r instanceof Promise) r.catch((e: unknown) => this.fail(e, event));
      } catch (e) {
        this.fail(e, event);
      }
    }
  }

  private fail(error: unknown, event: EngineEvent): void {
    this.failures += 1;
    try {
      this.opts.onListenerError?.(error, event);
    } catch {
      // The error reporter is a listener too: it must not break the emitter either.
    }
  }
}

// A Record over AlertTransition: a new transition in domain/alerts.ts does not compile until it has an event.
const ALERT_EVENTS: Record<AlertTransition, 'alert.fired' | 'alert.resolved'> = { fired: 'alert.fired', resolved: 'alert.resolved' };

/** The event of an alert transition, as the monitor emits it. */
export function alertEvent(at: number, transition: AlertTransition, alert: Alert): EngineEvent {
  return { type: ALERT_EVENTS[transition], at, alert };
}
