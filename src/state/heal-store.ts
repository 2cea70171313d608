import type BetterSqlite3 from 'better-sqlite3';
import type { HealState, HealTrigger } from '../domain/heal.js';

// What the healer remembers (issue #20), in the state database so a restarted or another `watch`
// carries on where the last one stood: per subject the attempts, the last action, whether healing
// of it stopped (and why) and what it will do next; and every action, for the budget, `opsdeck heal
// status` and the console's healing pane.

/** Kinds of rows in `heal_actions`. */
export type HealActionKind = 'restart' | 'escalate' | 'enable' | 'leave' | 'takeover';

/** One row of `heal_actions`. */
export interface HealAction {
  id: number;
  subject: string;
  at: number;
  endedAt?: number;
  kind: HealActionKind;
  trigger?: HealTrigger;
  runbook?: string;
  runId?: string;
  attempt?: number;
  outcome?: string;
  detail?: string;
  actor: string;
}

/** A subject's state plus what is next, as `heal status` and the pane show it. */
export interface HealRow extends HealState {
  nextAt?: number;
  nextWhat?: string;
  updatedAt: number;
}

interface StateRow {
  subject: string;
  attempts: number;
  last_started_at: number | null;
  last_ended_at: number | null;
  last_trigger: string | null;
  ok_since: number | null;
  baseline_restarts: number | null;
  disabled_at: number | null;
  disabled_reason: string | null;
  next_at: number | null;
  next_what: string | null;
  updated_at: number;
}

interface ActionRow {
  id: number;
  subject: string;
  at: number;
  ended_at: number | null;
  kind: string;
  trigger: string | null;
  runbook: string | null;
  run_id: string | null;
  attempt: number | null;
  outcome: string | null;
  detail: string | null;
  actor: string;
}

const opt = <K extends string, V>(k: K, v: V | null): { [P in K]?: V } => (v === null ? {} : ({ [k]: v } as { [P in K]?: V }));

const fromState = (r: StateRow): HealRow => ({
  subject: r.subject,
  attempts: r.attempts,
  ...opt('lastStartedAt', r.last_started_at),
  ...opt('lastEndedAt', r.last_ended_at),
  ...opt('lastTrigger', r.last_trigger as HealTrigger | null),
  ...opt('okSince', r.ok_since),
  ...opt('baselineRestarts', r.baseline_restarts),
  ...opt('disabledAt', r.disabled_at),
  ...opt('disabledReason', r.disabled_reason),
  ...opt('nextAt', r.next_at),
  ...opt('nextWhat', r.next_what),
  updatedAt: r.updated_at,
});

const fromAction = (r: ActionRow): HealAction => ({
  id: r.id,
  subject: r.subject,
  at: r.at,
  ...opt('endedAt', r.ended_at),
  kind: r.kind as HealActionKind,
  ...opt('trigger', r.trigger as HealTrigger | null),
  ...opt('runbook', r.runbook),
  ...opt('runId', r.run_id),
  ...opt('attempt', r.attempt),
  ...opt('outcome', r.outcome),
  ...opt('detail', r.detail),
  actor: r.actor,
});

/** The healer's tables. Every write is one statement or one IMMEDIATE transaction. */
export class HealStore {
  constructor(private readonly db: BetterSqlite3.Database) {}

  /** One subject's state (attempts 0 when never seen). */
  get(subject: string): HealRow {
    const r = this.db.prepare('SELECT * FROM heal_state WHERE subject = ?').get(subject) as StateRow | undefined;
    return r ? fromState(r) : { subject, attempts: 0, updatedAt: 0 };
  }

  /** Every subject the healer has a state for, by name. */
  all(): HealRow[] {
    return (this.db.prepare('SELECT * FROM heal_state ORDER BY subject').all() as StateRow[]).map(fromState);
  }

  /** Writes a subject's state (busy is not stored: it lives in the process that acts). */
  put(s: HealRow, now: number): void {
    this.db
      .prepare(
        `INSERT INTO heal_state (subject, attempts, last_started_at, last_ended_at, last_trigger, ok_since, baseline_restarts, disabled_at, disabled_reason, next_at, next_what, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(subject) DO UPDATE SET attempts = excluded.attempts, last_started_at = excluded.last_started_at, last_ended_at = excluded.last_ended_at,
           last_trigger = excluded.last_trigger, ok_since = excluded.ok_since, baseline_restarts = excluded.baseline_restarts, disabled_at = excluded.disabled_at,
           disabled_reason = excluded.disabled_reason, next_at = excluded.next_at, next_what = excluded.next_what, updated_at = excluded.updated_at`,
      )
      .run(s.subject, s.attempts, s.lastStartedAt ?? null, s.lastEndedAt ?? null, s.lastTrigger ?? null, s.okSince ?? null, s.baselineRestarts ?? null, s.disabledAt ?? null, s.disabledReason ?? null, s.nextAt ?? null, s.nextWhat ?? null, now);
  }

  /**
   * Re-enables healing of a subject (an operator's `E` / `opsdeck heal enable`): attempts from 0, the
   * budget's window starts now (earlier restarts no longer count). False when it was not stopped.
   */
  enable(subject: string, actor: string, now: number): boolean {
    return this.db
      .transaction(() => {
        const s = this.get(subject);
        if (s.disabledAt === undefined) return false;
        this.put({ subject, attempts: 0, updatedAt: now, nextWhat: 'healing enabled again by an operator' }, now);
        this.record({ subject, at: now, endedAt: now, kind: 'enable', outcome: 'ok', detail: `healing enabled again (was stopped: ${s.disabledReason ?? ''})`, actor });
        return true;
      })
      .immediate();
  }

