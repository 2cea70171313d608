import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { backoffMs, decideHeal, serviceTrigger, type HealSighting, type HealState, type ServiceLook } from '../../src/domain/heal.js';

// Self-healing decisions (issue #20): pure, injected times, table-driven.

const s = configSchema.parse({}).heal;
const down: HealSighting = { subject: 'api', trigger: 'down', checkId: 'container:api', runbook: 'service-recovery', seen: 'api is exited' };
const fresh: HealState = { subject: 'api', attempts: 0 };
const T = 1_000_000;

describe('heal defaults are the DR plan numbers', () => {
  it('3 attempts, backoff 10 s × 2 up to 5 min, budget 3 per 30 min, memory 95 % with a 300 s cooldown, host fallback off', () => {
    expect(s).toMatchObject({ enabled: true, attempts: 3, backoff: { base: 10_000, factor: 2, cap: 300_000 }, budget: { restarts: 3, window: 1_800_000 }, memory: { enabled: true, threshold: 95, cooldown: 300_000, host_fallback: false } });
  });
  it('backoff: none before the first attempt, then base × factor^(n−2), capped', () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffMs(s.backoff, n))).toEqual([0, 10_000, 20_000, 40_000, 300_000]);
  });
});

describe('decideHeal', () => {
  it.each<[string, HealSighting, HealState, number[], number, RegExp | string]>([
    ['a service down, never healed: act at once (attempt 1)', down, fresh, [], T, 'act:1'],
    ['fine: idle', { subject: 'api' }, fresh, [], T, 'idle'],
    ['fine long enough after attempts: reset', { subject: 'api' }, { ...fresh, attempts: 2, okSince: T - s.reset_after }, [], T, 'reset'],
    ['fine, not long enough: idle', { subject: 'api' }, { ...fresh, attempts: 2, okSince: T - 1000 }, [], T, 'idle'],
    ['stopped by an operator: leave', { ...down, heldBy: 'stopped by ops' }, fresh, [], T, /leave:stopped by ops/],
    ['an action running: wait (before any hold: our own run holds it)', { ...down, heldBy: 'run x holds it' }, { ...fresh, busy: true }, [], T, /wait:a healing action/],
    ['disabled: idle until enabled', down, { ...fresh, disabledAt: 1, disabledReason: 'budget spent' }, [], T, /idle:healing stopped: budget spent/],
    ['start grace after the last action', down, { ...fresh, attempts: 1, lastEndedAt: T - 1000 }, [T - 5000], T, /wait:start grace/],
    ['backoff passed: attempt 2', down, { ...fresh, attempts: 1, lastEndedAt: T - 10_000 }, [T - 20_000], T, 'act:2'],
    ['backoff before attempt 3 is doubled', down, { ...fresh, attempts: 2, lastEndedAt: T - 15_000 }, [T - 60_000, T - 30_000], T, /wait:backoff before attempt 3/],
    ['attempts spent: escalate', down, { ...fresh, attempts: 3, lastEndedAt: T - 60_000 }, [T - 90_000], T, /escalate:3 attempts did not bring it back/],
    ['budget spent: escalate', down, { ...fresh, attempts: 1, lastEndedAt: T - 60_000 }, [T - 300_000, T - 200_000, T - 100_000], T, /escalate:budget spent: 3 restarts in 30 min/],
    ['restarts older than the window do not count', down, { ...fresh, attempts: 0 }, [T - 31 * 60_000, T - 40 * 60_000, T - 50 * 60_000], T, 'act:1'],
    ['Docker restarts it: leave', { ...down, dockerRestarts: 'always', restartCount: 1 }, { ...fresh, baselineRestarts: 0 }, [], T, /leave:Docker restarts it \(restart policy always\)/],
    ['Docker restarted it twice and it is still down: a crash loop', { ...down, dockerRestarts: 'on-failure', restartCount: 7 }, { ...fresh, baselineRestarts: 5 }, [], T, /escalate:crash loop: Docker restarted it 2 times/],
    ['memory: act (attempts do not count)', { ...down, trigger: 'memory' }, { ...fresh, attempts: 3 }, [], T, 'act:1'],
    ['memory again within the cooldown: wait', { ...down, trigger: 'memory' }, { ...fresh, lastTrigger: 'memory', lastStartedAt: T - 60_000, lastEndedAt: T - 50_000 }, [T - 60_000], T, /wait:memory restart cooldown \(300 s\)/],
    ['memory after the cooldown: act', { ...down, trigger: 'memory' }, { ...fresh, lastTrigger: 'memory', lastStartedAt: T - 301_000, lastEndedAt: T - 290_000 }, [T - 301_000], T, 'act:1'],
  ])('%s', (_name, seen, st, restarts, now, want) => {
    const d = decideHeal(seen, st, s, restarts, now);
    const text = d.kind === 'act' ? `act:${d.attempt}` : `${d.kind}:${d.why}`;
    if (typeof want === 'string') expect(text.startsWith(want)).toBe(true);
    else expect(text).toMatch(want);
  });

  it('without a start grace, the backoff alone spaces attempt 2 from attempt 1', () => {
    const noGrace = { ...s, start_grace: 0 };
    expect(decideHeal(down, { ...fresh, attempts: 1, lastEndedAt: T - 9_999 }, noGrace, [T - 20_000], T)).toMatchObject({ kind: 'wait', until: T + 1, why: 'backoff before attempt 2 of 3' });
    expect(decideHeal(down, { ...fresh, attempts: 1, lastEndedAt: T - 10_000 }, noGrace, [T - 20_000], T)).toMatchObject({ kind: 'act', attempt: 2 });
  });
});

describe('serviceTrigger', () => {
  const base: ServiceLook = { containerFiring: true, httpFiring: false, httpAnswered: true, unhealthyRule: true, memory: { enabled: true, threshold: 95 } };
  it.each<[string, Partial<ServiceLook>, string | undefined]>([
    ['exited container, policy no', { container: { state: 'exited', health: 'none', restartPolicy: 'no' } }, 'down/container'],
    ['running and unhealthy', { container: { state: 'running', health: 'unhealthy', restartPolicy: 'no' } }, 'unhealthy/container'],
    ['running and unhealthy, the rule off', { container: { state: 'running', health: 'unhealthy' }, unhealthyRule: false }, undefined],
    ['health check still starting', { container: { state: 'running', health: 'starting' } }, undefined],
    ['paused (someone paused it)', { container: { state: 'paused', health: 'none' } }, undefined],
    ['policy always, caught running between crashes', { container: { state: 'running', health: 'none', restartPolicy: 'always' } }, 'down/container'],
    ['alert not firing yet (failure_threshold)', { containerFiring: false, container: { state: 'exited', health: 'none' } }, undefined],
    ['HTTP no answer', { containerFiring: false, httpFiring: true, httpAnswered: false }, 'down/http'],
    ['HTTP answered 500 or slow: degraded, not down', { containerFiring: false, httpFiring: true, httpAnswered: true }, undefined],
    ['memory at 96 % of the limit', { containerFiring: false, container: { state: 'running', health: 'none' }, memPercent: 96 }, 'memory/container'],
    ['memory at 90 %', { containerFiring: false, container: { state: 'running', health: 'none' }, memPercent: 90 }, undefined],
    ['memory rule off', { containerFiring: false, container: { state: 'running', health: 'none' }, memPercent: 99, memory: { enabled: false, threshold: 95 } }, undefined],
  ])('%s', (_name, over, want) => {
    const t = serviceTrigger({ ...base, ...over });
    expect(t ? `${t.trigger}/${t.via}` : undefined).toBe(want);
  });
});
