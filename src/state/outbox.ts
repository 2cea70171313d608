import type BetterSqlite3 from 'better-sqlite3';
import { redactDeep, redactSecrets } from '../config/secrets.js';
import type { AlertFacts } from '../domain/alertmanager.js';
import { messageKey, type MessageAlert, type NotifyMessage } from '../domain/notify.js';

// The notification outbox (issue #19; migration `notify-outbox`): one row per message and channel,
// unique on its idempotency key, so enqueuing the same transition twice queues it once. Delivery is
// at least once: the sender counts the attempt (and sets the time of the next one) before it sends,
// and marks the row sent after; a sender killed between the send and the mark sends it again after
// a restart, with the same key. Every text is redacted before it is written.

/** One queued message. */
export interface OutboxRow {
  id: number;
  key: string;
  channel: string;
  kind: string;
  subject: string;
  message: NotifyMessage;
  createdAt: number;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  nextAt: number;
  lastError?: string;
  sentAt?: number;
}

interface Row {
  id: number;
  key: string;
  channel: string;
  kind: string;
  subject: string;
  payload: string;
  created_at: number;
  status: string;
  attempts: number;
  next_at: number;
  last_error: string | null;
  sent_at: number | null;
}

const fromRow = (r: Row): OutboxRow => ({
  id: r.id, key: r.key, channel: r.channel, kind: r.kind, subject: r.subject, message: JSON.parse(r.payload) as NotifyMessage, createdAt: r.created_at,
  status: r.status === 'sent' ? 'sent' : r.status === 'failed' ? 'failed' : 'pending', attempts: r.attempts, nextAt: r.next_at,
  ...(r.last_error !== null ? { lastError: r.last_error } : {}), ...(r.sent_at !== null ? { sentAt: r.sent_at } : {}),
});

/** A message newly queued. */
export interface Queued {
  key: string;
  channel: string;
  kind: string;
  subject: string;
}

/** One channel's deliveries, for `opsdeck notify status` and the console. */
export interface ChannelStatus {
  channel: string;
  pending: number;
  /** Pending rows whose last attempt failed (being retried). */
  retrying: number;
  /** Given up (or refused by the receiver for good). */
  failed: number;
  sentLastDay: number;
  /**
   * Messages being retried, and those given up since the channel last delivered one: the channel is
   * failing. A failed `notify test` is not counted: the command said so at once, and an operator's
   * probe must neither page anyone nor keep `notify status` at exit 1.
   */
  failing: number;
  lastSentAt?: number;
  lastError?: string;
}

/** An alert a channel was told of (firing), until its resolved message is queued. */
export interface NotifiedAlert {
  checkId: string;
  channel: string;
  subject: string;
  status: string;
  message: string;
  firedAt: number;
  lastAt: number;
  /** What the alert was when the channel was told of it (issue #25; absent for rows of an older opsdeck). */
  facts?: AlertFacts;
}

/** The outbox of one state database. */
export class Outbox {
  private readonly insert: BetterSqlite3.Statement;
  private readonly due: BetterSqlite3.Statement;

  constructor(private readonly db: BetterSqlite3.Database) {
    this.insert = db.prepare(
      `INSERT INTO notify_outbox (key, channel, kind, subject, payload, created_at, status, attempts, next_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)
       ON CONFLICT(key) DO NOTHING`,
    );
    // A message waits behind an older pending one of its channel and subject (a resolved behind its
    // firing message being retried): a receiver never gets RESOLVED before the FIRING it resolves.
    this.due = db.prepare(
      `SELECT * FROM notify_outbox o WHERE status = 'pending' AND next_at <= ?
         AND NOT EXISTS (SELECT 1 FROM notify_outbox p WHERE p.status = 'pending' AND p.channel = o.channel AND p.subject = o.subject AND p.id < o.id)
       ORDER BY next_at, id LIMIT ?`,
    );
  }

