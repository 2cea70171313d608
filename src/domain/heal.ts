// Self-healing decisions (issue #20), pure: what the healer does about one subject (a service or a
// Redis) at one moment, from what it sees, what it did before and the `heal:` settings. Times are
// injected; nothing here reads a clock or the world.

/** The `heal:` settings the decisions need (durations in ms). */
export interface HealSettings {
  attempts: number;
  backoff: { base: number; factor: number; cap: number };
  start_grace: number;
  reset_after: number;
  budget: { restarts: number; window: number };
  memory: { enabled: boolean; threshold: number; cooldown: number; host_fallback: boolean };
}

/** Why the healer would act: the DR plan's rules plus the configured ones. */
export type HealTrigger = 'down' | 'unhealthy' | 'memory' | 'redis' | 'rule';

/** What the healer saw of one subject this interval. */
export interface HealSighting {
  /** The service, Redis or rule target the state is kept under. */
  subject: string;
  /** Set when something is wrong that a rule answers. */
  trigger?: HealTrigger;
  /** The check that says so (its alert), or `memory:<service>` for the memory rule. */
  checkId?: string;
  /** The runbook that answers it. */
  runbook?: string;
  /** Words for people: what was seen. */
  seen?: string;
  /** Docker restarts this container itself (restart policy not `no`): never restarted by the healer. */
  dockerRestarts?: string;
  /** Its container's restart count now (for the crash-loop rule). */
  restartCount?: number;
  /** Why a person or a runbook has it (stopped from the console, a run holding it): left alone. */
  heldBy?: string;
}

/** What the healer remembers of one subject (the `heal_state` table). */
export interface HealState {
  subject: string;
  attempts: number;
  /** When the last healing action started and ended (ms). */
  lastStartedAt?: number;
  lastEndedAt?: number;
  /** The trigger of the last action. */
  lastTrigger?: HealTrigger;
  /** Since when it has been seen fine without a break (for the attempts' reset). */
  okSince?: number;
  /** The restart count first seen in this failure (crash-loop rule). */
  baselineRestarts?: number;
  /** Healing of this subject stopped (budget spent, attempts spent, crash loop) until an operator enables it. */
  disabledAt?: number;
  disabledReason?: string;
  /** Set while an action runs. */
  busy?: boolean;
}

/** One decision. `act`: run `runbook` now (attempt n); `escalate`: stop healing it and say so once. */
export type HealDecision =
  | { kind: 'idle'; why: string }
  | { kind: 'reset'; why: string }
  | { kind: 'leave'; why: string }
  | { kind: 'wait'; until: number; why: string }
  | { kind: 'act'; attempt: number; runbook: string; trigger: HealTrigger; why: string }
  | { kind: 'escalate'; why: string };

/** The wait before attempt `n` (n ≥ 2) after the previous one ended: base × factor^(n−2), at most cap. */
export function backoffMs(s: HealSettings['backoff'], n: number): number {
  if (n <= 1) return 0;
  return Math.min(s.cap, Math.round(s.base * s.factor ** (n - 2)));
}

/** Healing restarts of a subject within the budget's window before `now`. */
export function spentInWindow(actions: readonly number[], window: number, now: number): number {
  return actions.filter((t) => now - t < window && t <= now).length;
}

/** A service's memory use as a percent of its limit (or of the host when the fallback is on); undefined when it does not count. */
export function memoryPercent(used: number, limit: number | undefined, hostPercent: number, m: HealSettings['memory']): number | undefined {
  if (limit !== undefined && limit > 0) return (used / limit) * 100;
  return m.host_fallback ? hostPercent : undefined;
}

/**
 * What to do about one subject now. In order: disabled → idle; fine → reset after a sustained
 * recovery, else idle; a person or a runbook has it → leave; an action running → wait; Docker
 * restarts it → leave, unless its restart count grew twice in this failure (a crash loop) →
 * escalate; the memory rule's cooldown; the start grace after the last action; the budget
 * (restarts per window) → escalate; the attempts → escalate; the backoff → wait; else act.
 * `restarts`: the start times of this subject's healing actions (the budget counts them).
 */
