import { resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { ExitError, UsageError } from '../domain/errors.js';
import { formatBytes } from '../domain/format.js';
import { printable } from '../domain/printable.js';
import { RunJournal } from '../engine/journal.js';
import { PolicyOperator, ProtocolOperator, TerminalOperator, type Operator } from '../engine/operator.js';
import { findOpen, redactCtx, resumeRestore, rollbackRestore, startRestore, type AuditFn, type Engine } from '../runbooks/restore.js';
import type { RestoreCtx } from '../runbooks/restore-steps.js';
import { recordAudit } from '../state/acks.js';
import { RowLedger } from '../state/row-ledger.js';
import { safetyPolicy } from '../domain/retention.js';
import { pruneSafetyCopies } from '../state/safety-copies.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { targets, type BackupOptions } from './backup.js';
import { writerHealthOf } from '../services/writers.js';
import { isKnown } from './exit-codes.js';
import { err, out, outJson, redact, useSecrets } from './output.js';
import { trace } from './trace.js';

// `opsdeck restore`: flags, the state database and who answers (issue #14). The restore itself is
// the engine's first runbook: src/runbooks/restore.ts (start, resume, rollback, outcome) and
// src/runbooks/restore-steps.ts (its steps), driven by src/engine/driver.ts.

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
  /** Issue #27: run integrity_check and foreign_key_check on a backup even when it passed them when it was verified. */
  fullVerify?: boolean;
  /** Driven by the console: one JSON line per message or question on stdout, answers on stdin. */
  protocol?: boolean;
}

/**
 * Who answers the run's questions: the console over the protocol (`--protocol`), a person at this
 * terminal, or — with --yes — a policy that runs every step unattended (never giving up rows).
 */
function operatorFor(g: RestoreOptions, interactive: boolean, onInterrupt: () => void): Operator {
  const say = (text: string) => {
    if (g.protocol) process.stdout.write(`${JSON.stringify({ say: redact(text) })}\n`);
    else if (!g.json) out(text);
  };
  if (!interactive) return new PolicyOperator(say);
  if (g.protocol) return new ProtocolOperator(process.stdin, process.stdout, redact);
  // Written by readline, not out(): redacted and escaped here (a rollback's question names paths).
  return new TerminalOperator(say, { output: g.json ? process.stderr : process.stdout, prompt: (t) => printable(redact(t)), onInterrupt });
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
  trace('restore: configuration loaded');
  const sdir = stateDir(loaded.config.state_dir);
  const state = await openStateDb(sdir).catch((e: unknown) => {
    throw new ExitError(1, 'state', `state database in ${sdir}: ${(e as Error).message}`);
  });
  trace('restore: state database open');
  try {
    const journal = new RunJournal(state, { redactCtx: (c) => redactCtx(c as RestoreCtx) });
    const audit: AuditFn = (action, target, outcome, detail) => recordAudit(state, { action, target, outcome, ...(detail !== undefined ? { detail } : {}) });
    const what = g.resume ? 'restore --resume' : g.rollback ? 'restore --rollback' : 'restore';
    if (g.dryRun && (g.resume || g.rollback)) return restoreContinuePlan(journal, loaded, g);
    if (g.readOnly && !g.dryRun) {
      audit('restore', g.db ?? '(all)', 'refused', '--read-only');
      throw new ExitError(1, 'read-only', `${what} changes the database and stops services; refused in --read-only mode`);
    }
    // An unknown --db is said first (operator trial): not hidden behind "asks before each step".
    if (g.db) targets(loaded, g);
    const interactive = !g.yes && !g.dryRun;
    if (interactive && !process.stdin.isTTY && !g.protocol) throw new UsageError(`${what} asks before each step: run it in a terminal, or pass --yes (or --dry-run to preview)`);
    // Ctrl+C (a SIGINT, or the key once a question has put the terminal in raw mode): the run stops
    // after the step under way, journaled, and says what it left stopped and how to go on; a second
    // SIGINT kills at once (the journal still resumes it).
    const interrupt = new AbortController();
    const onInterrupt = () => {
      if (interrupt.signal.aborted) {
        process.removeListener('SIGINT', onSigint);
        process.kill(process.pid, 'SIGINT');
        return;
      }
      interrupt.abort();
      err(`opsdeck: Ctrl+C: the ${what} stops after the step under way (journaled; Ctrl+C again kills it now)`);
    };
    const onSigint = () => {
      process.removeListener('SIGINT', onSigint);
      onInterrupt();
    };
    process.on('SIGINT', onSigint);
    const op = operatorFor(g, interactive, onInterrupt);
    const e: Engine = { state, journal, op, audit, deps: { ledger: new RowLedger(state), writerHealth: writerHealthOf(loaded.config.services) }, json: !!g.json, signal: interrupt.signal, ...(loaded.file ? { configFlag: ` --config ${resolve(loaded.file)}` } : {}) };
    try {
      if (g.rollback) return await rollbackRestore(e, loaded, g);
      if (g.resume) return await resumeRestore(e, loaded, g);
      return await startRestore(e, loaded, g);
    } finally {
      process.removeListener('SIGINT', onSigint);
      op.close();
      trace('restore: run ended');
      if (!g.dryRun) pruneSafety(state, sdir, loaded, audit);
      trace('restore: old safety copies pruned');
    }
  } catch (e) {
    // Journal writes can fail too (a full state folder): one line, never a stack trace.
    if (isKnown(e)) throw e;
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
  const policy = safetyPolicy(loaded.config.backup);
  try {
    for (const c of pruneSafetyCopies(sdir, state, policy)) audit('restore.safety-prune', c.id, 'ok', `${c.database ?? '?'}: ${formatBytes(c.sizeBytes)} removed (keep_safety_copies ${policy.keepLast}, keep_safety_days ${policy.keepDays})`);
  } catch (e) {
    err(`opsdeck: warning: old safety copies not removed: ${(e as Error).message}`);
  }
}

/**
 * `restore --resume --dry-run` / `--rollback --dry-run`: what continuing the open run would do, and
 * nothing else (before, a dry run took the unattended path and really resumed or rolled back).
 */
function restoreContinuePlan(journal: RunJournal, loaded: LoadedConfig, g: RestoreOptions): number {
  const r = findOpen(journal, loaded, g);
  const lines = g.rollback
    ? [`put back ${r.ctx.dbPath} as it was before restore ${r.id}, from ${r.ctx.safetyDir}: the writers stopped, the file as it is now kept in ${r.ctx.safetyDir}/before-rollback, the safety copy put back, rows written since the restore merged back in, the writers started again`]
    : r.run.steps.flatMap((s, i) => {
        const st = r.run.states[i]?.status ?? 'pending';
        return st === 'done' || st === 'skipped' ? [] : [`${s.title}: ${st === 'pending' ? s.detail : `runs again (it was ${st} when the run stopped)`}`];
      });
  if (g.json) outJson({ run: r.id, database: r.subject, dryRun: true, action: g.rollback ? 'rollback' : 'resume', steps: lines });
  else {
    out(`${g.rollback ? 'rollback' : 'resume'} of restore ${r.id} (${r.subject}) — dry run, nothing changed:`);
    lines.forEach((l, i) => out(`  ${i + 1}. ${l}`));
  }
  return 0;
}