  /** Appends one action; its id. */
  record(a: Omit<HealAction, 'id'>): number {
    const r = this.db
      .prepare('INSERT INTO heal_actions (subject, at, ended_at, kind, trigger, runbook, run_id, attempt, outcome, detail, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(a.subject, a.at, a.endedAt ?? null, a.kind, a.trigger ?? null, a.runbook ?? null, a.runId ?? null, a.attempt ?? null, a.outcome ?? null, a.detail ?? null, a.actor);
    return Number(r.lastInsertRowid);
  }

  /** Ends an action: when, how, and the run it made. */
  finish(id: number, endedAt: number, outcome: string, detail: string, runId?: string): void {
    this.db.prepare('UPDATE heal_actions SET ended_at = ?, outcome = ?, detail = ?, run_id = COALESCE(?, run_id) WHERE id = ?').run(endedAt, outcome, detail, runId ?? null, id);
  }

  /** Start times of a subject's restarts since `since` that count against its budget (not before its last enable). */
  restartsSince(subject: string, since: number): number[] {
    const enabled = (this.db.prepare("SELECT MAX(at) AS at FROM heal_actions WHERE subject = ? AND kind = 'enable'").get(subject) as { at: number | null }).at ?? 0;
    return (this.db.prepare("SELECT at FROM heal_actions WHERE subject = ? AND kind = 'restart' AND at >= ? AND at >= ? ORDER BY at").all(subject, since, enabled) as { at: number }[]).map((r) => r.at);
  }

  /** The latest actions, newest first (every subject, or one). */
  recent(limit = 50, subject?: string): HealAction[] {
    const rows = subject === undefined
      ? this.db.prepare('SELECT * FROM heal_actions ORDER BY at DESC, id DESC LIMIT ?').all(limit)
      : this.db.prepare('SELECT * FROM heal_actions WHERE subject = ? ORDER BY at DESC, id DESC LIMIT ?').all(subject, limit);
    return (rows as ActionRow[]).map(fromAction);
  }
}

/** What ends an operator's stop (issue #20 trial): the subject seen started again after it, by any means. */
export interface HoldEnds {
  /** The container's `State.StartedAt` (Docker's word: a start newer than the stop, by opsdeck or `docker start`, ends the hold). */
  startedAt?: number | undefined;
  /** The subject's checks (`container:<svc>`, `http:<svc>`, `redis:<name>`): one of them resolved after the stop (the monitor saw it healthy) ends the hold. */
  checkIds?: readonly string[];
}

const STOP_HOLD = ': left alone until it is started again';

/**
 * Whether a person or a runbook has a service (issue #20: healing never fights an operator), and
 * who: (1) an open run in the journal whose target is this service or Redis (any runbook, whoever
 * drives it — a healing run killed half-way included: it waits for a person's resume or rollback);
 * (2) the newest audit entry (outcome ok) that stopped it — action `container.stop` or any
 * `<runbook>.stop…` step, target the service or its container — is newer than every entry that
 * started it (`….start…`, `….restart`, a healing restart), and it has not been seen started since
 * by other means (`ends`: its container started after the stop, or one of its checks' alerts
 * resolved after it — a `docker start` outside opsdeck ends the hold). Undefined when neither.
 */
export function heldByOperator(db: BetterSqlite3.Database, kind: 'service' | 'redis', names: readonly string[], ends: HoldEnds = {}): string | undefined {
  const subject = names[0] ?? '';
  const run = db.prepare("SELECT id, kind FROM runs WHERE status = 'open' AND target_key LIKE ? ORDER BY started_at DESC LIMIT 1").get(`runbook:%:${kind}:${subject}`) as { id: string; kind: string } | undefined;
  if (run) return `run ${run.id} of ${run.kind} holds it (unfinished: opsdeck runbook resume|rollback ${run.id})`;
  if (!names.length) return undefined;
  const marks = names.map(() => '?').join(', ');
  const rows = db
    .prepare(`SELECT at, actor, action FROM audit WHERE outcome = 'ok' AND target IN (${marks}) AND (action LIKE '%.stop%' OR action LIKE '%.start%' OR action LIKE '%.restart%') ORDER BY at DESC, id DESC LIMIT 1`)
    .all(...names) as { at: number; actor: string; action: string }[];
  const last = rows[0];
  if (!last || !/\.stop/.test(last.action)) return undefined;
  if (ends.startedAt !== undefined && ends.startedAt > last.at) return undefined;
  const ids = ends.checkIds ?? [];
  if (ids.length) {
    const resolved = db.prepare(`SELECT 1 FROM alert_events WHERE event = 'resolved' AND at > ? AND check_id IN (${ids.map(() => '?').join(', ')}) LIMIT 1`).get(last.at, ...ids);
    if (resolved) return undefined;
  }
  return `stopped by ${last.actor} at ${new Date(last.at).toISOString()} (${last.action})${STOP_HOLD}`;
}

/** `held (…)` for `heal status` when the healer's last word on a subject was an operator's hold; undefined otherwise. */
export function holdOf(nextWhat: string | undefined): string | undefined {
  if (nextWhat === undefined) return undefined;
  if (nextWhat.startsWith('stopped by ') && nextWhat.endsWith(STOP_HOLD)) return nextWhat.slice(0, -STOP_HOLD.length);
  if (/^run \S+ of \S+ holds it /.test(nextWhat)) return nextWhat;
  return undefined;
}
