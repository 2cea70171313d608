// Over 300 lines, knowingly: this command file is also the restore's driver, the journal's user,
// the row ledger's user and the console protocol. The recovery engine (issue #14) takes the driver,
// the steps and the protocol out of it; until then one file keeps a restore readable top to bottom.

import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline/promises';
import { formatDuration } from '../config/duration.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { ConfigError, ExitError, UsageError } from '../domain/errors.js';
import { printable } from '../domain/printable.js';
import { formatRanges, intersect as intersectRanges, size, subtract as subtractRanges, type Range } from '../domain/ranges.js';
import { changesDatabase, planMerge, planStages, restoreSteps, type RestoreMode } from '../domain/restore-plan.js';
import { applyRetention, retentionPolicy } from '../domain/retention.js';
import { createRun, nextAction, reduceRun, skippedSteps, startedSteps, type RunEvent, type StepDef } from '../domain/runbook.js';
import { backupDir, listBackups, type BackupManifest } from '../services/backup.js';
import { extractVerified, holdersOf, inspectDatabase, pausePoint, putBack, restoreTables, safetyCopy, swapIn, sweepRestoreTemps } from '../services/backup-restore.js';
import { conflictsTable, mergeKey, mergeOrder, mergeTables, replaceLoss, rowsHeld, unmergedRows, type MissingRows } from '../services/merge.js';
import { integerKey, islands } from '../services/row-tracker.js';
import { DockerService, resolveDockerEndpoint } from '../services/docker.js';
import { recordAudit } from '../state/acks.js';
import { RestoreJournal, restoreProcessAlive, type StoredRun } from '../state/journal.js';
import { RowLedger } from '../state/row-ledger.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { targets, type BackupOptions, type Target } from './backup.js';
import { err, out, outJson, redact, useSecrets } from './output.js';
import { formatBytes } from '../domain/format.js';
import { pruneSafetyCopies } from '../state/safety-copies.js';

/** Options of `opsdeck restore`. */
export interface RestoreOptions extends BackupOptions {
  backup?: string;
  tables?: string;
  force?: boolean;
  resume?: boolean;
  rollback?: boolean;
  /** Merge: insert the backup's rows that are missing now; never overwrite a live row (issue #10). */
  merge?: boolean;
  /** Unattended (--yes): give up rows no backup holds; without it, --yes never does. */
  acceptLoss?: boolean;
  /** Driven by the console: one JSON line per message or question on stdout, answers on stdin. */
  protocol?: boolean;
}

/** A writer service resolved to how it is stopped: a container (Docker) or stop/start commands. */
interface Writer {
  service: string;
  container?: string;
  composeService?: string;
  stopCommand?: string;
  startCommand?: string;
}

/** How `ctx.stopped` names a command writer (containers are stored by their name). */
const COMMAND = 'command:';
const isCommand = (name: string) => name.startsWith(COMMAND);

