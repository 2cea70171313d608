// Pure decisions about named leases (issue #10): which of several monitors on one state directory
// runs a duty only one of them may run (scheduled backups; later notifications, incident rules,
// healing, sampling). The state database part is src/state/lease.ts.

/** Kinds of lease owners, ranked: a `watch` (a service, always on) is preferred over a console. */
export type LeaseOwnerKind = 'watch' | 'console' | 'run';

const RANK: Record<string, number> = { console: 1, watch: 2 };

/** A lease lapses when its holder has not renewed it for this many of its intervals. */
export const LEASE_INTERVALS = 3;

/** Who a process is, as a lease records it. */
export interface LeaseIdentity {
  owner: LeaseOwnerKind;
  pid: number;
  host: string;
  /** /proc/sys/kernel/random/boot_id: a pid means nothing across a reboot. */
  bootId: string;
  /** /proc/self/ns/pid: pids of two containers on one kernel are not comparable. */
  pidNs: string;
}

/** A lease as stored; `owner` is a string, as a later version may add kinds. */
export interface LeaseRecord extends Omit<LeaseIdentity, 'owner'> {
  name: string;
  owner: string;
  acquiredAt: number;
  renewedAt: number;
  expiresAt: number;
}

/** Why a lease was taken. */
export type TakeReason = 'free' | 'expired' | 'holder-dead' | 'preferred';

/** What to do with a lease: take it, renew our own, or leave it to its holder. */
export type LeaseDecision = { kind: 'take'; reason: TakeReason } | { kind: 'renew' } | { kind: 'held'; holder: LeaseRecord };

/** Whether two identities are processes of one kernel, boot and pid namespace: only then can a pid be checked. */
export function sameMachine(a: Pick<LeaseIdentity, 'host' | 'bootId' | 'pidNs'>, b: Pick<LeaseIdentity, 'host' | 'bootId' | 'pidNs'>): boolean {
  return a.host === b.host && a.bootId !== '' && a.bootId === b.bootId && a.pidNs !== '' && a.pidNs === b.pidNs;
}

/** Whether a record is this very process. */
export function isSelf(r: Pick<LeaseRecord, 'pid' | 'host' | 'bootId' | 'pidNs'>, me: LeaseIdentity): boolean {
  return r.pid === me.pid && r.host === me.host && r.bootId === me.bootId && r.pidNs === me.pidNs;
}

/**
 * Decides one acquire-or-renew attempt. `holderAlive` is whether the holder's pid exists, asked only
 * when it runs on this machine (`sameMachine`), else undefined. In order: nobody holds it → take;
 * we hold it → renew; it was not renewed in time → take; its holder died on this machine → take at
 * once (no need to wait 3 intervals after a crash); we outrank the holder (watch over console) → take;
 * otherwise it stays with its holder. A console never takes it from a live watch.
 */
export function decideLease(current: LeaseRecord | undefined, me: LeaseIdentity, now: number, holderAlive?: boolean): LeaseDecision {
  if (!current) return { kind: 'take', reason: 'free' };
  if (isSelf(current, me)) return { kind: 'renew' };
  if (now >= current.expiresAt) return { kind: 'take', reason: 'expired' };
  if (holderAlive === false && sameMachine(current, me)) return { kind: 'take', reason: 'holder-dead' };
  if ((RANK[me.owner] ?? 0) > (RANK[current.owner] ?? 0)) return { kind: 'take', reason: 'preferred' };
  return { kind: 'held', holder: current };
}

/** One line for people: who holds a lease. */
export function describeHolder(r: Pick<LeaseRecord, 'owner' | 'pid' | 'host'>): string {
  return `${r.owner} (pid ${r.pid} on ${r.host})`;
}
