import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatDuration } from '../config/duration.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { DatabaseIntegrity } from '../config/schema-integrity.js';
import { exitCodeFor, severityRank, worstStatus, type CheckStatus } from '../domain/check.js';
import { UsageError } from '../domain/errors.js';
import { compileRules, lossFindings, mergeCommand, overallOf, prioritize, problemFindings, quarantineTable, tableFindings, type IntegrityFinding, type TableLoss } from '../domain/integrity.js';
import { listBackups } from '../services/backup.js';
import { dropSnapshot, duplicates, integrityCheckAside, malformed, openDatabase, orphans, quarantined, quickCheck, tableCounts, takeSnapshot, type RuleSet, type Unchecked } from '../services/integrity.js';
import { assessLoss } from '../services/integrity-loss.js';
import { targets, type BackupOptions, type Target } from './backup.js';
import { out, outJson, useSecrets } from './output.js';

// `opsdeck db check` (issue #22): quick_check on the live file; integrity_check, foreign_key_check,
// duplicates, format rules and critical tables on a fresh snapshot; the loss against the newest
// verified backup with the merge that brings it back. `db repair` is db-repair.ts.

/** Options of `opsdeck db`. */
export interface DbOptions extends BackupOptions {
  /** repair: put the rows of this repair run back. */
  undo?: string;
}

const NO_RULES: DatabaseIntegrity = { unique: {}, rules: {}, timestamp: {} };

/** A database's integrity settings, keys as lists. */
export function ruleSetOf(loaded: LoadedConfig, t: Target): RuleSet & { timestamp: Record<string, string> } {
  const cfg = loaded.config.integrity[t.name] ?? NO_RULES;
  return { unique: Object.fromEntries(Object.entries(cfg.unique).map(([k, v]) => [k, typeof v === 'string' ? [v] : [...v]])), rules: compileRules(cfg.rules), timestamp: cfg.timestamp };
}

/** ` --config <absolute path>` for the commands opsdeck tells people to run. */
export const configFlag = (loaded: LoadedConfig) => (loaded.file ? ` --config ${resolve(loaded.file)}` : '');

/** What `db check` found in one database. */
export interface DbReport {
  database: string;
  path: string;
  status: CheckStatus;
  findings: IntegrityFinding[];
  loss?: { backup: string; backupAt: string; tables: (TableLoss & { priority: number; critical: boolean })[]; merge?: string; tablesGone?: string[] };
  timings: Record<string, number>;
}

async function timed<T>(timings: Record<string, number>, name: string, fn: () => T | Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings[name] = Math.round(performance.now() - t0);
  }
}

const unknownFindings = (u: Unchecked): IntegrityFinding[] => Object.entries(u).map(([id, message]) => ({ id, status: 'unknown', message: `${message}: not checked` }));

const why = (e: unknown) => (e as Error).message.split('\n')[0] ?? String(e);

