import { severityRank, type CheckResult, type CheckStatus } from './check.js';

/** Lifecycle of an alert with hysteresis (pending → firing → resolving → resolved). */
export type AlertState = 'ok' | 'pending' | 'firing' | 'resolving' | 'resolved';

/** One check's alert record, updated after every evaluation. */
export interface Alert {
  checkId: string;
  state: AlertState;
  /** Consecutive failed evaluations. */
  failStreak: number;
  /** Consecutive passed evaluations. */
  passStreak: number;
  /** Worst status seen while failing; 'ok' when not failing. */
  status: CheckStatus;
  /** The latest failing result's status, when it is not `status` (a CRITICAL that eased to WARNING: the row says "now WARNING"). */
  current?: CheckStatus;
  message: string;
  /** When the current failure streak began (ms). */
  since?: number;
  firedAt?: number;
  resolvedAt?: number;
  /** Set while the check's result is suppressed by a failed dependency. */
  suppressedBy?: string;
  /** Resolved because a configuration change removed its check, not because it recovered (Monitor.retire): why. */
  retired?: string;
}

/** A change worth recording and notifying. */
export type AlertTransition = 'fired' | 'resolved';

/** Hysteresis settings (defaults from the source documents: 3 failures, 2 recoveries). */
export interface Hysteresis {
  failureThreshold: number;
  recoveryThreshold: number;
}


/**
 * Advances one check's alert by one evaluation. A check must fail `failureThreshold` times in a row
 * to fire and pass `recoveryThreshold` times in a row to resolve. A suppressed result (its dependency
 * is down) neither advances a failure streak nor fires; a firing alert stays firing under
 * suppression, and its resolution is never suppressed.
 */
export function stepAlert(
  prev: Alert | undefined,
  r: CheckResult,
  now: number,
  h: Hysteresis,
): { alert: Alert; transition?: AlertTransition } {
  const a: Alert = prev ? { ...prev } : { checkId: r.id, state: 'ok', failStreak: 0, passStreak: 0, status: 'ok', message: r.message };
  if (a.state === 'resolved') a.state = 'ok';

  if (r.suppressedBy !== undefined && r.status !== 'ok') {
    // Dependency down: hold the current state; the dependency's own alert speaks for it.
    a.suppressedBy = r.suppressedBy;
    if (a.state === 'pending') {
      a.state = 'ok';
      a.failStreak = 0;
      delete a.since;
    }
    return { alert: a };
  }
  delete a.suppressedBy;

  if (r.status !== 'ok') {
    delete a.current;
    a.failStreak += 1;
    a.passStreak = 0;
    a.message = r.message;
    a.since ??= now;
    a.status = a.state === 'ok' || severityRank(r.status) > severityRank(a.status) ? r.status : a.status;
    if (a.state === 'firing' || a.state === 'resolving') {
      // The worst status seen while firing: a flapping service must not flip CRITICAL ↔ WARNING.
      a.state = 'firing';
      a.status = severityRank(r.status) > severityRank(a.status) ? r.status : a.status;
      if (r.status !== a.status) a.current = r.status;
      else delete a.current;
      return { alert: a };
    }
    if (a.failStreak >= h.failureThreshold) {
      a.state = 'firing';
      a.status = r.status;
      a.firedAt = now;
      return { alert: a, transition: 'fired' };
    }
    a.state = 'pending';
    return { alert: a };
  }

  // The probes' own streak counts toward recovery (an alert raised by a rate resolves after
  // max(recovery_threshold, rate_recovery) successes in a row: the first ones still failed on it).
  a.passStreak = Math.max(a.passStreak + 1, r.okInARow ?? 0);
  a.failStreak = 0;
  delete a.current;
  if (a.state === 'pending' || a.state === 'ok') {
    a.state = 'ok';
    a.status = 'ok';
    a.message = r.message;
    delete a.since;
    return { alert: a };
  }
  if (a.passStreak >= h.recoveryThreshold) {
    a.state = 'resolved';
    a.resolvedAt = now;
    a.message = r.message;
    a.status = 'ok';
    delete a.since;
    return { alert: a, transition: 'resolved' };
  }
  a.state = 'resolving';
  return { alert: a };
}
