import type { Alert } from './alerts.js';
import type { CheckStatus } from './check.js';
import type { MessageAlert, NotifyMessage } from './notify.js';
import { printable } from './printable.js';

// Prometheus Alertmanager (issue #25), the pure part: the alerts opsdeck POSTs to
// `<url>/api/v2/alerts` (labels, annotations, startsAt/endsAt), and the alerts and silences it reads
// back from `GET /api/v2/alerts` and `/api/v2/silences` for the console — narrowed from JSON,
// de-duplicated against opsdeck's own, turned into rows of the Alerts pane.
//
// Alertmanager's API (v2, the one 0.16+ serves): an alert is identified by its label set; a POST of
// the same labels updates it. An alert with an `endsAt` in the past is resolved; one without is
// resolved by Alertmanager `resolve_timeout` after its last update, so a firing alert must be sent
// again before then (Prometheus re-sends every minute with endsAt = now + 4 × that period: opsdeck
// does the same, README "Alertmanager").

/** What opsdeck knows of a check when it tells Alertmanager of it: the labels are made from this, at firing. */
export interface AlertFacts {
  kind: string;
  /** The check's target, redacted. */
  target: string;
  /** The `host` label (metrics.host, a remote host's name, or this machine's host name), fixed at firing. */
  host: string;
  /** warning or critical (an `unknown` check is sent as warning). */
  severity: 'warning' | 'critical';
  /** When the alert started firing (ms). */
  firedAt: number;
  /** The runbook that answers it, when one maps (`service-recovery`). */
  runbook?: string;
  /**
   * The channel's static `labels:` when the alert fired there, kept with it (Alertmanager knows an
   * alert by its labels: a change of `labels:` while it fires must not make it a second alert).
   */
  labels?: Record<string, string>;
}

/** One alert as Alertmanager's `POST /api/v2/alerts` takes it. */
export interface AmPostAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

/** An Alertmanager channel as the domain reads it. */
export interface AmChannel {
  name: string;
  labels: Readonly<Record<string, string>>;
  generator_url?: string | undefined;
}

/** A firing alert's `endsAt` is this many re-send periods ahead (Prometheus: 4 × its resend delay). */
export const AM_ENDS_AFTER_PERIODS = 4;

/** How long a `notify test` alert stays active in Alertmanager. */
export const AM_TEST_ALERT_MS = 5 * 60_000;

/** The Alertmanager severity of a check status: critical stays critical, anything else is a warning. */
export function amSeverity(status: string): 'warning' | 'critical' {
  return status === 'critical' ? 'critical' : 'warning';
}

/**
 * The `host` label of a check: a remote host's name when the check id carries it (`container:web@db1`,
 * issue #25's `hosts:`), else `metrics.host`, else this machine's host name (`local`). Read from the
 * configuration loosely: `hosts` and `metrics` arrive with the other parts of issue #25.
 */
export function hostLabel(cfg: object, checkId: string | undefined, local: string): string {
  const c = cfg as { hosts?: unknown; metrics?: { host?: unknown } };
  if (checkId && Array.isArray(c.hosts)) {
    const at = checkId.lastIndexOf('@');
    const h = at > 0 ? checkId.slice(at + 1) : '';
    if (h && c.hosts.some((x: unknown) => (x as { name?: unknown } | null)?.name === h)) return h;
  }
  return typeof c.metrics?.host === 'string' && c.metrics.host ? c.metrics.host : local;
}

/** Facts for an alert whose own were never recorded (queued by an older opsdeck): read from its check id. */
export function factsFromId(a: Pick<MessageAlert, 'checkId' | 'status'>, host: string, at: number): AlertFacts {
  const i = a.checkId.indexOf(':');
  return { kind: i > 0 ? a.checkId.slice(0, i) : a.checkId, target: i > 0 ? a.checkId.slice(i + 1) : a.checkId, host, severity: amSeverity(a.status), firedAt: at };
}

