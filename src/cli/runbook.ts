import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { redactDeep } from '../config/secrets.js';
import { ExitError, UsageError } from '../domain/errors.js';
import { formatDuration } from '../domain/format.js';
import { printable } from '../domain/printable.js';
import { runbookForCheck } from '../domain/runbook-map.js';
import { startedSteps, type StepState } from '../domain/runbook.js';
import type { GenericDeps } from '../engine/actions.js';
import { PolicyOperator, ProtocolOperator, TerminalOperator, type Operator } from '../engine/operator.js';
import { encodeMessage } from '../engine/protocol.js';
import { findRunbook, loadCatalog, type Catalog } from '../runbooks/catalog.js';
import { checkActions } from '../runbooks/render.js';
import { ACTIONS } from '../runbooks/registry.js';
import { templateVars } from '../runbooks/template.js';
import { dryRun, findOpenRun, ObservedJournal, progressOf, resumeRunbook, rollbackRunbook, startRunbook, type AuditFn, type FileRunCtx, type RunbookEnv } from '../runbooks/runner.js';
import type { RunbookSpec } from '../runbooks/spec.js';
import { recordAudit } from '../state/acks.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { runChecks } from './check.js';
import { isKnown } from './exit-codes.js';
import { out, outJson, redact, type GlobalOptions } from './output.js';

// `opsdeck runbook list | show NAME | run NAME|FILE | status [RUN] | resume [RUN] | rollback [RUN]`
// (issue #16): flags, the state database, who answers. The runs themselves are
// src/runbooks/runner.ts on the engine; `restore-database` is the restore's runbook, whose front
// door stays `opsdeck restore` (this command hands it over).

/** Options of `opsdeck runbook`. */
export interface RunbookOptions extends GlobalOptions {
  target?: string;
  check?: string;
  param?: string[];
  dryRun?: boolean;
  yes?: boolean;
  /** Driven by the console: JSON lines out (messages, questions, progress), answers in. */
  protocol?: boolean;
}

function params(list: readonly string[] | undefined): Record<string, string> {
  const outp: Record<string, string> = {};
  for (const p of list ?? []) {
    const i = p.indexOf('=');
    if (i < 1) throw new UsageError(`--param ${p}: expected NAME=VALUE`);
    outp[p.slice(0, i)] = p.slice(i + 1);
  }
  return outp;
}

function operatorFor(g: RunbookOptions, interactive: boolean): Operator {
  const say = (text: string) => {
    if (g.protocol) process.stdout.write(encodeMessage({ say: redact(text) }));
    else if (!g.json) out(text);
  };
  if (!interactive) return new PolicyOperator(say);
  if (g.protocol) return new ProtocolOperator(process.stdin, process.stdout, redact);
  return new TerminalOperator(say, { output: g.json ? process.stderr : process.stdout, prompt: (t) => printable(redact(t)) });
}

function showList(c: Catalog, json: boolean): number {
  if (json) {
    outJson({ runbooks: c.entries });
    return 0;
  }
  const w = Math.max(4, ...c.entries.map((e) => e.name.length));
  out(`${'NAME'.padEnd(w)}  TARGET    SOURCE                  TITLE`);
  for (const e of c.entries) out(`${e.name.padEnd(w)}  ${e.target.padEnd(8)}  ${(e.source === 'user' ? (e.replaces ? 'user (replaces built-in)' : 'user') : 'built-in').padEnd(22)}  ${e.title}`);
  return 0;
}

