import type BetterSqlite3 from 'better-sqlite3';
import type { Config, ServiceConfig } from '../config/schema.js';
import { redactSecrets } from '../config/secrets.js';
import type { CheckResult } from '../domain/check.js';
import { decideHeal, healCheckId, memoryPercent, serviceTrigger, type HealDecision, type HealSighting, type HealTrigger } from '../domain/heal.js';
import { describeHolder, type LeaseOwnerKind, type LeaseRecord, type TakeReason } from '../domain/lease.js';
import type { ContainerInfo } from '../domain/observations.js';
import { httpAnswered, matchesPattern, targetOfCheck, type MappedTarget } from '../domain/runbook-map.js';
import { matchService } from '../domain/evaluate.js';
import type { EventBus } from '../engine/events.js';
import type { Result } from '../domain/result.js';
import { heldByOperator, HealStore, type HealRow } from './heal-store.js';
import { pairMembers } from './failover.js';
import { Lease, processIdentity, readLease } from './lease.js';
import type { Source } from './sources.js';
import type { AppStore } from './store.js';

// The healer (issue #20): in the one process holding the `healer` lease (a `watch` preferred over
// a console, src/domain/lease.ts), every interval it looks at each configured service and Redis,
// decides with src/domain/heal.ts and runs the answering runbook unattended (the injected `act`:
// src/cli/heal.ts drives it on the engine under a PolicyOperator with the budget). Every action is
// recorded (heal_actions), audited and told on the bus (`heal.acted`). A subject whose healing
// stopped is a CRITICAL `heal:<subject>` result in every monitor, so it alerts like any check.

/** The lease whose holder heals. */
export const HEAL_LEASE = 'healer';

/** One healing action to run. */
export interface HealPlan {
  subject: string;
  trigger: HealTrigger;
  runbook: string;
  target: MappedTarget;
  checkId: string;
  attempt: number;
  why: string;
}

/** How an action ended. */
export interface HealOutcome {
  ok: boolean;
  runId?: string;
  detail: string;
}

/** Runs a plan to its end (never throws); `signal` asks it to stop between steps (SIGTERM). */
export type HealAct = (plan: HealPlan, signal: AbortSignal) => Promise<HealOutcome>;

/** What the healer did, for `watch`'s lines. */
export type HealerEvent =
  | { kind: 'lease-taken'; at: number; reason: TakeReason; from?: LeaseRecord }
  | { kind: 'lease-lost'; at: number; holder?: LeaseRecord; error?: string }
  | { kind: 'heal'; at: number; subject: string; action: 'started' | 'ended' | 'escalated' | 'left'; detail: string; outcome?: 'ok' | 'failed' }
  | { kind: 'error'; at: number; message: string };

/** Options of the healer. */
export interface HealerOptions {
  bus: EventBus;
  stateDb: BetterSqlite3.Database;
  owner: LeaseOwnerKind;
  config: () => Config;
  store: AppStore;
  act: HealAct;
  /** A service's container by name, inspected now on the service's engine (its restart policy is read only there). */
  inspect: (name: string, service: string) => Promise<Result<ContainerInfo>>;
  /** --read-only: no lease is taken, nothing is done; escalations are still shown. */
  readOnly?: boolean;
  now?: () => number;
  onEvent?: (e: HealerEvent) => void;
}

/** The healer's handle: its monitor source, and a stop that lets a running action finish or pause journaled. */
export interface Healer {
  source: () => Source;
  /** Asks a running action to stop between steps and waits for it (at most `ms`); then gives the lease up. */
  stop: (ms?: number) => Promise<void>;
}

const firing = (store: AppStore, id: string): boolean => {
  const a = store.getState().alerts[id];
  return a?.state === 'firing';
};

/** Writes one audit entry with the healer as its actor (the incident timeline reads the audit log). */
function audit(db: BetterSqlite3.Database, actor: string, action: string, target: string, outcome: 'ok' | 'failed' | 'refused', detail: string, at: number): void {
  db.prepare('INSERT INTO audit (at, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)').run(at, actor, action, redactSecrets(target), outcome, redactSecrets(detail));
}

