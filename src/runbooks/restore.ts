// Over 300 lines, knowingly: the restore runbook's life cycle on the engine (issue #14) — how a
// run starts (which backup, which steps), resumes and rolls back, what its end means to people and
// to the exit code, and how its journaled context keeps secrets out. Its steps are in
// restore-steps.ts; the CLI (src/cli/restore.ts) only parses flags and picks the operator.

import { randomBytes } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { formatDuration } from '../config/duration.js';
import type { LoadedConfig } from '../config/load.js';
import { ConfigError, Failure, UsageError } from '../domain/errors.js';
import { planMerge, planStages, restoreHint, restoreSteps, type RestoreMode } from '../domain/restore-plan.js';
import { applyRetention, retentionPolicy } from '../domain/retention.js';
import { createRun, reduceRun } from '../domain/runbook.js';
import { expectedSteps, type PastRestore, type RestoreWork } from '../domain/step-estimate.js';
import { stillStoppedBy } from '../engine/findings.js';
import { Driver, type Outcome } from '../engine/driver.js';
import type { RunJournal, RunRecord } from '../engine/journal.js';
import type { Operator } from '../engine/operator.js';
import { holdRun } from '../engine/owner.js';
import { backupDir, listBackups, type BackupManifest } from '../services/backup.js';
import { sweepRestoreTemps } from '../services/backup-restore.js';
import type { MissingRows } from '../services/merge.js';
import type { Writer } from '../services/writers.js';
import { stateDir } from '../state/statedb.js';
import { targets, type Target } from '../cli/backup.js';
import { out, outJson, redact } from '../cli/output.js';
import type { RestoreOptions } from '../cli/restore.js';
import { backupCandidates, chooseForMerge, mergeWhenRowsAreMissing, passedOver } from './restore-choose.js';
import { restoreRunbook, type RestoreCtx, type RestoreDeps } from './restore-steps.js';

type Stored = RunRecord<RestoreCtx>;

/** Audit entries of a restore. */
export type AuditFn = (action: string, target: string, outcome: 'ok' | 'failed' | 'refused' | 'cancelled', detail?: string) => void;

/** What a restore runs with: the state database, its journal, the operator, the audit log, the ledger. */
export interface Engine {
  state: BetterSqlite3.Database;
  journal: RunJournal;
  op: Operator;
  audit: AuditFn;
  deps: RestoreDeps;
  /** --json: the end of the run is one JSON document on stdout. */
  json: boolean;
  /** ` --config <absolute path>` for the commands a message tells the operator to run (empty when discovered). */
  configFlag?: string;
  /** Ctrl+C (SIGINT, or the key at a question): the run stops between steps, journaled, and says what it left stopped. */
  signal?: AbortSignal;
}

const busy = (r: Stored) => (pid: number) => `restore ${r.id} of ${r.subject} is running right now (pid ${pid}); let it finish, or stop that process first`;

/** Drives a run (new or resumed) to its end while holding it, and turns the outcome into the exit code and messages. */
async function driveRestore(e: Engine, r: Stored): Promise<number> {
  const lease = holdRun(e.state, r.id, busy(r));
  try {
    const outcome = await new Driver(restoreRunbook(e.audit), e.journal, e.op, e.deps, e.signal ? { signal: e.signal } : {}).drive(r);
    return ended(e, outcome);
  } finally {
    lease.release();
  }
}

/** Resumes an unfinished run from where its journal stands. */
export async function resumeRestore(e: Engine, loaded: LoadedConfig, g: RestoreOptions): Promise<number> {
  const found = rehydrate(findOpen(e.journal, loaded, g), loaded, g);
  const lease = holdRun(e.state, found.id, busy(found));
  try {
    // What a killed run left beside the database (its pid is gone) goes first (issue #13).
    sweepRestoreTemps(found.ctx.dbPath);
    if (found.rollingBack) throw new Failure('rolling-back', `restore ${found.id} of ${found.subject}: a rollback was started; finish it with: opsdeck${e.configFlag ?? ''} restore --db ${found.subject} --rollback`);
    const run: Stored = { ...found, ctx: { ...found.ctx, ...(g.acceptLoss ? { acceptLoss: true } : {}) } };
    const resumed: Stored = { ...run, run: reduceRun(run.run, { type: 'resume', at: Date.now() }) };
    e.journal.save(resumed, { type: 'resume', at: Date.now() }, '-');
    const outcome = await new Driver(restoreRunbook(e.audit), e.journal, e.op, e.deps, e.signal ? { signal: e.signal } : {}).drive(resumed);
    return ended(e, outcome);
  } finally {
    lease.release();
  }
}

