import { watchFile, unwatchFile } from 'node:fs';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { reloadConfig } from '../config/reload.js';
import { retiredChecks } from '../domain/retired.js';
import { describeHolder } from '../domain/lease.js';
import { backupSchedulerSource, SCHEDULER_LEASE, type SchedulerEvent } from '../state/backup-scheduler.js';
import { EventBus, type EngineEventOf } from '../engine/events.js';
import { incidentRulesRunner, INCIDENT_LEASE, type IncidentRuleEvent } from '../state/incident-rules.js';
import { notifierRunner } from '../state/notifier.js';
import { onNotify } from './watch-notify.js';
import { createHealer, HEAL_LEASE, type HealerEvent } from '../state/healer.js';
import { createFailover, type FailoverEvent } from '../state/failover.js';
import { Monitor } from '../state/monitor.js';
import { healAct, healInspect } from './heal.js';
import { buildSources } from '../state/sources.js';
import { maintenanceSources, type MaintenanceEvent } from '../state/maintenance.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { createAppStore } from '../state/store.js';
import { err, errorDoc, out, outJsonLine, useSecrets, type GlobalOptions } from './output.js';
import { startMetrics } from './watch-metrics.js';

/**
 * `opsdeck watch`: the monitor loop without a screen, for a service manager or a second terminal.
 * Prints one line per alert transition (fired / resolved); `--json` prints one JSON object per
 * line, always — reload errors and the final `stopped` too — secrets redacted (issue #12). Alert history goes to the state database like the console's. Reloads the configuration
 * when its file changes. Runs the scheduled backups while it holds the `backup-scheduler` lease
 * (a watch takes it from a console; printed as BACKUP and LEASE lines). Runs until SIGINT/SIGTERM.
 */
