import { z } from 'zod';
import { SEVERITIES } from '../domain/incident.js';
import { duration, httpUrl, HOUR, MINUTE, name, SECOND } from './fields.js';
import type { SecretRegistry } from './secrets.js';

// `notify:` (issue #19): the channels messages go out on (Slack, a generic webhook, email over SMTP,
// SMS through an HTTP provider) and the routes that pick them by incident severity, check id and
// alert status. A channel's URL is a secret as a whole (Slack's token is in its path): every URL,
// password and signing secret here is registered with the configuration's secrets (`notifySecrets`).

const RANGES = {
  groupWait: { min: 0, max: 1 * HOUR, why: 'alerts firing within this time of the first go out as one message' },
  repeat: { min: 1 * MINUTE, max: 7 * 24 * HOUR, why: 'a message is sent again while its alerts still fire' },
  timeout: { min: 100, max: 2 * MINUTE, why: 'how long one delivery may take' },
  ratePer: { min: 1 * SECOND, max: 24 * HOUR, why: 'the window of a channel rate limit' },
  retry: { min: 100, max: 1 * HOUR, why: 'the first retry of a failed delivery' },
};

/** A rate limit `N/duration` (`20/1m`): at most N messages per window on one channel; the rest wait (never dropped). */
const rateLimit = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined) return undefined;
    const m = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?\s*(?:ms|s|m|h)?)\s*$/.exec(v);
    const count = m ? Number(m[1]) : NaN;
    const per = m ? duration(0, RANGES.ratePer).safeParse(m[2]) : undefined;
    if (!m || !per?.success || count < 1 || per.data < 1) {
      ctx.addIssue({ code: 'custom', message: `expected a rate limit such as "20/1m" (messages per duration), got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return { count, perMs: per.data };
  });

const common = {
  name,
  /** How long one delivery may take before it counts as failed (and is retried). */
  timeout: duration(10 * SECOND, RANGES.timeout),
  /** At most this many messages per window on this channel (`20/1m`); the rest wait their turn. */
  rate_limit: rateLimit,
};

const slackSchema = z.strictObject({
  ...common,
  type: z.literal('slack'),
  /** The incoming webhook's URL (a secret as a whole: give it as `${SLACK_WEBHOOK_URL}`). */
  url: httpUrl,
});

const webhookSchema = z.strictObject({
  ...common,
  type: z.literal('webhook'),
  /** Receives a JSON POST (a secret as a whole: never printed). */
  url: httpUrl,
  /** Signs each body with HMAC-SHA256: header `X-Opsdeck-Signature: sha256=<hex of HMAC(secret, "<timestamp>.<body>")>`, `X-Opsdeck-Timestamp`. */
  secret: z.string().min(8, 'expected a signing secret of at least 8 characters').optional(),
  /** Extra request headers (their values are treated as secrets). */
  headers: z.record(z.string(), z.string()).default({}),
});

const emailSchema = z.strictObject({
  ...common,
  type: z.literal('email'),
  host: z.string().min(1, 'expected the SMTP server host name'),
  port: z.number().int().min(1).max(65535).default(587),
  /** `starttls` (port 587: upgrade, refused if the server cannot), `tls` (port 465: TLS from the start), `none` (loopback relays only). */
  security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
  user: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  from: z.string().min(3, 'expected the sender address'),
  to: z.array(z.string().min(3)).min(1, 'expected at least one recipient address'),
  /** Refuse a server certificate that does not verify (default true; false only for a private relay with a self-signed certificate). */
  tls_reject_unauthorized: z.boolean().default(true),
}).refine((e) => !e.user === !e.password, { message: 'expected user and password together (SMTP AUTH)', path: ['password'] });

const smsSchema = z.strictObject({
  ...common,
  type: z.literal('sms'),
  /** The provider's endpoint (`https://api.twilio.com/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`); a secret as a whole. */
  url: httpUrl,
  /** HTTP basic auth (Twilio: account SID and auth token). */
  user: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  /** The form fields posted; `{{text}}` in a value is the message (`{To: "+15551234567", From: "+15557654321", Body: "{{text}}"}`). */
  form: z.record(z.string(), z.string()).refine((f) => Object.values(f).some((v) => v.includes('{{text}}')), { message: 'expected a field whose value holds {{text}} (the message), such as Body: "{{text}}"' }),
  /** Longer messages are cut to this many characters (an SMS segment is 160). */
  max_length: z.number().int().min(20).max(1600).default(320),
  /** `xml`: the message is XML-escaped before it fills `{{text}}` (a phone call's TwiML: `<Response><Say>{{text}}</Say></Response>`). */
  escape: z.enum(['none', 'xml']).default('none'),
}).refine((e) => !e.user === !e.password, { message: 'expected user and password together (HTTP basic auth)', path: ['password'] });

/** Alertmanager label names: Prometheus's `[a-zA-Z_][a-zA-Z0-9_]*`. */
const labelName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);

/** Labels opsdeck sets itself on every alert it posts (README "Alertmanager"); `labels:` may not replace them. */
export const AM_OWN_LABELS = ['alertname', 'id', 'kind', 'target', 'severity', 'host', 'instance'] as const;