/**
 * Undoes a run: the undo of each started step, last first — writers stopped, the safety copy put
 * back if the database was touched, writers started again. Idempotent: a rollback that was killed
 * is finished by running it again.
 */
export async function rollbackRestore(e: Engine, loaded: LoadedConfig, g: RestoreOptions): Promise<number> {
  const found = rehydrate(findOpen(e.journal, loaded, g), loaded, g);
  const lease = holdRun(e.state, found.id, busy(found));
  try {
    sweepRestoreTemps(found.ctx.dbPath);
    const driver = new Driver(restoreRunbook(e.audit), e.journal, e.op, e.deps);
    let done: Awaited<ReturnType<typeof driver.rollback>>;
    try {
      done = await driver.rollback(found, `put back the database ${found.ctx.dbPath} as it was before restore ${found.id} (from ${found.ctx.safetyDir})? Rows written since the restore are kept: merged back after it (the file as it is now is kept in ${found.ctx.safetyDir}/before-rollback)`);
    } catch (err) {
      const ex = err instanceof Failure ? err : new Failure('rollback', (err as Error).message);
      e.audit('restore.rollback', found.subject, 'failed', ex.message);
      throw new Failure(ex.kind, `${ex.message} — rollback of ${found.id} unfinished; run opsdeck${e.configFlag ?? ''} restore --db ${found.subject} --rollback again (safety copy: ${found.ctx.safetyDir})`);
    }
    if (!done) throw new Failure('cancelled', `rollback of ${found.id} cancelled; the run is still unfinished`);
    rmSync(found.ctx.tmpPath, { force: true });
    const touched = done.record.ctx.putBack === true;
    e.audit('restore.rollback', found.subject, 'ok', `run ${found.id}${touched ? `: database put back from ${found.ctx.safetyDir}` : ': the database had not been changed'}`);
    if (e.json) outJson(report(done.record));
    else e.op.say(`restore ${found.id} rolled back; the safety copy stays at ${found.ctx.safetyDir}`);
    return 0;
  } finally {
    lease.release();
  }
}

/**
 * Exit codes: 0 completed; 3 finished with a step skipped (the summary names it); 1 paused,
 * cancelled or failed (a failure before the database changed undid itself and closed the run; after,
 * the run stays open for --resume or --rollback); 2 the backup is corrupt.
 */