/** The healer. */
export function createHealer(opts: HealerOptions): Healer {
  const now = opts.now ?? Date.now;
  const heal = new HealStore(opts.stateDb);
  const me = processIdentity(opts.owner);
  const actor = `healer (${opts.owner} pid ${me.pid})`;
  const busy = new Map<string, Promise<void>>();
  const abort = new AbortController();
  let lease: Lease | undefined;
  const emit = (e: HealerEvent) => opts.onEvent?.(e);

  // A service of a failover pair (issue #21) is the failover manager's: never restarted by the healer.
  // A service on a configured host (issue #25) is read from that host's engine (its containers in
  // `hosts[name]`, its check `container:<service>@<host>`), inspected and restarted there
  // (service-recovery's actions resolve the service's engine: `dockerForService`).
  const services = (c: Config) => {
    const members = pairMembers(c);
    return c.services.filter((s) => !members.has(s.name));
  };

  /** What is wrong with a service now (src/domain/heal.ts `serviceTrigger`), with what the decision needs. */
  const sightService = async (c: Config, s: ServiceConfig): Promise<HealSighting> => {
    const st = opts.store.getState();
    const host = c.hosts.find((h) => h.services.includes(s.name));
    const data = host ? st.hosts[host.name]?.data : st.docker.data;
    const container = s.container || s.compose_service ? matchService(s, data?.containers ?? []) : undefined;
    const names = [s.name, ...(container ? [container.name] : s.container ? [s.container] : [])];
    const containerId = `container:${s.name}${host ? `@${host.name}` : ''}`;
    const httpId = `http:${s.name}`;
    const containerFiring = firing(opts.store, containerId);
    const httpFiring = firing(opts.store, httpId);
    const i = container && (containerFiring || httpFiring || c.heal.memory.enabled) ? await opts.inspect(container.name, s.name) : undefined;
    const info = i?.ok ? i.value : undefined;
    const stats = container ? data?.stats[container.id] : undefined;
    const memPct = stats ? memoryPercent(stats.memUsedBytes, stats.memLimitBytes, st.host.data?.memory.percent ?? 0, c.heal.memory) : undefined;
    const http = st.checks[httpId];
    const t = serviceTrigger({ containerFiring, httpFiring, httpAnswered: http ? httpAnswered(http) : true, container: info, memPercent: memPct, unhealthyRule: c.heal.unhealthy, memory: c.heal.memory });
    if (!t) return { subject: s.name };
    const checkId = t.via === 'http' ? httpId : containerId;
    const seen = t.trigger === 'memory' ? `memory at ${(memPct ?? 0).toFixed(0)} % of its ${stats?.memLimitBytes ? 'limit' : 'host'} (threshold ${c.heal.memory.threshold} %)` : st.alerts[checkId]?.message;
    const policy = info?.restartPolicy;
    const held = heldByOperator(opts.stateDb, 'service', names, { startedAt: info?.startedAt, checkIds: [containerId, httpId] });
    return {
      subject: s.name,
      trigger: t.trigger,
      checkId,
      runbook: 'service-recovery',
      ...(seen ? { seen } : {}),
      ...(policy && policy !== 'no' ? { dockerRestarts: policy } : {}),
      ...(info ? { restartCount: info.restartCount } : {}),
      ...(held ? { heldBy: held } : {}),
    };
  };

  const sightings = async (c: Config): Promise<{ seen: HealSighting; target: MappedTarget }[]> => {
    const out: { seen: HealSighting; target: MappedTarget }[] = [];
    const taken = new Set<string>();
    const alerts = opts.store.getState().alerts;
    const checks = opts.store.getState().checks;
    const names = { services: c.services.map((s) => s.name), endpoints: c.endpoints.map((e) => e.name), redis: c.redis.map((r) => r.name), databases: c.databases.map((d) => d.name) };
    // Any check → any runbook: the configured rules first.
    for (const rule of c.heal.rules) {
      for (const a of Object.values(alerts)) {
        if (a.state !== 'firing' || a.checkId.startsWith('heal:') || !matchesPattern(rule.check, a.checkId)) continue;
        const r = checks[a.checkId];
        const target = (r ? targetOfCheck(r, names) : undefined) ?? { kind: 'none' as const, name: '' };
        const subject = target.name || a.checkId;
        if (taken.has(subject)) continue;
        taken.add(subject);
        const kind = target.kind === 'redis' ? 'redis' : 'service';
        const held = target.name ? heldByOperator(opts.stateDb, kind, [target.name], { checkIds: kind === 'redis' ? [`redis:${target.name}`] : [`container:${target.name}`, `http:${target.name}`] }) : undefined;
        out.push({ seen: { subject, trigger: 'rule', checkId: a.checkId, runbook: rule.runbook, seen: a.message, ...(held ? { heldBy: held } : {}) }, target });
      }
    }
    for (const s of services(c)) {
      if (taken.has(s.name)) continue;
      taken.add(s.name);
      out.push({ seen: await sightService(c, s), target: { kind: 'service', name: s.name } });
    }
    for (const r of c.redis) {
      if (taken.has(r.name)) continue;
      taken.add(r.name);
      const id = `redis:${r.name}`;
      const on = c.heal.redis && firing(opts.store, id);
      const held = on ? heldByOperator(opts.stateDb, 'redis', [r.name], { checkIds: [id] }) : undefined;
      out.push({ seen: on ? { subject: r.name, trigger: 'redis', checkId: id, runbook: 'redis-recovery', seen: alerts[id]?.message ?? '', ...(held ? { heldBy: held } : {}) } : { subject: r.name }, target: { kind: 'redis', name: r.name } });
    }
    return out;
  };

  const tell = (subject: string, action: 'started' | 'ended' | 'escalated' | 'left', detail: string, at: number, extra: { checkId?: string; runbook?: string; attempt?: number; outcome?: 'ok' | 'failed' } = {}) => {
    emit({ kind: 'heal', at, subject, action, detail, ...(extra.outcome ? { outcome: extra.outcome } : {}) });
    opts.bus.emit({ type: 'heal.acted', at, subject, action, detail, ...extra });
  };

  /** Starts an action (not awaited: the lease must keep being renewed while it runs). */
  const start = (st: HealRow, d: Extract<HealDecision, { kind: 'act' }>, seen: HealSighting, target: MappedTarget, at: number) => {
    const plan: HealPlan = { subject: st.subject, trigger: d.trigger, runbook: d.runbook, target, checkId: seen.checkId ?? '', attempt: d.attempt, why: d.why };
    const c = opts.config();
    const id = heal.record({ subject: st.subject, at, kind: 'restart', trigger: d.trigger, runbook: d.runbook, attempt: d.attempt, outcome: 'running', detail: d.why, actor });
    const text = `${d.runbook} for ${st.subject} (${d.trigger}${d.trigger === 'memory' ? '' : `, attempt ${d.attempt} of ${c.heal.attempts}`}): ${d.why}`;
    heal.put({ ...st, attempts: d.trigger === 'memory' ? st.attempts : d.attempt, lastStartedAt: at, lastTrigger: d.trigger, nextWhat: `running ${d.runbook}`, updatedAt: at }, at);
    audit(opts.stateDb, actor, 'heal.restart', st.subject, 'ok', `started ${text}`, at);
    tell(st.subject, 'started', text, at, { checkId: plan.checkId, runbook: d.runbook, attempt: d.attempt });
    const p = opts
      .act(plan, abort.signal)
      .catch((e: unknown): HealOutcome => ({ ok: false, detail: (e as Error).message }))
      .then((o) => {
        const end = now();
        try {
          heal.finish(id, end, o.ok ? 'ok' : 'failed', o.detail, o.runId);
          const cur = heal.get(st.subject);
          heal.put({ ...cur, lastEndedAt: end, nextWhat: o.ok ? 'watching it' : `failed: ${o.detail}`, updatedAt: end }, end);
          audit(opts.stateDb, actor, 'heal.restart', st.subject, o.ok ? 'ok' : 'failed', `${d.runbook} ${o.ok ? 'done' : 'failed'}${o.runId ? ` (run ${o.runId})` : ''}: ${o.detail}`, end);
          tell(st.subject, 'ended', o.detail, end, { checkId: plan.checkId, runbook: d.runbook, attempt: d.attempt, outcome: o.ok ? 'ok' : 'failed' });
        } catch (e) {
          emit({ kind: 'error', at: end, message: `healer: state database: ${(e as Error).message}` });
        }
      })
      .finally(() => busy.delete(st.subject));
    busy.set(st.subject, p);
  };

  const apply = (seen: HealSighting, target: MappedTarget, at: number) => {
    // The lease may have been lost while this look ran: then another process decides.
    if (!lease?.held || abort.signal.aborted) return;
    const c = opts.config();
    const st0 = heal.get(seen.subject);
    // The restart count first seen since the last sustained recovery (Docker's restarts since then make a crash loop).
    const st: HealRow = seen.trigger && st0.baselineRestarts === undefined && seen.restartCount !== undefined ? { ...st0, baselineRestarts: seen.restartCount } : st0;
    const restarts = heal.restartsSince(seen.subject, at - c.heal.budget.window);
    const d = decideHeal(seen, { ...st, busy: busy.has(seen.subject) }, c.heal, restarts, at);
    switch (d.kind) {
      case 'idle': {
        const okSince = seen.trigger ? undefined : (st.okSince ?? at);
        const next: HealRow = { ...st, ...(okSince !== undefined ? { okSince } : {}), nextWhat: d.why, updatedAt: at };
        if (okSince === undefined) delete next.okSince;
        delete next.nextAt;
        if (st0.subject && (st0.updatedAt === 0 || st0.nextWhat !== d.why || st0.okSince !== next.okSince || st0.baselineRestarts !== next.baselineRestarts)) heal.put(next, at);
        return;
      }
      case 'reset':
        heal.put({ subject: st.subject, attempts: 0, ...(st.okSince !== undefined ? { okSince: st.okSince } : {}), nextWhat: d.why, updatedAt: at }, at);
        audit(opts.stateDb, actor, 'heal.reset', st.subject, 'ok', d.why, at);
        return;
      case 'leave': {
        const { okSince: _o, ...rest } = st;
        if (st0.nextWhat !== d.why) {
          heal.record({ subject: st.subject, at, endedAt: at, kind: 'leave', ...(seen.trigger ? { trigger: seen.trigger } : {}), outcome: 'ok', detail: d.why, actor });
          audit(opts.stateDb, actor, 'heal.leave', st.subject, 'ok', d.why, at);
          tell(st.subject, 'left', d.why, at, seen.checkId ? { checkId: seen.checkId } : {});
        }
        heal.put({ ...rest, nextWhat: d.why, updatedAt: at }, at);
        return;
      }
      case 'wait': {
        const { okSince: _o, ...rest } = st;
        heal.put({ ...rest, nextAt: d.until, nextWhat: d.why, updatedAt: at }, at);
        return;
      }
      case 'escalate': {
        const why = `healing stopped: ${d.why}; re-enable with E in the console or opsdeck heal enable ${st.subject}`;
        heal.put({ ...st, disabledAt: at, disabledReason: d.why, nextWhat: 'nothing until an operator enables healing again', updatedAt: at }, at);
        heal.record({ subject: st.subject, at, endedAt: at, kind: 'escalate', ...(seen.trigger ? { trigger: seen.trigger } : {}), outcome: 'ok', detail: d.why, actor });
        audit(opts.stateDb, actor, 'heal.escalate', st.subject, 'ok', why, at);
        tell(st.subject, 'escalated', why, at, seen.checkId ? { checkId: seen.checkId } : {});
        return;
      }
      case 'act':
        start(st, d, seen, target, at);
        return;
    }
  };

  /**
   * The `heal:<subject>` results: CRITICAL while healing of it is stopped, OK otherwise (so the alert
   * resolves once enabled). Not `critical` checks: system:health counts the services themselves.
   */
  const results = (): CheckResult[] =>
    heal.all().map((s) =>
      s.disabledAt !== undefined
        ? { id: healCheckId(s.subject), kind: 'heal', target: s.subject, status: 'critical', message: `healing stopped: ${s.disabledReason ?? ''}; E in the console or opsdeck heal enable ${s.subject}` }
        : { id: healCheckId(s.subject), kind: 'heal', target: s.subject, status: 'ok', message: s.nextWhat ?? 'healing on' },
    );

  // One look at a time: the interval's and an alert's (below) never overlap; one asked for during a
  // look runs right after it.
  let scanning: Promise<void> | undefined;
  let again = false;
  const scan = async (): Promise<void> => {
    if (scanning) {
      again = true;
      return scanning;
    }
    scanning = (async () => {
      do {
        again = false;
        for (const x of await sightings(opts.config())) apply(x.seen, x.target, now());
      } while (again);
    })().finally(() => (scanning = undefined));
    return scanning;
  };
  // An alert that fires is looked at at once, not at the healer's next interval (bench:heal:
  // detection is then failure_threshold × interval, not one interval more).
  const offFired = opts.bus.subscribe('alert.fired', (e) => {
    if (!lease?.held || !opts.config().heal.enabled || abort.signal.aborted || e.alert.checkId.startsWith('heal:')) return;
    scan().catch((err: unknown) => emit({ kind: 'error', at: now(), message: `healer: ${(err as Error).message}` }));
  });

  const source = (): Source => {
    const interval = opts.config().interval;
    if (!opts.readOnly) lease ??= new Lease(opts.stateDb, HEAL_LEASE, me, interval);
    const l = lease;
    return {
      id: 'rules:heal',
      refreshMs: interval,
      checkMs: interval,
      run: async () => {
        const at = now();
        const c = opts.config();
        try {
          if (l && c.heal.enabled && !abort.signal.aborted) {
            const before = readLease(opts.stateDb, HEAL_LEASE);
            const st = l.acquire(at);
            if (st.taken) {
              const from = before && st.taken !== 'free' ? before : undefined;
              // Recorded before it is said: whoever reads the lease-taken line finds the takeover in
              // the journal (a test reading the line first saw no record once, under a full suite's load).
              const text = from ? `took the healer lease over from ${describeHolder(from)} (${st.taken})` : undefined;
              if (text !== undefined) {
                try {
                  heal.record({ subject: '-', at, endedAt: at, kind: 'takeover', outcome: 'ok', detail: text, actor });
                  audit(opts.stateDb, actor, 'heal.takeover', '-', 'ok', text, at);
                } catch (e) {
                  emit({ kind: 'error', at, message: `healer: the takeover was not recorded: ${(e as Error).message}` });
                }
              }
              emit({ kind: 'lease-taken', at, reason: st.taken, ...(from ? { from } : {}) });
              if (text !== undefined) opts.bus.emit({ type: 'heal.acted', at, subject: '-', action: 'takeover', detail: text });
            }
            if (st.lost) emit({ kind: 'lease-lost', at, ...(st.holder ? { holder: st.holder } : {}), ...(st.error ? { error: st.error } : {}) });
            // Not awaited: a slow look (Docker answering slowly under load) must not hold up the next
            // renewal — a lease not renewed for 3 intervals passes to another watch (seen in CI).
            if (st.held) scan().catch((err: unknown) => emit({ kind: 'error', at: now(), message: `healer: ${(err as Error).message}` }));
          }
          return results();
        } catch (e) {
          emit({ kind: 'error', at, message: `healer: ${(e as Error).message}` });
          return [];
        }
      },
      close: () => {
        if (busy.size === 0) l?.release();
      },
    };
  };

  return {
    source,
    stop: async (ms = 60_000) => {
      abort.abort();
      offFired();
      const running = [...busy.values()];
      if (running.length) await Promise.race([Promise.allSettled(running), new Promise((r) => setTimeout(r, ms).unref())]);
      lease?.release();
    },
  };
}