  /**
   * Queues one message per channel (one transaction); returns the keys that were new. The alerts each
   * channel is told of firing are remembered (`notify_alerts`) so that their resolved message goes to
   * exactly those channels, whatever silences or routes say by then. `dueAt`: when the sender may
   * take them (later for a message its caller delivers itself, `notify test`).
   */
  enqueue(items: readonly { channel: string; message: NotifyMessage }[], now: number, dueAt = now): Queued[] {
    const added: Queued[] = [];
    this.db
      .transaction(() => {
        for (const it of items) {
          const m = redactDeep(it.message);
          const key = messageKey(it.channel, m);
          if (this.insert.run(key, it.channel, m.kind, m.subject, JSON.stringify(m), now, dueAt).changes > 0) added.push({ key, channel: it.channel, kind: m.kind, subject: m.subject });
          if (m.kind === 'firing') for (const a of m.alerts) this.remember(a, it.channel, m.subject, m.at, now);
        }
      })
      .immediate();
    return added;
  }

  private remember(a: MessageAlert, channel: string, subject: string, firedAt: number, now: number): void {
    this.db
      .prepare(
        `INSERT INTO notify_alerts (check_id, channel, subject, status, message, fired_at, last_at, facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(check_id, channel) DO UPDATE SET subject = excluded.subject, status = excluded.status, message = excluded.message, last_at = excluded.last_at, facts = coalesce(notify_alerts.facts, excluded.facts)`,
      )
      .run(a.checkId, channel, subject, a.status, a.message, firedAt, now, a.facts ? JSON.stringify(a.facts) : null);
  }

  /** The channels told of an alert firing (and not yet of its resolution). */
  notified(checkId: string): NotifiedAlert[] {
    return (this.db.prepare('SELECT * FROM notify_alerts WHERE check_id = ? ORDER BY channel').all(checkId) as AlertRow[]).map(fromAlert);
  }

  /** Every alert some channel was told of firing. */
  allNotified(): NotifiedAlert[] {
    return (this.db.prepare('SELECT * FROM notify_alerts ORDER BY last_at, check_id').all() as AlertRow[]).map(fromAlert);
  }

  /** Queues resolved messages and forgets the alerts they resolve, in one transaction. */
  resolve(items: readonly { channel: string; message: NotifyMessage }[], now: number): Queued[] {
    return this.db
      .transaction(() => {
        const keys = this.enqueue(items, now);
        for (const it of items) for (const a of it.message.alerts) this.db.prepare('DELETE FROM notify_alerts WHERE check_id = ? AND channel = ?').run(a.checkId, it.channel);
        return keys;
      })
      .immediate();
  }

  /** Notes that a repeat of these alerts was queued on a channel. */
  repeated(channel: string, checkIds: readonly string[], now: number): void {
    const st = this.db.prepare('UPDATE notify_alerts SET last_at = ? WHERE check_id = ? AND channel = ?');
    this.db.transaction(() => checkIds.forEach((c) => st.run(now, c, channel))).immediate();
  }

  /** Pending messages due now, oldest first. */
  dueRows(now: number, limit = 20): OutboxRow[] {
    return (this.due.all(now, limit) as Row[]).map(fromRow);
  }

  /** The earliest time a pending message is due, if any. */
  nextDue(): number | undefined {
    const r = this.db.prepare("SELECT min(next_at) AS t FROM notify_outbox WHERE status = 'pending'").get() as { t: number | null };
    return r.t ?? undefined;
  }

  /**
   * Counts an attempt before it is made, and sets when the next one is due should this one never
   * finish (a crash): false when the row is no longer pending (sent meanwhile).
   */
  beginAttempt(id: number, retryAt: number): boolean {
    return this.db.prepare("UPDATE notify_outbox SET attempts = attempts + 1, next_at = ? WHERE id = ? AND status = 'pending'").run(retryAt, id).changes > 0;
  }

  /** Marks a message delivered. */
  markSent(id: number, now: number): void {
    this.db.prepare("UPDATE notify_outbox SET status = 'sent', sent_at = ? WHERE id = ?").run(now, id);
  }

  /** Records a failed attempt: retried at `nextAt`, or given up (`failed`) when `nextAt` is undefined. */
  markFailed(id: number, error: string, nextAt: number | undefined): void {
    const e = redactSecrets(error).slice(0, 500);
    if (nextAt === undefined) this.db.prepare("UPDATE notify_outbox SET status = 'failed', last_error = ? WHERE id = ?").run(e, id);
    else this.db.prepare('UPDATE notify_outbox SET last_error = ?, next_at = ? WHERE id = ?').run(e, nextAt, id);
  }

  /** Puts a message back for later without counting an attempt (a channel's rate limit). */
  defer(id: number, until: number): void {
    this.db.prepare('UPDATE notify_outbox SET next_at = ? WHERE id = ?').run(until, id);
  }