function ended(e: Engine, o: Outcome<RestoreCtx>): number {
  const r = o.record;
  const ctx = r.ctx;
  if (o.kind === 'completed') {
    rmSync(ctx.tmpPath, { force: true });
    const what = o.skipped.map((x) => `${x.step.title} (${x.reason})`).join('; ');
    e.audit('restore', r.subject, 'ok', `run ${r.id} from ${ctx.backupId} ${o.skipped.length ? `finished with skipped steps: ${what}` : 'completed'}; safety copy kept at ${ctx.safetyDir}`);
    if (e.json) outJson(report(r));
    else if (o.skipped.length) e.op.say(`restore ${r.id} finished, NOT complete — skipped: ${what}; the previous database is kept at ${ctx.safetyDir}`);
    else {
      // Rows given up at the last step are said again on the last line: "completed" alone read as nothing lost.
      const i = r.run.steps.findIndex((x) => x.id === 'accept-loss');
      const st = i >= 0 ? r.run.states[i] : undefined;
      const gaveUp = st?.status === 'done' && st.note?.startsWith('given up') ? ` — rows were GIVEN UP: ${st.note}` : '';
      e.op.say(`restore ${r.id} completed${gaveUp}; the previous database is kept at ${ctx.safetyDir}`);
    }
    return o.skipped.length ? 3 : 0;
  }
  if (o.kind === 'paused') {
    if (!o.changed) {
      rmSync(ctx.tmpPath, { force: true });
      e.audit('restore', r.subject, 'cancelled', o.reason);
      throw new Failure('cancelled', `restore of ${r.subject} cancelled (${o.reason}); nothing was changed`);
    }
    const reason = e.signal?.aborted ? `interrupted with Ctrl+C ${o.reason.replace(/^declined /, 'before ')}` : o.reason;
    e.audit('restore', r.subject, 'cancelled', `paused: ${reason}`);
    throw new Failure('paused', unfinished(e, r, `paused: ${reason}`));
  }
  const ex = o.error;
  if (o.closed) {
    rmSync(ctx.tmpPath, { force: true });
    e.audit('restore', r.subject, 'failed', ex.message);
    throw new Failure(ex.kind, `${ex.message} (restore of ${r.subject} stopped; the database was not changed${ctx.stopped.length ? `; ${o.undone ?? ''}` : ''})`);
  }
  e.op.say(`restore ${r.id} failed at a step after the database was changed`);
  throw new Failure(ex.kind, `${ex.message} — ${unfinished(e, r, 'failed')}`);
}

/**
 * What an unfinished run says (issue #14, operator trial): that it is unfinished, which writers it
 * left stopped, and the exact commands that resume it or roll it back — as the console's journal
 * finding does.
 */
function unfinished(e: Engine, r: Stored, why: string): string {
  const cmd = `opsdeck${e.configFlag ?? ''} restore --db ${r.subject}`;
  const down = stillStoppedBy(r.run, r.ctx); // as the journal finding says it
  const writers = down.length ? `writers still stopped: ${down.join(', ')} (they stay stopped until the run is resumed or rolled back)` : 'no writer is stopped';
  return `restore ${r.id} of ${r.subject} is unfinished (${why}); ${writers}; resume: ${cmd} --resume; or roll back: ${cmd} --rollback (safety copy: ${r.ctx.safetyDir})`;
}

/** The open restore run `--resume` / `--rollback` continue (one, or the one of `--db`). */
export function findOpen(journal: RunJournal, loaded: LoadedConfig, g: RestoreOptions): Stored {
  let runs = journal.open<RestoreCtx>('restore');
  if (g.db) {
    const path = targets(loaded, g)[0]?.path;
    // The journal keeps paths redacted (issue #12): compare them as stored.
    runs = runs.filter((r) => (path !== undefined && r.targetKey === redact(path)) || r.subject === g.db);
  }
  if (runs.length === 0) throw new Failure('not-found', `no unfinished restore${g.db ? ` of ${g.db}` : ''} in the journal; nothing to ${g.resume ? 'resume' : 'roll back'}`);
  if (runs.length > 1) throw new UsageError(`${runs.length} unfinished restores (${runs.map((r) => r.subject).join(', ')}): pick one with --db`);
  return runs[0] as Stored;
}

/**
 * The context as the journal stores it (issue #12): the writers' commands and containers, the paths
 * and the Docker host redacted — they can hold a `${VAR}`'s value; `rehydrate` takes them from the
 * configuration again.
 */
export function redactCtx(ctx: RestoreCtx): RestoreCtx {
  return {
    ...ctx,
    dbPath: redact(ctx.dbPath),
    backupDir: redact(ctx.backupDir),
    safetyDir: redact(ctx.safetyDir),
    tmpPath: redact(ctx.tmpPath),
    ...(ctx.dockerHost !== undefined ? { dockerHost: redact(ctx.dockerHost) } : {}),
    writers: ctx.writers.map((w) => ({
      ...w,
      ...(w.container !== undefined ? { container: redact(w.container) } : {}),
      ...(w.composeService !== undefined ? { composeService: redact(w.composeService) } : {}),
      ...(w.stopCommand !== undefined ? { stopCommand: redact(w.stopCommand) } : {}),
      ...(w.startCommand !== undefined ? { startCommand: redact(w.startCommand) } : {}),
    })),
    stopped: ctx.stopped.map((x) => redact(x)),
  };
}