/** Runs every check of one database (the snapshot is removed afterwards); a damaged file is a finding, never a crash. */
export async function checkDatabase(loaded: LoadedConfig, t: Target, now = Date.now()): Promise<DbReport> {
  const timings: Record<string, number> = {};
  const base = { database: t.name, path: t.path, timings };
  if (!existsSync(t.path)) return { ...base, status: 'critical', findings: [{ id: 'file', status: 'critical', message: `${t.path} does not exist` }] };
  const findings: IntegrityFinding[] = [];
  // The snapshot first, alone (a page copy: the disk's speed); then quick_check of the live file on a
  // thread beside integrity_check of the snapshot on another and foreign_key_check here. Run beside
  // the snapshot instead, quick_check took the CPU the copy needed and the whole check was 2× the
  // same PRAGMAs on the live file (bench:integrity); the WAL is held back as long either way.
  const snapped = await timed(timings, 'snapshot', () => takeSnapshot(t.path, statSync(t.path).size, `${t.name}-check`)).then(
    (v) => ({ status: 'fulfilled' as const, value: v }),
    (e: unknown) => ({ status: 'rejected' as const, reason: e }),
  );
  const quickP = timed(timings, 'quickCheck', () => quickCheck(t.path)).then(
    (v): IntegrityFinding => ({ id: 'quick_check', status: v.join() === 'ok' ? 'ok' : 'critical', message: `live file: quick_check ${v.slice(0, 3).join('; ')}` }),
    (e: unknown): IntegrityFinding => ({ id: 'quick_check', status: 'critical', message: `live file: not a readable database (${why(e)})` }),
  );
  if (snapped.status === 'rejected') {
    findings.push(await quickP, { id: 'snapshot', status: 'critical', message: `no snapshot could be taken, nothing else was checked: ${why(snapped.reason)}` });
    return { ...base, status: overallOf(findings), findings };
  }
  const snap = snapped.value;
  try {
    const rest = await snapshotFindings(loaded, t, snap, timings);
    findings.push(await quickP, ...rest);
    const loss = await lossOf(loaded, t, snap, timings, now).catch((e: unknown) => ({ findings: [{ id: 'loss', status: 'unknown' as const, message: `loss not assessed: ${why(e)}` }] }));
    findings.push(...loss.findings);
    // Orphans beside missing rows: their parents may be among the lost rows, and a merge brings
    // those back — repairing first would quarantine children whose parents are about to return.
    const merge = 'loss' in loss ? loss.loss?.merge : undefined;
    const lost = 'loss' in loss ? (loss.loss?.tables ?? []).map((l) => l.table) : [];
    const told = merge ? findings.map((f) => (f.id.startsWith('orphan:') && lost.some((p) => f.message.includes(`no row in ${p} for`)) ? { ...f, message: f.message.replace(/; opsdeck db repair moves them into (\S+)$/, `; rows are missing too: merge them back first (${merge}) — their parents may be among them; then opsdeck db repair moves what is still orphaned into $1`) } : f)) : findings;
    return { ...base, status: overallOf(told), findings: told, ...('loss' in loss && loss.loss ? { loss: loss.loss } : {}) };
  } finally {
    dropSnapshot(snap);
  }
}

/** integrity_check (on a thread) beside foreign_key_check, then duplicates, rules, critical tables and quarantine, all on the snapshot. */
async function snapshotFindings(loaded: LoadedConfig, t: Target, snap: string, timings: Record<string, number>): Promise<IntegrityFinding[]> {
  const findings: IntegrityFinding[] = [];
  const integrityP = timed(timings, 'integrityCheck', () => integrityCheckAside(snap)).then(
    (lines): IntegrityFinding => ({ id: 'integrity_check', status: lines.join() === 'ok' ? 'ok' : 'critical', message: `snapshot: integrity_check ${lines.slice(0, 3).join('; ')}${lines.length > 3 ? `; +${lines.length - 3} more` : ''}` }),
    (e: unknown): IntegrityFinding => ({ id: 'integrity_check', status: 'critical', message: `snapshot: integrity_check could not run: ${why(e)}` }),
  );
  try {
    const db = await openDatabase(snap, true);
    try {
      // The snapshot is opsdeck's own scratch file: memory-mapped reads cut foreign_key_check's CPU
      // by about two thirds (bench:integrity), leaving the other core to integrity_check.
      db.pragma(`mmap_size = ${Math.max(statSync(snap).size, 1 << 20)}`);
      const rules = ruleSetOf(loaded, t);
      const fk = await timed(timings, 'foreignKeyCheck', () => orphans(db));
      if (!fk.length) findings.push({ id: 'foreign_key_check', status: 'ok', message: 'snapshot: foreign_key_check ok' });
      const unchecked: Unchecked = {};
      const rows = await timed(timings, 'rules', () => [...duplicates(db, rules.unique, unchecked), ...malformed(db, rules.rules, unchecked)]);
      findings.push(...problemFindings([...fk, ...rows], t.critical), ...unknownFindings(unchecked), ...tableFindings(t.critical, tableCounts(db, t.critical)));
      for (const [table, runs] of Object.entries(quarantined(db))) {
        const n = Object.values(runs).reduce((a, b) => a + b, 0);
        findings.push({ id: `quarantine:${table}`, status: 'warning', message: `${n} rows of ${table} wait in ${quarantineTable(table)} (repair run ${Object.keys(runs).join(', ')}): review them; put them back with opsdeck${configFlag(loaded)} db repair --db ${t.name} --undo ${Object.keys(runs).length === 1 ? Object.keys(runs)[0] : `RUN (one of: ${Object.keys(runs).join(', ')})`}, or drop the table once reviewed` });
      }
    } finally {
      db.close();
    }
  } catch (e) {
    findings.push({ id: 'rows', status: 'critical', message: `the rows could not be read (${why(e)}): foreign keys, duplicates, rules and critical tables not checked` });
  }
  findings.unshift(await integrityP);
  return findings;
}

