import type BetterSqlite3 from 'better-sqlite3';
import { userInfo } from 'node:os';
import { redactSecrets } from '../config/secrets.js';
import type { EventBus } from '../engine/events.js';

/** An operator's acknowledgement or silence of one alert. */
export interface AckState {
  /** Acknowledged: holds until the alert resolves (then the next firing needs a new ack). */
  acknowledged: boolean;
  firedAt?: number;
  silencedUntil?: number;
}

interface Saved extends AckState {
  ackAt?: number;
}

/**
 * Who is at the keyboard, for the audit log, acks and incidents: the user and, over SSH, the client
 * address (issue #18: `alice from 203.0.113.7`; SSH_CLIENT is "address port local-port").
 */
export function actor(env: NodeJS.ProcessEnv = process.env): string {
  let user: string;
  try {
    user = env.SUDO_USER || userInfo().username;
  } catch {
    user = 'unknown';
  }
  const from = env.SSH_CLIENT?.trim().split(/\s+/)[0];
  return from ? `${user} from ${from}` : user;
}

/**
 * Acks and silences, saved in the state database so they survive a restart. An ack belongs to one
 * firing episode: it holds while the alert keeps firing — across a restart of the console, whose
 * monitor re-detects the same outage as a new firing — and lapses when the alert resolves (the
 * monitor's 'resolved' event in alert_events, also when that happened in an earlier run). A silence
 * lasts until its time. Each ack and silence made through this store is emitted on `bus`
 * (`alert.acknowledged`, `alert.silenced`) once saved; those another console makes are not.
 */
export class AckStore {
  private cache = new Map<string, Saved>();
  private loadedAt = -Infinity;
  private readonly readAll: BetterSqlite3.Statement;

  /**
   * `maxAgeMs`: how old the in-memory copy may get before the next `get` reads the table again.
   * Another console on the same state directory acks and silences too (issue #13: a silence made in
   * one never appeared in the other); the console asks for every alert row each frame, so one read
   * per second is "each cycle" at any interval, for the price of one small query.
   */
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly maxAgeMs = 1000,
    private readonly clock: () => number = Date.now,
    private readonly bus?: EventBus,
  ) {
    this.readAll = db.prepare(
      `SELECT a.check_id, a.acknowledged_at, a.fired_at, a.silenced_until,
         (SELECT max(e.at) FROM alert_events e WHERE e.check_id = a.check_id AND e.event = 'resolved') AS resolved_at
       FROM alert_acks a`,
    );
    this.reload();
  }

  /** Reads every ack and silence from the state database. */
  reload(): void {
    const rows = this.readAll.all() as { check_id: string; acknowledged_at: number | null; fired_at: number | null; silenced_until: number | null; resolved_at: number | null }[];
    const next = new Map<string, Saved>();
    for (const r of rows) {
      const lapsed = r.acknowledged_at !== null && r.resolved_at !== null && r.resolved_at >= r.acknowledged_at;
      next.set(r.check_id, {
        acknowledged: r.acknowledged_at !== null && !lapsed,
        ...(r.acknowledged_at !== null && !lapsed ? { ackAt: r.acknowledged_at } : {}),
        ...(r.fired_at !== null ? { firedAt: r.fired_at } : {}),
        ...(r.silenced_until !== null ? { silencedUntil: r.silenced_until } : {}),
      });
    }
    this.cache = next;
    this.loadedAt = this.clock();
  }

  private fresh(): void {
    if (this.clock() - this.loadedAt < this.maxAgeMs) return;
    try {
      this.reload();
    } catch {
      // A busy or unreadable state database: keep what was read last, try again next time.
      this.loadedAt = this.clock();
    }
  }

  /** The ack state of an alert now. (`firedAt` is kept for callers; the episode ends at 'resolved'.) */
  get(checkId: string, _firedAt?: number, now = Date.now()): AckState {
    this.fresh();
    const a = this.cache.get(checkId);
    if (!a) return { acknowledged: false };
    return {
      acknowledged: a.acknowledged,
      ...(a.silencedUntil && a.silencedUntil > now ? { silencedUntil: a.silencedUntil } : {}),
    };
  }

  /** The alert resolved: its ack lapses, so the next firing asks for attention again. */
  lapse(checkId: string, now = Date.now()): void {
    this.update(checkId, now, (a) => {
      if (!a?.acknowledged) return undefined;
      const next: Saved = { ...a, acknowledged: false };
      delete next.ackAt;
      return next;
    });
  }

  /** Acknowledges the current firing episode of an alert. */
  ack(checkId: string, firedAt: number | undefined, now = Date.now()): void {
    const by = actor();
    this.update(checkId, now, (prev) => ({ ...prev, acknowledged: true, ackAt: now, ...(firedAt !== undefined ? { firedAt } : {}) }));
    this.db.prepare('INSERT INTO alert_events (at, check_id, event, message) VALUES (?, ?, ?, ?)').run(now, checkId, 'acknowledged', `by ${by}`);
    this.bus?.emit({ type: 'alert.acknowledged', at: now, checkId, actor: by, ...(firedAt !== undefined ? { firedAt } : {}) });
  }

  /** Silences an alert for `ms`. */
  silence(checkId: string, ms: number, now = Date.now()): void {
    const by = actor();
    this.update(checkId, now, (prev) => ({ ...(prev ?? { acknowledged: false }), silencedUntil: now + ms }));
    this.db.prepare('INSERT INTO alert_events (at, check_id, event, message, until) VALUES (?, ?, ?, ?, ?)').run(now, checkId, 'silenced', `by ${by}`, now + ms);
    this.bus?.emit({ type: 'alert.silenced', at: now, checkId, actor: by, until: now + ms });
  }

  /**
   * Read, change, write in one write transaction, from the table as it is now: another console's
   * silence must not be overwritten by this console's older copy when it acks the same alert.
   */
  private update(checkId: string, now: number, change: (prev: Saved | undefined) => Saved | undefined): void {
    this.db
      .transaction(() => {
        this.reload();
        const next = change(this.cache.get(checkId));
        if (!next) return;
        this.cache.set(checkId, next);
        this.save(checkId, next, now);
      })
      .immediate();
  }

  private save(checkId: string, a: Saved, now: number): void {
    this.db
      .prepare(
        `INSERT INTO alert_acks (check_id, acknowledged_at, fired_at, silenced_until, actor) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(check_id) DO UPDATE SET acknowledged_at = excluded.acknowledged_at, fired_at = excluded.fired_at,
           silenced_until = excluded.silenced_until, actor = excluded.actor`,
      )
      .run(checkId, a.acknowledged ? (a.ackAt ?? now) : null, a.firedAt ?? null, a.silencedUntil ?? null, actor());
  }
}

/** Writes one entry of the audit log (every action that changes the world, and every refusal); secrets redacted. */
export function recordAudit(
  db: BetterSqlite3.Database | undefined,
  e: { action: string; target: string; outcome: 'ok' | 'failed' | 'refused' | 'cancelled'; detail?: string },
  now = Date.now(),
): void {
  db?.prepare('INSERT INTO audit (at, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)').run(now, actor(), e.action, redactSecrets(e.target), e.outcome, e.detail === undefined ? null : redactSecrets(e.detail));
}
