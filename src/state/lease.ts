import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type BetterSqlite3 from 'better-sqlite3';
import { alive } from '../services/process.js';
import { decideLease, isSelf, LEASE_INTERVALS, type LeaseIdentity, type LeaseOwnerKind, type LeaseRecord, type TakeReason } from '../domain/lease.js';

/** What one acquire-or-renew attempt found. */
export interface LeaseStatus {
  held: boolean;
  /** Set when this attempt took the lease (not on a renewal), with why. */
  taken?: TakeReason;
  /** Set when we held it before this attempt and no longer do. */
  lost?: boolean;
  /** The holder when it is someone else. */
  holder?: LeaseRecord;
  /** The state database could not be read or written (the lease is then not held). */
  error?: string;
}

/** This process as a lease owner: pid, host name, boot id and pid namespace (empty where unknown, e.g. not Linux). */
export function processIdentity(owner: LeaseOwnerKind, pid = process.pid): LeaseIdentity {
  return { owner, pid, host: hostname(), bootId: readTrimmed(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')), pidNs: readTrimmed(() => readlinkSync('/proc/self/ns/pid')) };
}

function readTrimmed(read: () => string): string {
  try {
    return read().trim();
  } catch {
    return '';
  }
}

/** Whether a process with this pid exists (src/services/process.ts: the one definition). */
export const pidAlive = alive;

interface Row {
  name: string;
  owner: string;
  pid: number;
  host: string;
  boot_id: string;
  pid_ns: string;
  acquired_at: number;
  renewed_at: number;
  expires_at: number;
}

const fromRow = (r: Row): LeaseRecord => ({
  name: r.name, owner: r.owner, pid: r.pid, host: r.host, bootId: r.boot_id, pidNs: r.pid_ns, acquiredAt: r.acquired_at, renewedAt: r.renewed_at, expiresAt: r.expires_at,
});

/**
 * A named lease in the state database (table `leases`): at most one process holds it. The holder
 * calls `acquire` every interval, which renews it for LEASE_INTERVALS intervals; a lease not renewed
 * in that time lapses, and one whose holder died on this machine lapses at once. Each attempt is one
 * `BEGIN IMMEDIATE` transaction — it takes SQLite's write lock before reading the row — so two
 * processes can never both decide the lease is theirs. Never throws: an unusable state database
 * means the lease is not held, and the duty it guards does not run.
 */
export class Lease {
  private holding = false;
  private readonly ttlMs: number;

  constructor(
    private readonly db: BetterSqlite3.Database,
    readonly name: string,
    private readonly me: LeaseIdentity,
    intervalMs: number,
    private readonly alive: (pid: number) => boolean = pidAlive,
  ) {
    this.ttlMs = LEASE_INTERVALS * intervalMs;
  }

  /** Whether the last attempt left this process holding the lease. */
  get held(): boolean {
    return this.holding;
  }

  /** Takes the lease if it may, or renews it; `now` is injectable for tests. */
  acquire(now = Date.now()): LeaseStatus {
    const was = this.holding;
    let status: LeaseStatus;
    try {
      status = this.db
        .transaction((): LeaseStatus => {
          const row = this.db.prepare('SELECT * FROM leases WHERE name = ?').get(this.name) as Row | undefined;
          const current = row ? fromRow(row) : undefined;
          const d = decideLease(current, this.me, now, current ? this.alive(current.pid) : undefined);
          if (d.kind === 'held') return { held: false, holder: d.holder };
          const m = this.me;
          if (d.kind === 'renew') {
            this.db.prepare('UPDATE leases SET owner = ?, renewed_at = ?, expires_at = ? WHERE name = ?').run(m.owner, now, now + this.ttlMs, this.name);
            return { held: true };
          }
          this.db
            .prepare(
              `INSERT INTO leases (name, owner, pid, host, boot_id, pid_ns, acquired_at, renewed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host, boot_id = excluded.boot_id,
                 pid_ns = excluded.pid_ns, acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at`,
            )
            .run(this.name, m.owner, m.pid, m.host, m.bootId, m.pidNs, now, now, now + this.ttlMs);
          return { held: true, taken: d.reason };
        })
        .immediate();
    } catch (e) {
      status = { held: false, error: `lease ${this.name}: state database: ${(e as Error).message}` };
    }
    this.holding = status.held;
    return was && !status.held ? { ...status, lost: true } : status;
  }

  /** Gives the lease up (on stop), so another monitor takes it at its next interval instead of after 3. */
  release(): void {
    this.holding = false;
    try {
      this.db
        .transaction(() => {
          const row = this.db.prepare('SELECT * FROM leases WHERE name = ?').get(this.name) as Row | undefined;
          if (row && isSelf(fromRow(row), this.me)) this.db.prepare('DELETE FROM leases WHERE name = ?').run(this.name);
        })
        .immediate();
    } catch {
      // The lease lapses on its own after LEASE_INTERVALS intervals.
    }
  }
}

/** One lease by name, if it is recorded (the run leases of src/engine/owner.ts read theirs here). */
export function readLease(db: BetterSqlite3.Database, name: string): LeaseRecord | undefined {
  const row = db.prepare('SELECT * FROM leases WHERE name = ?').get(name) as Row | undefined;
  return row ? fromRow(row) : undefined;
}

/** Every lease in the state database (for people and tests). */
export function readLeases(db: BetterSqlite3.Database): LeaseRecord[] {
  return (db.prepare('SELECT * FROM leases ORDER BY name').all() as Row[]).map(fromRow);
}