function showSpec(spec: RunbookSpec, file: string, json: boolean): number {
  checkActions(spec, file);
  if (json) {
    outJson({ ...spec, file });
    return 0;
  }
  out(`${spec.name} — ${spec.title}\n${spec.description ? `${spec.description}\n` : ''}target: ${spec.target}   file: ${file}`);
  if (spec.builtin === 'restore') out('steps: the restore runbook (opsdeck restore --help): verify the backup, stop writers, safety copy, merge / whole file / staged tables, check, start writers');
  spec.steps.forEach((s, i) => {
    const what = s.exec !== undefined ? `exec ${typeof s.exec === 'string' ? `(shell) ${s.exec}` : JSON.stringify(s.exec)}` : `${s.action ?? ''} ${Object.keys(s.params).length ? JSON.stringify(s.params) : ''}`;
    const onFailure = typeof s.on_failure === 'string' ? s.on_failure : `retry ${s.on_failure.retry.attempts}× (backoff ${formatDuration(s.on_failure.retry.backoff, 'compact')}), then ${s.on_failure.then}`;
    out(`${String(i + 1).padStart(2)}. ${s.id} — ${s.title}\n    why: ${s.why}\n    does: ${what}${s.verify ? `\n    verify: ${s.verify.action} ${JSON.stringify(s.verify.params)}` : ''}${s.undo ? `\n    undo: ${s.undo.action} ${JSON.stringify(s.undo.params)}` : ''}\n    on failure: ${onFailure}${s.skippable ? '' : ' · cannot be skipped'}`);
  });
  return 0;
}

function stateText(s: StepState): string {
  switch (s.status) {
    case 'done':
      return `done in ${formatDuration(s.endedAt - s.startedAt, 'compact')}${s.attempt && s.attempt > 1 ? ` (attempt ${s.attempt})` : ''}`;
    case 'failed':
      return `FAILED: ${s.error}`;
    case 'skipped':
      return `skipped: ${s.reason}`;
    case 'running':
    case 'verifying':
      return `${s.status} since ${new Date(s.startedAt).toISOString()}`;
    case 'confirming':
      return 'waiting for a person';
    case 'pending':
      return 'pending';
  }
}

function showStatus(journal: ObservedJournal, id: string | undefined, json: boolean): number {
  if (id === undefined) {
    const runs = journal.recent<FileRunCtx>(20);
    if (json) {
      outJson({ runs: runs.map((r) => ({ run: r.id, runbook: r.kind, subject: r.subject, status: r.status, cursor: r.run.cursor, steps: r.run.steps.length, startedAt: r.startedAt, updatedAt: r.updatedAt })) });
      return 0;
    }
    if (!runs.length) out('no runs in the journal');
    for (const r of runs) out(`${r.id}  ${r.kind}  ${r.subject}  ${r.status === 'failed' && journal.lines(r.id).some((l) => l.event === 'undone') ? 'failed (undone)' : r.status}  step ${Math.min(r.run.cursor + 1, r.run.steps.length)}/${r.run.steps.length}  ${new Date(r.updatedAt).toISOString()}`);
    return 0;
  }
  const r = journal.get<FileRunCtx>(id);
  if (!r) throw new ExitError(1, 'not-found', `run ${id}: not in the journal (opsdeck runbook status lists the runs)`);
  // A step a rollback undid still reads `done` in its state; the journal's `undone` line says what
  // the undo did (an operator's trial read "done" for a step whose effect was gone).
  const undone = new Map(journal.lines(r.id).filter((l) => l.event === 'undone').map((l) => [l.step, l.detail ?? '']));
  const rolledBack = undone.size > 0 && r.status !== 'rolled-back';
  if (json) {
    outJson({ ...progressOf(r), status: r.status, ...(rolledBack ? { rolledBack: true } : {}), undone: Object.fromEntries(undone), startedAt: r.startedAt, updatedAt: r.updatedAt });
    return 0;
  }
  out(`${r.id}: ${r.kind} on ${r.subject} — ${r.status}${rolledBack ? ', its started steps undone' : ''}${r.status === 'open' ? ` (${r.hint})` : ''}`);
  r.run.steps.forEach((s, i) => out(`${String(i + 1).padStart(2)}. ${s.title}: ${stateText(r.run.states[i] ?? { status: 'pending' })}${undone.has(s.id) ? ` — UNDONE: ${undone.get(s.id) ?? ''}` : ''}`));
  return 0;
}