/** The labels of an alert: opsdeck's own (README "Alertmanager") over the channel's static ones (those it fired with, when kept). */
export function amLabels(ch: AmChannel, checkId: string, f: AlertFacts): Record<string, string> {
  return { ...(f.labels ?? ch.labels), alertname: `opsdeck_${f.kind}`, id: checkId, kind: f.kind, target: f.target, severity: f.severity, host: f.host, instance: f.host };
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The alerts a message posts: firing (and repeat) ones with `endsAt` = now + `endsAfterMs`, resolved
 * ones with `endsAt` = when they resolved, a test alert that ends in 5 minutes. Announcements
 * (`declared`, `app`) are not alerts: none (the caller counts them delivered).
 */
export function amAlertsOf(ch: AmChannel, m: NotifyMessage, now: number, endsAfterMs: number, localHost: string): AmPostAlert[] {
  const gen = (id: string) => (ch.generator_url ? { generatorURL: ch.generator_url.split('{{id}}').join(encodeURIComponent(id)) } : {});
  switch (m.kind) {
    case 'declared':
    case 'app':
      return [];
    case 'test': {
      const id = m.subject;
      const labels = { ...ch.labels, alertname: 'opsdeck_test', id, kind: 'test', target: ch.name, severity: 'info', host: localHost, instance: localHost };
      return [{ labels, annotations: { summary: m.alerts[0]?.message ?? 'a test alert from opsdeck' }, startsAt: iso(now), endsAt: iso(now + AM_TEST_ALERT_MS), ...gen(id) }];
    }
    case 'firing':
    case 'repeat':
    case 'resolved': {
      const resolved = m.kind === 'resolved';
      return m.alerts.map((a) => {
        const f = a.facts ?? factsFromId(a, localHost, m.at);
        const annotations: Record<string, string> = { summary: a.summary ?? a.message, ...(f.runbook ? { runbook: f.runbook } : {}) };
        // A resolved alert ends when it resolved; never before it started (clocks of two runs).
        const endsAt = resolved ? Math.max(m.at, f.firedAt) : now + endsAfterMs;
        return { labels: amLabels(ch, a.checkId, f), annotations, startsAt: iso(f.firedAt), endsAt: iso(endsAt), ...gen(a.checkId) };
      });
    }
  }
}

// ---- reading Alertmanager back (the console) ----

/** One alert as `GET /api/v2/alerts` returns it, narrowed. */
export interface AmAlert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: number;
  endsAt?: number;
  /** `active`, `suppressed` (silenced or inhibited), `unprocessed`. */
  state: string;
  silencedBy: string[];
  inhibitedBy: string[];
}

/** One silence as `GET /api/v2/silences` returns it, narrowed. */
export interface AmSilence {
  id: string;
  state: string;
  createdBy: string;
  comment: string;
  endsAt: number;
}

const rec = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
};
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const time = (v: unknown): number | undefined => {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? t : undefined;
};

/** Narrows `GET /api/v2/alerts`'s body; entries without a fingerprint or labels are left out. Undefined when it is not a list. */
export function parseAmAlerts(body: unknown): AmAlert[] | undefined {
  if (!Array.isArray(body)) return undefined;
  const out: AmAlert[] = [];
  for (const x of body as unknown[]) {
    if (!x || typeof x !== 'object') continue;
    const o = x as Record<string, unknown>;
    const status = (o.status && typeof o.status === 'object' ? o.status : {}) as Record<string, unknown>;
    if (typeof o.fingerprint !== 'string' || !o.labels || typeof o.labels !== 'object') continue;
    const endsAt = time(o.endsAt);
    out.push({
      fingerprint: o.fingerprint, labels: rec(o.labels), annotations: rec(o.annotations), startsAt: time(o.startsAt) ?? 0, ...(endsAt !== undefined ? { endsAt } : {}),
      state: typeof status.state === 'string' ? status.state : 'unprocessed', silencedBy: strs(status.silencedBy), inhibitedBy: strs(status.inhibitedBy),
    });
  }
  return out;
}

/** Narrows `GET /api/v2/silences`'s body. Undefined when it is not a list. */
export function parseAmSilences(body: unknown): AmSilence[] | undefined {
  if (!Array.isArray(body)) return undefined;
  const out: AmSilence[] = [];
  for (const x of body as unknown[]) {
    if (!x || typeof x !== 'object') continue;
    const o = x as Record<string, unknown>;
    const status = (o.status && typeof o.status === 'object' ? o.status : {}) as Record<string, unknown>;
    if (typeof o.id !== 'string') continue;
    out.push({ id: o.id, state: typeof status.state === 'string' ? status.state : '', createdBy: typeof o.createdBy === 'string' ? o.createdBy : '', comment: typeof o.comment === 'string' ? o.comment : '', endsAt: time(o.endsAt) ?? 0 });
  }
  return out;
}

/** What the Alerts pane shows of an Alertmanager alert (the `AM` marker, its state, the silence). */
export interface ExternalInfo {
  source: 'alertmanager';
  /** `active` or `suppressed` (silenced or inhibited), as Alertmanager says. */
  state: string;
  fingerprint: string;
  /** Its labels: a silence made from the console matches exactly these. */
  labels: Record<string, string>;
  silence?: { id: string; createdBy: string; comment: string; endsAt: number };
  inhibited: boolean;
  /** Set while the Alertmanager cannot be read: this is what it said last. */
  stale?: boolean;
}

