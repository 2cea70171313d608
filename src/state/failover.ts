import type BetterSqlite3 from 'better-sqlite3';
import { hostname } from 'node:os';
import type { FailoverPair } from '../config/schema-failover.js';
import type { Config, ServiceConfig } from '../config/schema.js';
import { redactSecrets } from '../config/secrets.js';
import type { CheckResult, CheckStatus } from '../domain/check.js';
import { decideFailover, decideLoad, failoverCheckId, type PairMemory, type Side } from '../domain/failover.js';
import { runArgv, showArgv } from '../engine/actions.js';
import type { EventBus } from '../engine/events.js';
import { actOnSide, probeSide, waitSideHealthy } from '../services/failover-side.js';
import { HealStore } from './heal-store.js';
import { HEAL_LEASE, type HealAct } from './healer.js';
import { readLease } from './lease.js';
import { setStandby } from './standby.js';
import type { Source } from './sources.js';
import type { AppStore } from './store.js';

// Failover (issue #21): the DR plan's ServiceFailoverManager and the load rule. Both act only in
// the process holding the `healer` lease (a watch before a console, issue #20), so one process
// switches; every monitor shows each pair's `failover:<pair>` result, read from failover_state.
// Each pair is its own monitor source, probed every `check_every` (not the global interval).
// Every decision is audited (the incident timeline reads the audit log) and told on the bus.

/** A pair's row in failover_state. */
export interface PairRow extends PairMemory {
  pair: string;
  status: CheckStatus;
  message?: string;
  updatedAt: number;
}

interface Row {
  pair: string;
  active: Side;
  fails: number;
  switched_at: number | null;
  status: CheckStatus;
  message: string | null;
  updated_at: number;
}

/** failover_state. */
export class FailoverStore {
  constructor(private readonly db: BetterSqlite3.Database) {}

  /** A pair's row (primary active when never seen). */
  get(pair: string): PairRow {
    const r = this.db.prepare('SELECT * FROM failover_state WHERE pair = ?').get(pair) as Row | undefined;
    if (!r) return { pair, active: 'primary', fails: 0, status: 'ok', updatedAt: 0 };
    return { pair, active: r.active, fails: r.fails, ...(r.switched_at !== null ? { switchedAt: r.switched_at } : {}), status: r.status, ...(r.message !== null ? { message: r.message } : {}), updatedAt: r.updated_at };
  }

  put(r: PairRow): void {
    this.db
      .prepare(
        `INSERT INTO failover_state (pair, active, fails, switched_at, status, message, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(pair) DO UPDATE SET active = excluded.active, fails = excluded.fails, switched_at = excluded.switched_at, status = excluded.status, message = excluded.message, updated_at = excluded.updated_at`,
      )
      .run(r.pair, r.active, r.fails, r.switchedAt ?? null, r.status, r.message === undefined ? null : redactSecrets(r.message), r.updatedAt);
  }
}

/** The services of a pair's sides. */
export function sidesOf(c: Config, p: FailoverPair): Record<Side, ServiceConfig> {
  const find = (n: string) => {
    const s = c.services.find((x) => x.name === n);
    if (!s) throw new Error(`failover.pairs.${p.name}: service ${n} is not in services`);
    return s;
  };
  return { primary: find(p.primary), backup: find(p.backup) };
}

/** The services that belong to a failover pair (the failover manager's, not the healer's). */
export const pairMembers = (c: Config): Set<string> => new Set(c.failover.pairs.flatMap((p) => [p.primary, p.backup]));

/** What the failover manager did, for `watch`'s lines. */
export interface FailoverEvent {
  at: number;
  pair: string;
  action: 'probe-failed' | 'switched' | 'refused' | 'held' | 'load' | 'error';
  detail: string;
  fails?: number;
  active?: Side;
}