/**
 * `resume --dry-run` / `rollback --dry-run`: what continuing an open run would do, running nothing —
 * the steps a resume runs (the interrupted one again), or the started steps a rollback undoes, last
 * first, each with its undo (or "no undo: its effect stays").
 */
function continuePlan(journal: ObservedJournal, catalog: Catalog, action: 'resume' | 'rollback', id: string | undefined, check: string | undefined, json: boolean): number {
  const r = findOpenRun(journal, id, id === undefined ? check : undefined);
  const spec = findRunbook(catalog, r.ctx.file ?? r.ctx.runbook).spec;
  // A step's `undo:` in the file, else its action's own undo (service.stop starts the service again).
  const undoOf = (stepId: string) => {
    // The undo as the run rendered it when it started (its target's names, not `{{…}}` templates).
    const ran = r.run.steps.find((s) => s.id === stepId);
    if (ran?.undoWith) return { action: ran.undoWith.action, params: ran.undoWith.params ?? {} };
    const st = spec.steps.find((s) => s.id === stepId);
    if (st?.undo) return st.undo;
    return st?.action && ACTIONS[st.action]?.undo ? { action: `${st.action}'s own undo`, params: {} } : undefined;
  };
  const started = startedSteps(r.run);
  const plan =
    action === 'rollback'
      ? [...started].reverse().map((stepId) => {
          const u = undoOf(stepId);
          const title = r.run.steps.find((s) => s.id === stepId)?.title ?? stepId;
          return { step: stepId, title, does: u ? `undo: ${u.action}${Object.keys(u.params).length ? ` ${JSON.stringify(u.params)}` : ''}` : 'no undo: its effect stays' };
        })
      : r.run.steps.flatMap((s, i) => {
          const st = r.run.states[i]?.status ?? 'pending';
          return st === 'done' || st === 'skipped' ? [] : [{ step: s.id, title: s.title, does: st === 'pending' ? 'runs' : `runs again (it was ${st} when the run stopped)` }];
        });
  if (json) outJson({ run: r.id, runbook: r.kind, subject: r.subject, action, dryRun: true, steps: plan });
  else {
    out(`${action} of ${r.id} (${r.kind} on ${r.subject}) — dry run, nothing is run:`);
    if (!plan.length) out(action === 'rollback' ? '  no step has started: nothing to undo' : '  no step is left');
    plan.forEach((p, i) => out(`${String(i + 1).padStart(2)}. ${p.title}: ${p.does}`));
  }
  return 0;
}

const configFlagOf = (loaded: LoadedConfig) => (loaded.file ? ` --config ${resolve(loaded.file)}` : '');

/** The id of an unfinished run of this runbook on this target, if the state database (when there is one) holds one. */
async function unfinishedRun(loaded: LoadedConfig, runbook: string, targetKey: string): Promise<string | undefined> {
  const sdir = stateDir(loaded.config.state_dir);
  if (!existsSync(join(sdir, 'state.db'))) return undefined; // a dry run never creates the state folder
  const state = await openStateDb(sdir).catch(() => undefined);
  if (!state) return undefined;
  try {
    return new ObservedJournal(state, () => undefined).open(runbook, targetKey)[0]?.id;
  } finally {
    state.close();
  }
}

/**
 * Refuses a `--param` the runbook never reads (a typo would otherwise be ignored and the step run
 * with its default — an operator's trial: `--param revison=v2` updated to the newest revision).
 */
function checkParamNames(spec: RunbookSpec, p: Record<string, string>): void {
  const known = spec.builtin === 'restore' ? ['mode'] : [...new Set(spec.steps.flatMap((s) => templateVars(s)).filter((v) => v.startsWith('param.')).map((v) => v.slice('param.'.length)))];
  const unknown = Object.keys(p).filter((k) => !known.includes(k));
  if (unknown.length) throw new UsageError(`--param ${unknown.join(', ')}: ${spec.name} reads no such parameter (expected ${known.length ? `one of: ${known.join(', ')}` : 'none: it takes no --param'})`);
}

