import type BetterSqlite3 from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import { redactSecrets } from '../config/secrets.js';
import { stepAlert, type Alert, type AlertTransition, type Hysteresis } from '../domain/alerts.js';
import type { CheckResult } from '../domain/check.js';
import { systemHealth } from '../domain/evaluate.js';
import { alertEvent, type EventBus } from '../engine/events.js';
import type { Source } from './sources.js';
import type { AppStore } from './store.js';

/** A recorded alert change, as passed to listeners (notifications, the console's flash line). */
export interface AlertEvent {
  at: number;
  transition: AlertTransition;
  alert: Alert;
}

/** Options of the monitor loop; the clock and timers are injectable for tests. */
export interface MonitorOptions {
  config: Config;
  store: AppStore;
  sources: Source[];
  stateDb?: BetterSqlite3.Database;
  now?: () => number;
  /** Hears `check.result` for every recorded result and `alert.fired` / `alert.resolved` for every transition. */
  bus?: EventBus;
  /** Called on every alert transition, after the bus's listeners; a throw is ignored. (The bus is the way for new listeners.) */
  onAlert?: (e: AlertEvent) => void;
}

interface Slot {
  source: Source;
  running: boolean;
  timer?: NodeJS.Timeout;
  /** When the last run that counted as a health check started. */
  lastCheckAt?: number;
  failures: number;
}

/**
 * Runs every source on its own interval (no overlapping runs of one source; a failing source backs
 * off up to 4× its interval), writes results into the store, advances alert hysteresis at each
 * source's check interval and persists alert transitions in the state database. Every recorded result
 * and every transition is emitted on the `bus`, once the store holds it.
 */
export class Monitor {
  private readonly slots: Slot[];
  private readonly now: () => number;
  private stopped = true;
  private recordEvent?: (at: number, a: Alert, transition: AlertTransition) => void;
  private lastHealthCheckAt?: number;
  /** Sources whose first run has finished: until every one has, the system health says it is still checking (issue #27). */
  private readonly heard = new Set<string>();
  /**
   * Alerts the history says fire (last transition `fired`) that this monitor has not stepped yet: a
   * monitor that was killed, or the one before a restart, recorded them. Taken up at the check's first
   * result here (`takeUp`), so the recovery is recorded as `resolved` and an incident can be mitigated.
   */
  private readonly openInHistory = new Map<string, { at: number; status: string | null; message: string | null }>();

  constructor(private readonly opts: MonitorOptions) {
    this.now = opts.now ?? Date.now;
    this.slots = opts.sources.map((source) => ({ source, running: false, failures: 0 }));
    const db = opts.stateDb;
    if (db) {
      const insert = db.prepare('INSERT INTO alert_events (at, check_id, event, status, message) VALUES (?, ?, ?, ?, ?)');
      const last = db.prepare("SELECT event FROM alert_events WHERE check_id = ? AND event IN ('fired', 'resolved') ORDER BY at DESC, id DESC LIMIT 1").pluck();
      // A transition is recorded once (issue #13: two consoles on one state directory both recorded
      // "fired" for one alert): what the last recorded transition of the check already says is not
      // written again. Read and write in one BEGIN IMMEDIATE transaction, so two monitors cannot both
      // find it missing. The same rule keeps a restarted monitor from recording an outage that never
      // resolved as a second firing.
      const tx = db.transaction((at: number, a: Alert, transition: AlertTransition) => {
        if (last.get(a.checkId) === transition) return;
        insert.run(at, a.checkId, transition, a.status, a.message);
      });
      this.recordEvent = (at, a, transition) => tx.immediate(at, a, transition);
      try {
        const open = db
          .prepare(
            `SELECT check_id AS checkId, at, status, message FROM alert_events e WHERE event = 'fired' AND id = (
               SELECT id FROM alert_events x WHERE x.check_id = e.check_id AND x.event IN ('fired', 'resolved') ORDER BY at DESC, id DESC LIMIT 1)`,
          )
          .all() as { checkId: string; at: number; status: string | null; message: string | null }[];
        for (const o of open) this.openInHistory.set(o.checkId, o);
      } catch {
        // a busy state database: this monitor starts with no alerts, as before
      }
    }
  }

