import type BetterSqlite3 from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import { incidentRules } from '../config/schema-incidents.js';
import type { LeaseOwnerKind, LeaseRecord, TakeReason } from '../domain/lease.js';
import type { EventBus } from '../engine/events.js';
import { IncidentStore, type Applied } from './incidents.js';
import { Lease, processIdentity } from './lease.js';
import type { Source } from './sources.js';

/** The lease whose holder runs the incident rules (issue #18): one monitor of a state folder opens incidents. */
export const INCIDENT_LEASE = 'incident-rules';

/** What the rules did, for `watch`'s output. */
export type IncidentRuleEvent =
  | { kind: 'lease-taken'; at: number; reason: TakeReason }
  | { kind: 'lease-lost'; at: number; holder?: LeaseRecord; error?: string }
  | { kind: 'incident'; at: number; applied: Applied }
  | { kind: 'mitigated'; at: number; id: string; checkId: string }
  | { kind: 'error'; at: number; message: string };

/** Options of the rules. */
export interface IncidentRulesOptions {
  bus: EventBus;
  stateDb: BetterSqlite3.Database;
  owner: LeaseOwnerKind;
  /** The running configuration (read at each event: a reload changes the rules). */
  config: () => Config;
  now?: () => number;
  onEvent?: (e: IncidentRuleEvent) => void;
}

/**
 * The incident rules (issue #18) as a bus listener plus a monitor source that takes or renews the
 * `incident-rules` lease every interval, as the backup scheduler does with its own. While this
 * process holds it, each `alert.fired` goes to `IncidentStore.applyAlert` (one BEGIN IMMEDIATE
 * transaction: open a P2 on a CRITICAL alert, a P1 on `system:health`, join the open incident and
 * raise it, or re-open a flapping one), and each `alert.resolved` to `applyResolved` (the incident
 * is mitigated once none of its alerts fires). Subscribed once per process on its one bus; `off` unsubscribes.
 * Nothing here throws into the monitor: a state database error is an `error` event.
 */
export function incidentRulesRunner(opts: IncidentRulesOptions): { source: () => Source; off: () => void } {
  const now = opts.now ?? Date.now;
  const store = new IncidentStore(opts.stateDb);
  const me = processIdentity(opts.owner);
  let lease: Lease | undefined;
  const emit = (e: IncidentRuleEvent) => opts.onEvent?.(e);
  const by = `rule (${opts.owner} pid ${me.pid})`;

  const off = opts.bus.subscribe('alert.fired', (e) => {
    if (!lease?.held) return;
    const a = e.alert;
    try {
      const applied = store.applyAlert({ checkId: a.checkId, status: a.status, firedAt: a.firedAt ?? e.at, message: a.message }, incidentRules(opts.config().incidents), e.at, by);
      if (applied.kind === 'none' || !applied.incident) return;
      emit({ kind: 'incident', at: e.at, applied });
      const action = applied.kind === 'open' ? 'opened' : applied.kind === 'join' ? 'joined' : 'reopened';
      const raised = applied.kind !== 'open' && applied.raise ? { raised: applied.raise } : {};
      opts.bus.emit({ type: 'incident.changed', at: e.at, incident: applied.incident.id, action, severity: applied.incident.severity, checkId: a.checkId, ...raised });
    } catch (err) {
      emit({ kind: 'error', at: e.at, message: `incident rules: state database: ${(err as Error).message}` });
    }
  });

  const offResolved = opts.bus.subscribe('alert.resolved', (e) => {
    if (!lease?.held) return;
    try {
      const i = store.applyResolved(e.alert.checkId, e.at, by);
      if (!i) return;
      emit({ kind: 'mitigated', at: e.at, id: i.id, checkId: e.alert.checkId });
      opts.bus.emit({ type: 'incident.changed', at: e.at, incident: i.id, action: 'mitigated', severity: i.severity, checkId: e.alert.checkId });
    } catch (err) {
      emit({ kind: 'error', at: e.at, message: `incident rules: state database: ${(err as Error).message}` });
    }
  });

  // A new source per monitor (a reload makes a new monitor); the lease object is shared, so a reload keeps it.
  const source = (): Source => {
    const interval = opts.config().interval;
    lease ??= new Lease(opts.stateDb, INCIDENT_LEASE, me, interval);
    const l = lease;
    return {
      id: 'rules:incidents',
      refreshMs: interval,
      checkMs: interval,
      run: async () => {
        const at = now();
        const st = l.acquire(at);
        if (st.taken) emit({ kind: 'lease-taken', at, reason: st.taken });
        if (st.lost) emit({ kind: 'lease-lost', at, ...(st.holder ? { holder: st.holder } : {}), ...(st.error ? { error: st.error } : {}) });
        return [];
      },
      close: () => l.release(),
    };
  };
  return { source, off: () => (off(), offResolved()) };
}
