import { hostname } from 'node:os';
import type BetterSqlite3 from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import type { ChannelConfig } from '../config/schema-notify.js';
import { hostLabel } from '../domain/alertmanager.js';
import type { Alert } from '../domain/alerts.js';
import type { CheckResult } from '../domain/check.js';
import type { LeaseOwnerKind, LeaseRecord, TakeReason } from '../domain/lease.js';
import { backoffMs, byChannel, messageTitle, rateLimitedUntil, type MessageAlert, type MessageKind, type NotifyMessage } from '../domain/notify.js';
import type { Severity } from '../domain/incident.js';
import type { EventBus } from '../engine/events.js';
import { deliver } from '../services/notify-send.js';
import { AckStore } from './acks.js';
import { IncidentStore } from './incidents.js';
import { Lease, processIdentity } from './lease.js';
import { alertFacts, amRefresher, REFRESH_TICK_MS } from './notify-alertmanager.js';
import { Outbox, type ChannelStatus, type NotifiedAlert, type OutboxRow } from './outbox.js';
import type { Source } from './sources.js';

/** The lease whose holder sends notifications (issue #19): one monitor of a state folder tells people. */
export const NOTIFY_LEASE = 'notifier';

/** Delivered messages are kept this long (for `notify status`), failed ones longer. */
const KEEP_SENT_MS = 7 * 24 * 3_600_000;
const KEEP_FAILED_MS = 30 * 24 * 3_600_000;

/**
 * Fault injection for the SIGKILL tests (test/integration/notify-sigkill.test.ts): with
 * OPSDECK_FAULT_NOTIFY_KILL=before-send|after-send|after-mark the sender kills its own process with
 * SIGKILL at that point of its first delivery. Never set outside tests.
 */
const FAULT_KILL = process.env.OPSDECK_FAULT_NOTIFY_KILL;
const faultPoint = (at: 'before-send' | 'after-send' | 'after-mark') => {
  if (FAULT_KILL === at) process.kill(process.pid, 'SIGKILL');
};

/** What the notifier did, for `watch`'s output. */
export type NotifierEvent =
  | { kind: 'lease-taken'; at: number; reason: TakeReason }
  | { kind: 'lease-lost'; at: number; holder?: LeaseRecord; error?: string }
  | { kind: 'queued'; at: number; channel: string; key: string; messageKind: string; subject: string }
  | { kind: 'sent'; at: number; channel: string; key: string; attempts: number }
  | { kind: 'failed'; at: number; channel: string; key: string; error: string; final: boolean }
  | { kind: 'error'; at: number; message: string };

export interface NotifierOptions {
  bus: EventBus;
  stateDb: BetterSqlite3.Database;
  owner: LeaseOwnerKind;
  /** The running configuration (read at each event: a reload changes channels and routes). */
  config: () => Config;
  now?: () => number;
  onEvent?: (e: NotifierEvent) => void;
}

interface Batch {
  fired: Map<string, Alert>;
  resolved: Map<string, Alert>;
  at: number;
  cancel?: () => void;
}

/**
 * The notifier (issue #19): a bus listener that groups what fires (and resolves) within
 * `notify.group_wait` into one message per incident (or per channel for alerts in no incident),
 * queues it in the outbox once per channel its routes name, and a sender that delivers the outbox —
 * both only while this process holds the `notifier` lease (a monitor source takes or renews it every
 * interval, and queues the repeats of what still fires). Nothing here throws into the monitor.
 */