  /** How many messages a channel delivered since `since`, and the oldest of the newest `limit` of them (a rate limit's window). */
  sentWindow(channel: string, since: number, limit: number): { count: number; oldest?: number } {
    const rows = this.db.prepare('SELECT sent_at FROM notify_outbox WHERE channel = ? AND sent_at >= ? ORDER BY sent_at DESC LIMIT ?').pluck().all(channel, since, limit) as number[];
    const oldest = rows.at(-1);
    return { count: rows.length, ...(oldest !== undefined ? { oldest } : {}) };
  }

  /** Per channel: pending, retrying, failed, sent in the last day, the last error. */
  status(now: number, channels: readonly string[] = []): ChannelStatus[] {
    const rows = this.db
      .prepare(
        `SELECT channel,
           sum(status = 'pending') AS pending,
           sum(status = 'pending' AND last_error IS NOT NULL AND kind != 'test') AS retrying,
           sum(status = 'failed') AS failed,
           sum(status = 'sent' AND sent_at >= ?) AS sent_day,
           max(sent_at) AS last_sent,
           sum(status = 'failed' AND kind != 'test' AND created_at > coalesce((SELECT max(s.sent_at) FROM notify_outbox s WHERE s.channel = o.channel), 0)) AS failed_since
         FROM notify_outbox o GROUP BY channel`,
      )
      .all(now - 24 * 3_600_000) as { channel: string; pending: number; retrying: number; failed: number; sent_day: number; last_sent: number | null; failed_since: number }[];
    const lastError = this.db.prepare("SELECT last_error FROM notify_outbox WHERE channel = ? AND last_error IS NOT NULL AND status != 'sent' AND kind != 'test' ORDER BY id DESC LIMIT 1").pluck();
    const by = new Map(rows.map((r) => [r.channel, r]));
    const names = [...new Set([...channels, ...rows.map((r) => r.channel)])];
    return names.map((channel) => {
      const r = by.get(channel);
      const e = r && (r.failed_since > 0 || r.retrying > 0) ? (lastError.get(channel) as string | undefined) : undefined;
      return {
        channel, pending: r?.pending ?? 0, retrying: r?.retrying ?? 0, failed: r?.failed ?? 0, sentLastDay: r?.sent_day ?? 0, failing: (r?.retrying ?? 0) + (r?.failed_since ?? 0),
        ...(r?.last_sent ? { lastSentAt: r.last_sent } : {}), ...(e ? { lastError: e } : {}),
      };
    });
  }

  /** The newest messages that failed or are being retried (for `notify status`). */
  problems(limit = 10): OutboxRow[] {
    return (this.db.prepare("SELECT * FROM notify_outbox WHERE status = 'failed' OR (status = 'pending' AND last_error IS NOT NULL) ORDER BY id DESC LIMIT ?").all(limit) as Row[]).map(fromRow);
  }

  /** Whether any message about this subject was queued (an incident announced). */
  hasSubject(subject: string): boolean {
    return this.db.prepare('SELECT 1 FROM notify_outbox WHERE subject = ? LIMIT 1').get(subject) !== undefined;
  }

  /** One row by idempotency key. */
  byKey(key: string): OutboxRow | undefined {
    const r = this.db.prepare('SELECT * FROM notify_outbox WHERE key = ?').get(key) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  /** Removes delivered messages older than `before` and failed ones older than `failedBefore` (the outbox stays small). */
  prune(before: number, failedBefore: number): number {
    const a = this.db.prepare("DELETE FROM notify_outbox WHERE status = 'sent' AND sent_at < ?").run(before).changes;
    const b = this.db.prepare("DELETE FROM notify_outbox WHERE status = 'failed' AND created_at < ?").run(failedBefore).changes;
    return a + b;
  }
}

interface AlertRow {
  check_id: string;
  channel: string;
  subject: string;
  status: string;
  message: string;
  fired_at: number;
  last_at: number;
  facts: string | null;
}

const fromAlert = (r: AlertRow): NotifiedAlert => ({ checkId: r.check_id, channel: r.channel, subject: r.subject, status: r.status, message: r.message, firedAt: r.fired_at, lastAt: r.last_at, ...(r.facts ? { facts: JSON.parse(r.facts) as AlertFacts } : {}) });