/** Where the journal redacted a secret (issue #12). */
const REDACTED = '***';

/**
 * A run read back from the journal, with what was redacted when it was stored taken from the
 * configuration again (issue #12: the journal never holds a secret). A writer's stop/start command
 * comes from its service in services[]; a path or Docker host that held a secret is the configured
 * one that redacts to what was stored. Either missing now is an error that says what to put back.
 */
function rehydrate(r: Stored, loaded: LoadedConfig, g: RestoreOptions): Stored {
  const ctx = r.ctx;
  const { config } = loaded;
  const sdir = stateDir(config.state_dir);
  const paths = config.databases.flatMap((d) => [d.path, backupDir(d.name, config.backup.dir, g.dir), join(dirname(d.path), `.${basename(d.path)}.restore-${r.id}`)]);
  const containers = config.services.flatMap((s) => [...(s.container ? [s.container] : []), ...(s.compose_service ? [s.compose_service] : [])]);
  const candidates = [...paths, ...containers, join(sdir, 'safety', r.id), ...(config.docker.host ? [config.docker.host] : []), ...(g.db ? [resolve(g.db)] : [])];
  const fill = (stored: string, what: string): string => {
    if (!stored.includes(REDACTED)) return stored;
    const found = candidates.find((c) => redact(c) === stored);
    if (found === undefined) throw new Failure('redacted', `restore ${r.id}: its ${what} held a secret, so the journal keeps it redacted (${stored}), and the configuration no longer gives it; put the configuration back as it was when the restore started`);
    return found;
  };
  const writers = ctx.writers.map((stored) => {
    const w = {
      ...stored,
      ...(stored.container !== undefined ? { container: fill(stored.container, `writer ${stored.service}'s container`) } : {}),
      ...(stored.composeService !== undefined ? { composeService: fill(stored.composeService, `writer ${stored.service}'s compose service`) } : {}),
    };
    if (!w.stopCommand?.includes(REDACTED) && !w.startCommand?.includes(REDACTED)) return w;
    const s = config.services.find((x) => x.name === w.service);
    if (!s?.stop_command || !s.start_command)
      throw new Failure('redacted', `restore ${r.id}: writer ${w.service}'s stop_command and start_command held a secret, so the journal keeps them redacted; services.${w.service} with both commands must be in the configuration to ${g.rollback ? 'roll back' : 'resume'}`);
    return { ...w, stopCommand: s.stop_command, startCommand: s.start_command };
  });
  return {
    ...r,
    targetKey: fill(r.targetKey, 'database path'),
    ctx: {
      ...ctx,
      dbPath: fill(ctx.dbPath, 'database path'),
      backupDir: fill(ctx.backupDir, 'backup folder'),
      safetyDir: fill(ctx.safetyDir, 'safety copy folder'),
      tmpPath: fill(ctx.tmpPath, 'temporary file'),
      writers,
      stopped: ctx.stopped.map((x) => fill(x, 'stopped container')),
      ...(ctx.dockerHost !== undefined ? { dockerHost: fill(ctx.dockerHost, 'Docker host') } : {}),
    },
  };
}

/** Resolves configured writer services to containers; an unknown service is a config error. */
export function resolveWriters(loaded: LoadedConfig, t: Target): Writer[] {
  return t.writers.map((name) => {
    const s = loaded.config.services.find((x) => x.name === name);
    if (!s) throw new ConfigError(`databases.${t.name}.writers: service ${name} is not in services[] (expected one of: ${loaded.config.services.map((x) => x.name).join(', ') || 'none declared'})`);
    if (s.stop_command && s.start_command) return { service: name, stopCommand: s.stop_command, startCommand: s.start_command };
    if (!s.container && !s.compose_service) throw new ConfigError(`services.${name}: a writer needs container, compose_service, or stop_command and start_command, so the restore can stop it`);
    return { service: name, ...(s.container ? { container: s.container } : {}), ...(s.compose_service ? { composeService: s.compose_service } : {}) };
  });
}

