import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';
import { amSeverity, hostLabel, type AlertFacts } from '../domain/alertmanager.js';
import type { CheckResult } from '../domain/check.js';
import { messageTitle, type NotifyMessage } from '../domain/notify.js';
import { runbookForCheck } from '../domain/runbook-map.js';
import { deliver } from '../services/notify-send.js';
import type { NotifiedAlert, Outbox } from './outbox.js';

// The notifier's Alertmanager part (issue #25): what an alert is when it fires (the facts its labels
// are made of, kept with the channels told of it) and the periodic re-send of firing alerts.

/** How often the notifier looks whether an Alertmanager channel's firing alerts are due to be posted again. */
export const REFRESH_TICK_MS = 5_000;

/** What an alert is as it fires: its check's kind, target and runbook (from its latest result), its host label, severity and start. */
export function alertFacts(cfg: Config, r: CheckResult | undefined, a: { checkId: string; status: string; firedAt?: number | undefined }, at: number): AlertFacts {
  const i = a.checkId.indexOf(':');
  const names = { services: cfg.services.map((x) => x.name), endpoints: cfg.endpoints.map((x) => x.name), redis: cfg.redis.map((x) => x.name), databases: cfg.databases.map((x) => x.name), pairs: Object.fromEntries(cfg.failover.pairs.map((p) => [p.name, p.primary])) };
  const runbook = r ? runbookForCheck(r, names, cfg.runbooks.map)?.runbook : undefined;
  return {
    kind: r?.kind ?? (i > 0 ? a.checkId.slice(0, i) : a.checkId),
    target: r?.target ?? (i > 0 ? a.checkId.slice(i + 1) : a.checkId),
    host: hostLabel(cfg, a.checkId, hostname()),
    severity: amSeverity(a.status),
    firedAt: a.firedAt ?? at,
    ...(runbook ? { runbook } : {}),
  };
}

export interface AmRefresherDeps {
  outbox: Outbox;
  /** The alerts firing in this process now. */
  firingNow: ReadonlySet<string>;
  now: () => number;
  config: () => Config;
  /** Whether this process sends (holds the `notifier` lease and is not stopped). */
  active: () => boolean;
  factsOf: (cfg: Config, a: { checkId: string; status: string; firedAt?: number | undefined }, at: number) => AlertFacts;
  onError: (at: number, message: string) => void;
}

/**
 * Alertmanager resolves an alert it stops hearing of (its endsAt passes): every `resend_every`, the
 * alerts an Alertmanager channel was told of that still fire here are posted again, endsAt 4 periods
 * ahead (as Prometheus does). The notifier's pump runs `refresh(channel)` in that channel's chain,
 * before its rows (other channels side by side, not held back by a slow Alertmanager): a resolved
 * message queued meanwhile goes out after it, so Alertmanager never hears "firing" after "resolved". Not queued in the outbox (a re-assertion of state, not a message): a failed re-send is
 * tried again at the next tick and shown on the channel's `notify:<channel>` check (`errors`).
 */
export function amRefresher(d: AmRefresherDeps): { due: () => string[]; refresh: (channel: string) => Promise<void>; errors: ReadonlyMap<string, string> } {
  const refreshedAt = new Map<string, number>();
  const errors = new Map<string, string>();
  const isDue = (name: string, every: number, at: number) => at - (refreshedAt.get(name) ?? 0) >= every;
  /** The Alertmanager channels whose firing alerts are due to be posted again. */
  const due = (): string[] => {
    if (!d.active()) return [];
    const at = d.now();
    return d.config().notify.channels.flatMap((ch) => (ch.type === 'alertmanager' && isDue(ch.name, ch.resend_every, at) ? [ch.name] : []));
  };
  /** Posts a channel's firing alerts again if it is an Alertmanager channel and due; else nothing. */
  const refresh = async (name: string): Promise<void> => {
    const cfg = d.config();
    for (const ch of cfg.notify.channels) {
      if (ch.name !== name || ch.type !== 'alertmanager' || !d.active()) continue;
      const at = d.now();
      if (!isDue(ch.name, ch.resend_every, at)) continue;
      refreshedAt.set(ch.name, at);
      let told: NotifiedAlert[];
      try {
        told = d.outbox.allNotified().filter((n) => n.channel === ch.name && d.firingNow.has(n.checkId));
      } catch (e) {
        d.onError(at, `notify: reading the outbox: state database: ${(e as Error).message}`);
        continue;
      }
      if (told.length === 0) {
        errors.delete(ch.name);
        continue;
      }
      const base = { kind: 'repeat' as const, subject: `refresh:${ch.name}`, stack: cfg.name, at, alerts: told.map((n) => ({ checkId: n.checkId, status: n.status, message: n.message, facts: n.facts ?? d.factsOf(cfg, { checkId: n.checkId, status: n.status }, n.firedAt) })) };
      const m: NotifyMessage = { ...base, title: messageTitle(base) };
      const r = await deliver(ch, m, `refresh-${ch.name}-${at}`, hostLabel(cfg, undefined, hostname()));
      if (r.ok) {
        errors.delete(ch.name);
        continue;
      }
      // Tried again at the next tick, not a whole period later.
      refreshedAt.set(ch.name, at - ch.resend_every + REFRESH_TICK_MS);
      if (!errors.has(ch.name)) d.onError(at, `notify: ${ch.name}: re-sending ${told.length} firing alert${told.length === 1 ? '' : 's'} failed: ${r.error}`);
      errors.set(ch.name, r.error);
    }
  };
  return { due, refresh, errors };
}
