import { randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { ExitError, Failure, UsageError } from '../domain/errors.js';
import { describeMoved, problemFindings, quarantineTable, type RowProblem } from '../domain/integrity.js';
import { normalize, type Range } from '../domain/ranges.js';
import { listBackups } from '../services/backup.js';
import { safetyCopy } from '../services/backup-restore.js';
import { assessLoss } from '../services/integrity-loss.js';
import { dropSnapshot, moveToQuarantine, openDatabase, problemRows, quarantinedBy, takeSnapshot, undoQuarantine, type Moved } from '../services/integrity.js';
import { startWriters, stopWriters, type Writer } from '../services/writers.js';
import { resolveWriters } from '../runbooks/restore.js';
import { recordAudit } from '../state/acks.js';
import { safetyRoot } from '../state/safety-copies.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { targets, type Target } from './backup.js';
import { configFlag, ruleSetOf, type DbOptions } from './db.js';
import { out, outJson, useSecrets } from './output.js';
import { refuseReadOnly } from './refuse.js';

// `opsdeck db repair` (issue #22): foreign-key orphans, duplicates (the lowest rowid kept) and
// malformed rows are moved into `_opsdeck_quarantine_<table>` of the same file, in one transaction,
// with the database's writers stopped and a safety copy taken first; `--undo RUN` puts them back.
// Chosen over the recovery engine for now: one transaction is the unit of change (nothing to resume
// half-way); the run is recorded by the audit log, `repair.json` beside the safety copy and the run
// id in every quarantined row.

type Audit = (action: string, target: string, outcome: 'ok' | 'failed' | 'refused' | 'cancelled', detail?: string) => void;

const runId = (kind: string, now: number) => `${kind}-${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(2).toString('hex')}`;

/** Asks in a terminal; `--yes` answers for scripts; no terminal and no --yes is a usage error. */
async function confirm(g: DbOptions, what: string, question: string): Promise<boolean> {
  if (g.yes) return true;
  if (!process.stdin.isTTY) throw new UsageError(`${what} asks first: confirm in a terminal, or pass --yes (or --dry-run to preview)`);
  const rl = createInterface({ input: process.stdin, output: g.json ? process.stderr : process.stdout });
  try {
    return (await rl.question(`${question} [y/N] `)).trim().toLowerCase() === 'y';
  } finally {
    rl.close();
  }
}

/** The problem rows as they are now, read from a fresh snapshot (the live file is not held). */
async function preview(loaded: LoadedConfig, t: Target): Promise<{ found: RowProblem[]; parentsLost: string[] }> {
  const snap = await takeSnapshot(t.path, statSync(t.path).size, `${t.name}-repair`);
  try {
    const db = await openDatabase(snap, true);
    let found: RowProblem[];
    try {
      found = problemRows(db, ruleSetOf(loaded, t));
    } finally {
      db.close();
    }
    return { found, parentsLost: await parentsLost(t, snap, found) };
  } finally {
    dropSnapshot(snap);
  }
}

/**
 * The parent tables of the orphans that lost rows against the newest verified backup: a merge may
 * bring those parents back, and then their children are no orphans — quarantining them first
 * would take valid rows out of the tables (an operator's trial).
 */
async function parentsLost(t: Target, snap: string, found: readonly RowProblem[]): Promise<string[]> {
  const parents = [...new Set(found.flatMap((p) => (p.kind === 'orphan' ? [/^no row in (\S+) for/.exec(p.reason)?.[1] ?? ''] : [])).filter(Boolean))];
  const newest = parents.length ? listBackups(t.dir).find((m) => m.verify?.ok) : undefined;
  if (!newest) return [];
  const losses = await assessLoss(snap, t.dir, newest, {}).catch(() => []);
  return losses.filter((l) => l.count > 0 && parents.includes(l.table)).map((l) => l.table);
}

/**
 * Stops the writers, takes the safety copy, runs `change`, and always starts again what it stopped.
 * Returns what `change` returned and the safety copy's folder.
 */
async function withWritersStopped<T>(loaded: LoadedConfig, t: Target, safetyDir: string, change: () => Promise<T>): Promise<T> {
  const writers: Writer[] = resolveWriters(loaded, t);
  const stopped: string[] = [];
  try {
    await stopWriters(writers, loaded.config.docker.host, [], (n) => stopped.push(n));
    safetyCopy(t.path, safetyDir);
    return await change();
  } finally {
    if (stopped.length) await startWriters(writers, loaded.config.docker.host, stopped);
  }
}

function one(loaded: LoadedConfig, g: DbOptions): Target {
  const list = targets(loaded, g);
  if (list.length !== 1) throw new UsageError(`${list.length} databases configured: name one with --db (${list.map((t) => t.name).join(', ')})`);
  return list[0] as Target;
}

/** `opsdeck db repair [--undo RUN]`: 0 repaired (or nothing to do), 1 failed / refused / declined, 64 usage. */
export async function dbRepair(g: DbOptions): Promise<number> {
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const t = one(loaded, g);
  const sdir = stateDir(loaded.config.state_dir);
  const state = await openStateDb(sdir);
  try {
    const audit: Audit = (action, target, outcome, detail) => recordAudit(state, { action, target, outcome, ...(detail !== undefined ? { detail } : {}) });
    return g.undo ? await undo(loaded, g, t, sdir, g.undo, audit) : await repair(loaded, g, t, sdir, audit);
  } finally {
    state.close();
  }
}

async function repair(loaded: LoadedConfig, g: DbOptions, t: Target, sdir: string, audit: Audit): Promise<number> {
  const { found, parentsLost: lostParents } = await preview(loaded, t);
  const movable = found.filter((p) => p.rowid >= 0);
  const mergeFirst = lostParents.length
    ? `WARNING: ${lostParents.join(', ')} lost rows since the newest verified backup, and orphans here point at ${lostParents.length > 1 ? 'them' : 'it'}: merge the missing rows back first (opsdeck${configFlag(loaded)} db check --db ${t.name} prints the merge) — their parents may come back, and then they are no orphans`
    : undefined;
  if (movable.length === 0) {
    if (g.json) outJson({ database: t.name, dryRun: !!g.dryRun, moved: {}, message: 'nothing to repair' });
    else out(`nothing to repair in ${t.name} (${t.path})`);
    return 0;
  }
  // Refused before anything is printed (a preview above a refusal reads as done: issue #12).
  if (g.readOnly && !g.dryRun) await refuseReadOnly(sdir, 'db.repair', t.name, `db repair moves rows of ${t.name}; refused in --read-only mode (nothing changed; --dry-run shows the ${movable.length} rows it would move)`);
  const now = Date.now();
  const run = runId('db-repair', now);
  const safetyDir = join(safetyRoot(sdir), run);
  const plan = groupByTable(movable);
  if (!g.json) {
    out(`repair ${run} of ${t.name} (${t.path})${g.dryRun ? ' — dry run, nothing changed' : ''}: move into quarantine tables (same file, one transaction)`);
    for (const [table, p] of Object.entries(plan)) out(`  ${describeMoved(table, p.rows.length, p.rowids)} → ${quarantineTable(table)}: ${p.rows.slice(0, 3).map((r) => `rowid ${r.rowid} ${r.kind}: ${r.reason}`).join('; ')}${p.rows.length > 3 ? '; …' : ''}`);
    for (const f of problemFindings(found.filter((p) => p.rowid < 0), t.critical)) out(`  not movable (no rowid): ${f.message}`);
    out(`  writers stopped first and started again after: ${t.writers.join(', ') || 'none configured'}; safety copy: ${safetyDir}`);
    out('  rows a parent left behind when it moved are moved too; the repair counts what it moved');
    if (mergeFirst) out(mergeFirst);
  }
  if (g.dryRun) {
    // At most 1000 rows listed (a table of bad rows must not become a document of gigabytes); the counts are whole.
    if (g.json) outJson({ database: t.name, dryRun: true, run, safetyCopy: safetyDir, ...(mergeFirst ? { warning: mergeFirst } : {}), tables: Object.fromEntries(Object.entries(plan).map(([table, p]) => [table, { rows: p.rows.length, rowids: p.rowids }])), rows: movable.slice(0, 1000), ...(movable.length > 1000 ? { rowsLeftOut: movable.length - 1000 } : {}) });
    return 0;
  }
  if (!(await confirm(g, 'db repair', `${mergeFirst ? 'the orphans\' parents lost rows (see the WARNING above); move them anyway? ' : ''}move these ${movable.length} rows into quarantine?`))) {
    audit('db.repair', t.name, 'cancelled', `declined moving ${movable.length} rows`);
    out('nothing changed');
    return 1;
  }
  // Recorded before anything stops: a repair killed past this point leaves this line naming the
  // writers to start again (the transaction itself rolls back; ARCHITECTURE "Known untidiness").
  audit('db.repair.start', t.name, 'ok', `run ${run}: stopping writers ${t.writers.join(', ') || '(none)'}, safety copy ${safetyDir}, moving ${movable.length} rows`);
  let moved: Moved;
  try {
    moved = await withWritersStopped(loaded, t, safetyDir, () => moveToQuarantine(t.path, ruleSetOf(loaded, t), run));
  } catch (e) {
    audit('db.repair', t.name, 'failed', `run ${run}: ${(e as Error).message}`);
    throw e instanceof Failure || e instanceof ExitError ? e : new Failure('integrity', `db repair of ${t.name}: ${(e as Error).message} (safety copy: ${safetyDir})`);
  }
  for (const [table, m] of Object.entries(moved)) audit('db.repair.move', `${t.name}.${table}`, 'ok', `run ${run}: ${describeMoved(table, m.rows, m.rowids)} → ${quarantineTable(table)} (${Object.entries(m.kinds).map(([k, n]) => `${n} ${k}`).join(', ')})`);
  const total = Object.values(moved).reduce((a, m) => a + m.rows, 0);
  audit('db.repair', t.name, 'ok', `run ${run}: ${total} rows moved into quarantine; safety copy ${safetyDir}`);
  writeFileSync(join(safetyDir, 'repair.json'), `${JSON.stringify({ run, database: t.name, path: t.path, at: new Date(now).toISOString(), moved }, null, 2)}\n`, { mode: 0o600 });
  const undoCmd = `opsdeck${configFlag(loaded)} db repair --db ${t.name} --undo ${run}`;
  if (g.json) outJson({ database: t.name, run, moved, safetyCopy: safetyDir, undo: undoCmd, ...(mergeFirst ? { warning: mergeFirst } : {}) });
  else {
    for (const [table, m] of Object.entries(moved)) out(`moved ${describeMoved(table, m.rows, m.rowids)} into ${quarantineTable(table)}`);
    out(`repair ${run} done: ${total} rows in quarantine; safety copy at ${safetyDir}; undo: ${undoCmd}`);
  }
  return 0;
}

function groupByTable(rows: readonly RowProblem[]): Record<string, { rows: RowProblem[]; rowids: Range[] }> {
  const out: Record<string, { rows: RowProblem[]; rowids: Range[] }> = {};
  for (const r of rows) {
    const e = (out[r.table] ??= { rows: [], rowids: [] });
    e.rows.push(r);
    e.rowids.push([r.rowid, r.rowid]);
  }
  for (const e of Object.values(out)) e.rowids = normalize(e.rowids);
  return out;
}

async function undo(loaded: LoadedConfig, g: DbOptions, t: Target, sdir: string, run: string, audit: Audit): Promise<number> {
  const held = await quarantinedBy(t.path, run);
  const total = Object.values(held).reduce((a, b) => a + b, 0);
  if (total === 0) throw new Failure('not-found', `repair run ${run}: no rows of it in the quarantine tables of ${t.name} (${t.path})`);
  if (g.readOnly && !g.dryRun) await refuseReadOnly(sdir, 'db.repair.undo', t.name, `db repair --undo puts rows back into ${t.name}; refused in --read-only mode (nothing changed)`);
  const id = runId('db-repair-undo', Date.now());
  const safetyDir = join(safetyRoot(sdir), id);
  if (!g.json) {
    out(`undo of repair ${run} in ${t.name} (${t.path})${g.dryRun ? ' — dry run, nothing changed' : ''}: put back with their rowids`);
    for (const [table, n] of Object.entries(held)) out(`  ${n} rows of ${table} from ${quarantineTable(table)}`);
    out(`  writers stopped first and started again after: ${t.writers.join(', ') || 'none configured'}; safety copy: ${safetyDir}`);
  }
  if (g.dryRun) {
    if (g.json) outJson({ database: t.name, dryRun: true, undo: run, rows: held });
    return 0;
  }
  if (!(await confirm(g, 'db repair --undo', `put these ${total} rows back?`))) {
    audit('db.repair.undo', t.name, 'cancelled', `run ${run}: declined`);
    out('nothing changed');
    return 1;
  }
  audit('db.repair.undo.start', t.name, 'ok', `run ${run}: stopping writers ${t.writers.join(', ') || '(none)'}, safety copy ${safetyDir}, putting back ${total} rows`);
  let back: Record<string, number>;
  try {
    back = await withWritersStopped(loaded, t, safetyDir, () => undoQuarantine(t.path, run));
  } catch (e) {
    audit('db.repair.undo', t.name, 'failed', `run ${run}: ${(e as Error).message}`);
    throw e;
  }
  for (const [table, n] of Object.entries(back)) audit('db.repair.undo', `${t.name}.${table}`, 'ok', `run ${run}: ${n} rows put back from ${quarantineTable(table)}`);
  if (g.json) outJson({ database: t.name, undone: run, restored: back, safetyCopy: safetyDir });
  else out(`repair ${run} undone: ${Object.entries(back).map(([table, n]) => `${n} rows of ${table}`).join(', ')} put back with their rowids; safety copy at ${safetyDir}`);
  return 0;
}