/** Starts a restore: chooses the backup, plans the steps, journals the run and drives it. */
export async function startRestore(e: Engine, loaded: LoadedConfig, asked: RestoreOptions): Promise<number> {
  const { journal, audit, deps } = e;
  const list = targets(loaded, asked);
  if (list.length !== 1) throw new UsageError(`${list.length} databases configured: name one with --db (${list.map((t) => t.name).join(', ')})`);
  const t = list[0] as Target;
  const unfinished = journal.open<RestoreCtx>('restore', t.path)[0];
  if (unfinished) throw new Failure('unfinished', `restore ${unfinished.id} of ${t.name} is unfinished; finish it with --resume or undo it with --rollback (the console's restore wizard: 4 or 5) (safety copy: ${unfinished.ctx.safetyDir})`);
  const g = await mergeWhenRowsAreMissing(e, t, asked);
  const stages = g.merge ? planMerge(g.tables, t.critical, t.normal) : planStages(g.tables, t.critical, t.normal);
  if (!stages.ok) throw new UsageError(stages.message);
  const writers = resolveWriters(loaded, t);
  // A merge brings back lost rows: from a backup taken before the loss was noticed (a newer one,
  // e.g. from the backup schedule, no longer holds them).
  const lostSince = g.merge ? Math.min(...deps.ledger.entries(t.name).flatMap((e) => (e.missing.length && e.missingSince !== undefined ? [e.missingSince] : []))) : Infinity;
  const candidates = backupCandidates(t, g.backup, Number.isFinite(lostSince) ? lostSince : undefined, deps.ledger.duringLoss(t.name));
  const wanted: MissingRows[] = g.merge ? deps.ledger.entries(t.name).flatMap((e) => (e.missing.length ? [{ table: e.table, ...(e.key ? { key: e.key } : {}), missing: e.missing }] : [])) : [];
  const chosen = wanted.length && !g.backup ? await chooseForMerge(t, candidates, wanted, lostSince) : { m: candidates[0] as BackupManifest, none: '' };
  const m = chosen.m;
  const none = chosen.none;
  const now = Date.now();
  const all = listBackups(t.dir);
  const tiers = applyRetention(all.map((x) => ({ id: x.id, createdAt: Date.parse(x.createdAt), verified: !!x.verify?.ok })), retentionPolicy(loaded.config.backup));
  const ageMs = now - Date.parse(m.createdAt);
  const skipped = g.backup ? '' : passedOver(all, m, Number.isFinite(lostSince) ? lostSince : undefined, deps.ledger.duringLoss(t.name));
  const summary = `${formatDuration(ageMs)} old, ${(tiers.keep.get(m.id) ?? ['expired']).filter((x) => !x.startsWith('newest') && !x.startsWith('unverified')).map((x) => x.split(' ')[0]).join('+') || 'untiered'}, ${m.verify ? (m.verify.ok ? 'verified' : 'FAILED verification') : 'not verified yet'}, ${ageMs <= loaded.config.backup.rpo ? 'within' : 'BEYOND'} the RPO of ${formatDuration(loaded.config.backup.rpo)}${skipped}${none}`;
  const id = `${t.name}-${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(2).toString('hex')}`;
  const safetyDir = join(stateDir(loaded.config.state_dir), 'safety', id);
  // Issue #27: a backup verified when it was made is checked by its SHA-256 only, unless asked; each byte-bound step says how long it should take.
  const verify = m.verify?.ok && !g.fullVerify ? 'checksum' : 'full';
  // The safety copy of a whole-file restore links the main file where it can (same file system): then only the -wal is copied.
  const links = stages.mode.kind === 'whole' && !g.force && sameDevice(dirname(t.path), stateDir(loaded.config.state_dir));
  const liveBytes = (links ? ['-wal'] : ['', '-wal']).reduce((a, sfx) => a + statOrZero(`${t.path}${sfx}`), 0);
  const work: RestoreWork = { verify, mode: stages.mode.kind, rawBytes: m.rawBytes, liveBytes, checkBeforeSwap: true };
  const expected = expectedSteps(work, pastRestores(e.journal));
  const steps = restoreSteps({ database: t.name, dbPath: t.path, backupId: m.id, backupSummary: summary, writers: writers.map((w) => (w.stopCommand ? `${w.service} (by its stop_command / start_command)` : w.container ?? `compose service ${w.composeService ?? w.service}`)), safetyDir, mode: stages.mode, verify, ...(m.verify?.ok ? { verifiedAt: m.verify.at } : {}), expected });
  if (g.dryRun) {
    if (g.json) outJson({ dryRun: true, database: t.name, path: t.path, backup: m.id, summary, safetyCopy: safetyDir, steps: steps.map((s) => ({ id: s.id, title: s.title, detail: s.detail })) });
    else {
      out(`restore of ${t.name} (${t.path}) from ${m.id} — dry run, nothing changed`);
      steps.forEach((s, i) => out(`  ${i + 1}. ${s.title}: ${s.detail}`));
    }
    return 0;
  }
  sweepRestoreTemps(t.path);
  const ctx: RestoreCtx = {
    database: t.name,
    dbPath: t.path,
    backupDir: t.dir,
    backupId: m.id,
    sha256: m.sha256,
    mode: stages.mode,
    writers,
    ...(loaded.config.docker.host ? { dockerHost: loaded.config.docker.host } : {}),
    stopped: [],
    safetyDir,
    tmpPath: join(dirname(t.path), `.${basename(t.path)}.restore-${id}`),
    force: !!g.force,
    backupFk: m.foreignKeyViolations,
    verify,
    ...(m.verify?.ok ? { verifiedAt: m.verify.at } : {}),
    rawBytes: m.rawBytes,
    liveBytes,
    backupCounts: {},
    criticalTables: [...t.critical],
    ...(t.mergeKeys && Object.keys(t.mergeKeys).length ? { mergeKeys: t.mergeKeys } : {}),
    ...(g.acceptLoss ? { acceptLoss: true } : {}),
  };
  const stored = journal.create<RestoreCtx>({ id, kind: 'restore', subject: t.name, targetKey: t.path, hint: restoreHint(t.name, safetyDir, loaded.file && resolve(loaded.file)), run: createRun(steps), ctx, startedAt: now }, `backup ${m.id}`);
  audit('restore.start', t.name, 'ok', `run ${id}, backup ${m.id}, ${describeMode(stages.mode)}`);
  e.op.say(`restore ${id}: ${t.name} (${t.path}) from backup ${m.id}; safety copy will be at ${safetyDir}`);
  return driveRestore(e, stored);
}