/** Runs a writer's stop or start command (through /bin/sh, 60 s at most); a non-zero exit is an error. */
async function runWriterCommand(w: Writer | undefined, which: 'stop' | 'start', service: string): Promise<void> {
  const cmd = which === 'stop' ? w?.stopCommand : w?.startCommand;
  if (!cmd) throw new ExitError(1, 'writer', `writer ${service}: no ${which}_command recorded`);
  const { execFile } = await import('node:child_process');
  await new Promise<void>((res, rej) => {
    execFile('/bin/sh', ['-c', cmd], { timeout: 60_000 }, (err, _stdout, stderr) => {
      if (!err) res();
      else rej(new ExitError(1, 'writer', `writer ${service}: ${which}_command failed (${err.killed ? 'timed out after 60 s' : `exit ${String(err.code)}`})${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1) ?? ''}` : ''}`));
    });
  });
}

/** Starts what a run stopped: containers through Docker, command writers with their start_command. */
async function startWriter(ctx: RestoreCtx, name: string, d: () => DockerService): Promise<void> {
  if (isCommand(name)) {
    const service = name.slice(COMMAND.length);
    await runWriterCommand(ctx.writers.find((w) => w.service === service), 'start', service);
    return;
  }
  const s = await d().start(name);
  if (!s.ok) throw new ExitError(1, 'docker', `start ${name}: ${s.error.message}`);
}

/** Everything resume and rollback need, saved with the run. */
export interface RestoreCtx {
  database: string;
  dbPath: string;
  backupDir: string;
  backupId: string;
  sha256: string;
  mode: RestoreMode;
  writers: Writer[];
  dockerHost?: string;
  /** Containers this run stopped (and must start again), saved as each one stops. */
  stopped: string[];
  safetyDir: string;
  tmpPath: string;
  force: boolean;
  backupFk: number;
  /** Row counts of the backup's tables, measured at the verify step. */
  backupCounts: Record<string, number>;
  /** The database's critical tables (their row-loss ledger is updated by the restore). */
  criticalTables?: string[];
  /** Merge: the key each merged table is matched on (resolved at the verify step). */
  mergeKeys?: Record<string, string[]>;
  /** --accept-loss was given. */
  acceptLoss?: boolean;
  /**
   * Replace modes: ids of live rows of critical tables the backup does not hold as they are, read
   * before the replace (undefined per table: unreadable). They are lost by replacing, and named.
   */
  replaceLoss?: Record<string, [number, number][] | null>;
  /** Tables whose replace loss was counted from the row-loss ledger (the file could not be read): "at least". */
  replaceLossFromLedger?: string[];
  rollingBack?: boolean;
  /** The process driving the run now: a second --resume/--rollback must not run beside it. */
  ownerPid?: number;
}

type Stored = StoredRun<RestoreCtx>;

/** What the steps share besides the run: the row-loss ledger of the state database. */
interface Deps {
  ledger: RowLedger;
  interactive: boolean;
}

/**
 * Exit codes: 0 done, 1 failed / refused / cancelled, 2 the backup is corrupt, 3 finished with a
 * step skipped (a stage not restored, or missing rows not given up: the summary names them), 64
 * usage, 78 config.
 */
export async function restoreCommand(g: RestoreOptions): Promise<number> {
  if (g.resume && g.rollback) throw new UsageError('--resume and --rollback exclude each other');
  if ((g.resume || g.rollback) && (g.backup || g.tables || g.merge)) throw new UsageError('--resume/--rollback continue a recorded run: --backup, --tables and --merge do not apply');
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const sdir = stateDir(loaded.config.state_dir);
  const state = await openStateDb(sdir).catch((e: unknown) => {
    throw new ExitError(1, 'state', `state database in ${sdir}: ${(e as Error).message}`);
  });
  try {
    const journal = new RestoreJournal(state, { redactCtx: (c) => redactCtx(c as RestoreCtx) });
    const ledger = new RowLedger(state);
    const audit = (action: string, target: string, outcome: 'ok' | 'failed' | 'refused' | 'cancelled', detail?: string) =>
      recordAudit(state, { action, target, outcome, ...(detail !== undefined ? { detail } : {}) });
    const what = g.resume ? 'restore --resume' : g.rollback ? 'restore --rollback' : 'restore';
    if (g.readOnly && !g.dryRun) {
      audit('restore', g.db ?? '(all)', 'refused', '--read-only');
      throw new ExitError(1, 'read-only', `${what} changes the database and stops services; refused in --read-only mode`);
    }
    const interactive = !g.yes && !g.dryRun;
    if (interactive && !process.stdin.isTTY && !g.protocol) throw new UsageError(`${what} asks before each step: run it in a terminal, or pass --yes (or --dry-run to preview)`);
    const io = new Io(interactive, !!g.json, !!g.protocol);
    try {
      if (g.resume || g.rollback) {
        const found = rehydrate(findOpen(journal, loaded, g), loaded, g);
        const owner = found.ctx.ownerPid;
        if (owner !== undefined && owner !== process.pid && restoreProcessAlive(owner))
          throw new ExitError(1, 'busy', `restore ${found.id} of ${found.database} is running right now (pid ${owner}); let it finish, or stop that process first`);
        // What a killed run left beside the database (its pid is gone) goes first (issue #13).
        sweepRestoreTemps(found.dbPath);
        const run: Stored = { ...found, ctx: { ...found.ctx, ownerPid: process.pid, ...(g.acceptLoss ? { acceptLoss: true } : {}) } };
        if (g.rollback) return await rollback(journal, run, io, audit);
        if (run.ctx.rollingBack) throw new ExitError(1, 'rolling-back', `restore ${run.id} of ${run.database}: a rollback was started; finish it with: opsdeck restore --db ${run.database} --rollback`);
        return await drive(journal, save(journal, run, { type: 'resume', at: Date.now() }, '-'), io, audit, { ledger, interactive });
      }
      return await start(journal, loaded, g, io, audit, { ledger, interactive });
    } finally {
      io.close();
      if (!g.dryRun) pruneSafety(state, sdir, loaded, audit);
    }
  } catch (e) {
    // Journal writes can fail too (a full state folder): one line, never a stack trace.
    if (e instanceof ExitError) throw e;
    throw new ExitError(1, 'restore', `restore${g.db ? ` of ${g.db}` : ''}: ${(e as Error).message} (state database in ${sdir})`);
  } finally {
    state.close();
  }
}

/**
 * Safety copies past their retention (`backup.keep_safety_copies`, `keep_safety_days`) are removed
 * after each restore run, each audited; never an unfinished run's. A failure here is said, and
 * never changes the restore's outcome.
 */
function pruneSafety(state: Parameters<typeof pruneSafetyCopies>[1], sdir: string, loaded: LoadedConfig, audit: AuditFn): void {
  const policy = { keepLast: loaded.config.backup.keep_safety_copies, keepDays: loaded.config.backup.keep_safety_days };
  try {
    for (const c of pruneSafetyCopies(sdir, state, policy)) audit('restore.safety-prune', c.id, 'ok', `${c.database ?? '?'}: ${formatBytes(c.sizeBytes)} removed (keep_safety_copies ${policy.keepLast}, keep_safety_days ${policy.keepDays})`);
  } catch (e) {
    err(`opsdeck: warning: old safety copies not removed: ${(e as Error).message}`);
  }
}

/** Line prompts on a terminal (stderr under --json, so stdout stays one JSON document). */
class Io {
  private rl?: Interface;
  private lines?: AsyncIterator<string>;
  constructor(
    readonly interactive: boolean,
    readonly json: boolean,
    /** The console's wizard drives this run: JSON lines out (`{"say"}`, `{"ask"}`), `y`/`n` lines in. */
    readonly protocol = false,
  ) {}

  say(text: string): void {
    if (this.protocol) process.stdout.write(`${JSON.stringify({ say: redact(text) })}\n`);
    else if (!this.json) out(text);
  }

  /**
   * Asks a question; `skip` offers s (skip this step) besides y and n. Anything else, an empty line
   * or a closed console is n: it stops the run where it is, it never skips (issue #10).
   */
  async ask(question: string, skip = false): Promise<Answer> {
    if (this.protocol) {
      process.stdout.write(`${JSON.stringify({ ask: redact(question), choices: skip ? 'yns' : 'yn' })}\n`);
      this.rl ??= createInterface({ input: process.stdin });
      this.lines ??= this.rl[Symbol.asyncIterator]();
      const next = await this.lines.next();
      return next.done ? 'n' : parseAnswer(next.value, skip);
    }
    this.rl ??= createInterface({ input: process.stdin, output: this.json ? process.stderr : process.stdout });
    // Written by readline, not out(): redacted and escaped here (a rollback's question names paths).
    return parseAnswer(await this.rl.question(`${printable(redact(question))} [${skip ? 'y/s/N' : 'y/N'}] `), skip);
  }

  close(): void {
    this.rl?.close();
  }
}

/** An answer to a step's question: run it, stop the run here, or skip the step. */
type Answer = 'y' | 'n' | 's';

function parseAnswer(line: string, skip: boolean): Answer {
  const a = line.trim().toLowerCase();
  if (a === 'y' || a === 'yes') return 'y';
  if (skip && (a === 's' || a === 'skip')) return 's';
  return 'n';
}

function findOpen(journal: RestoreJournal, loaded: LoadedConfig, g: RestoreOptions): Stored {
  let runs = journal.open<RestoreCtx>();
  if (g.db) {
    const path = targets(loaded, g)[0]?.path;
    // The journal keeps paths redacted (issue #12): compare them as stored.
    runs = runs.filter((r) => (path !== undefined && r.dbPath === redact(path)) || r.database === g.db);
  }
  if (runs.length === 0) throw new ExitError(1, 'not-found', `no unfinished restore${g.db ? ` of ${g.db}` : ''} in the journal; nothing to ${g.resume ? 'resume' : 'roll back'}`);
  if (runs.length > 1) throw new UsageError(`${runs.length} unfinished restores (${runs.map((r) => r.database).join(', ')}): pick one with --db`);
  return runs[0] as Stored;
}

function save(journal: RestoreJournal, r: Stored, ev: RunEvent, step: string, detail?: string): Stored {
  const next: Stored = { ...r, run: reduceRun(r.run, ev) };
  journal.save(next, ev, step, detail);
  return next;
}

/**
 * The context as the journal stores it (issue #12): the writers' commands and containers, the paths
 * and the Docker host redacted — they can hold a `${VAR}`'s value; `rehydrate` takes them from the
 * configuration again.
 */
function redactCtx(ctx: RestoreCtx): RestoreCtx {
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
    if (found === undefined) throw new ExitError(1, 'redacted', `restore ${r.id}: its ${what} held a secret, so the journal keeps it redacted (${stored}), and the configuration no longer gives it; put the configuration back as it was when the restore started`);
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
      throw new ExitError(1, 'redacted', `restore ${r.id}: writer ${w.service}'s stop_command and start_command held a secret, so the journal keeps them redacted; services.${w.service} with both commands must be in the configuration to ${g.rollback ? 'roll back' : 'resume'}`);
    return { ...w, stopCommand: s.stop_command, startCommand: s.start_command };
  });
  return {
    ...r,
    dbPath: fill(r.dbPath, 'database path'),
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
function resolveWriters(loaded: LoadedConfig, t: Target): Writer[] {
  return t.writers.map((name) => {
    const s = loaded.config.services.find((x) => x.name === name);
    if (!s) throw new ConfigError(`databases.${t.name}.writers: service ${name} is not in services[] (expected one of: ${loaded.config.services.map((x) => x.name).join(', ') || 'none declared'})`);
    if (s.stop_command && s.start_command) return { service: name, stopCommand: s.stop_command, startCommand: s.start_command };
    if (!s.container && !s.compose_service) throw new ConfigError(`services.${name}: a writer needs container, compose_service, or stop_command and start_command, so the restore can stop it`);
    return { service: name, ...(s.container ? { container: s.container } : {}), ...(s.compose_service ? { composeService: s.compose_service } : {}) };
  });
}

/**
 * The backups a restore may use, best first: the one named, else the verified ones (taken before
 * `before`, when given), those taken during a loss last.
 */
function backupCandidates(t: Target, id: string | undefined, before?: number, duringLoss: (at: number) => boolean = () => false): BackupManifest[] {
  const all = listBackups(t.dir);
  if (id) {
    const m = all.find((x) => x.id === id);
    if (!m) throw new ExitError(1, 'not-found', `backup ${id}: not found in ${t.dir} (${all.length ? `newest: ${all.slice(0, 3).map((x) => x.id).join(', ')}` : 'no backups there'})`);
    if (m.verify && !m.verify.ok) throw new ExitError(2, 'corrupt', `backup ${id}: failed verification (${m.verify.message}); it cannot be restored`);
    return [m];
  }
  const usable = before === undefined ? all : all.filter((x) => Date.parse(x.createdAt) < before);
  // A backup taken while rows were missing (between a loss and its recovery) lacks them: a restore
  // from it would lose them again. Such backups come last (issue #10; seen in the demo test when a
  // scheduled backup ran during a rows-deleted drill and a later whole-file restore picked it).
  const clean = usable.filter((x) => !duringLoss(Date.parse(x.createdAt)));
  const order = [clean.filter((x) => x.verify?.ok), clean.filter((x) => !x.verify), usable.filter((x) => x.verify?.ok), usable.filter((x) => !x.verify), all.filter((x) => x.verify?.ok), all.filter((x) => !x.verify)].flat();
  const out = [...new Set(order)];
  if (!out.length) throw new ExitError(1, 'not-found', `no restorable backup of ${t.name} in ${t.dir}`);
  return out;
}

/** How many backups a merge opens at most to find one that holds the missing rows. */
const MERGE_CANDIDATES = 8;

/**
 * The backup a merge restores from, chosen by what it holds: the first candidate that holds every
 * row the ledger misses, else the one holding most (the earlier candidate on a tie). Time alone
 * cannot decide: a scheduled backup taken between a DELETE and the monitor's next look is older
 * than the loss as the ledger dates it, yet lacks the rows (issue #10, seen in the demo test).
 */
async function chooseByContent(t: Target, candidates: readonly BackupManifest[], wanted: readonly MissingRows[]): Promise<BackupManifest> {
  let best: { m: BackupManifest; held: number } | undefined;
  const tmp = join(dirname(t.path), `.${basename(t.path)}.restore-choose-${randomBytes(3).toString('hex')}`);
  for (const m of candidates.slice(0, MERGE_CANDIDATES)) {
    try {
      await extractVerified(join(t.dir, `${m.id}.db.br`), m.sha256, tmp, `backup ${m.id}`);
      const r = rowsHeld(tmp, wanted);
      if (!best || r.held > best.held) best = { m, held: r.held };
      if (r.held === r.total) break;
    } catch {
      // A damaged or unreadable candidate is passed over; the verify step reports on the one chosen.
    } finally {
      for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
    }
  }
  return best?.m ?? (candidates[0] as BackupManifest);
}

async function start(journal: RestoreJournal, loaded: LoadedConfig, g: RestoreOptions, io: Io, audit: AuditFn, deps: Deps): Promise<number> {
  const list = targets(loaded, g);
  if (list.length !== 1) throw new UsageError(`${list.length} databases configured: name one with --db (${list.map((t) => t.name).join(', ')})`);
  const t = list[0] as Target;
  const unfinished = journal.open<RestoreCtx>(t.path)[0];
  if (unfinished) throw new ExitError(1, 'unfinished', `restore ${unfinished.id} of ${t.name} is unfinished; finish it with --resume or undo it with --rollback (safety copy: ${unfinished.ctx.safetyDir})`);
  const stages = g.merge ? planMerge(g.tables, t.critical, t.normal) : planStages(g.tables, t.critical, t.normal);
  if (!stages.ok) throw new UsageError(stages.message);
  const writers = resolveWriters(loaded, t);
  // A merge brings back lost rows: from a backup taken before the loss was noticed (a newer one,
  // e.g. from the backup schedule, no longer holds them).
  const lostSince = g.merge ? Math.min(...deps.ledger.entries(t.name).flatMap((e) => (e.missing.length && e.missingSince !== undefined ? [e.missingSince] : []))) : Infinity;
  const candidates = backupCandidates(t, g.backup, Number.isFinite(lostSince) ? lostSince : undefined, deps.ledger.duringLoss(t.name));
  const wanted: MissingRows[] = g.merge ? deps.ledger.entries(t.name).flatMap((e) => (e.missing.length ? [{ table: e.table, ...(e.key ? { key: e.key } : {}), missing: e.missing }] : [])) : [];
  const m = wanted.length && !g.backup ? await chooseByContent(t, candidates, wanted) : (candidates[0] as BackupManifest);
  const now = Date.now();
  const all = listBackups(t.dir);
  const tiers = applyRetention(all.map((x) => ({ id: x.id, createdAt: Date.parse(x.createdAt), verified: !!x.verify?.ok })), retentionPolicy(loaded.config.backup));
  const ageMs = now - Date.parse(m.createdAt);
  const summary = `${formatDuration(ageMs)} old, ${(tiers.keep.get(m.id) ?? ['expired']).filter((x) => !x.startsWith('newest') && !x.startsWith('unverified')).map((x) => x.split(' ')[0]).join('+') || 'untiered'}, ${m.verify ? (m.verify.ok ? 'verified' : 'FAILED verification') : 'not verified yet'}, ${ageMs <= loaded.config.backup.rpo ? 'within' : 'BEYOND'} the RPO of ${formatDuration(loaded.config.backup.rpo)}`;
  const id = `${t.name}-${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(2).toString('hex')}`;
  const safetyDir = join(stateDir(loaded.config.state_dir), 'safety', id);
  const steps = restoreSteps({ database: t.name, dbPath: t.path, backupId: m.id, backupSummary: summary, writers: writers.map((w) => (w.stopCommand ? `${w.service} (its stop_command)` : w.container ?? `compose service ${w.composeService ?? w.service}`)), safetyDir, mode: stages.mode });
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
    ownerPid: process.pid,
    backupFk: m.foreignKeyViolations,
    backupCounts: {},
    criticalTables: [...t.critical],
    ...(t.mergeKeys && Object.keys(t.mergeKeys).length ? { mergeKeys: t.mergeKeys } : {}),
    ...(g.acceptLoss ? { acceptLoss: true } : {}),
  };
  const stored = journal.create<RestoreCtx>({ id, database: t.name, dbPath: t.path, backupId: m.id, run: createRun(steps), ctx, startedAt: now });
  audit('restore.start', t.name, 'ok', `run ${id}, backup ${m.id}, ${describeMode(stages.mode)}`);
  io.say(`restore ${id}: ${t.name} (${t.path}) from backup ${m.id}; safety copy will be at ${safetyDir}`);
  return drive(journal, stored, io, audit, deps);
}

function describeMode(mode: RestoreMode): string {
  if (mode.kind === 'whole') return 'whole file';
  if (mode.kind === 'merge') return `merge of ${mode.tables.join(', ')}`;
  return `tables ${mode.stages.map((s) => s.name).join(', ')}`;
}

type AuditFn = (action: string, target: string, outcome: 'ok' | 'failed' | 'refused' | 'cancelled', detail?: string) => void;

function dockerFor(ctx: RestoreCtx): DockerService {
  return new DockerService(resolveDockerEndpoint(ctx.dockerHost), 10_000);
}

/** The container name of a writer (a compose service is looked up by its label). */
async function containerOf(d: DockerService, w: Writer): Promise<string> {
  if (w.container) return w.container;
  const r = await d.containers({ light: true });
  if (!r.ok) throw new ExitError(1, 'docker', r.error.message);
  const c = r.value.find((x) => x.composeService === w.composeService);
  if (!c) throw new ExitError(1, 'not-found', `writer ${w.service}: no container of compose service ${w.composeService ?? ''}`);
  return c.name;
}

/** Runs one step; returns the note journaled with its success. Every step is idempotent. */
async function execute(step: StepDef, r: Stored, persist: (ctx: RestoreCtx) => void, deps: Deps): Promise<string> {
  const ctx = r.ctx;
  const file = join(ctx.backupDir, `${ctx.backupId}.db.br`);
  switch (true) {
    case step.id === 'choose':
      return step.detail;
    case step.id === 'verify': {
      await extractVerified(file, ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`);
      const rep = await inspectDatabase(ctx.tmpPath);
      if (rep.integrity.length !== 1 || rep.integrity[0] !== 'ok') {
        rmSync(ctx.tmpPath, { force: true });
        throw new ExitError(2, 'corrupt', `backup ${ctx.backupId}: integrity_check failed (${rep.integrity.slice(0, 2).join('; ')}); it cannot be restored`);
      }
      if (rep.fkViolations > ctx.backupFk) throw new ExitError(2, 'corrupt', `backup ${ctx.backupId}: ${rep.fkViolations} foreign-key violations, ${ctx.backupFk} recorded at backup time`);
      let mode = ctx.mode;
      if (mode.kind === 'tables') {
        // `--tables all` without configured tables means every table of the backup.
        mode = { kind: 'tables', stages: mode.stages.map((s) => (s.tables.length ? s : { ...s, tables: rep.tables })) };
        const unknown = mode.stages.flatMap((s) => s.tables).filter((tb) => !rep.tables.includes(tb));
        if (unknown.length) throw new ExitError(1, 'not-found', `table ${unknown.join(', ')} is not in backup ${ctx.backupId} (it has: ${rep.tables.join(', ')})`);
      }
      let mergeNote = '';
      let mergeKeys = ctx.mergeKeys;
      if (mode.kind === 'merge') {
        const unknown = mode.tables.filter((tb) => !rep.tables.includes(tb));
        if (unknown.length) throw new ExitError(1, 'not-found', `table ${unknown.join(', ')} is not in backup ${ctx.backupId} (it has: ${rep.tables.join(', ')})`);
        const plan = await planMergeFrom(ctx.tmpPath, mode.tables, ctx.mergeKeys ?? {}, ctx.dbPath, deps.ledger, ctx.database);
        mode = { kind: 'merge', tables: plan.tables };
        mergeKeys = plan.keys;
        mergeNote = `; merge covers ${plan.tables.join(', ')}${plan.cascaded.length ? ` (${plan.cascaded.join(', ')}: ON DELETE CASCADE children)` : ''}${plan.holds ? `; ${plan.holds}` : ''}`;
      }
      persist({ ...ctx, mode, backupCounts: rep.rowCounts, ...(mergeKeys ? { mergeKeys } : {}) });
      return `checksum ok, integrity_check ok, ${rep.fkViolations} foreign-key violations${rep.fkViolations ? ' (already in the source: warning)' : ''}, ${rep.tables.length} tables${mergeNote}`;
    }
    case step.id === 'stop-writers': {
      const stopped = [...ctx.stopped];
      if (ctx.writers.length) {
        let docker: DockerService | undefined;
        for (const w of ctx.writers) {
          if (w.stopCommand) {
            // A command writer's state is not known: it is stopped (the command must be
            // idempotent) and started again after the restore.
            const name = `${COMMAND}${w.service}`;
            if (!stopped.includes(name)) {
              stopped.push(name);
              persist({ ...ctx, stopped });
            }
            await runWriterCommand(w, 'stop', w.service);
            continue;
          }
          const d = (docker ??= dockerFor(ctx));
          const name = await containerOf(d, w);
          const info = await d.inspect(name);
          if (!info.ok) throw new ExitError(1, 'docker', `writer ${w.service}: ${info.error.message}`);
          if (info.value.state !== 'running' && info.value.state !== 'restarting') continue;
          if (!stopped.includes(name)) {
            // Saved before stopping: a run killed right after must still start it again.
            stopped.push(name);
            persist({ ...ctx, stopped });
          }
          const s = await d.stop(name);
          if (!s.ok) throw new ExitError(1, 'docker', `writer ${w.service}: ${s.error.message}`);
        }
      }
      // A monitor's probe (the console, watch, check) holds the file for a moment: wait up to 5 s
      // for such readers to let go before calling what still holds it a writer.
      let holders = holdersOf(ctx.dbPath);
      for (const until = Date.now() + 5000; holders.length && !ctx.force && Date.now() < until; holders = holdersOf(ctx.dbPath)) await new Promise((res) => setTimeout(res, 100));
      if (holders.length && !ctx.force)
        throw new ExitError(1, 'writers-running', `refused: ${ctx.dbPath} is still open in ${holders.map((h) => `pid ${h.pid} (${h.command})`).join(', ')}; stop it, or pass --force`);
      return `${stopped.length ? `stopped ${stopped.join(', ')}` : 'no writer was running'}${holders.length ? `; --force: still open in pid ${holders.map((h) => h.pid).join(', ')}` : ''}`;
    }
    case step.id === 'safety-copy': {
      const m = safetyCopy(ctx.dbPath, ctx.safetyDir);
      const copied = m.missing ? `no database file existed; recorded in ${ctx.safetyDir}` : `copied ${m.files.map((f) => basename(ctx.dbPath) + f).join(', ')} to ${ctx.safetyDir}`;
      if (ctx.mode.kind === 'merge' || m.missing) return copied;
      // Writers are stopped: what replacing would lose is measured now and shown before the replace.
      if (!existsSync(ctx.tmpPath)) await extractVerified(file, ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`);
      const critical = ctx.criticalTables ?? [];
      const tables = ctx.mode.kind === 'whole' ? critical : ctx.mode.stages.flatMap((st) => st.tables).filter((t) => critical.includes(t));
      const loss = await replaceLoss(ctx.dbPath, ctx.tmpPath, tables, integerKey);
      // A table the file cannot give (corrupt pages): the ids the row-loss ledger knew and the backup
      // does not hold are counted instead — at least those are lost.
      const fromLedger: string[] = [];
      const unread = Object.entries(loss).filter(([, v]) => v === undefined).map(([t]) => t);
      if (unread.length) {
        const { default: Database } = await import('better-sqlite3');
        const b = new Database(ctx.tmpPath, { readonly: true, fileMustExist: true });
        try {
          for (const t of unread) {
            const e = deps.ledger.entry(ctx.database, t);
            if (!e?.key) continue;
            loss[t] = subtractRanges(e.known, islands(b, t, e.key)).map(([lo, hi]): [number, number] => [lo, hi]);
            fromLedger.push(t);
          }
        } finally {
          b.close();
        }
      }
      persist({ ...ctx, replaceLoss: Object.fromEntries(Object.entries(loss).map(([t, v]) => [t, v ?? null])), ...(fromLedger.length ? { replaceLossFromLedger: fromLedger } : {}) });
      return `${copied}; measured what replacing loses (the replace step names it)`;
    }
    case step.id === 'swap': {
      if (!existsSync(ctx.tmpPath)) await extractVerified(file, ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`);
      await swapIn(ctx.tmpPath, ctx.dbPath);
      return `${ctx.dbPath} replaced by backup ${ctx.backupId}`;
    }
    case step.id === 'merge': {
      if (ctx.mode.kind !== 'merge') throw new ExitError(1, 'internal', 'merge step in a run that is not a merge');
      if (!existsSync(ctx.tmpPath)) await extractVerified(file, ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`);
      const counts = await mergeTables(ctx.dbPath, ctx.tmpPath, ctx.mode.tables, ctx.mergeKeys ?? {}, { id: r.id, backupId: ctx.backupId });
      return Object.entries(counts)
        .map(([t, c]) => `${t}: ${c.inserted} rows inserted, ${c.unchanged} already there${c.conflicts ? `, ${c.conflicts} kept in ${conflictsTable(t)} (their key now holds a newer row)` : ''}`)
        .join('; ');
    }
    case step.id.startsWith('stage:'): {
      const name = step.id.slice('stage:'.length);
      const stage = ctx.mode.kind === 'tables' ? ctx.mode.stages.find((s) => s.name === name) : undefined;
      if (!stage) throw new ExitError(1, 'internal', `stage ${name} is not in the plan`);
      if (!existsSync(ctx.tmpPath)) await extractVerified(file, ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`);
      const counts = await restoreTables(ctx.dbPath, ctx.tmpPath, stage.tables, name);
      return `restored ${Object.entries(counts).map(([t, n]) => `${t} (${n} rows)`).join(', ')}`;
    }
    case step.id === 'check': {
      // A whole-file restore renamed the very bytes that passed integrity_check at the verify
      // step: quick_check (one sequential pass, FACTS.md §4) proves the file is that one and
      // readable; a staged restore wrote new pages, so it gets the full integrity_check.
      const rep = await inspectDatabase(ctx.dbPath, undefined, ctx.mode.kind === 'whole');
      if (rep.integrity.length !== 1 || rep.integrity[0] !== 'ok') throw new ExitError(1, 'integrity', `${ctx.dbPath}: ${ctx.mode.kind === 'whole' ? 'quick_check' : 'integrity_check'} failed after the restore (${rep.integrity.slice(0, 2).join('; ')})`);
      if (ctx.mode.kind === 'merge') {
        // The honest check (issue #10): every row of the backup is in the table as it was, or kept
        // in the conflicts table by this run — otherwise the restore is not done.
        if (!existsSync(ctx.tmpPath)) await extractVerified(file, ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`);
        const left = await unmergedRows(ctx.dbPath, ctx.tmpPath, ctx.mode.tables, ctx.mergeKeys ?? {}, r.id);
        const bad = Object.entries(left).filter(([, n]) => n > 0);
        if (bad.length) throw new ExitError(1, 'mismatch', `${ctx.dbPath}: ${bad.map(([t, n]) => `${n} rows of ${t}`).join(', ')} from backup ${ctx.backupId} are neither in the table nor kept as conflicts`);
        const fkNote = rep.fkViolations > ctx.backupFk ? `; WARNING: ${rep.fkViolations} foreign-key violations (PRAGMA foreign_key_check lists them)` : '';
        return `integrity_check ok; every row of the backup's ${ctx.mode.tables.join(', ')} is back or kept as a conflict${fkNote}`;
      }
      const restored = ctx.mode.kind === 'whole'
        ? Object.keys(ctx.backupCounts)
        : ctx.mode.stages.filter((s) => r.run.states[r.run.steps.findIndex((x) => x.id === `stage:${s.name}`)]?.status === 'done').flatMap((s) => s.tables);
      const wrong = restored.filter((t) => rep.rowCounts[t] !== ctx.backupCounts[t]);
      if (wrong.length) throw new ExitError(1, 'mismatch', `${ctx.dbPath}: row counts differ from backup ${ctx.backupId} in ${wrong.map((t) => `${t} (${rep.rowCounts[t] ?? 'missing'} vs ${ctx.backupCounts[t]})`).join(', ')}`);
      if (ctx.mode.kind === 'whole' && rep.fkViolations > ctx.backupFk) throw new ExitError(1, 'foreign-keys', `${ctx.dbPath}: ${rep.fkViolations} foreign-key violations after the restore, ${ctx.backupFk} in the backup`);
      const fkNote = rep.fkViolations > ctx.backupFk ? `; WARNING: ${rep.fkViolations} foreign-key violations (rows of tables not restored point at restored ones)` : '';
      return `${ctx.mode.kind === 'whole' ? 'quick_check' : 'integrity_check'} ok, ${restored.length} tables match the backup's row counts${fkNote}`;
    }
    case step.id === 'ledger':
      return recordLedger(r, deps.ledger);
    case step.id === 'accept-loss': {
      const missing = stillMissing(r, deps.ledger);
      if (missing.length === 0) return 'no row is missing';
      const lines = missing.map((x) => deps.ledger.accept(r.database, x.table, x.missing, r.id));
      return `given up, recorded in the state database: ${lines.join('; ')}`;
    }
    case step.id === 'start-writers': {
      if (ctx.stopped.length === 0) return 'nothing to start';
      let docker: DockerService | undefined;
      for (const name of ctx.stopped) await startWriter(ctx, name, () => (docker ??= dockerFor(ctx)));
      return `started ${ctx.stopped.join(', ')}`;
    }
    case step.id === 'health': {
      if (ctx.stopped.length === 0) return 'no writer to check';
      let docker: DockerService | undefined;
      const notes: string[] = [];
      for (const name of ctx.stopped) {
        if (isCommand(name)) notes.push(`${name.slice(COMMAND.length)}: its start_command succeeded (a command writer has no container health to wait for)`);
        else notes.push(await waitHealthy((docker ??= dockerFor(ctx)), name));
      }
      return notes.join('; ');
    }
    default:
      throw new ExitError(1, 'internal', `unknown step ${step.id}`);
  }
}

/**
 * What a merge covers, resolved against the backup: the chosen tables and their ON DELETE CASCADE
 * children, parents first, each with the key it is matched on (a table with neither a PRIMARY KEY
 * nor a configured merge key is refused); and how many of the ledger's missing rows the backup holds.
 */
async function planMergeFrom(backupFile: string, chosen: readonly string[], configured: Record<string, string[]>, dbPath: string, ledger: RowLedger, database: string): Promise<{ tables: string[]; cascaded: string[]; keys: Record<string, string[]>; holds: string }> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    db.prepare('ATTACH DATABASE ? AS b').run(backupFile);
    const { tables, cascaded } = mergeOrder(db, chosen);
    const keys: Record<string, string[]> = {};
    for (const t of tables) {
      const k = mergeKey(db, t, configured[t]);
      if (!k) throw new ExitError(1, 'no-key', `table ${t} has no PRIMARY KEY and no merge key: a merge cannot tell its rows apart (rowids change with VACUUM); set databases[].merge_keys.${t}, or restore it by replacing (--tables ${t} without --merge)`);
      keys[t] = k;
    }
    const holds = ledger
      .entries(database)
      .filter((e) => e.key && e.missing.length && tables.includes(e.table))
      .map((e) => {
        const key = e.key as string;
        const there = size(intersectRanges(e.missing, islands(db, e.table, key, undefined, undefined, 'b')));
        return `the backup holds ${there} of the ${size(e.missing)} missing rows of ${e.table}`;
      })
      .join('; ');
    return { tables, cascaded, keys, holds };
  } finally {
    db.close();
  }
}

/**
 * The ledger step: before any writer runs again (a writer would reuse the ids), each restored
 * critical table is compared with the backup. Rows the backup held leave the missing ids; rows
 * known before and absent now (written after the backup, replaced away) join them.
 */
async function recordLedger(r: Stored, ledger: RowLedger): Promise<string> {
  const ctx = r.ctx;
  const critical = ctx.criticalTables ?? [];
  const restored =
    ctx.mode.kind === 'whole'
      ? critical
      : ctx.mode.kind === 'merge'
        ? ctx.mode.tables.filter((t) => critical.includes(t))
        : ctx.mode.stages.filter((s) => r.run.states[r.run.steps.findIndex((x) => x.id === `stage:${s.name}`)]?.status === 'done').flatMap((s) => s.tables).filter((t) => critical.includes(t));
  if (restored.length === 0) return 'no critical table was restored';
  const { default: Database } = await import('better-sqlite3');
  const live = new Database(ctx.dbPath, { readonly: true, fileMustExist: true, timeout: 10_000 });
  const notes: string[] = [];
  try {
    if (ctx.mode.kind === 'merge') {
      if (!existsSync(ctx.tmpPath)) await extractVerified(join(ctx.backupDir, `${ctx.backupId}.db.br`), ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`);
      live.prepare('ATTACH DATABASE ? AS b').run(ctx.tmpPath);
    }
    for (const t of restored) {
      const key = integerKey(live, t);
      const count = (live.prepare(`SELECT count(*) AS n FROM "${t.replace(/"/g, '""')}"`).get() as { n: number }).n;
      const present = key ? islands(live, t, key) : [];
      // A replace leaves exactly the backup's rows; a merge's backup is attached as `b`.
      const backupIds = key ? (ctx.mode.kind === 'merge' ? islands(live, t, key, undefined, undefined, 'b') : present) : [];
      const x = ledger.restored(ctx.database, t, key, present, backupIds, count, r.id, Date.now(), ctx.mode.kind === 'merge' ? [] : (ctx.replaceLoss?.[t] ?? []));
      if (!key) {
        notes.push(`${t}: ${count} rows (no integer key: counted, not tracked by id)`);
        continue;
      }
      const parts = [`${size(x.recovered)} missing rows back${x.recovered.length ? ` (${key} ${formatRanges(x.recovered)})` : ''}`];
      if (x.lostByRestore.length) parts.push(`${size(x.lostByRestore)} rows written after the backup are gone (${key} ${formatRanges(x.lostByRestore)})`);
      parts.push(x.missing.length ? `${size(x.missing)} still missing (${key} ${formatRanges(x.missing)})` : 'none missing');
      notes.push(`${t}: ${parts.join(', ')}`);
    }
  } finally {
    live.close();
  }
  return notes.join('; ');
}