export function notifierRunner(opts: NotifierOptions): { source: () => Source; off: () => void; pump: () => void } {
  const now = opts.now ?? Date.now;
  const outbox = new Outbox(opts.stateDb);
  const incidents = new IncidentStore(opts.stateDb);
  const acks = new AckStore(opts.stateDb);
  const me = processIdentity(opts.owner);
  let lease: Lease | undefined;
  let batch: Batch | undefined;
  let pumping = false;
  let again = false;
  let wake: NodeJS.Timeout | undefined;
  let stopped = false;
  let refreshTimer: NodeJS.Timeout | undefined;
  const firingNow = new Set<string>();
  /** Each check's latest result (redacted, from the bus): an alert's kind, target and runbook when it fires (issue #25). */
  const latest = new Map<string, CheckResult>();
  const factsOf = (cfg: Config, a: { checkId: string; status: string; firedAt?: number | undefined }, at: number) => alertFacts(cfg, latest.get(a.checkId), a, at);
  const am = amRefresher({ outbox, firingNow, now, config: opts.config, active: () => !stopped && !!lease?.held, factsOf, onError: (at, message) => emit({ kind: 'error', at, message }) });
  const emit = (e: NotifierEvent) => opts.onEvent?.(e);
  const safely = (what: string, f: () => void) => {
    try {
      f();
    } catch (err) {
      emit({ kind: 'error', at: now(), message: `notify: ${what}: state database: ${(err as Error).message}` });
    }
  };
  const channels = (): ChannelConfig[] => opts.config().notify.channels;

  const schedule = () => {
    if (!batch || batch.cancel) return;
    const wait = Math.max(0, batch.at + opts.config().notify.group_wait - now());
    if (wait === 0) {
      const t = setImmediate(flush);
      batch.cancel = () => clearImmediate(t);
    } else {
      const t = setTimeout(flush, wait);
      batch.cancel = () => clearTimeout(t);
    }
  };

  const offFired = opts.bus.subscribe('alert.fired', (e) => {
    firingNow.add(e.alert.checkId);
    if (!lease?.held || channels().length === 0) return;
    batch ??= { fired: new Map(), resolved: new Map(), at: e.at };
    batch.resolved.delete(e.alert.checkId);
    batch.fired.set(e.alert.checkId, e.alert);
    schedule();
  });
  const offResolved = opts.bus.subscribe('alert.resolved', (e) => {
    firingNow.delete(e.alert.checkId);
    if (!lease?.held) return;
    // Fired and resolved before the group went out: there is nothing to tell.
    if (batch?.fired.delete(e.alert.checkId)) return;
    batch ??= { fired: new Map(), resolved: new Map(), at: e.at };
    batch.resolved.set(e.alert.checkId, e.alert);
    schedule();
  });

  // An alert told firing that resolved while no opsdeck ran (or before a restart) never resolves in
  // this process: its first passing result here queues its resolved message instead.
  let notifiedIds = new Set<string>();
  const offResult = opts.bus.subscribe('check.result', (e) => {
    const id = e.result.id;
    latest.set(id, e.result);
    if (e.result.status !== 'ok' || !notifiedIds.has(id) || firingNow.has(id) || !lease?.held) return;
    notifiedIds.delete(id);
    batch ??= { fired: new Map(), resolved: new Map(), at: e.at };
    batch.resolved.set(id, { checkId: id, state: 'resolved', failStreak: 0, passStreak: 1, status: 'ok', message: e.result.message, resolvedAt: e.at });
    schedule();
  });

  function flush(): void {
    const b = batch;
    batch = undefined;
    if (!b || stopped) return;
    safely('queueing', () => {
      const cfg = opts.config();
      const at = now();
      const items = [...firingItems(cfg, [...b.fired.values()], b.at, at), ...resolvedItems(cfg, [...b.resolved.values()], b.at)];
      const fired = items.filter((i) => i.message.kind !== 'resolved');
      const resolved = items.filter((i) => i.message.kind === 'resolved');
      for (const q of [...outbox.enqueue(fired, at), ...outbox.resolve(resolved, at)]) emit({ kind: 'queued', at, channel: q.channel, key: q.key, messageKind: q.kind, subject: q.subject });
    });
    pump();
  }

  /** The firing messages of a group: alerts silenced now are left out; one told of this episode already (a restart) is not told again. */
  function firingItems(cfg: Config, alerts: Alert[], at: number, now_: number): { channel: string; message: NotifyMessage }[] {
    const open = incidents.open();
    const live = alerts.filter((a) => !acks.get(a.checkId, undefined, now_).silencedUntil);
    const names = cfg.notify.channels.map((c) => c.name);
    const told = (a: Alert, channel: string) => outbox.notified(a.checkId).some((n) => n.channel === channel && now_ - n.lastAt < cfg.notify.repeat_interval);
    const out: { channel: string; message: NotifyMessage }[] = [];
    // An Alertmanager channel's static labels go with the facts, fixed for the episode (the outbox keeps the first facts).
    const staticLabels = (channel: string) => {
      const ch = cfg.notify.channels.find((c) => c.name === channel);
      return ch?.type === 'alertmanager' ? { labels: { ...ch.labels } } : {};
    };
    const alertOf = (a: Alert, channel: string): MessageAlert => ({ checkId: a.checkId, status: a.status, message: a.message, facts: { ...factsOf(cfg, a, at), ...staticLabels(channel) } });
    const inIncident = open ? live.filter((a) => open.checks.includes(a.checkId)) : [];
    const alone = live.filter((a) => !inIncident.includes(a));
    const add = (severity: Severity | undefined, group: Alert[], subjectOf: (list: Alert[]) => string) => {
      for (const [channel, list] of byChannel(cfg.notify.routes, names, severity, group.map((a) => ({ checkId: a.checkId, status: a.status, a })))) {
        // A channel's own delivery alert (notify:<channel>) goes to the other channels only: it cannot reach it.
        const fresh = list.filter((x) => x.a.checkId !== `notify:${channel}` && !told(x.a, channel)).map((x) => x.a);
        if (fresh.length) out.push({ channel, message: message(cfg, 'firing', subjectOf(fresh), severity, fresh.map((a) => alertOf(a, channel)), at) });
      }
    };
    if (open && inIncident.length) add(open.severity, inIncident, () => open.id);
    if (alone.length) add(undefined, alone, (list) => (list.length === 1 ? (list[0] as Alert).checkId : `alerts:${(list[0] as Alert).checkId}+${list.length - 1}`));
    return out;
  }

  /** The resolved messages: to every channel told of the alert firing (silenced since or not), one per channel and subject. */
  function resolvedItems(cfg: Config, alerts: Alert[], at: number): { channel: string; message: NotifyMessage }[] {
    const groups = new Map<string, { channel: string; subject: string; alerts: MessageAlert[] }>();
    for (const a of alerts) {
      for (const n of outbox.notified(a.checkId)) {
        const k = `${n.channel}\n${n.subject}`;
        const g = groups.get(k) ?? { channel: n.channel, subject: n.subject, alerts: [] };
        g.alerts.push({ checkId: a.checkId, status: 'ok', message: `${a.retired ? `${a.retired}, not recovered — ` : ''}resolved (was ${n.status.toUpperCase()}: ${n.message})`, summary: n.message, facts: n.facts ?? factsOf(cfg, { checkId: a.checkId, status: n.status }, n.firedAt) });
        groups.set(k, g);
      }
    }
    return [...groups.values()].map((g) => ({ channel: g.channel, message: message(cfg, 'resolved', g.subject, undefined, g.alerts, at) }));
  }

  /** Queues the repeats of what still fires, unacknowledged and not silenced, `repeat_interval` after it was last told. */
  function repeats(at: number): void {
    const cfg = opts.config();
    const groups = new Map<string, { channel: string; subject: string; alerts: NotifiedAlert[] }>();
    // Alertmanager repeats on its own (its repeat_interval); it is kept told by the refresh instead (refreshAm).
    const am = new Set(cfg.notify.channels.filter((c) => c.type === 'alertmanager').map((c) => c.name));
    for (const n of outbox.allNotified()) {
      if (am.has(n.channel) || !firingNow.has(n.checkId) || at - n.lastAt < cfg.notify.repeat_interval) continue;
      const ack = acks.get(n.checkId, undefined, at);
      if (ack.acknowledged || ack.silencedUntil) continue;
      const k = `${n.channel}\n${n.subject}`;
      const g = groups.get(k) ?? { channel: n.channel, subject: n.subject, alerts: [] };
      g.alerts.push(n);
      groups.set(k, g);
    }
    if (groups.size === 0) return;
    const items = [...groups.values()].map((g) => ({ channel: g.channel, message: message(cfg, 'repeat', g.subject, undefined, g.alerts.map((n) => ({ checkId: n.checkId, status: n.status, message: n.message })), at) }));
    outbox.enqueue(items, at);
    for (const g of groups.values()) outbox.repeated(g.channel, g.alerts.map((n) => n.checkId), at);
  }

  /**
   * An incident a person declared (`opsdeck incident declare`, the console's I — often in another
   * process, so not on this bus) is announced once, to the channels its class routes to; one the
   * rules opened is told by its alerts' message instead.
   */
  function announce(at: number): void {
    const open = incidents.open();
    if (!open || open.openedBy.startsWith('rule') || outbox.hasSubject(open.id)) return;
    const cfg = opts.config();
    const names = cfg.notify.channels.map((c) => c.name);
    const targets = open.checks.length ? open.checks.map((checkId) => ({ checkId, status: 'critical' })) : [{ checkId: open.id, status: 'critical' }];
    const channels = [...byChannel(cfg.notify.routes, names, open.severity, targets).keys()];
    const m = message(cfg, 'declared', open.id, open.severity, [{ checkId: open.id, status: 'critical', message: `${open.title} (declared by ${open.openedBy}${open.checks.length ? `; ${open.checks.length} alert${open.checks.length === 1 ? '' : 's'}: ${open.checks.slice(0, 5).join(', ')}` : ''})` }], open.declaredAt);
    for (const q of outbox.enqueue(channels.map((channel) => ({ channel, message: m })), at)) emit({ kind: 'queued', at, channel: q.channel, key: q.key, messageKind: q.kind, subject: q.subject });
  }

  /** Delivers what is due, channel by channel (one message at a time per channel), until nothing is; then sleeps until the next is due. */
  function pump(): void {
    if (stopped || !lease?.held) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    again = false;
    void (async () => {
      try {
        for (;;) {
          let rows: OutboxRow[] = [];
          safely('reading the outbox', () => (rows = outbox.dueRows(now(), 50)));
          // Alertmanager channels due to re-send their firing alerts (issue #25) run in their own chain,
          // before their rows: a slow or down Alertmanager holds back no other channel.
          const refreshing = am.due();
          if ((rows.length === 0 && refreshing.length === 0) || stopped || !lease?.held) break;
          const per = new Map<string, OutboxRow[]>(refreshing.map((n) => [n, []]));
          for (const r of rows) per.set(r.channel, [...(per.get(r.channel) ?? []), r]);
          await Promise.all([...per.entries()].map(async ([ch, list]) => {
            await am.refresh(ch);
            for (const r of list) await sendOne(ch, r);
          }));
        }
      } finally {
        pumping = false;
        if (again) pump();
        else sleep();
      }
    })();
  }

  function sleep(): void {
    if (wake) clearTimeout(wake);
    if (stopped) return;
    let next: number | undefined;
    safely('reading the outbox', () => (next = outbox.nextDue()));
    if (next === undefined) return;
    wake = setTimeout(pump, Math.min(Math.max(0, next - now()), opts.config().interval));
    wake.unref();
  }

  async function sendOne(name: string, r: OutboxRow): Promise<void> {
    const cfg = opts.config().notify;
    const ch = cfg.channels.find((c) => c.name === name);
    const at = now();
    if (!ch) {
      safely('recording', () => outbox.markFailed(r.id, `channel ${name} is no longer in notify.channels`, undefined));
      return;
    }
    if (ch.rate_limit) {
      const w = outbox.sentWindow(name, at - ch.rate_limit.perMs, ch.rate_limit.count);
      const until = rateLimitedUntil(at, ch.rate_limit, w.count, w.oldest);
      if (until > at) return void safely('deferring', () => outbox.defer(r.id, until));
    }
    let begun = false;
    safely('recording', () => (begun = outbox.beginAttempt(r.id, at + backoffMs(r.attempts + 1, cfg.retry_initial, cfg.retry_max))));
    if (!begun) return;
    faultPoint('before-send');
    const d = await deliver(ch, r.message, r.key, hostLabel(opts.config(), undefined, hostname()));
    faultPoint('after-send');
    const done = now();
    if (d.ok) {
      safely('recording', () => outbox.markSent(r.id, done));
      faultPoint('after-mark');
      emit({ kind: 'sent', at: done, channel: name, key: r.key, attempts: r.attempts + 1 });
      return;
    }
    const final = !d.retry || done - r.createdAt >= cfg.give_up_after;
    const next = final ? undefined : done + Math.max(backoffMs(r.attempts + 1, cfg.retry_initial, cfg.retry_max), d.retryAfterMs ?? 0);
    safely('recording', () => outbox.markFailed(r.id, d.error, next));
    emit({ kind: 'failed', at: done, channel: name, key: r.key, error: d.error, final });
  }

  const source = (): Source => {
    const interval = opts.config().interval;
    const first = !lease;
    lease ??= new Lease(opts.stateDb, NOTIFY_LEASE, me, interval);
    const l = lease;
    const acquire = () => {
      const at = now();
      const st = l.acquire(at);
      if (st.taken) emit({ kind: 'lease-taken', at, reason: st.taken });
      if (st.lost) emit({ kind: 'lease-lost', at, ...(st.holder ? { holder: st.holder } : {}), ...(st.error ? { error: st.error } : {}) });
    };
    // Taken at once, so an alert of the very first check round is not missed (the source runs beside the probes).
    if (first && channels().length > 0) acquire();
    // Alertmanager channels re-send what fires on their own period, whatever the check interval.
    if (first && !refreshTimer) {
      refreshTimer = setInterval(() => {
        if (channels().some((c) => c.type === 'alertmanager')) pump();
      }, REFRESH_TICK_MS);
      refreshTimer.unref();
    }
    return {
      id: 'notify',
      refreshMs: interval,
      checkMs: interval,
      run: async () => {
        const at = now();
        if (channels().length > 0) acquire();
        if (l.held) {
          safely('reading the outbox', () => (notifiedIds = new Set(outbox.allNotified().map((n) => n.checkId))));
          safely('queueing repeats', () => repeats(at));
          safely('announcing the open incident', () => announce(at));
          safely('pruning', () => outbox.prune(at - KEEP_SENT_MS, at - KEEP_FAILED_MS));
          pump();
        }
        return deliveryChecks(at);
      },
      close: () => l.release(),
    };
  };
  /** One check per channel (`notify:<channel>`): WARNING while messages are retried or were given up since it last delivered one. */
  function deliveryChecks(at: number): CheckResult[] {
    const cfg = opts.config().notify.channels;
    let list: ChannelStatus[] = [];
    safely('reading the outbox', () => (list = outbox.status(at, cfg.map((c) => c.name))));
    return list.filter((c) => cfg.some((x) => x.name === c.channel)).map((c): CheckResult => am.errors.has(c.channel) && c.failing === 0 ? {
      id: `notify:${c.channel}`,
      kind: 'notify',
      target: c.channel,
      status: 'warning',
      value: 0,
      message: `notify: ${c.channel}: re-sending its firing alerts failed: ${am.errors.get(c.channel) ?? ''} (Alertmanager resolves them when their endsAt passes) — opsdeck notify status`,
    } : ({
      id: `notify:${c.channel}`,
      kind: 'notify',
      target: c.channel,
      status: c.failing > 0 ? 'warning' : 'ok',
      value: c.failing,
      message: c.failing > 0
        ? `notify: ${c.retrying ? `${c.retrying} retrying` : ''}${c.retrying && c.failing > c.retrying ? ', ' : ''}${c.failing > c.retrying ? `${c.failing - c.retrying} failed` : ''} (${c.channel})${c.lastError ? `: ${c.lastError}` : ''} — opsdeck notify status`
        : `notify: ${c.channel} delivering (${c.sentLastDay} sent in 24 h, ${c.pending} pending)`,
    }));
  }

  return {
    source,
    pump,
    off: () => {
      stopped = true;
      offFired();
      offResolved();
      offResult();
      if (wake) clearTimeout(wake);
      if (refreshTimer) clearInterval(refreshTimer);
      batch?.cancel?.();
    },
  };
}

/** A message with its title. */
export function message(cfg: Pick<Config, 'name'>, kind: MessageKind, subject: string, severity: Severity | undefined, alerts: MessageAlert[], at: number): NotifyMessage {
  const base = { kind, subject, ...(severity ? { severity } : {}), stack: cfg.name, alerts, at };
  return { ...base, title: messageTitle(base) };
}