export async function watchCommand(g: GlobalOptions, opts: { metricsAddr?: string } = {}): Promise<number> {
  // Heard from the start: a SIGTERM while the first cycle runs (a service manager stopping a watch it
  // has just started) ends it as cleanly as a later one, instead of Node's default — death by the
  // signal, the leases left to be taken over as holder-dead.
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  let loaded: LoadedConfig = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const db = await openStateDb(stateDir(loaded.config.state_dir));
  const onAlert = (e: EngineEventOf<'alert.fired' | 'alert.resolved'>) => {
    const transition = e.type === 'alert.fired' ? 'fired' : 'resolved';
    // An alert taken up from the history (it fired before this watch started: Monitor.takeUp) says since when.
    const since = e.type === 'alert.fired' && e.alert.firedAt !== undefined && e.alert.firedAt < e.at ? new Date(e.alert.firedAt).toISOString() : undefined;
    if (g.json) {
      outJsonLine({ at: new Date(e.at).toISOString(), event: transition, check: e.alert.checkId, status: e.alert.status, message: e.alert.message, ...(since ? { firingSince: since } : {}) });
    } else {
      out(`${new Date(e.at).toISOString()} ${transition.toUpperCase().padEnd(8)} ${e.alert.checkId} ${e.alert.status.toUpperCase()}: ${e.alert.message}${since ? ` (firing since ${since}, before this watch started)` : ''}`);
    }
  };
  // One bus across reloads, as the store: later listeners (notifications, issue #14) subscribe once.
  const bus = new EventBus({ onListenerError: (e, ev) => err(`opsdeck: a listener of ${ev.type} failed: ${e instanceof Error ? e.message : String(e)}`) });
  bus.subscribe('alert.fired', onAlert);
  bus.subscribe('alert.resolved', onAlert);
  // One store across reloads: alert state (and so resolutions) survives a configuration change.
  const store = createAppStore();
  // The Prometheus endpoint (issue #25): bound before anything runs, so a port in use ends watch at once.
  const metrics = await startMetrics(g, { flag: opts.metricsAddr, loaded, store, bus, db, config: () => loaded.config });
  const onScheduler = (e: SchedulerEvent) => {
    const at = new Date(e.at).toISOString();
    if (g.json) {
      const doc = e.kind === 'backup'
        ? { at, event: 'backup', database: e.database, outcome: e.outcome, ...(e.backupId ? { backup: e.backupId } : {}), message: e.message }
        : e.kind === 'lease-taken'
          ? { at, event: 'lease-taken', lease: SCHEDULER_LEASE, reason: e.reason }
          : { at, event: 'lease-lost', lease: SCHEDULER_LEASE, ...(e.holder ? { holder: describeHolder(e.holder) } : {}), ...(e.error ? { error: e.error } : {}) };
      outJsonLine(doc);
    } else if (e.kind === 'backup') {
      out(`${at} BACKUP   ${e.database} ${e.outcome === 'failed' ? 'FAILED: ' : ''}${e.message}`);
    } else if (e.kind === 'lease-taken') {
      out(`${at} LEASE    ${SCHEDULER_LEASE} taken (${e.reason}): this watch runs the scheduled backups`);
    } else {
      out(`${at} LEASE    ${SCHEDULER_LEASE} lost${e.holder ? ` to ${describeHolder(e.holder)}` : ''}${e.error ? `: ${e.error}` : ''}`);
    }
  };
  // The incident rules (issue #18) run in whichever monitor holds their lease; never in --read-only.
  const rules = g.readOnly ? undefined : incidentRulesRunner({ bus, stateDb: db, owner: 'watch', config: () => loaded.config, onEvent: (e) => onIncident(g, e) });
  // Notifications (issue #19) go out from whichever monitor holds the `notifier` lease; never in --read-only.
  const notifier = g.readOnly ? undefined : notifierRunner({ bus, stateDb: db, owner: 'watch', config: () => loaded.config, onEvent: (e) => onNotify(g, e) });
  // Self-healing (issue #20) in whichever monitor holds the `healer` lease (a watch before a console); never in --read-only.
  const healer = createHealer({
    bus, stateDb: db, owner: 'watch', config: () => loaded.config, store, readOnly: !!g.readOnly,
    act: healAct(() => loaded, db, (t) => (g.json ? undefined : out(`${new Date().toISOString()} HEAL     ${t}`))),
    inspect: healInspect(() => loaded), onEvent: (e) => onHeal(g, e),
  });
  // Failover and the load rule (issue #21) act in the same process as the healer (its lease).
  const failover = createFailover({
    bus, stateDb: db, owner: 'watch', config: () => loaded.config, store, readOnly: !!g.readOnly,
    act: healAct(() => loaded, db, (t) => (g.json ? undefined : out(`${new Date().toISOString()} LOAD     ${t}`))), onEvent: (e) => onFailover(g, e),
  });
  const start = (l: LoadedConfig, retired: readonly string[] = []) => {
    // Scheduled backups (issue #10) run in whichever monitor holds the lease; never in --read-only.
    const scheduler = !g.readOnly && l.file ? backupSchedulerSource({ config: l.config, configFile: l.file, stateDb: db, owner: 'watch', onEvent: onScheduler }) : undefined;
    const m = new Monitor({ config: l.config, store, sources: [...buildSources(l.config, store), ...(scheduler ? [scheduler] : []), ...(rules ? [rules.source()] : []), ...(notifier ? [notifier.source()] : []), healer.source(), ...failover.sources(), ...maintenanceSources({ config: l.config, stateDb: db, owner: 'watch', readOnly: !!g.readOnly, onEvent: (e) => onMaintenance(g, e) })], stateDb: db, bus });
    m.retire(retired);
    m.start();
    return m;
  };
  if (!g.json) out(`watching ${loaded.file ?? 'the local stack (no config file)'}: every ${loaded.config.interval / 1000}s, alerts after ${loaded.config.failure_threshold} failed checks`);
  let monitor = start(loaded);
  if (loaded.file) {
    const file = loaded.file;
    watchFile(file, { interval: 1000 }, () => {
      try {
        const next = reloadConfig(file, loaded.config);
        monitor.stop();
        const retired = retiredChecks(loaded.config, next.config, Object.keys(store.getState().checks));
        loaded = next;
        useSecrets(loaded.secrets);
        monitor = start(loaded, retired);
        if (!g.json) out(`configuration reloaded from ${file}`);
        metrics?.reloaded(loaded.config);
      } catch (e) {
        // A broken edit keeps the running configuration; say why, once per change.
        if (g.json) outJsonLine({ at: new Date().toISOString(), event: 'reload-failed', ...errorDoc(e) });
        else err(`opsdeck: configuration not reloaded: ${(e as Error).message}`);
      }
    });
  }
  await stopRequested;
  if (loaded.file) unwatchFile(loaded.file);
  // A healing action under way finishes its step, or pauses journaled (a finding until resumed).
  failover.stop();
  await healer.stop();
  monitor.stop();
  await metrics?.stop();
  rules?.off();
  notifier?.off();
  db.close();
  if (g.json) {
    const at = new Date().toISOString();
    outJsonLine({ at, event: 'stopped', stopped: at });
  }
  return 0;
}