/** "replacing loses 51 rows of trades (id 2311–2361)" / "replacing loses no row of a critical table". */
function describeReplaceLoss(loss: Record<string, [number, number][] | null | undefined>, fromLedger: readonly string[] = []): string {
  const parts = Object.entries(loss).flatMap(([t, r]) =>
    r === undefined || r === null
      ? [`${t}: cannot be read and the row-loss ledger knows no ids of it, so what it loses cannot be counted`]
      : r.length
        ? [`${fromLedger.includes(t) ? 'at least ' : ''}${size(r)} rows of ${t} (id ${formatRanges(r)})${fromLedger.includes(t) ? ' — the file cannot be read; counted from the ids the row-loss ledger knew' : ''}`]
        : [],
  );
  return parts.length ? `replacing loses ${parts.join('; ')} — rows written or changed since the backup` : 'replacing loses no row of a critical table';
}

/** The critical tables' rows still missing after this run, per the ledger. */
function stillMissing(r: Stored, ledger: RowLedger): { table: string; key: string; missing: Range[] }[] {
  const critical = r.ctx.criticalTables ?? [];
  return ledger.entries(r.database).flatMap((e) => (e.key && e.missing.length && critical.includes(e.table) ? [{ table: e.table, key: e.key, missing: [...e.missing] }] : []));
}

