import { describe, expect, it } from 'vitest';
import { decideLease, sameMachine, type LeaseIdentity, type LeaseRecord } from '../../src/domain/lease.js';

// Who runs the scheduled backups when several monitors share one state directory (issue #10).

const me: LeaseIdentity = { owner: 'watch', pid: 100, host: 'db1', bootId: 'boot-a', pidNs: 'pid:[1]' };
const held = (over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  name: 'backup-scheduler', owner: 'watch', pid: 200, host: 'db1', bootId: 'boot-a', pidNs: 'pid:[1]', acquiredAt: 0, renewedAt: 1000, expiresAt: 4000, ...over,
});
const console_ = { ...me, owner: 'console' as const };

describe('decideLease', () => {
  it.each<[string, LeaseIdentity, LeaseRecord | undefined, number, boolean | undefined, string]>([
    ['nobody holds it', me, undefined, 2000, undefined, 'take:free'],
    ['we hold it: renew', me, held({ pid: 100 }), 2000, true, 'renew'],
    ['we hold it, past its expiry: still ours, renewed', me, held({ pid: 100 }), 9000, true, 'renew'],
    ['a live watch holds it', me, held(), 2000, true, 'held'],
    ['a live watch holds it, its expiry passed (not renewed for 3 intervals)', me, held(), 4000, true, 'take:expired'],
    ['its holder died on this machine: at once', me, held(), 2000, false, 'take:holder-dead'],
    ['a dead pid on another host means nothing: wait for expiry', me, held({ host: 'db2' }), 2000, false, 'held'],
    ['a dead pid in another boot means nothing', me, held({ bootId: 'boot-b' }), 2000, false, 'held'],
    ['a dead pid in another pid namespace (a container) means nothing', me, held({ pidNs: 'pid:[2]' }), 2000, false, 'held'],
    ['an unknown boot id (not Linux) never matches', { ...me, bootId: '' }, held({ bootId: '' }), 2000, false, 'held'],
    ['a watch takes it from a live console', me, held({ owner: 'console' }), 2000, true, 'take:preferred'],
    ['a console never takes it from a live watch', console_, held(), 2000, true, 'held'],
    ['a console waits for another live console', console_, held({ owner: 'console' }), 2000, true, 'held'],
    ['a console takes it from a dead watch', console_, held(), 2000, false, 'take:holder-dead'],
    ['a console takes an expired one', console_, held(), 5000, true, 'take:expired'],
    ['an unknown owner kind (a newer version) ranks lowest', console_, held({ owner: 'notifier' }), 2000, true, 'take:preferred'],
  ])('%s', (_name, who, current, now, alive, expected) => {
    const d = decideLease(current, who, now, alive);
    expect(d.kind === 'take' ? `take:${d.reason}` : d.kind).toBe(expected);
  });

  it('same machine needs the same host, boot and pid namespace', () => {
    expect(sameMachine(me, { host: 'db1', bootId: 'boot-a', pidNs: 'pid:[1]' })).toBe(true);
    expect(sameMachine(me, { host: 'db1', bootId: 'boot-a', pidNs: 'pid:[9]' })).toBe(false);
  });
});