const statOrZero = (path: string) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

const sameDevice = (a: string, b: string) => {
  try {
    return statSync(a).dev === statSync(b).dev;
  } catch {
    return false;
  }
};

/** The finished restores the journal holds that recorded their sizes: what the expected step durations learn from. */
function pastRestores(journal: RunJournal): PastRestore[] {
  return journal
    .recent<RestoreCtx>(50)
    .filter((r) => r.kind === 'restore' && (r.status === 'completed' || r.status === 'partial') && r.ctx.rawBytes !== undefined && r.ctx.liveBytes !== undefined)
    .slice(0, 5)
    .map((r) => ({ work: { verify: r.ctx.verify ?? 'full', mode: r.ctx.mode.kind, rawBytes: r.ctx.rawBytes as number, liveBytes: r.ctx.liveBytes as number, checkBeforeSwap: r.ctx.checkedBeforeSwap !== undefined }, run: r.run }));
}

function describeMode(mode: RestoreMode): string {
  if (mode.kind === 'whole') return 'whole file';
  if (mode.kind === 'merge') return `merge of ${mode.tables.join(', ')}`;
  return `tables ${mode.stages.map((s) => s.name).join(', ')}`;
}

function report(r: Stored): unknown {
  return {
    run: r.id,
    database: r.ctx.database,
    path: r.ctx.dbPath,
    backup: r.ctx.backupId,
    status: r.status,
    safetyCopy: r.ctx.safetyDir,
    steps: r.run.steps.map((s, i) => ({ id: s.id, title: s.title, ...r.run.states[i] })),
  };
}