/** The question of the accept-loss step: exactly which rows would be given up. */
function lossQuestion(missing: { table: string; key: string; missing: Range[] }[]): string {
  return `give up ${missing.map((x) => `${size(x.missing)} rows of ${x.table} (${x.key} ${formatRanges(x.missing)})`).join(' and ')}? This restore did not bring them back (the backup used does not hold them, or their stage was skipped; rows written after the monitor's last look are not counted). y gives them up (recorded; the row-loss alert resolves) · s skips (the alert keeps firing until they are found)`;
}

/** Polls a container until it runs and its health check (if any) passes; 60 s at most. */
async function waitHealthy(d: DockerService, name: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const i = await d.inspect(name);
    if (!i.ok) throw new ExitError(1, 'docker', i.error.message);
    const c = i.value;
    if (c.state === 'running' && (c.health === 'healthy' || c.health === 'none')) return `${name} running${c.health === 'healthy' ? ', healthy' : ''}`;
    if (c.state === 'exited' || c.state === 'dead') throw new ExitError(1, 'unhealthy', `${name} exited (code ${c.exitCode}) after the restore`);
    if (Date.now() > deadline) throw new ExitError(1, 'unhealthy', `${name} is ${c.state}${c.health !== 'none' ? `, ${c.health}` : ''} after ${timeoutMs / 1000} s`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** Drives a run to its end with the reducer, journaling before and after every step. */
async function drive(journal: RestoreJournal, initial: Stored, io: Io, audit: AuditFn, deps: Deps): Promise<number> {
  let r = initial;
  const total = r.run.steps.length;
  for (;;) {
    const a = nextAction(r.run, io.interactive);
    if (a.kind === 'finished') break;
    const n = r.run.cursor + 1;
    // Missing rows are given up only by a person's y, or by --accept-loss: never silently by --yes.
    if (a.step.id === 'accept-loss' && (a.kind === 'ask' || a.kind === 'execute')) {
      const missing = stillMissing(r, deps.ledger);
      if (missing.length && a.kind === 'execute' && !r.ctx.acceptLoss) {
        const reason = `not given up without a person's answer (--yes never gives up rows; pass --accept-loss to): ${missing.map((x) => `${size(x.missing)} rows of ${x.table} (${x.key} ${formatRanges(x.missing)})`).join(', ')}`;
        r = save(journal, r, { type: 'skip', at: Date.now(), reason }, a.step.id, reason);
        io.say(`[${n}/${total}] ${a.step.title}: skipped — ${reason}`);
        continue;
      }
      if (missing.length === 0 && a.kind === 'ask') {
        r = save(journal, r, { type: 'start', at: Date.now() }, a.step.id);
        r = save(journal, r, { type: 'succeed', at: Date.now(), note: 'no row is missing' }, a.step.id, 'no row is missing');
        io.say(`[${n}/${total}] ${a.step.title}: no row is missing`);
        continue;
      }
      if (a.kind === 'ask') {
        r = save(journal, r, { type: 'ask', at: Date.now() }, a.step.id);
        io.say(`[${n}/${total}] ${a.step.title}`);
        const ans = await io.ask(lossQuestion(missing), true);
        r = answered(journal, r, ans, a.step, n, total, io, 'the rows stay missing; the row-loss alert keeps firing');
        continue;
      }
    }
    if (a.kind === 'ask') {
      r = save(journal, r, { type: 'ask', at: Date.now() }, a.step.id);
      // Before a replace, what it loses (measured after the safety copy) is part of the question.
      const loses = (a.step.id === 'swap' || a.step.id.startsWith('stage:')) && r.ctx.replaceLoss ? ` — ${describeReplaceLoss(stageLoss(r.ctx, a.step.id), r.ctx.replaceLossFromLedger)}` : '';
      io.say(`[${n}/${total}] ${a.step.title}: ${a.step.detail}${loses}`);
      const ans = await io.ask(a.step.optional ? 'run this stage? y runs it · s skips it (its tables stay as they are) · n stops the restore here' : 'run this step?', a.step.optional);
      r = answered(journal, r, ans, a.step, n, total, io, 'its tables stay as they are');
      continue;
    }
    if (a.kind === 'execute') r = save(journal, r, { type: 'start', at: Date.now() }, a.step.id, a.step.detail);
    const step = a.step;
    pausePoint(`before:${step.id}`);
    try {
      const note = await execute(
        step,
        r,
        (ctx) => {
          r = { ...r, ctx };
          journal.save(r, { type: 'context', at: Date.now() }, step.id);
        },
        deps,
      );
      r = save(journal, r, { type: 'succeed', at: Date.now(), note }, step.id, note);
      if (step.mutating || step.id === 'accept-loss') audit(`restore.${step.id}`, r.database, 'ok', note);
      io.say(`[${n}/${total}] ${step.title}: ${note}`);
      pausePoint(`after:${step.id}`);
    } catch (e) {
      const ex = e instanceof ExitError ? e : new ExitError(1, 'restore', `${step.title}: ${(e as Error).message}`);
      r = save(journal, r, { type: 'fail', at: Date.now(), error: ex.message }, step.id, ex.message);
      audit(`restore.${step.id}`, r.database, 'failed', ex.message);
      return finishFailed(journal, r, ex, io, audit);
    }
  }
  const phase = r.run.phase;
  if (phase.kind === 'completed') {
    rmSync(r.ctx.tmpPath, { force: true });
    // A skipped step is not "completed" (issue #10): the journal, the summary and the exit code say so.
    const skipped = skippedSteps(r.run);
    const what = skipped.map((x) => `${x.step.title} (${x.reason})`).join('; ');
    r = { ...r, status: skipped.length ? 'partial' : 'completed' };
    journal.save(r, { type: skipped.length ? 'finished-with-skips' : 'completed', at: Date.now() }, '-', skipped.length ? what : undefined);
    audit('restore', r.database, 'ok', `run ${r.id} from ${r.backupId} ${skipped.length ? `finished with skipped steps: ${what}` : 'completed'}; safety copy kept at ${r.ctx.safetyDir}`);
    if (io.json) outJson(report(r));
    else if (skipped.length) io.say(`restore ${r.id} finished, NOT complete — skipped: ${what}; the previous database is kept at ${r.ctx.safetyDir}`);
    else io.say(`restore ${r.id} completed; the previous database is kept at ${r.ctx.safetyDir}`);
    return skipped.length ? 3 : 0;
  }
  if (phase.kind === 'paused') {
    const changed = startedSteps(r.run).some((id) => id !== 'choose' && id !== 'verify');
    if (!changed) {
      rmSync(r.ctx.tmpPath, { force: true });
      r = { ...r, status: 'aborted' };
      journal.save(r, { type: 'aborted', at: Date.now() }, '-', phase.reason);
      audit('restore', r.database, 'cancelled', phase.reason);
      throw new ExitError(1, 'cancelled', `restore of ${r.database} cancelled (${phase.reason}); nothing was changed`);
    }
    audit('restore', r.database, 'cancelled', `paused: ${phase.reason}`);
    throw new ExitError(1, 'paused', `restore ${r.id} of ${r.database} paused (${phase.reason}); continue with: opsdeck restore --db ${r.database} --resume, or undo with --rollback (safety copy: ${r.ctx.safetyDir})`);
  }
  throw new ExitError(1, 'restore', `restore ${r.id} ended as ${phase.kind}`);
}

/** The replace loss of the tables one step replaces. */
function stageLoss(ctx: RestoreCtx, stepId: string): Record<string, [number, number][] | null> {
  const all = ctx.replaceLoss ?? {};
  if (stepId === 'swap' || ctx.mode.kind !== 'tables') return all;
  const stage = ctx.mode.stages.find((s) => `stage:${s.name}` === stepId);
  return Object.fromEntries(Object.entries(all).filter(([t]) => stage?.tables.includes(t)));
}

/** Journals a person's answer to a step's question: y runs it, s skips it (optional steps), n stops the run. */
function answered(journal: RestoreJournal, r: Stored, ans: Answer, step: StepDef, n: number, total: number, io: Io, skipMeans: string): Stored {
  const at = Date.now();
  if (ans === 'y') return save(journal, r, { type: 'confirm', at }, step.id);
  if (ans === 's' && step.optional) {
    const reason = `skipped by the operator: ${skipMeans}`;
    io.say(`[${n}/${total}] ${step.title}: SKIPPED — ${skipMeans}`);
    return save(journal, r, { type: 'skip', at, reason }, step.id, reason);
  }
  return save(journal, r, { type: 'decline', at }, step.id);
}

/**
 * A failed step. Before the database was touched, the run undoes itself (writers started again)
 * and closes; after, the run stays open for --resume or --rollback.
 */
async function finishFailed(journal: RestoreJournal, r: Stored, ex: ExitError, io: Io, audit: AuditFn): Promise<number> {
  const touched = startedSteps(r.run).some(changesDatabase);
  if (!touched) {
    const restarted = await startStopped(r.ctx).catch((e: unknown) => `could not start ${r.ctx.stopped.join(', ')}: ${(e as Error).message}`);
    rmSync(r.ctx.tmpPath, { force: true });
    const closed: Stored = { ...r, status: 'failed' };
    journal.save(closed, { type: 'closed', at: Date.now() }, '-', `nothing changed; ${restarted}`);
    audit('restore', r.database, 'failed', ex.message);
    throw new ExitError(ex.exitCode, ex.code, `${ex.message} (restore of ${r.database} stopped; the database was not changed${r.ctx.stopped.length ? `; ${restarted}` : ''})`);
  }
  io.say(`restore ${r.id} failed at a step after the database was changed`);
  throw new ExitError(ex.exitCode, ex.code, `${ex.message} — restore ${r.id} is unfinished: retry with opsdeck restore --db ${r.database} --resume, or put the old database back with --rollback (safety copy: ${r.ctx.safetyDir})`);
}

async function startStopped(ctx: RestoreCtx): Promise<string> {
  if (ctx.stopped.length === 0) return 'no writer was stopped';
  let docker: DockerService | undefined;
  for (const name of ctx.stopped) await startWriter(ctx, name, () => (docker ??= dockerFor(ctx)));
  return `started ${ctx.stopped.join(', ')} again`;
}

/**
 * Undoes a run: writers stopped, the safety copy put back if the database was touched, writers
 * started again. Idempotent: a rollback that was killed is finished by running it again.
 */
async function rollback(journal: RestoreJournal, initial: Stored, io: Io, audit: AuditFn): Promise<number> {
  let r: Stored = { ...initial, ctx: { ...initial.ctx, rollingBack: true } };
  journal.save(r, { type: 'rollback-started', at: Date.now() }, '-');
  if (io.interactive && !(await io.ask(`put back the database ${r.dbPath} as it was before restore ${r.id} (from ${r.ctx.safetyDir})?`))) {
    throw new ExitError(1, 'cancelled', `rollback of ${r.id} cancelled; the run is still unfinished`);
  }
  pausePoint('rollback:start');
  const touched = startedSteps(r.run).some(changesDatabase);
  try {
    if (touched) {
      if (r.ctx.writers.length) {
        let docker: DockerService | undefined;
        for (const w of r.ctx.writers) {
          if (w.stopCommand) {
            await runWriterCommand(w, 'stop', w.service);
            continue;
          }
          const d = (docker ??= dockerFor(r.ctx));
          const s = await d.stop(await containerOf(d, w));
          if (!s.ok) throw new ExitError(1, 'docker', `writer ${w.service}: ${s.error.message}`);
        }
      }
      await putBack(r.ctx.safetyDir, r.dbPath);
      io.say(`put back ${r.dbPath} from ${r.ctx.safetyDir}`);
    }
    const started = await startStopped(r.ctx);
    io.say(started);
  } catch (e) {
    const ex = e instanceof ExitError ? e : new ExitError(1, 'rollback', (e as Error).message);
    audit('restore.rollback', r.database, 'failed', ex.message);
    throw new ExitError(ex.exitCode, ex.code, `${ex.message} — rollback of ${r.id} unfinished; run opsdeck restore --db ${r.database} --rollback again (safety copy: ${r.ctx.safetyDir})`);
  }
  rmSync(r.ctx.tmpPath, { force: true });
  r = { ...r, status: 'rolled-back', run: reduceRun(r.run, { type: 'rolled-back', at: Date.now() }) };
  journal.save(r, { type: 'rolled-back', at: Date.now() }, '-');
  audit('restore.rollback', r.database, 'ok', `run ${r.id}${touched ? `: database put back from ${r.ctx.safetyDir}` : ': the database had not been changed'}`);
  if (io.json) outJson(report(r));
  else io.say(`restore ${r.id} rolled back; the safety copy stays at ${r.ctx.safetyDir}`);
  return 0;
}

function report(r: Stored): unknown {
  return {
    run: r.id,
    database: r.database,
    path: r.dbPath,
    backup: r.backupId,
    status: r.status,
    safetyCopy: r.ctx.safetyDir,
    steps: r.run.steps.map((s, i) => ({ id: s.id, title: s.title, ...r.run.states[i] })),
  };
}