/** Hands `restore-database` to the restore command, its front door. */
async function restoreDatabase(g: RunbookOptions, loaded: LoadedConfig, p: Record<string, string>): Promise<number> {
  const db = g.target ?? (loaded.config.databases.length === 1 ? loaded.config.databases[0]?.name : undefined);
  if (!db) throw new UsageError(`restore-database acts on a database: pass --target NAME (expected one of: ${loaded.config.databases.map((d) => d.name).join(', ')})`);
  const mode = p.mode ?? (g.check?.endsWith(':rows') ? 'merge' : 'whole');
  if (!['merge', 'whole', 'staged'].includes(mode)) throw new UsageError(`--param mode=${mode}: expected merge, whole or staged`);
  const { restoreCommand } = await import('./restore.js');
  return restoreCommand({ ...g, db, ...(mode === 'merge' ? { merge: true } : mode === 'staged' ? { tables: 'critical' } : {}) });
}

/** The runbook and target an alert's check maps to (`run --check ID` without a name). */
async function mapped(loaded: LoadedConfig, check: string): Promise<{ name: string; target: string }> {
  const { report } = await runChecks({ config: loaded.file });
  const r = report.checks.find((c) => c.id === check);
  if (!r) throw new UsageError(`--check ${check}: no such check in this configuration (opsdeck check lists them)`);
  const c = loaded.config;
  const choice = runbookForCheck(r, { services: c.services.map((s) => s.name), endpoints: c.endpoints.map((e) => e.name), redis: c.redis.map((x) => x.name), databases: c.databases.map((d) => d.name), pairs: Object.fromEntries(c.failover.pairs.map((p) => [p.name, p.primary])) }, c.runbooks.map);
  if (!choice) throw new UsageError(`--check ${check}: no runbook answers it (map one in runbooks.map, or name one: opsdeck runbook list)`);
  return { name: choice.runbook, target: choice.target.name };
}

/**
 * Exit codes: 0 done, 1 failed / refused / cancelled / paused, 3 finished with a step skipped, 64
 * usage, 78 config (a bad or unsafe runbook file).
 */