  /**
   * The alert a check had when this monitor first steps it: the store's, else one the history says
   * fires (recorded by a monitor that died or restarted, or by another live one on the same state
   * folder) — taken up as firing since it fired, so the next passing checks resolve it as usual.
   */
  private takeUp(id: string, prev: Alert | undefined, h: Hysteresis): { alert?: Alert; takenUp: boolean } {
    const o = this.openInHistory.get(id);
    if (o) this.openInHistory.delete(id);
    if (prev || !o) return { ...(prev ? { alert: prev } : {}), takenUp: false };
    const status = (['ok', 'warning', 'critical', 'unknown'] as const).find((s) => s === o.status) ?? 'critical';
    return {
      alert: { checkId: id, state: 'firing', failStreak: h.failureThreshold, passStreak: 0, status, message: o.message ?? '', since: o.at, firedAt: o.at },
      takenUp: true,
    };
  }

  /** Starts polling: every source runs at once, so the first frame has data (CPU % follows on the second run). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    for (const slot of this.slots) void this.tick(slot);
  }

  /**
   * Takes more sources after it was made (issue #27: the console's healing, notifier and incident
   * rules load after its first frame). Each runs at once when the monitor is started; until its first
   * run the system health says it is still checking, as for any source. Resolves once each has run
   * once (at once when the monitor is stopped).
   */
  async add(sources: readonly Source[]): Promise<void> {
    const first: Promise<void>[] = [];
    for (const source of sources) {
      const slot: Slot = { source, running: false, failures: 0 };
      this.slots.push(slot);
      if (!this.stopped) first.push(this.tick(slot));
    }
    await Promise.all(first);
  }

  /** Stops every timer and closes the sources' connections. Runs in progress finish on their own. */
  stop(): void {
    this.stopped = true;
    for (const slot of this.slots) {
      clearTimeout(slot.timer);
      slot.source.close?.();
    }
  }

  /**
   * Retires the checks a configuration change removed (`retiredChecks`): a firing one resolves —
   * recorded and told on the bus like any resolution, its message saying why — and every one of them
   * leaves the store (its row, the composite health). Call before start().
   */
  retire(ids: readonly string[], reason = 'no longer checked: removed from the configuration'): void {
    if (ids.length === 0) return;
    const { store, bus } = this.opts;
    const at = this.now();
    const resolved: Alert[] = [];
    const h = { failureThreshold: this.opts.config.failure_threshold, recoveryThreshold: this.opts.config.recovery_threshold };
    for (const id of ids) {
      const a = this.takeUp(id, store.getState().alerts[id], h).alert;
      if (!a || (a.state !== 'firing' && a.state !== 'resolving')) continue;
      const done: Alert = { ...a, state: 'resolved', status: 'ok', message: reason, passStreak: 0, failStreak: 0, resolvedAt: at, retired: reason };
      try {
        this.recordEvent?.(at, done, 'resolved');
      } catch {
        // a busy state database loses this record, never the reload
      }
      resolved.push(done);
    }
    store.getState().actions.dropChecks(ids);
    for (const a of resolved) {
      bus?.emit(alertEvent(at, 'resolved', a));
      try {
        this.opts.onAlert?.({ at, transition: 'resolved', alert: a });
      } catch {
        // as a bus listener's
      }
    }
  }

  /** Runs one source now (used by tests and by "refresh" in the console); skipped if it is running. */
  async runOnce(id: string, opts: { forceCheck?: boolean } = {}): Promise<void> {
    const slot = this.slots.find((s) => s.source.id === id);
    if (slot) await this.runSlot(slot, opts.forceCheck ?? true);
  }

  /** Runs every source once, all evaluated as a health check. */
  async runAll(): Promise<void> {
    await Promise.all(this.slots.map((s) => this.runSlot(s, true)));
  }

  /**
   * One run, then the next one armed on the interval counted from this run's start (issue #11: armed
   * after the probe finished, every slow answer or timeout stretched the cycle — api-slow was seen
   * after 24 s at a 5 s interval). A run that takes longer than the interval is followed at once by
   * the next; runs of one source never overlap.
   */
  private async tick(slot: Slot): Promise<void> {
    if (this.stopped) return;
    const startedAt = this.now();
    await this.runSlot(slot, false, startedAt);
    if (this.stopped) return;
    const base = slot.source.refreshMs;
    const delay = slot.failures > 0 ? Math.min(base * 2 ** slot.failures, Math.max(base * 4, slot.source.checkMs)) : base;
    slot.timer = setTimeout(() => void this.tick(slot), Math.max(0, startedAt + delay - this.now()));
    slot.timer.unref?.();
  }

