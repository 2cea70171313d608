import { createHash } from 'node:crypto';
import type { AlertFacts } from './alertmanager.js';
import type { Severity } from './incident.js';

// Notifications (issue #19), the pure part: which channels a route sends to, what a message says,
// its idempotency key, and the retry backoff. The outbox (src/state/outbox.ts) stores messages, the
// notifier (src/state/notifier.ts) decides when, the senders (src/services/notify-send.ts) deliver.

/** What a message is about. */
export type MessageKind = 'firing' | 'repeat' | 'resolved' | 'declared' | 'test' | 'app';

/** One alert in a message. */
export interface MessageAlert {
  checkId: string;
  /** critical, warning, unknown (or ok for a resolved one). */
  status: string;
  message: string;
  /** What the alert was when it fired (kind, target, host, severity, start, runbook): Alertmanager's labels (issue #25). */
  facts?: AlertFacts;
  /** The alert's own message, in a resolved message whose `message` says "resolved (was …)". */
  summary?: string;
}

/** A message as queued in the outbox (its payload) and as a webhook receives it (plus `key`). */
export interface NotifyMessage {
  kind: MessageKind;
  /** The incident id (`INC-3`), a check id for an alert in no incident, `app:<name>`, `test:<channel>`. */
  subject: string;
  /** The incident's class, for an alert in an incident. */
  severity?: Severity;
  /** The configuration's `name`: which stack this is. */
  stack: string;
  /** One line for a person (Slack text, email subject, the SMS). */
  title: string;
  alerts: MessageAlert[];
  /** When what it tells happened (ms). */
  at: number;
}

/** What a route is matched against: the incident class (if in one), the alerts' statuses and check ids. */
export interface RouteTarget {
  severity?: Severity;
  alerts: readonly { checkId: string; status: string }[];
}

/** A route as the domain reads it. */
export interface Route {
  severity?: readonly Severity[] | undefined;
  alert?: readonly string[] | undefined;
  checks?: readonly string[] | undefined;
  channels: readonly string[];
}

/** Whether a check id matches a pattern where `*` is any text (`http:*`, `*:trading`). */
export function globMatch(pattern: string, text: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === text;
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (!text.startsWith(first) || text.length < first.length + last.length || !text.endsWith(last)) return false;
  let pos = first.length;
  const end = text.length - last.length;
  for (const p of parts.slice(1, -1)) {
    const i = text.indexOf(p, pos);
    if (i < 0 || i + p.length > end) return false;
    pos = i + p.length;
  }
  return true;
}

/**
 * Whether a route takes an alert: every condition it names holds. `severity` matches only an alert
 * in an incident of one of those classes; `alert` matches the alert's status (critical, warning);
 * `checks` its check id by pattern. A route naming `severity` alone never takes an alert in no
 * incident — that is what `alert` is for (README "Notifications: routing").
 */
export function routeTakes(r: Route, severity: Severity | undefined, alert: { checkId: string; status: string }): boolean {
  if (r.severity && (!severity || !r.severity.includes(severity))) return false;
  if (r.alert && !r.alert.includes(alert.status)) return false;
  if (r.checks && !r.checks.some((p) => globMatch(p, alert.checkId))) return false;
  return true;
}

/**
 * The channels each alert goes to: the union of the channels of every route that takes it, in the
 * configuration's order; with no routes configured, every channel.
 */
export function channelsFor(routes: readonly Route[], allChannels: readonly string[], severity: Severity | undefined, alert: { checkId: string; status: string }): string[] {
  if (routes.length === 0) return [...allChannels];
  const out = new Set<string>();
  for (const r of routes) if (routeTakes(r, severity, alert)) for (const c of r.channels) out.add(c);
  return allChannels.filter((c) => out.has(c));
}

/** Alerts grouped by channel (one message per channel and subject). */
export function byChannel<A extends { checkId: string; status: string }>(routes: readonly Route[], allChannels: readonly string[], severity: Severity | undefined, alerts: readonly A[]): Map<string, A[]> {
  const out = new Map<string, A[]>();
  for (const a of alerts) {
    for (const c of channelsFor(routes, allChannels, severity, a)) {
      const list = out.get(c) ?? [];
      list.push(a);
      out.set(c, list);
    }
  }
  return out;
}

const MAX_LISTED = 5;

/** The one line of a message: `[demo] INC-3 P2 FIRING: 3 alerts — http:api CRITICAL: timed out; …`. */
export function messageTitle(m: Omit<NotifyMessage, 'title'>): string {
  const head = `[${m.stack}] ${m.subject.startsWith('INC-') ? `${m.subject}${m.severity ? ` ${m.severity}` : ''} ` : ''}`;
  const word = { firing: 'FIRING', repeat: 'STILL FIRING', resolved: 'RESOLVED', declared: 'DECLARED', test: 'TEST', app: 'NOTICE' }[m.kind];
  if (m.kind === 'test' || m.kind === 'app' || m.kind === 'declared') return `${head}${word}: ${m.alerts[0]?.message ?? ''}`;
  const n = m.alerts.length;
  const listed = m.alerts.slice(0, MAX_LISTED).map((a) => (m.kind === 'resolved' ? a.checkId : `${a.checkId} ${a.status.toUpperCase()}: ${a.message}`));
  const more = n > MAX_LISTED ? `; and ${n - MAX_LISTED} more` : '';
  return `${head}${word}: ${n === 1 ? '' : `${n} alerts — `}${listed.join('; ')}${more}`;
}

/** The full text of a message (email body, webhook `text`): the title, then one line per alert. */
export function messageText(m: NotifyMessage): string {
  const lines = [m.title, ''];
  for (const a of m.alerts) lines.push(`${m.kind === 'resolved' ? 'resolved' : a.status.toUpperCase()}  ${a.checkId}: ${a.message}`);
  lines.push('', `at ${new Date(m.at).toISOString()} — opsdeck notify status`);
  return lines.join('\n');
}

/**
 * The idempotency key of a message: the same channel, subject, transition, time and alerts give the
 * same key (the outbox's unique column: enqueuing twice queues once); receivers drop a duplicate by
 * its `Idempotency-Key` header.
 */
export function messageKey(channel: string, m: Pick<NotifyMessage, 'kind' | 'subject' | 'at' | 'alerts'>): string {
  const checks = m.alerts.map((a) => a.checkId).sort().join(',');
  return `opsdeck-${createHash('sha256').update(`${channel}\n${m.subject}\n${m.kind}\n${m.at}\n${checks}`).digest('hex').slice(0, 32)}`;
}

/** The wait before attempt `attempts + 1` after `attempts` failed ones: initial × 2^(attempts−1), at most `maxMs`. */
export function backoffMs(attempts: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(30, attempts - 1)));
}

/**
 * When a channel with a rate limit may send next: now if fewer than `count` were sent in the window,
 * else when the oldest of the last `count` leaves it.
 */
export function rateLimitedUntil(now: number, limit: { count: number; perMs: number } | undefined, sentInWindow: number, oldestInWindow: number | undefined): number {
  if (!limit || sentInWindow < limit.count || oldestInWindow === undefined) return now;
  return oldestInWindow + limit.perMs;
}