// eslint-disable-next-line complexity -- one dispatch over six subcommands, each a few lines; the work is in the functions above and src/runbooks/runner.ts
export async function runbookCommand(action: string, arg: string | undefined, g: RunbookOptions): Promise<number> {
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  const catalog = loadCatalog(loaded.config);
  const json = !!g.json;
  if (action === 'list') return showList(catalog, json);
  if (action === 'show') {
    if (!arg) throw new UsageError('runbook show NAME: name a runbook (opsdeck runbook list)');
    const found = findRunbook(catalog, arg);
    return showSpec(found.spec, found.file ?? catalog.entries.find((e) => e.name === arg)?.file ?? arg, json);
  }
  if (!['run', 'status', 'resume', 'rollback'].includes(action)) throw new UsageError(`runbook ${action}: unknown action (expected list, show, run, status, resume or rollback)`);
  const p = params(g.param);
  let name = arg;
  if (action === 'run' && !name) {
    if (!g.check) throw new UsageError('runbook run NAME|FILE: name a runbook (opsdeck runbook list), or pass --check ID to run the one its alert maps to');
    const m = await mapped(loaded, g.check);
    name = m.name;
    g.target ??= m.target;
  }
  const found = action === 'run' ? findRunbook(catalog, name as string) : undefined;
  if (found) checkParamNames(found.spec, p);
  if (found?.spec.builtin === 'restore') return restoreDatabase(g, loaded, p);
  const file = found?.file ?? (found ? catalog.entries.find((e) => e.name === found.spec.name)?.file : undefined);
  const deps: GenericDeps = {
    config: loaded.config,
    stateDir: stateDir(loaded.config.state_dir),
    ...(loaded.file ? { configFile: loaded.file } : {}),
    check: async (id) => (await runChecks({ config: loaded.file })).report.checks.find((c) => c.id === id),
  };
  if (found && g.dryRun) {
    const d = await dryRun(found.spec, file ?? found.spec.name, loaded.config, { ...(g.target !== undefined ? { target: g.target } : {}), ...(g.check !== undefined ? { check: g.check } : {}), params: p }, deps);
    const open = await unfinishedRun(loaded, found.spec.name, d.targetKey);
    const note = open ? `run ${open} of ${found.spec.name}${d.target ? ` on ${d.target}` : ''} is unfinished: a real run is refused until it is resumed (opsdeck${configFlagOf(loaded)} runbook resume ${open}) or undone (opsdeck${configFlagOf(loaded)} runbook rollback ${open})` : undefined;
    if (json) outJson({ runbook: found.spec.name, target: d.target, dryRun: true, ...(note ? { unfinished: open, warning: note } : {}), steps: d.steps });
    else {
      out(`dry run of ${found.spec.name}${d.target ? ` for ${d.target}` : ''}: nothing is run`);
      if (note) out(`WARNING: ${note}`);
      d.steps.forEach((s, i) => out(`${String(i + 1).padStart(2)}. ${s.title}${s.confirm ? ' [asks]' : ''}\n    why: ${s.why}\n    does: ${s.preview}\n    on failure: ${s.retry ? `retry ${s.retry.attempts}×, then ` : ''}${s.onFailure}`));
    }
    return 0;
  }
  const sdir = stateDir(loaded.config.state_dir);
  const state = await openStateDb(sdir).catch((e: unknown) => {
    throw new ExitError(1, 'state', `state database in ${sdir}: ${(e as Error).message}`);
  });
  try {
    const journal = new ObservedJournal(state, (r) => {
      if (g.protocol) process.stdout.write(encodeMessage({ progress: redactDeep(progressOf(r)) }));
    });
    if (action === 'status') return showStatus(journal, arg, json);
    if (g.dryRun && (action === 'resume' || action === 'rollback')) return continuePlan(journal, catalog, action, arg, g.check, json);
    const audit: AuditFn = (a, target, outcome, detail) => recordAudit(state, { action: a, target, outcome, ...(detail !== undefined ? { detail } : {}) });
    if (g.readOnly) {
      audit(`runbook.${action}`, name ?? arg ?? '(open run)', 'refused', '--read-only');
      throw new ExitError(1, 'read-only', `runbook ${action} runs steps that change services and data; refused in --read-only mode (--dry-run previews a run)`);
    }
    const interactive = !g.yes;
    if (interactive && !process.stdin.isTTY && !g.protocol) throw new UsageError(`runbook ${action} asks before each step: run it in a terminal, or pass --yes (or --dry-run to preview)`);
    const op = operatorFor(g, interactive);
    const e: RunbookEnv = { state, journal, op, audit, config: loaded.config, configFlag: loaded.file ? ` --config ${resolve(loaded.file)}` : '', deps, ...(g.protocol ? { progress: (pr) => process.stdout.write(encodeMessage({ progress: redactDeep(pr) })) } : {}) };
    try {
      let res;
      if (found) res = await startRunbook(e, found.spec, found.file, { ...(g.target !== undefined ? { target: g.target } : {}), ...(g.check !== undefined ? { check: g.check } : {}), params: p });
      else {
        const r = findOpenRun(journal, arg, arg === undefined ? g.check : undefined);
        const spec = r.ctx.file ? findRunbook(catalog, r.ctx.file).spec : findRunbook(catalog, r.ctx.runbook).spec;
        res = action === 'resume' ? await resumeRunbook(e, r, spec, p) : await rollbackRunbook(e, r, spec, p);
      }
      if (json) outJson({ ...progressOf(res.record), status: res.record.status });
      return res.code;
    } finally {
      op.close();
    }
  } catch (e) {
    if (isKnown(e)) throw e;
    throw new ExitError(1, 'runbook', `runbook ${action}${name ? ` ${name}` : ''}: ${(e as Error).message} (state database in ${sdir})`);
  } finally {
    state.close();
  }
}
