import type BetterSqlite3 from 'better-sqlite3';
import { isSelf, sameMachine, type LeaseRecord } from '../domain/lease.js';
import { Failure } from '../domain/errors.js';
import { alive, processStartedAt } from '../services/process.js';
import { processIdentity, readLease } from '../state/lease.js';

// Who drives a run (issue #14): the process that drives it holds the lease `run:<id>` in the state
// database (src/state/lease.ts's table). Another process may not drive the same run beside it, and
// the unfinished-run finding says "in progress" while the holder lives. A holder on this machine is
// alive while its process is (a long synchronous step — an integrity_check of a large file — cannot
// renew, so time alone must not take the run from it); a process that started after the lease was
// taken reused the pid and is not the holder. A holder on another machine counts until its lease
// expires (renewed every RENEW_MS while the driver's event loop runs).

/** How often a driver renews its run lease; it lapses for other machines after 3 renewals missed. */
export const RENEW_MS = 10_000;

const leaseName = (runId: string) => `run:${runId}`;


/** Whether the recorded holder of a run lease still drives it, as seen from this process. */
export function holderAlive(h: LeaseRecord, now = Date.now()): boolean {
  const me = processIdentity('run');
  if (!sameMachine(h, me)) return now < h.expiresAt;
  if (!alive(h.pid)) return false;
  const started = processStartedAt(h.pid);
  // btime is whole seconds: a margin of 2 s keeps the real holder.
  return started === undefined || started <= h.acquiredAt + 2000;
}

/** The live holder of a run, if another process (or this one) drives it now. */
export function runHolder(db: BetterSqlite3.Database, runId: string, now = Date.now()): LeaseRecord | undefined {
  try {
    const h = readLease(db, leaseName(runId));
    return h && holderAlive(h, now) ? h : undefined;
  } catch {
    return undefined; // a state database older than the leases table: nobody holds anything
  }
}

/** A held run: renewed on a timer until released. */
export interface RunLease {
  release(): void;
}

/**
 * Takes the run for this process, or throws `busy` naming the holder. One BEGIN IMMEDIATE
 * transaction: two processes cannot both take it.
 */
export function holdRun(db: BetterSqlite3.Database, runId: string, describe: (pid: number) => string): RunLease {
  const me = processIdentity('run');
  const name = leaseName(runId);
  const write = (now: number) =>
    db
      .prepare(
        `INSERT INTO leases (name, owner, pid, host, boot_id, pid_ns, acquired_at, renewed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host, boot_id = excluded.boot_id,
           pid_ns = excluded.pid_ns, acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at`,
      )
      .run(name, me.owner, me.pid, me.host, me.bootId, me.pidNs, now, now, now + 3 * RENEW_MS);
  db.transaction(() => {
    const now = Date.now();
    const h = readLease(db, name);
    if (h && !isSelf(h, me) && holderAlive(h, now)) throw new Failure('busy', describe(h.pid));
    write(now);
  }).immediate();
  const timer = setInterval(() => {
    try {
      const now = Date.now();
      db.prepare('UPDATE leases SET renewed_at = ?, expires_at = ? WHERE name = ? AND pid = ? AND host = ?').run(now, now + 3 * RENEW_MS, name, me.pid, me.host);
    } catch {
      // a busy state database: the next renewal tries again
    }
  }, RENEW_MS);
  timer.unref();
  return {
    release() {
      clearInterval(timer);
      try {
        db.prepare('DELETE FROM leases WHERE name = ? AND pid = ? AND host = ?').run(name, me.pid, me.host);
      } catch {
        // lapses on its own
      }
    },
  };
}
