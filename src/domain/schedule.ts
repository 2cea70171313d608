// Pure decisions of the backup schedule (issue #10): when a database's next scheduled backup is due,
// and what the RPO check says about it. I/O lives in src/state/backup-scheduler.ts.
import type { BackupConfig, DatabaseConfig } from '../config/schema.js';

/** A database's backup schedule in ms: its own `backup_schedule`, else `backup.schedule`; undefined: none. */
export function scheduleFor(db: Pick<DatabaseConfig, 'backup_schedule'>, backup: Pick<BackupConfig, 'schedule'>): number | undefined {
  const s = db.backup_schedule ?? backup.schedule;
  return s === 'off' ? undefined : s;
}

/** The latest scheduled run of one database, as the schedule needs it. */
export interface LastRuns {
  /** A run is in flight (its process is alive, or may be). */
  running?: { since: number };
  /** Failed runs in a row, newest first, since the last good one (abandoned runs do not count). */
  failures: number;
  /** The newest failure, when `failures` > 0. */
  lastFailure?: { at: number; message: string };
  /** A restore of this database is unfinished: the schedule waits for it (it would copy a half-restored file). */
  restoreOpen?: boolean;
}

/**
 * How long to wait after `failures` failed scheduled backups in a row: 1 min, doubling, never more
 * than the schedule itself (a full disk must not spawn a backup every interval; a 1-minute schedule
 * retries every minute).
 */
export function retryDelay(scheduleMs: number, failures: number): number {
  return Math.min(scheduleMs, 60_000 * 2 ** Math.max(0, failures - 1));
}

/**
 * When the next scheduled backup is due: the newest verified backup's time plus the schedule (so two
 * monitors, a restart or a manual backup never add one inside a slot), at once when there is none,
 * and not before the retry delay after a failure that no verified backup has followed yet.
 */
export function nextDue(scheduleMs: number, newestVerifiedAt: number | undefined, runs: LastRuns | undefined, now: number): number {
  const base = newestVerifiedAt === undefined ? now : newestVerifiedAt + scheduleMs;
  const f = currentFailure(newestVerifiedAt, runs);
  return f ? Math.max(base, f.at + retryDelay(scheduleMs, runs?.failures ?? 1)) : base;
}

/** The newest failure, while no verified backup is newer than it. */
function currentFailure(newestVerifiedAt: number | undefined, runs: LastRuns | undefined): { at: number; message: string } | undefined {
  const f = runs?.failures ? runs.lastFailure : undefined;
  return f && (newestVerifiedAt === undefined || f.at > newestVerifiedAt) ? f : undefined;
}

/** What the RPO check says about the schedule. */
export type ScheduleView =
  | { kind: 'none' }
  | { kind: 'running'; since: number }
  | { kind: 'due'; dueAt: number; overdue: boolean; failure?: { at: number; message: string }; restoreOpen?: boolean };

/**
 * The schedule as the RPO check reports it. `overdueAfterMs`: how late a due backup may be before
 * the check says nobody seems to run the schedule (3 check intervals: the lease holder checks every
 * interval). A failure counts only while no verified backup is newer than it.
 */
export function scheduleView(
  scheduleMs: number | undefined, newestVerifiedAt: number | undefined, runs: LastRuns | undefined, now: number, overdueAfterMs: number,
): ScheduleView {
  if (scheduleMs === undefined) return { kind: 'none' };
  if (runs?.running) return { kind: 'running', since: runs.running.since };
  const failure = currentFailure(newestVerifiedAt, runs);
  const dueAt = nextDue(scheduleMs, newestVerifiedAt, runs, now);
  return { kind: 'due', dueAt, overdue: now - dueAt > overdueAfterMs, ...(failure ? { failure } : {}), ...(runs?.restoreOpen ? { restoreOpen: true } : {}) };
}

/** What a scheduled `backup create --verify --prune` did, as its run records it. */
export interface RunReport {
  created?: string;
  verified?: readonly { id: string; ok: boolean; message: string }[];
  pruned?: number;
  pruneError?: string;
  /** The one-line error that ended it. */
  error?: string;
}

/** The outcome and one-line detail of a scheduled run (the RPO check shows a failure's detail). */
export function describeRun(r: RunReport): { ok: boolean; message: string } {
  const bad = r.verified?.find((v) => !v.ok);
  if (bad) return { ok: false, message: `${bad.id} failed verification: ${bad.message}` };
  if (r.error || !r.created) return { ok: false, message: r.error || 'no backup was created' };
  const pruned = r.pruned ? `; pruned ${r.pruned}` : '';
  return { ok: true, message: `${r.created} created and verified${pruned}${r.pruneError ? `; ${r.pruneError}` : ''}` };
}
