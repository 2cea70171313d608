import { createHmac } from 'node:crypto';
import { hostname } from 'node:os';
import type { ChannelConfig } from '../config/schema-notify.js';
import { AM_ENDS_AFTER_PERIODS, amAlertsOf } from '../domain/alertmanager.js';
import { messageText, type NotifyMessage } from '../domain/notify.js';
import { confirmAlertmanager, postAmAlerts } from './alertmanager.js';

// The senders of notifications (issue #19): one delivery of one message on one channel. Slack and
// webhooks are a JSON POST, SMS a form POST to the provider (Twilio-style), email goes through
// nodemailer (SMTP, STARTTLS, AUTH). Every request carries the message's `Idempotency-Key`. An error
// never names the URL (a webhook URL is a secret as a whole): it says what failed, by kind.

/** The outcome of one delivery: delivered, or why not and whether trying again may help. */
export type Delivery = { ok: true } | { ok: false; error: string; retry: boolean; retryAfterMs?: number };

/** The header that carries a message's idempotency key (receivers drop a duplicate by it). */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** The body a generic webhook receives. */
export function webhookBody(m: NotifyMessage, key: string): string {
  return JSON.stringify({ key, kind: m.kind, subject: m.subject, ...(m.severity ? { severity: m.severity } : {}), stack: m.stack, title: m.title, text: messageText(m), alerts: m.alerts, at: new Date(m.at).toISOString() });
}

/** `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>"), as `X-Opsdeck-Signature` carries it. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Delivers one message on one channel; never throws. `host`: the `host` label of an Alertmanager test
 * alert (the configuration's, issue #25; an alert's own is in its facts).
 */
export async function deliver(ch: ChannelConfig, m: NotifyMessage, key: string, host: string = hostname()): Promise<Delivery> {
  try {
    switch (ch.type) {
      case 'slack':
        return await post(ch.url, ch.timeout, JSON.stringify({ text: m.title }), { 'content-type': 'application/json', [IDEMPOTENCY_HEADER]: key });
      case 'webhook': {
        const body = webhookBody(m, key);
        const ts = String(Math.floor(Date.now() / 1000));
        const headers: Record<string, string> = { ...ch.headers, 'content-type': 'application/json', [IDEMPOTENCY_HEADER]: key, 'X-Opsdeck-Timestamp': ts };
        if (ch.secret) headers['X-Opsdeck-Signature'] = signature(ch.secret, ts, body);
        return await post(ch.url, ch.timeout, body, headers);
      }
      case 'sms': {
        const cut = m.title.length > ch.max_length ? `${m.title.slice(0, ch.max_length - 1)}…` : m.title;
        // In TwiML a message holding markup would be obeyed as markup: escaped, it is only said.
        const text = ch.escape === 'xml' ? cut.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`) : cut;
        const form = new URLSearchParams();
        for (const [k, v] of Object.entries(ch.form)) form.set(k, v.split('{{text}}').join(text));
        const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', [IDEMPOTENCY_HEADER]: key };
        if (ch.user && ch.password) headers.authorization = `Basic ${Buffer.from(`${ch.user}:${ch.password}`).toString('base64')}`;
        return await post(ch.url, ch.timeout, form.toString(), headers);
      }
      case 'email':
        return await mail(ch, m, key);
      case 'alertmanager': {
        // Announcements (an incident declared, an app's notice) are not alerts: nothing to post.
        const alerts = amAlertsOf(ch, m, Date.now(), AM_ENDS_AFTER_PERIODS * ch.resend_every, host);
        if (alerts.length === 0) return { ok: true };
        const posted = await postAmAlerts(ch.url, alerts, ch.timeout, { [IDEMPOTENCY_HEADER]: key });
        if (!posted.ok || m.kind !== 'test') return posted;
        // `notify test`: a 200 from something that is not Alertmanager is not a delivery.
        const is = await confirmAlertmanager(ch.url, ch.timeout);
        return is.ok ? posted : { ok: false, error: is.error.message, retry: false };
      }
    }
  } catch (e) {
    return { ok: false, error: `unexpected: ${(e as Error).message}`, retry: true };
  }
}

async function post(url: string, timeoutMs: number, body: string, headers: Record<string, string>): Promise<Delivery> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (e) {
    return { ok: false, error: networkError(e, timeoutMs), retry: true };
  }
  const text = (await res.text().catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 120);
  if (res.ok) return { ok: true };
  // 408, 425, 429 and every 5xx may pass; any other 4xx will not (a bad request, a revoked hook).
  const retry = res.status >= 500 || [408, 425, 429].includes(res.status);
  const after = Number(res.headers.get('retry-after'));
  return { ok: false, error: `HTTP ${res.status}${text ? `: ${text}` : ''}`, retry, ...(Number.isFinite(after) && after > 0 ? { retryAfterMs: Math.min(after, 3600) * 1000 } : {}) };
}

/** What went wrong with a request, without its URL (fetch's own messages may hold it). */
function networkError(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const code = err.cause?.code;
  const words: Record<string, string> = { ECONNREFUSED: 'connection refused', ECONNRESET: 'connection reset', ENOTFOUND: 'host name not found', EAI_AGAIN: 'host name lookup failed', ETIMEDOUT: 'connection timed out', EHOSTUNREACH: 'host unreachable', CERT_HAS_EXPIRED: 'TLS certificate expired', DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate' };
  if (code) return words[code] ?? `network error ${code}`;
  if (err.message.includes('redirect')) return 'the receiver answered with a redirect (not followed)';
  return 'network error';
}

async function mail(ch: Extract<ChannelConfig, { type: 'email' }>, m: NotifyMessage, key: string): Promise<Delivery> {
  const { createTransport } = await import('nodemailer');
  const t = createTransport({
    host: ch.host,
    port: ch.port,
    secure: ch.security === 'tls',
    requireTLS: ch.security === 'starttls',
    ignoreTLS: ch.security === 'none',
    ...(ch.user && ch.password ? { auth: { user: ch.user, pass: ch.password } } : {}),
    tls: { rejectUnauthorized: ch.tls_reject_unauthorized },
    connectionTimeout: ch.timeout,
    greetingTimeout: ch.timeout,
    socketTimeout: ch.timeout,
  });
  try {
    await t.sendMail({
      from: ch.from,
      to: ch.to,
      subject: m.title,
      text: messageText(m),
      messageId: `<${key}@opsdeck>`,
      headers: { [IDEMPOTENCY_HEADER]: key },
    });
    return { ok: true };
  } catch (e) {
    const err = e as Error & { code?: string; responseCode?: number };
    const code = err.responseCode;
    // A 5xx answer (no such mailbox, authentication refused) will not pass on its own; a 4xx or a dropped connection may.
    const retry = code === undefined || code < 500;
    const what = err.code === 'EAUTH' ? 'authentication refused' : err.code === 'ETLS' ? 'STARTTLS failed' : err.code === 'ECONNECTION' ? 'cannot connect' : err.code === 'ETIMEDOUT' ? `no answer within ${ch.timeout / 1000} s` : err.code ?? 'SMTP error';
    return { ok: false, error: `SMTP ${what}${code ? ` (${code})` : ''}: ${err.message.split('\n')[0]?.slice(0, 160) ?? ''}`, retry };
  } finally {
    t.close();
  }
}