/** An Alertmanager alert as a row of the Alerts pane: an `Alert` with `external` set. */
export type ExternalAlert = Alert & { external: ExternalInfo };

/**
 * Alertmanager's alerts as rows of the Alerts pane, without the ones opsdeck itself sent: an alert
 * whose `id` label is one of this console's checks and whose `host` label is the host that check's
 * alerts are sent with (`ownHost(id)`) is already shown as opsdeck's own. Ids are `am:<alertname>`,
 * `@<instance or host>` when it has one, `#<fingerprint>` when two would otherwise share one.
 */
export function externalAlerts(list: readonly AmAlert[], silences: readonly AmSilence[], ownIds: ReadonlySet<string>, ownHost: (checkId: string) => string): ExternalAlert[] {
  const byId = new Map(silences.map((s) => [s.id, s]));
  const shown = list
    .filter((a) => !(a.labels.id !== undefined && ownIds.has(a.labels.id) && a.labels.host === ownHost(a.labels.id)))
    .sort((a, b) => a.startsAt - b.startsAt || a.fingerprint.localeCompare(b.fingerprint));
  // `instance` is host:port by Prometheus's habit: the port says nothing to a person here.
  const where = (a: AmAlert) => (a.labels.instance ?? a.labels.host ?? '').replace(/:\d+$/, '');
  const base = (a: AmAlert) => `am:${a.labels.alertname ?? 'alert'}${where(a) ? `@${where(a)}` : ''}`;
  const counts = new Map<string, number>();
  for (const a of shown) counts.set(base(a), (counts.get(base(a)) ?? 0) + 1);
  return shown.map((a) => {
    const id = (counts.get(base(a)) ?? 0) > 1 ? `${base(a)}#${a.fingerprint.slice(0, 6)}` : base(a);
    // Two silences on one alert (a second `s`): the one that ends last is the one that decides.
    const s = a.silencedBy
      .map((x) => byId.get(x))
      .filter((x): x is AmSilence => x !== undefined)
      .sort((x, y) => y.endsAt - x.endsAt)[0];
    const sev = (a.labels.severity ?? '').toLowerCase();
    // Informational alerts (severity info/none or none given: Prometheus' Watchdog, opsdeck's own
    // `notify test`) rank below every warning (an operator's trial: as UNKNOWN they sorted above real
    // warnings); a severity word not known here is a warning.
    const status: CheckStatus = ['critical', 'page', 'error', 'high', 'major'].includes(sev) ? 'critical' : ['', 'info', 'informational', 'none'].includes(sev) ? 'ok' : 'warning';
    const summary = a.annotations.summary ?? a.annotations.description ?? a.annotations.message ?? Object.entries(a.labels).filter(([k]) => k !== 'alertname').map(([k, v]) => `${k}=${v}`).join(' ');
    const silenced = s ? ` — silenced by ${s.createdBy || '?'} until ${iso(s.endsAt).slice(0, 16).replace('T', ' ')}Z: ${s.comment}` : a.inhibitedBy.length ? ' — inhibited by another alert' : '';
    return {
      // Another sender's text: one printable line whatever it holds (control characters escaped).
      checkId: printable(id), state: 'firing', failStreak: 0, passStreak: 0, status, message: printable(`${summary}${silenced}`), since: a.startsAt, firedAt: a.startsAt,
      external: { source: 'alertmanager', state: a.state, fingerprint: a.fingerprint, labels: a.labels, inhibited: a.inhibitedBy.length > 0, ...(s ? { silence: { id: s.id, createdBy: s.createdBy, comment: s.comment, endsAt: s.endsAt } } : {}) },
    };
  });
}

/** The Alerts pane's state cell of an Alertmanager alert: `AM active`, `AM silenced`, `AM inhibited`. */
export function externalLabel(e: ExternalInfo): string {
  if (e.stale) return 'AM stale';
  if (e.silence) return 'AM silenced';
  if (e.state === 'suppressed') return e.inhibited ? 'AM inhibited' : 'AM suppressed';
  return `AM ${e.state}`;
}

/** The matchers of a silence of exactly this alert (every label, equal), as `POST /api/v2/silences` takes them. */
export function silenceMatchers(e: ExternalInfo): { name: string; value: string; isRegex: false; isEqual: true }[] {
  return Object.entries(e.labels).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true }));
}

/** Whether a row of the Alerts pane is an Alertmanager alert. */
export function isExternal(a: Alert): a is ExternalAlert {
  return (a as Partial<ExternalAlert>).external !== undefined;
}