/** `watch`'s line for what the incident rules did: INCIDENT (opened, joined, re-opened, raised) and their lease. */
function onIncident(g: GlobalOptions, e: IncidentRuleEvent): void {
  const at = new Date(e.at).toISOString();
  if (e.kind === 'incident') {
    const i = e.applied.incident;
    const raised = e.applied.kind !== 'open' && e.applied.kind !== 'none' && e.applied.raise ? e.applied.raise : undefined;
    const action = e.applied.kind === 'open' ? 'opened' : e.applied.kind === 'join' ? 'joined' : 'reopened';
    if (g.json) outJsonLine({ at, event: 'incident', action, incident: i?.id, severity: i?.severity, check: 'checkId' in e.applied ? e.applied.checkId : undefined, ...(raised ? { raised } : {}) });
    else out(`${at} INCIDENT ${i?.id ?? '?'} ${action} (${i?.severity ?? '?'}${raised ? `, raised` : ''}): ${'checkId' in e.applied ? e.applied.checkId : ''}`);
  } else if (e.kind === 'mitigated') {
    if (g.json) outJsonLine({ at, event: 'incident', action: 'mitigated', incident: e.id, check: e.checkId });
    else out(`${at} INCIDENT ${e.id} mitigated: every alert of it resolved (last: ${e.checkId})`);
  } else if (e.kind === 'error') {
    if (g.json) outJsonLine({ at, event: 'incident-error', message: e.message });
    else err(`opsdeck: ${e.message}`);
  } else if (e.kind === 'lease-taken') {
    if (g.json) outJsonLine({ at, event: 'lease-taken', lease: INCIDENT_LEASE, reason: e.reason });
    else out(`${at} LEASE    ${INCIDENT_LEASE} taken (${e.reason}): this watch runs the incident rules`);
  } else if (g.json) {
    outJsonLine({ at, event: 'lease-lost', lease: INCIDENT_LEASE, ...(e.holder ? { holder: describeHolder(e.holder) } : {}), ...(e.error ? { error: e.error } : {}) });
  } else {
    out(`${at} LEASE    ${INCIDENT_LEASE} lost${e.holder ? ` to ${describeHolder(e.holder)}` : ''}${e.error ? `: ${e.error}` : ''}`);
  }
}

/** `watch`'s line for what the healer did: HEAL (started, ended, escalated, left alone) and its lease. */
function onHeal(g: GlobalOptions, e: HealerEvent): void {
  const at = new Date(e.at).toISOString();
  if (e.kind === 'heal') {
    if (g.json) outJsonLine({ at, event: 'heal', action: e.action, subject: e.subject, detail: e.detail, ...(e.outcome ? { outcome: e.outcome } : {}) });
    else out(`${at} HEAL     ${e.subject} ${e.action}${e.outcome ? ` (${e.outcome})` : ''}: ${e.detail}`);
  } else if (e.kind === 'error') {
    if (g.json) outJsonLine({ at, event: 'heal-error', message: e.message });
    else err(`opsdeck: ${e.message}`);
  } else if (e.kind === 'lease-taken') {
    if (g.json) outJsonLine({ at, event: 'lease-taken', lease: HEAL_LEASE, reason: e.reason, ...(e.from ? { from: describeHolder(e.from) } : {}) });
    else out(`${at} LEASE    ${HEAL_LEASE} taken (${e.reason}${e.from ? ` from ${describeHolder(e.from)}` : ''}): this watch heals`);
  } else if (g.json) {
    outJsonLine({ at, event: 'lease-lost', lease: HEAL_LEASE, ...(e.holder ? { holder: describeHolder(e.holder) } : {}), ...(e.error ? { error: e.error } : {}) });
  } else {
    out(`${at} LEASE    ${HEAL_LEASE} lost${e.holder ? ` to ${describeHolder(e.holder)}` : ''}${e.error ? `: ${e.error}` : ''}`);
  }
}

/** `watch`'s line for what the failover manager did (issue #21): FAILOVER (a failed probe, a switch, a refusal, a hold-down, the load rule). */
function onFailover(g: GlobalOptions, e: FailoverEvent): void {
  const at = new Date(e.at).toISOString();
  if (g.json) outJsonLine({ at, event: 'failover', action: e.action, pair: e.pair, detail: e.detail, ...(e.fails !== undefined ? { fails: e.fails } : {}), ...(e.active ? { active: e.active } : {}) });
  else if (e.action === 'error') err(`opsdeck: ${e.detail}`);
  else out(`${at} FAILOVER ${e.pair} ${e.action}${e.fails !== undefined ? ` (${e.fails})` : ''}: ${e.detail}`);
}

/** `watch`'s line for the maintenance sources (issue #23): a capacity sample taken, or an error. */
function onMaintenance(g: GlobalOptions, e: MaintenanceEvent): void {
  const at = new Date(e.at).toISOString();
  if (e.kind === 'sampled') {
    if (g.json) outJsonLine({ at, event: 'capacity-sampled', subjects: e.count, ...(e.errors.length ? { errors: e.errors } : {}) });
    else out(`${at} CAPACITY sampled ${e.count} subjects${e.errors.length ? `; not read: ${e.errors.join('; ')}` : ''}`);
  } else if (g.json) outJsonLine({ at, event: 'capacity-error', message: e.message });
  else err(`opsdeck: ${e.message}`);
}
