// Failover (issue #21): the pure decisions of the DR plan's ServiceFailoverManager and of the load
// rule. Times are injected; nothing here reads a clock or the world.

/** Which side of a pair serves. */
export type Side = 'primary' | 'backup';

export const otherSide = (s: Side): Side => (s === 'primary' ? 'backup' : 'primary');

/** What is remembered of a pair between probes (and across restarts, in failover_state). */
export interface PairMemory {
  active: Side;
  /** Failed probes of the active side in a row. */
  fails: number;
  /** When the last switch was made (the hold-down counts from it). */
  switchedAt?: number;
}

/** The pair's settings the decision needs. */
export interface PairRules {
  failures: number;
  holdDownMs: number;
}

/** What to do after one probe of the active side. */
export type FailoverDecision =
  /** The active side is healthy: its failure count starts from 0. */
  | { kind: 'ok'; fails: 0 }
  /** It failed, fewer than `failures` times in a row: wait for the next probe. */
  | { kind: 'failing'; fails: number }
  /** It failed `failures` times in a row, but a switch was made less than hold_down ago: no switch (never flaps). */
  | { kind: 'held'; fails: number; until: number }
  /** Switch to the other side (if it becomes healthy: the caller never switches to an unhealthy side). */
  | { kind: 'switch'; fails: number; to: Side };

/** One probe's outcome of the active side → the decision. */
export function decideFailover(m: PairMemory, activeHealthy: boolean, r: PairRules, now: number): FailoverDecision {
  if (activeHealthy) return { kind: 'ok', fails: 0 };
  const fails = m.fails + 1;
  if (fails < r.failures) return { kind: 'failing', fails };
  if (m.switchedAt !== undefined && now - m.switchedAt < r.holdDownMs) return { kind: 'held', fails, until: m.switchedAt + r.holdDownMs };
  return { kind: 'switch', fails, to: otherSide(m.active) };
}

/** The load rule's memory: since when CPU is above the threshold, and the last run. */
export interface LoadMemory {
  aboveSince?: number;
  lastRunAt?: number;
}

export type LoadDecision =
  | { kind: 'idle'; aboveSince?: number; why: string }
  | { kind: 'wait'; aboveSince: number; why: string }
  | { kind: 'run'; aboveSince: number; why: string };

/** One CPU sample → run the load runbook, wait, or nothing. `spent`: runs in the budget window; `limit`: the budget. */
export function decideLoad(m: LoadMemory, cpu: number | undefined, r: { cpu: number; forMs: number; cooldownMs: number; limit: number; windowMs: number }, spent: number, now: number): LoadDecision {
  if (cpu === undefined) return { kind: 'idle', ...(m.aboveSince !== undefined ? { aboveSince: m.aboveSince } : {}), why: 'no CPU figure yet' };
  if (cpu <= r.cpu) return { kind: 'idle', why: `CPU ${cpu.toFixed(0)} % (threshold ${r.cpu} %)` };
  const since = m.aboveSince ?? now;
  const held = now - since;
  if (held < r.forMs) return { kind: 'wait', aboveSince: since, why: `CPU above ${r.cpu} % for ${Math.round(held / 1000)} s of ${Math.round(r.forMs / 1000)} s` };
  if (m.lastRunAt !== undefined && now - m.lastRunAt < r.cooldownMs) return { kind: 'wait', aboveSince: since, why: `cooldown: ran at ${new Date(m.lastRunAt).toISOString()}, next no sooner than ${new Date(m.lastRunAt + r.cooldownMs).toISOString()}` };
  if (spent >= r.limit) return { kind: 'wait', aboveSince: since, why: `budget spent: ${spent} runs in ${Math.round(r.windowMs / 60_000)} min` };
  return { kind: 'run', aboveSince: since, why: `CPU above ${r.cpu} % for ${Math.round(held / 1000)} s (now ${cpu.toFixed(0)} %)` };
}

export const failoverCheckId = (pair: string): string => `failover:${pair}`;