  private async runSlot(slot: Slot, forceCheck: boolean, startedAt = this.now()): Promise<void> {
    if (slot.running) return; // never overlap runs of one source (k9s drops overlapping refreshes)
    slot.running = true;
    try {
      // Whether a run is a health check is decided by when it started: a slow answer must not make
      // the next, quick one look too early to count. The source is told (issue #27: a check's Docker
      // run lists the engine; a refresh between checks may lean on the events stream).
      const isCheck = forceCheck || slot.lastCheckAt === undefined || startedAt - slot.lastCheckAt >= slot.source.checkMs - 50;
      const results = await slot.source.run({ check: isCheck });
      if (slot.source.settled?.() !== false) this.heard.add(slot.source.id);
      slot.failures = results.some((r) => r.status === 'unknown' && !r.suppressedBy) ? slot.failures + 1 : 0;
      const at = this.now();
      this.record(results, isCheck, at);
      if (isCheck) slot.lastCheckAt = startedAt;
    } catch {
      // Sources return typed results; a throw here is a bug, counted as a failure, never a crash.
      this.heard.add(slot.source.id);
      slot.failures += 1;
    } finally {
      slot.running = false;
    }
  }

  private record(raw: CheckResult[], isCheck: boolean, at: number): void {
    // Redacted before the store (issue #12): the console's panes cut long texts to their width
    // before its frame filter redacts, and a secret cut in half is no longer recognised.
    const results = raw.map(redactCheck);
    const { store } = this.opts;
    const { actions } = store.getState();
    // The health over the checks as they will be, then one store update with both (issue #27: two
    // updates copied the checks twice and woke every store listener twice per source run).
    const next: Record<string, CheckResult> = { ...store.getState().checks };
    for (const r of results) next[r.id] = r;
    const all: CheckResult[] = [];
    for (const id in next) if (id !== 'system:health') all.push(next[id] as CheckResult);
    const pending = this.slots.filter((s) => !this.heard.has(s.source.id)).map((s) => s.source.id);
    const health = systemHealth(all, this.opts.config.thresholds.system_health, pending);
    actions.setChecks([...results, health]);
    for (const result of [...results, health]) this.opts.bus?.emit({ type: 'check.result', at, result });
    if (!isCheck) return;
    const h = { failureThreshold: this.opts.config.failure_threshold, recoveryThreshold: this.opts.config.recovery_threshold };
    const prev = store.getState().alerts;
    const updated: Alert[] = [];
    const changes: AlertEvent[] = [];
    // The composite is a check of its own, stepped once per check interval, not once per source.
    const healthDue = this.lastHealthCheckAt === undefined || at - this.lastHealthCheckAt >= this.opts.config.interval - 50;
    if (healthDue) this.lastHealthCheckAt = at;
    for (const r of healthDue ? [...results, health] : results) {
      const before = this.takeUp(r.id, prev[r.id], h);
      const { alert, transition } = stepAlert(before.alert, r, at, h);
      updated.push(alert);
      // Still failing: said on the bus again (not recorded: the history has it), so a notifier or the
      // incident rules in this process know it fires — they skip what they already told or recorded.
      if (before.takenUp && !transition && alert.state === 'firing') changes.push({ at, transition: 'fired', alert });
      if (transition) {
        try {
          this.recordEvent?.(at, alert, transition);
        } catch {
          // A busy or full state database loses this record, never the monitor loop.
        }
        changes.push({ at, transition, alert });
      }
    }
    actions.setAlerts(updated);
    // Told once the store holds the new alerts, so a listener that reads the store sees them. A
    // listener's throw must not lose the alerts' state (an onAlert throw used to escape to runSlot
    // before setAlerts, and the transition was stepped again on the next check).
    for (const e of changes) {
      this.opts.bus?.emit(alertEvent(e.at, e.transition, e.alert));
      try {
        this.opts.onAlert?.(e);
      } catch {
        // as a bus listener's: never the monitor loop's problem
      }
    }
  }
}

/**
 * A check result with its texts for people redacted (message, target, a text value, why figures are
 * missing); the result itself when there was nothing to redact (issue #27: ~55 results a refresh,
 * each copied before).
 */
function redactCheck(r: CheckResult): CheckResult {
  const message = redactSecrets(r.message);
  const target = redactSecrets(r.target);
  const value = typeof r.value === 'string' ? redactSecrets(r.value) : r.value;
  let missing = r.missing;
  if (missing) {
    const m = Object.fromEntries(Object.entries(missing).map(([k, v]) => [k, redactSecrets(v)]));
    if (Object.keys(m).some((k) => m[k] !== missing![k])) missing = m;
  }
  if (message === r.message && target === r.target && value === r.value && missing === r.missing) return r;
  return { ...r, message, target, ...(value !== undefined ? { value } : {}), ...(missing ? { missing } : {}) };
}