export function decideHeal(seen: HealSighting, st: HealState, s: HealSettings, restarts: readonly number[], now: number): HealDecision {
  if (st.disabledAt !== undefined) return { kind: 'idle', why: `healing stopped: ${st.disabledReason ?? 'disabled'} (re-enable: E in the console, opsdeck heal enable ${st.subject})` };
  if (!seen.trigger || !seen.runbook) {
    if ((st.attempts > 0 || st.baselineRestarts !== undefined) && st.okSince !== undefined && now - st.okSince >= s.reset_after) return { kind: 'reset', why: `healthy for ${Math.round((now - st.okSince) / 1000)} s: attempts reset` };
    return { kind: 'idle', why: st.attempts > 0 ? `fine again; attempts reset after ${Math.round(s.reset_after / 1000)} s healthy` : 'fine' };
  }
  if (st.busy) return { kind: 'wait', until: now, why: 'a healing action is running' };
  if (seen.heldBy) return { kind: 'leave', why: seen.heldBy };
  if (seen.dockerRestarts !== undefined && seen.trigger === 'down') {
    const grew = seen.restartCount !== undefined && st.baselineRestarts !== undefined ? seen.restartCount - st.baselineRestarts : 0;
    if (grew >= 2) return { kind: 'escalate', why: `crash loop: Docker restarted it ${grew} times (restart policy ${seen.dockerRestarts}) and it is still down` };
    return { kind: 'leave', why: `Docker restarts it (restart policy ${seen.dockerRestarts}): not restarted again` };
  }
  if (seen.trigger === 'memory' && st.lastTrigger === 'memory' && st.lastStartedAt !== undefined && now - st.lastStartedAt < s.memory.cooldown) {
    return { kind: 'wait', until: st.lastStartedAt + s.memory.cooldown, why: `memory restart cooldown (${Math.round(s.memory.cooldown / 1000)} s)` };
  }
  if (st.lastEndedAt !== undefined && now < st.lastEndedAt + s.start_grace) return { kind: 'wait', until: st.lastEndedAt + s.start_grace, why: 'start grace after the last restart' };
  const spent = spentInWindow(restarts, s.budget.window, now);
  if (spent >= s.budget.restarts) return { kind: 'escalate', why: `budget spent: ${spent} restarts in ${Math.round(s.budget.window / 60_000)} min` };
  if (seen.trigger !== 'memory' && st.attempts >= s.attempts) return { kind: 'escalate', why: `${st.attempts} attempts did not bring it back` };
  const attempt = seen.trigger === 'memory' ? 1 : st.attempts + 1;
  const wait = backoffMs(s.backoff, attempt);
  if (st.lastEndedAt !== undefined && seen.trigger !== 'memory' && now < st.lastEndedAt + wait) return { kind: 'wait', until: st.lastEndedAt + wait, why: `backoff before attempt ${attempt} of ${s.attempts}` };
  return { kind: 'act', attempt, runbook: seen.runbook, trigger: seen.trigger, why: seen.seen ?? seen.trigger };
}

/** What the healer reads of a service this interval (its alerts, its container inspected now, its memory). */
export interface ServiceLook {
  /** `container:<service>` fires. */
  containerFiring: boolean;
  /** `http:<service>` fires, and whether its probe got an answer (slow or an error status: degraded, not down). */
  httpFiring: boolean;
  httpAnswered: boolean;
  container?: { state: string; health: string; restartPolicy?: string | undefined } | undefined;
  /** Memory in percent of the limit (or of the host, with the fallback); undefined when it does not count. */
  memPercent?: number | undefined;
  unhealthyRule: boolean;
  memory: { enabled: boolean; threshold: number };
}

/**
 * What is wrong with a service, if anything, and which check says so. Its alert firing
 * (failure_threshold checks in a row) says when; what is wrong is read from the container: not
 * running (exited, dead, created, restarting) is down, running but unhealthy is its HEALTHCHECK; a
 * paused one, or one still starting, is nobody's to restart. A container Docker restarts (policy not
 * `no`) caught running between two crashes is still down (the crash-loop rule decides). An HTTP check
 * that got no answer at all is down too. Memory at the threshold is the memory rule, alert or not.
 */
export function serviceTrigger(l: ServiceLook): { trigger: HealTrigger; via: 'container' | 'http' } | undefined {
  const c = l.container;
  if (c && l.containerFiring) {
    const dockerRestarts = c.restartPolicy !== undefined && c.restartPolicy !== 'no';
    if (c.state === 'running' && c.health === 'unhealthy') {
      if (l.unhealthyRule) return { trigger: 'unhealthy', via: 'container' };
    } else if (dockerRestarts && c.state !== 'paused') return { trigger: 'down', via: 'container' };
    else if (c.state !== 'running' && c.state !== 'paused' && c.state !== 'removing') return { trigger: 'down', via: 'container' };
  }
  if (l.httpFiring && !l.httpAnswered) return { trigger: 'down', via: 'http' };
  if (c?.state === 'running' && l.memory.enabled && l.memPercent !== undefined && l.memPercent >= l.memory.threshold) return { trigger: 'memory', via: 'container' };
  return undefined;
}

/** The check id of a subject's escalation alert. */
export const healCheckId = (subject: string): string => `heal:${subject}`;