/** Options of the failover manager. */
export interface FailoverOptions {
  bus: EventBus;
  stateDb: BetterSqlite3.Database;
  owner: 'watch' | 'console';
  config: () => Config;
  store: AppStore;
  /** How the load rule runs its runbook (src/cli/heal.ts `healAct`: unattended, the heal budget). */
  act: HealAct;
  readOnly?: boolean;
  now?: () => number;
  onEvent?: (e: FailoverEvent) => void;
}

const iso = (t: number) => new Date(t).toISOString();
/** The failback command a person runs (the check's message names it). */
export const failbackHint = (p: FailoverPair) => `failback: opsdeck runbook run failback --target ${p.primary}`;

/** The failover manager: one monitor source per pair, one for the load rule. */
export function createFailover(o: FailoverOptions): { sources: () => Source[]; stop: () => void } {
  const now = o.now ?? Date.now;
  const store = new FailoverStore(o.stateDb);
  const heal = new HealStore(o.stateDb);
  const actor = `failover (${o.owner} pid ${process.pid})`;
  const abort = new AbortController();
  const emit = (e: FailoverEvent) => o.onEvent?.({ ...e, detail: redactSecrets(e.detail) });
  const audit = (action: string, target: string, outcome: 'ok' | 'failed', detail: string, at: number) =>
    o.stateDb.prepare('INSERT INTO audit (at, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)').run(at, actor, action, redactSecrets(target), outcome, redactSecrets(detail));
  /** Whether this process holds the healer lease (failover and the load rule act only there). */
  const holds = (at: number): boolean => {
    if (o.readOnly) return false;
    const l = readLease(o.stateDb, HEAL_LEASE);
    return !!l && l.pid === process.pid && l.host === hostname() && l.expiresAt > at;
  };

  const resultOf = (p: FailoverPair): CheckResult => {
    const r = store.get(p.name);
    setStandby(p.name, r.active === 'primary' ? p.backup : p.primary);
    const side = r.active === 'primary' ? p.primary : p.backup;
    const message = r.message ?? `primary ${p.primary} active`;
    return { id: failoverCheckId(p.name), kind: 'failover', target: p.name, status: r.status, value: side, message, ...(r.status === 'critical' ? { critical: true } : {}) };
  };

  /** Starts `to`, waits until healthy, stops the failing side, runs the switch step. Never to an unhealthy side. */
  const doSwitch = async (c: Config, p: FailoverPair, m: PairRow, to: Side, fails: number, seen: string, at: number): Promise<void> => {
    const sides = sidesOf(c, p);
    const from = m.active;
    const host = c.docker.host;
    const why = `${from} ${sides[from].name} failed ${fails} probes in a row (${seen})`;
    audit('failover.start', sides[to].name, 'ok', `pair ${p.name}: starting ${to} ${sides[to].name}: ${why}`, at);
    const before = await probeSide(sides[to], host);
    let started = false;
    let healthy = before;
    try {
      if (!before.ok) {
        await actOnSide(sides[to], 'start', host);
        started = true;
        healthy = await waitSideHealthy(sides[to], host, p.healthy_within, abort.signal);
      }
    } catch (e) {
      healthy = { ok: false, detail: (e as Error).message };
    }
    if (!healthy.ok) {
      // Never to an unhealthy side: the one we started is stopped again (as it was).
      let back = '';
      if (started) back = await actOnSide(sides[to], 'stop', host).then((t) => `; ${t} again`, (e: unknown) => `; stopping it again failed: ${(e as Error).message}`);
      const end = now();
      const text = `pair ${p.name}: NOT switched: ${to} ${sides[to].name} did not become healthy within ${Math.round(p.healthy_within / 1000)} s (${healthy.detail})${back}; ${from} ${sides[from].name} still failing (${seen})`;
      store.put({ ...m, fails: 0, status: 'critical', message: text, updatedAt: end });
      audit('failover.refuse', p.name, 'failed', text, end);
      emit({ at: end, pair: p.name, action: 'refused', detail: text, fails });
      o.bus.emit({ type: 'failover.acted', at: end, pair: p.name, action: 'refused', active: from, detail: redactSecrets(text) });
      return;
    }
    const notes = [before.ok ? `${sides[to].name} already healthy` : healthy.detail];
    try {
      notes.push(await actOnSide(sides[from], 'stop', host));
      audit('failover.stop', sides[from].name, 'ok', `pair ${p.name}: stopped ${from} ${sides[from].name} (failed over to ${sides[to].name})`, now());
    } catch (e) {
      notes.push(`stopping ${sides[from].name} failed: ${(e as Error).message}`);
    }
    let stepFailed: string | undefined;
    if (p.switch) {
      try {
        const out = await runArgv(p.switch, p.switch_timeout, abort.signal);
        notes.push(`switch step ${showArgv(p.switch)}: ${out}`);
      } catch (e) {
        stepFailed = `switch step ${showArgv(p.switch)} failed: ${(e as Error).message}`;
        notes.push(stepFailed);
      }
    }
    const end = now();
    const head = to === 'backup' ? `failed over at ${iso(end)}: backup ${sides.backup.name} active since then (${why})` : `switched back at ${iso(end)}: primary ${sides.primary.name} active (${why})`;
    const message = `${head}${stepFailed ? `; ${stepFailed}` : ''}${to === 'backup' ? `; ${failbackHint(p)}` : ''}`;
    store.put({ pair: p.name, active: to, fails: 0, switchedAt: end, status: stepFailed ? 'critical' : to === 'backup' ? 'warning' : 'ok', message, updatedAt: end });
    audit('failover.switch', p.name, stepFailed ? 'failed' : 'ok', `${head}: ${notes.join('; ')}`, end);
    emit({ at: end, pair: p.name, action: 'switched', detail: `${head}: ${notes.join('; ')}`, fails, active: to });
    o.bus.emit({ type: 'failover.acted', at: end, pair: p.name, action: 'switched', active: to, detail: redactSecrets(message) });
  };

  const look = async (p: FailoverPair): Promise<void> => {
    const c = o.config();
    const at = now();
    const m = store.get(p.name);
    const sides = sidesOf(c, p);
    const probe = await probeSide(sides[m.active], c.docker.host);
    const d = decideFailover(m, probe.ok, { failures: p.failures, holdDownMs: p.hold_down }, at);
    const calm: CheckStatus = m.active === 'primary' ? 'ok' : 'warning';
    switch (d.kind) {
      case 'ok': {
        const message = m.active === 'primary' ? `primary ${sides.primary.name} active and healthy` : (m.message?.startsWith('failed over') ? m.message : `backup ${sides.backup.name} active since ${iso(m.switchedAt ?? at)}; ${failbackHint(p)}`);
        if (m.fails !== 0 || m.status !== calm || m.message !== message || m.updatedAt === 0) store.put({ ...m, fails: 0, status: calm, message, updatedAt: at });
        return;
      }
      case 'failing': {
        store.put({ ...m, fails: d.fails, status: m.status === 'critical' ? 'critical' : calm, message: `${m.active} ${sides[m.active].name} failed ${d.fails} of ${p.failures} probes in a row: ${probe.detail}`, updatedAt: at });
        emit({ at, pair: p.name, action: 'probe-failed', detail: probe.detail, fails: d.fails });
        return;
      }
      case 'held': {
        const text = `pair ${p.name}: ${m.active} ${sides[m.active].name} failed ${d.fails} probes in a row (${probe.detail}); NOT switched: hold-down after the switch at ${iso(m.switchedAt ?? at)} until ${iso(d.until)}`;
        store.put({ ...m, fails: d.fails, status: 'critical', message: text, updatedAt: at });
        emit({ at, pair: p.name, action: 'probe-failed', detail: probe.detail, fails: d.fails });
        if (d.fails === p.failures) {
          audit('failover.hold', p.name, 'ok', text, at);
          emit({ at, pair: p.name, action: 'held', detail: text, fails: d.fails });
          o.bus.emit({ type: 'failover.acted', at, pair: p.name, action: 'held', active: m.active, detail: redactSecrets(text) });
        }
        return;
      }
      case 'switch':
        emit({ at, pair: p.name, action: 'probe-failed', detail: probe.detail, fails: d.fails });
        await doSwitch(c, p, m, d.to, d.fails, probe.detail, at);
        return;
    }
  };

  const pairSource = (p: FailoverPair): Source => ({
    id: `failover:${p.name}`,
    refreshMs: p.check_every,
    checkMs: p.check_every,
    run: async () => {
      const at = now();
      try {
        if (holds(at) && !abort.signal.aborted) await look(p);
      } catch (e) {
        emit({ at, pair: p.name, action: 'error', detail: `failover ${p.name}: ${(e as Error).message}` });
      }
      return [resultOf(p)];
    },
  });

  // The load rule: since when host CPU is above the threshold lives in this process (a new lease
  // holder starts counting again); its runs are healing actions of the subject `load` (budget, H pane).
  let aboveSince: number | undefined;
  let running = false;
  const loadSource = (): Source => ({
    id: 'rules:load',
    refreshMs: o.config().interval,
    checkMs: o.config().interval,
    run: async () => {
      const at = now();
      const c = o.config();
      const rule = c.failover.load;
      if (!rule || !holds(at) || running || abort.signal.aborted) return [];
      const runs = heal.restartsSince('load', 0);
      const last = runs.at(-1);
      const spent = runs.filter((t) => t >= at - c.heal.budget.window).length;
      const cpu = o.store.getState().host.data?.cpuPercent;
      const d = decideLoad({ ...(aboveSince !== undefined ? { aboveSince } : {}), ...(last !== undefined ? { lastRunAt: last } : {}) }, cpu, { cpu: rule.cpu, forMs: rule.for, cooldownMs: rule.cooldown, limit: c.heal.budget.restarts, windowMs: c.heal.budget.window }, spent, at);
      aboveSince = d.kind === 'idle' ? undefined : d.aboveSince;
      if (d.kind !== 'run') return [];
      running = true;
      const id = heal.record({ subject: 'load', at, kind: 'restart', trigger: 'rule', runbook: rule.runbook, attempt: spent + 1, outcome: 'running', detail: d.why, actor });
      const text = `${rule.runbook}${rule.target ? ` for ${rule.target}` : ''}: ${d.why}`;
      audit('failover.load', rule.target ?? 'host', 'ok', `started ${text}`, at);
      emit({ at, pair: '-', action: 'load', detail: `started ${text}` });
      o.bus.emit({ type: 'failover.acted', at, pair: '-', action: 'load', detail: redactSecrets(`started ${text}`) });
      try {
        const r = await o.act({ subject: 'load', trigger: 'rule', runbook: rule.runbook, target: rule.target ? { kind: 'service', name: rule.target } : { kind: 'none', name: '' }, checkId: 'host:cpu', attempt: spent + 1, why: d.why }, abort.signal);
        const end = now();
        heal.finish(id, end, r.ok ? 'ok' : 'failed', r.detail, r.runId);
        audit('failover.load', rule.target ?? 'host', r.ok ? 'ok' : 'failed', `${rule.runbook} ${r.ok ? 'done' : 'failed'}${r.runId ? ` (run ${r.runId})` : ''}: ${r.detail}`, end);
        emit({ at: end, pair: '-', action: 'load', detail: `${rule.runbook} ${r.ok ? 'done' : 'failed'}: ${r.detail}` });
      } finally {
        running = false;
      }
      return [];
    },
  });

  return {
    sources: () => {
      for (const p of o.config().failover.pairs) setStandby(p.name, store.get(p.name).active === 'primary' ? p.backup : p.primary);
      return [...o.config().failover.pairs.map(pairSource), ...(o.config().failover.load ? [loadSource()] : [])];
    },
    stop: () => abort.abort(),
  };
}