const alertmanagerChannelSchema = z.strictObject({
  ...common,
  type: z.literal('alertmanager'),
  /** The Alertmanager's base URL (alerts are POSTed to `<url>/api/v2/alerts`); may carry basic auth; a secret as a whole. */
  url: httpUrl,
  /** Static labels added to every alert (`cluster: prod`). */
  labels: z.record(z.string(), z.string()).default({}).superRefine((l, ctx) => {
    for (const k of Object.keys(l)) {
      if (!labelName.safeParse(k).success) ctx.addIssue({ code: 'custom', path: [k], message: `expected a label name of letters, digits and "_" (not starting with a digit), got ${JSON.stringify(k)}` });
      else if ((AM_OWN_LABELS as readonly string[]).includes(k)) ctx.addIssue({ code: 'custom', path: [k], message: `expected labels other than opsdeck's own (${AM_OWN_LABELS.join(', ')})` });
    }
  }),
  /**
   * Firing alerts are posted again this often (Alertmanager resolves an alert it stops hearing of), each
   * with endsAt = now + 4 × this: if opsdeck stops, Alertmanager resolves them on its own after that.
   */
  resend_every: duration(1 * MINUTE, { min: 5 * SECOND, max: 1 * HOUR, why: 'how often firing alerts are posted to Alertmanager again' }),
  /** Each alert's generatorURL: a URL where `{{id}}` is the check id (URL-encoded); none by default. */
  generator_url: z.string().regex(/^https?:\/\//i, 'expected an http(s) URL, optionally holding {{id}}').optional(),
});

const channelSchema = z.discriminatedUnion('type', [slackSchema, webhookSchema, emailSchema, smsSchema, alertmanagerChannelSchema], {
  error: 'expected a channel with type slack, webhook, email, sms or alertmanager',
});

const routeSchema = z.strictObject({
  /** Incident classes this route takes (an alert in the open incident is routed by its class). */
  severity: z.array(z.enum(SEVERITIES, { error: `expected one of ${SEVERITIES.join(', ')}` })).optional(),
  /** Alert statuses this route takes (alerts in no incident are routed by these). */
  alert: z.array(z.enum(['critical', 'warning', 'unknown'], { error: 'expected critical, warning or unknown' })).optional(),
  /** Check id patterns (`*` any text: `http:*`, `sqlite:trading*`); default every check. */
  checks: z.array(z.string().min(1)).optional(),
  /** The channels (by name) this route sends to. */
  channels: z.array(z.string().min(1)).min(1, 'expected at least one channel name'),
});

const sectionSchema = z.strictObject({
  channels: z.array(channelSchema).default([]),
  /** Every route that matches adds its channels; with none configured, every channel gets every message. */
  routes: z.array(routeSchema).default([]),
  /** Alerts firing (or resolving) within this time of the first one go out as one message per incident. */
  group_wait: duration(30 * SECOND, RANGES.groupWait),
  /** Sent again while the alerts still fire and nobody acknowledged them. */
  repeat_interval: duration(4 * HOUR, RANGES.repeat),
  /** First retry after a failed delivery; doubled each time up to `retry_max`. */
  retry_initial: duration(1 * SECOND, RANGES.retry),
  retry_max: duration(5 * MINUTE, RANGES.retry),
  /** A message still undelivered after this long is given up (and shown as failed). */
  give_up_after: duration(24 * HOUR, { min: 1 * MINUTE, max: 7 * 24 * HOUR, why: 'how long a message is retried' }),
});

/** The `notify:` section (optional: no channels, nobody is told). */
export const notifySchema = sectionSchema.default(() => sectionSchema.parse({}));

export type NotifyConfig = z.output<typeof notifySchema>;
export type ChannelConfig = NotifyConfig['channels'][number];
export type RouteConfig = NotifyConfig['routes'][number];

/** The channel names of a configuration, checked where names are used (routes, apps[].notify_channels). */
export function checkNotify(c: { notify: NotifyConfig; apps: { notify_channels?: string[] | undefined }[] }, ctx: z.RefinementCtx): void {
  const names = c.notify.channels.map((ch) => ch.name);
  const expected = `expected one of: ${names.join(', ') || 'none (notify.channels is empty)'}`;
  const seen = new Set<string>();
  c.notify.channels.forEach((ch, i) => {
    if (seen.has(ch.name)) ctx.addIssue({ code: 'custom', path: ['notify', 'channels', i, 'name'], message: `duplicate channel name ${JSON.stringify(ch.name)}` });
    seen.add(ch.name);
  });
  c.notify.routes.forEach((r, i) =>
    r.channels.forEach((n, j) => {
      if (!names.includes(n)) ctx.addIssue({ code: 'custom', path: ['notify', 'routes', i, 'channels', j], message: `channel ${JSON.stringify(n)} is not in notify.channels (${expected})` });
    }),
  );
  c.apps.forEach((a, i) =>
    (a.notify_channels ?? []).forEach((n, j) => {
      if (!names.includes(n)) ctx.addIssue({ code: 'custom', path: ['apps', i, 'notify_channels', j], message: `channel ${JSON.stringify(n)} is not in notify.channels (${expected})` });
    }),
  );
}

/** Registers every secret of the channels: whole URLs (Slack's token is in its path), passwords, signing secrets, header values. */
export function notifySecrets(n: NotifyConfig, secrets: SecretRegistry): void {
  for (const ch of n.channels) {
    if (ch.type === 'email') {
      secrets.add(ch.password);
      continue;
    }
    secrets.add(ch.url);
    // A URL's password alone too (Alertmanager's basic auth is sent as a header, spelled apart from the URL).
    try {
      secrets.add(decodeURIComponent(new URL(ch.url).password));
    } catch {
      // the schema already refused a URL that does not parse
    }
    if (ch.type === 'webhook') {
      secrets.add(ch.secret);
      for (const v of Object.values(ch.headers)) secrets.add(v);
    }
    if (ch.type === 'sms') secrets.add(ch.password);
  }
}
