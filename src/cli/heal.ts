import type BetterSqlite3 from 'better-sqlite3';
import { resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { ExitError, Failure, UsageError } from '../domain/errors.js';
import { healCheckId } from '../domain/heal.js';
import { describeHolder } from '../domain/lease.js';
import type { GenericDeps } from '../engine/actions.js';
import type { ContainerInfo } from '../domain/observations.js';
import type { Result } from '../domain/result.js';
import { PolicyOperator } from '../engine/operator.js';
import type { Config } from '../config/schema.js';
import { findRunbook, loadCatalog, type Catalog } from '../runbooks/catalog.js';
import { ObservedJournal, rollbackRunbook, startRunbook, type AuditFn, type FileRunCtx, type RunbookEnv } from '../runbooks/runner.js';
import { dockerForService } from '../services/writers.js';
import type { DockerService } from '../services/docker.js';
import { actor, recordAudit } from '../state/acks.js';
import { HealStore, holdOf, type HealAction, type HealRow } from '../state/heal-store.js';
import { HEAL_LEASE, type HealAct, type HealOutcome, type HealPlan } from '../state/healer.js';
import { readLease, pidAlive } from '../state/lease.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { runChecks } from './check.js';
import { out, outJson, redact, useSecrets, type GlobalOptions } from './output.js';
import { refuseReadOnly } from './refuse.js';

// `opsdeck heal status [--json] | enable SUBJECT` (issue #20), and the healer's way of acting: a
// runbook run on the engine, unattended, under a PolicyOperator whose budget is the subject's.

/**
 * The healer's `act`: runs `plan.runbook` for its target like `opsdeck runbook run NAME --yes`, in
 * this process (journaled; the run lease `run:<id>` is this pid's). The PolicyOperator's budget is
 * the subject's restart budget, counted from heal_actions; a person-only step (redis.flush-prefix)
 * is skipped or stops the run, never answered. `signal` (SIGTERM) pauses the run between steps: it
 * stays open in the journal, a finding, never half-done and forgotten.
 */
export function healAct(loaded: () => LoadedConfig, db: BetterSqlite3.Database, say: (text: string) => void): HealAct {
  // The catalog once per configuration (a reload makes a new one), loaded now: reading and checking
  // the runbook files took 70–260 ms, on the way from the decision to the restart (bench:heal).
  const catalogs = new WeakMap<Config, Catalog>();
  const catalogOf = (c: Config): Catalog => {
    const known = catalogs.get(c);
    if (known) return known;
    const fresh = loadCatalog(c);
    catalogs.set(c, fresh);
    return fresh;
  };
  try {
    catalogOf(loaded().config);
  } catch {
    // An unsafe or broken runbook file: said when an action needs the catalog.
  }
  return async (plan: HealPlan, signal: AbortSignal): Promise<HealOutcome> => {
    const l = loaded();
    const c = l.config;
    const heal = new HealStore(db);
    try {
      const found = findRunbook(catalogOf(c), plan.runbook);
      const journal = new ObservedJournal(db, () => undefined);
      const budget = c.heal.budget;
      const op = new PolicyOperator((t) => say(`${plan.subject}: ${redact(t)}`), {
        limit: budget.restarts,
        windowMs: budget.window,
        // Earlier healing actions of this subject in the window (this one is already recorded).
        spentBefore: (at, windowMs) => Math.max(0, heal.restartsSince(plan.subject, at - windowMs).length - 1),
      });
      const audit: AuditFn = (a, target, outcome, detail) => recordAudit(db, { action: a, target, outcome, ...(detail !== undefined ? { detail } : {}) });
      const deps: GenericDeps = {
        config: c,
        stateDir: stateDir(c.state_dir),
        ...(l.file ? { configFile: l.file } : {}),
        check: async (id) => (await runChecks({ config: l.file })).report.checks.find((x) => x.id === id),
      };
      const e: RunbookEnv = { state: db, journal, op, audit, config: c, configFlag: l.file ? ` --config ${resolve(l.file)}` : '', deps, signal };
      const target = plan.target.kind === 'none' ? {} : { target: plan.target.name };
      const t0 = Date.now();
      try {
        const r = await startRunbook(e, found.spec, found.file, { ...target, check: plan.checkId, params: {} });
        return { ok: r.code === 0 || r.code === 3, runId: r.record.id, detail: r.code === 0 ? `${plan.runbook} completed` : `${plan.runbook} finished with skipped steps` };
      } catch (err) {
        const message = redact(err instanceof Error ? err.message : String(err));
        // A failed attempt left open (its step's on_failure: stop) is rolled back — the undo of what
        // ran, the service started again — and closed, so the next attempt can start. One paused by
        // SIGTERM or refused by the budget stays open for a person: journaled, a finding, not forgotten.
        const open = journal.open<FileRunCtx>(found.spec.name).find((r) => r.subject === (plan.target.name || found.spec.name) && r.startedAt >= t0);
        if (!open || signal.aborted || !(err instanceof Failure) || err.kind === 'paused' || err.kind === 'cancelled') return { ok: false, detail: message, ...(open ? { runId: open.id } : {}) };
        const back = await rollbackRunbook(e, open, found.spec).then(
          () => 'rolled back',
          (x: unknown) => `not rolled back: ${redact((x as Error).message)}`,
        );
        return { ok: false, runId: open.id, detail: `${message.split(' — ')[0] ?? message} (run ${open.id} ${back})` };
      }
    } catch (e) {
      return { ok: false, detail: redact(e instanceof Failure || e instanceof Error ? e.message : String(e)) };
    }
  };
}

/**
 * The healer's inspect: one container now, on its service's engine (a configured host's, else the
 * local one). One client per engine for as long as the configuration is the same (an ssh:// host's
 * client keeps its ssh connection: a new client per look would open one per interval).
 */
export function healInspect(c: () => LoadedConfig): (name: string, service: string) => Promise<Result<ContainerInfo>> {
  let kept: { config: Config; byHost: Map<string, DockerService> } | undefined;
  return (name, service) => {
    const config = c().config;
    if (kept?.config !== config) kept = { config, byHost: new Map() };
    const key = config.hosts.find((h) => h.services.includes(service))?.name ?? '';
    let d = kept.byHost.get(key);
    if (!d) kept.byHost.set(key, (d = dockerForService(config, service)));
    return d.inspect(name);
  };
}

const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

function subjectDoc(s: HealRow) {
  return {
    subject: s.subject,
    healing: s.disabledAt !== undefined ? 'stopped' : holdOf(s.nextWhat) ? 'held' : 'on',
    ...(s.disabledAt === undefined && holdOf(s.nextWhat) ? { heldBy: holdOf(s.nextWhat) } : {}),
    attempts: s.attempts,
    ...(s.disabledAt !== undefined ? { stoppedAt: iso(s.disabledAt), stoppedBecause: s.disabledReason } : {}),
    ...(s.lastStartedAt !== undefined ? { lastAction: iso(s.lastStartedAt), lastTrigger: s.lastTrigger } : {}),
    ...(s.nextWhat !== undefined ? { next: s.nextWhat } : {}),
    ...(s.nextAt !== undefined ? { nextAt: iso(s.nextAt) } : {}),
  };
}

function actionDoc(a: HealAction) {
  return { at: iso(a.at), subject: a.subject, kind: a.kind, ...(a.trigger ? { trigger: a.trigger } : {}), ...(a.runbook ? { runbook: a.runbook } : {}), ...(a.attempt !== undefined ? { attempt: a.attempt } : {}), ...(a.runId ? { run: a.runId } : {}), ...(a.outcome ? { outcome: a.outcome } : {}), ...(a.detail ? { detail: a.detail } : {}), ...(a.endedAt !== undefined ? { endedAt: iso(a.endedAt) } : {}), actor: a.actor };
}

/**
 * `opsdeck heal status [--json]`: whether healing is on, who heals (the `healer` lease), each
 * subject's attempts / stop / next step, the latest actions. `opsdeck heal enable SUBJECT`: an
 * operator re-enables healing of a subject it stopped (audited; refused under --read-only).
 * Exit 0; 1 when SUBJECT's healing was not stopped or --read-only refused; 64 usage; 78 config.
 */
export async function healCommand(action: string, subject: string | undefined, g: GlobalOptions): Promise<number> {
  if (action !== 'status' && action !== 'enable') throw new UsageError(`heal: unknown action ${JSON.stringify(action)} (expected status or enable)`);
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const c = loaded.config;
  const dir = stateDir(c.state_dir);
  if (action === 'enable') {
    if (!subject) throw new UsageError('heal enable SUBJECT: name the service or Redis whose healing stopped (opsdeck heal status)');
    if (g.readOnly) await refuseReadOnly(dir, 'heal.enable', subject, `heal enable ${subject}: refused: opsdeck runs in --read-only mode`);
  }
  const db = await openStateDb(dir);
  try {
    const store = new HealStore(db);
    const now = Date.now();
    if (action === 'enable') {
      const name = subject as string;
      const known = [...new Set([...c.services.map((x) => x.name), ...c.redis.map((x) => x.name), ...store.all().map((x) => x.subject)])];
      if (!known.includes(name)) throw new UsageError(`heal enable ${name}: unknown service or Redis ${JSON.stringify(name)} (known: ${known.join(', ') || 'none configured'})`);
      if (!store.enable(name, actor(), now)) throw new ExitError(1, 'not-found', `heal enable ${name}: healing of ${name} is not stopped (opsdeck heal status)`);
      recordAudit(db, { action: 'heal.enable', target: name, outcome: 'ok', detail: `healing of ${name} enabled again; ${healCheckId(name)} resolves at the next checks` }, now);
      if (g.json) outJson({ subject: name, healing: 'on' });
      else out(`healing of ${name} enabled again: attempts from 0, its budget counts from now`);
      return 0;
    }
    const holder = readLease(db, HEAL_LEASE);
    const live = holder && holder.expiresAt > now && pidAlive(holder.pid) ? holder : undefined;
    const enabled = c.heal.enabled && !g.readOnly;
    const subjects = store.all();
    const recent = store.recent(20);
    if (g.json) {
      outJson({
        enabled,
        ...(c.heal.enabled ? {} : { why: 'heal.enabled is false' }),
        healer: live ? { owner: live.owner, pid: live.pid, host: live.host, since: iso(live.acquiredAt) } : null,
        subjects: subjects.map(subjectDoc),
        recent: recent.map(actionDoc),
      });
      return 0;
    }
    out(`healing: ${enabled ? 'on' : `off (${c.heal.enabled ? '--read-only' : 'heal.enabled: false'})`}; healer: ${live ? `${describeHolder(live)} since ${iso(live.acquiredAt)}` : 'nobody (start opsdeck watch, or the console, to heal)'}`);
    out(`rules: service down → service-recovery (${c.heal.attempts} attempts, backoff ${c.heal.backoff.base / 1000} s × ${c.heal.backoff.factor}, at most ${c.heal.backoff.cap / 1000} s); memory ≥ ${c.heal.memory.threshold} % of its limit → restart (cooldown ${c.heal.memory.cooldown / 1000} s); budget ${c.heal.budget.restarts} restarts per ${c.heal.budget.window / 60_000} min per service`);
    if (!subjects.length) out('no service has needed healing yet');
    for (const s of subjects) {
      const held = s.disabledAt === undefined ? holdOf(s.nextWhat) : undefined;
      if (held) out(`${s.subject.padEnd(16)} held (${held}), attempts ${s.attempts}`);
      else out(`${s.subject.padEnd(16)} ${s.disabledAt !== undefined ? `STOPPED (${s.disabledReason ?? ''}) — opsdeck heal enable ${s.subject}` : `on, attempts ${s.attempts}`}${s.nextWhat ? `; next: ${s.nextWhat}${s.nextAt !== undefined ? ` at ${iso(s.nextAt)}` : ''}` : ''}`);
    }
    if (recent.length) out('recent:');
    // A restart's outcome is what happened to it (ok, failed); an escalation or a hold has none worth a word.
    for (const a of recent.slice(0, 10)) out(`  ${iso(a.at)} ${a.subject} ${a.kind}${a.runbook ? ` ${a.runbook}` : ''}${a.attempt !== undefined ? ` #${a.attempt}` : ''}:${a.kind === 'restart' && a.outcome ? ` ${a.outcome}` : ''} ${a.detail ?? ''}`);
    return 0;
  } finally {
    db.close();
  }
}
