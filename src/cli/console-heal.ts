import type BetterSqlite3 from 'better-sqlite3';
import type { LoadedConfig } from '../config/load.js';
import { describeHolder } from '../domain/lease.js';
import type { EventBus } from '../engine/events.js';
import { actor, recordAudit } from '../state/acks.js';
import { HealStore } from '../state/heal-store.js';
import { createHealer, HEAL_LEASE } from '../state/healer.js';
import { createFailover, FailoverStore } from '../state/failover.js';
import type { Config } from '../config/schema.js';
import { pidAlive, readLease } from '../state/lease.js';
import type { Source } from '../state/sources.js';
import type { AppStore } from '../state/store.js';
import type { HealView } from '../ui/dialogs/HealingDialog.js';
import { healAct, healInspect } from './heal.js';

// Self-healing in the console (issue #20): the healer runs here only while no `watch` holds the
// `healer` lease (a watch takes it from a console: src/domain/lease.ts); the H pane and E.

const hhmmss = (t: number) => `${new Date(t).toISOString().slice(11, 19)}Z`;

/** The console's healer, its pane's contents and E. */
export function consoleHeal(o: { db: BetterSqlite3.Database; bus: EventBus; store: AppStore; readOnly: boolean; loaded: () => LoadedConfig; warm?: (make: () => void) => void }): {
  source: () => Source;
  /** The failover pairs' sources and the load rule's (issue #21). */
  failoverSources: () => Source[];
  stop: () => Promise<void>;
  actions: { healing: () => HealView; enableHeal: (subject: string) => { ok: boolean; text: string } };
} {
  // Nothing a run says may reach the screen (it would corrupt the frame): the pane reads the state database.
  // One act for the healer and failover, made (its runbook catalog read and checked: ~190 ms of a
  // loaded 2-core start, issue #27) when `o.warm` says (the console: once the first data is drawn),
  // or by a first action if sooner; at once without `warm`.
  let made: ReturnType<typeof healAct> | undefined;
  const actNow = () => (made ??= healAct(o.loaded, o.db, () => undefined));
  const act: ReturnType<typeof healAct> = (plan, signal) => actNow()(plan, signal);
  if (o.warm) o.warm(() => void actNow());
  else actNow();
  const healer = createHealer({ bus: o.bus, stateDb: o.db, owner: 'console', config: () => o.loaded().config, store: o.store, readOnly: o.readOnly, act, inspect: healInspect(o.loaded) });
  // Failover and the load rule (issue #21) act here too while this console holds the healer lease.
  const failover = createFailover({ bus: o.bus, stateDb: o.db, owner: 'console', config: () => o.loaded().config, store: o.store, readOnly: o.readOnly, act });
  const heal = new HealStore(o.db);
  // Failover pairs (issue #21) head the H pane: which side serves, and what the pair's check says.
  const pairs = new FailoverStore(o.db);
  const pairLines = (c: Config) =>
    c.failover.pairs.map((p) => {
      const r = pairs.get(p.name);
      const side = r.active === 'primary' ? p.primary : p.backup;
      return { subject: `failover:${p.name}`, stopped: r.status === 'critical', text: `${r.active.toUpperCase()} ${side} active${r.switchedAt !== undefined ? ` since ${hhmmss(r.switchedAt)}` : ''}; ${r.message ?? `probed every ${p.check_every / 1000} s`}` };
    });
  const healing = (): HealView => {
    const c = o.loaded().config;
    const now = Date.now();
    const lease = readLease(o.db, HEAL_LEASE);
    const live = lease && lease.expiresAt > now && pidAlive(lease.pid) ? lease : undefined;
    const holder = live ? (live.pid === process.pid ? `this console since ${hhmmss(live.acquiredAt)}` : `${describeHolder(live)} since ${hhmmss(live.acquiredAt)}`) : 'nobody';
    const on = c.heal.enabled && !o.readOnly;
    return {
      on,
      ...(on ? {} : { why: c.heal.enabled ? '--read-only' : 'heal.enabled: false' }),
      holder,
      subjects: [...pairLines(c), ...heal.all().map((s) => ({
        subject: s.subject,
        stopped: s.disabledAt !== undefined,
        text: s.disabledAt !== undefined
          ? `STOPPED at ${hhmmss(s.disabledAt)}: ${s.disabledReason ?? ''}`
          : `next: ${s.nextWhat ?? 'watching'}${s.nextAt !== undefined && s.nextAt > now ? ` at ${hhmmss(s.nextAt)}` : ''}; attempts ${s.attempts}${s.lastStartedAt !== undefined ? `, last ${s.lastTrigger ?? ''} restart ${hhmmss(s.lastStartedAt)}` : ''}`,
      }))],
      recent: heal.recent(30).map((a) => ({
        at: a.at,
        failed: a.outcome === 'failed',
        text: `${a.subject === '-' ? '' : `${a.subject} `}${a.kind}${a.runbook ? ` ${a.runbook}` : ''}${a.attempt !== undefined && a.kind === 'restart' ? ` #${a.attempt}` : ''}${a.outcome && a.kind === 'restart' ? ` ${a.outcome}${a.endedAt !== undefined ? ` at ${hhmmss(a.endedAt)}` : ''}` : ''}: ${a.detail ?? ''}`,
      })),
    };
  };
  const enableHeal = (subject: string): { ok: boolean; text: string } => {
    if (o.readOnly) {
      recordAudit(o.db, { action: 'heal.enable', target: subject, outcome: 'refused', detail: 'read-only mode' });
      return { ok: false, text: `enable healing of ${subject}: refused — opsdeck runs in --read-only mode` };
    }
    if (!heal.enable(subject, actor(), Date.now())) return { ok: false, text: `healing of ${subject} is not stopped` };
    recordAudit(o.db, { action: 'heal.enable', target: subject, outcome: 'ok', detail: `healing of ${subject} enabled again from the console` });
    return { ok: true, text: `healing of ${subject} enabled again: attempts from 0, its budget counts from now` };
  };
  return { source: healer.source, failoverSources: failover.sources, stop: () => (failover.stop(), healer.stop()), actions: { healing, enableHeal } };
}