/** The loss against the newest verified backup, with the merge that brings it back. */
async function lossOf(loaded: LoadedConfig, t: Target, snap: string, timings: Record<string, number>, now: number): Promise<{ findings: IntegrityFinding[]; loss?: NonNullable<DbReport['loss']> }> {
  const newest = listBackups(t.dir).find((m) => m.verify?.ok);
  if (!newest) return { findings: [{ id: 'loss', status: 'ok', message: `no verified backup in ${t.dir}: no loss assessment (opsdeck${configFlag(loaded)} backup create --db ${t.name} --verify)` }] };
  const losses = await timed(timings, 'loss', () => assessLoss(snap, t.dir, newest, ruleSetOf(loaded, t).timestamp));
  const ranked = prioritize(losses, t.critical);
  const lf = lossFindings(ranked, t.normal, newest.id);
  const findings = lf.length ? lf : [{ id: 'loss', status: 'ok' as const, message: `no row of backup ${newest.id} (${formatDuration(now - Date.parse(newest.createdAt))} old) is missing` }];
  const mergeable = ranked.filter((l) => !l.tableMissing).map((l) => l.table);
  const gone = ranked.filter((l) => l.tableMissing).map((l) => l.table);
  return { findings, loss: { backup: newest.id, backupAt: newest.createdAt, tables: ranked, ...(mergeable.length ? { merge: mergeCommand(t.name, mergeable, newest.id, configFlag(loaded)) } : {}), ...(gone.length ? { tablesGone: gone } : {}) } };
}

const LABEL: Record<CheckStatus, string> = { ok: 'OK', warning: 'WARNING', critical: 'CRITICAL', unknown: 'UNKNOWN' };

function printReport(r: DbReport, loaded: LoadedConfig, now: number): void {
  out(`${LABEL[r.status]}  ${r.database} (${r.path})`);
  const sorted = [...r.findings].sort((a, b) => severityRank(b.status) - severityRank(a.status));
  for (const f of sorted) out(`  ${LABEL[f.status].padEnd(9)}${f.id.padEnd(24)}${f.message}`);
  if (r.loss?.merge || r.loss?.tablesGone) {
    out(`  loss against backup ${r.loss.backup} (${formatDuration(now - Date.parse(r.loss.backupAt))} old), recover in priority order:`);
    if (r.loss.merge) out(`    merge the missing rows back (inserts only missing rows, never changes a live row): ${r.loss.merge}`);
    if (r.loss.tablesGone) out(`    tables gone altogether (a merge cannot create them): opsdeck${configFlag(loaded)} restore --db ${r.database} --tables ${r.loss.tablesGone.join(',')} --backup ${r.loss.backup}`);
  }
}

/** `opsdeck db check`: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the worst database). */
export async function dbCheck(g: DbOptions): Promise<number> {
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const now = Date.now();
  const reports: DbReport[] = [];
  for (const t of targets(loaded, g)) reports.push(await checkDatabase(loaded, t, now));
  const status = worstStatus(reports.map((r) => r.status));
  if (g.json) outJson({ status, checkedAt: new Date(now).toISOString(), databases: reports });
  else for (const r of reports) printReport(r, loaded, now);
  return exitCodeFor(status);
}

/** `opsdeck db check|repair`. */
export async function dbCommand(action: string, g: DbOptions): Promise<number> {
  if (action === 'check') {
    if (g.undo || g.yes || g.dryRun) throw new UsageError('db check only reads: --undo, --yes and --dry-run belong to db repair');
    return dbCheck(g);
  }
  if (action === 'repair') return (await import('./db-repair.js')).dbRepair(g);
  throw new UsageError(`unknown db action "${action}" (expected check or repair)`);
}
