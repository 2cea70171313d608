import type { CheckResult } from './check.js';
import type { StepDef } from './runbook.js';
import { expectedText } from './step-estimate.js';

/** One transaction of a staged table-level restore. */
export interface Stage {
  name: string;
  tables: string[];
}

/**
 * Whole-file swap, table stages (critical tables first) that replace the tables' rows, or a merge
 * (issue #10) that only inserts the backup's rows missing now — live rows are never overwritten.
 */
export type RestoreMode = { kind: 'whole' } | { kind: 'tables'; stages: Stage[] } | { kind: 'merge'; tables: string[] };

/**
 * `--merge [--tables critical|all|t1,t2]` → the tables to merge (default: the critical ones).
 * Their ON DELETE CASCADE children and the parent-first order are resolved against the backup.
 */
export function planMerge(spec: string | undefined, critical: readonly string[], normal: readonly string[]): { ok: true; mode: RestoreMode } | { ok: false; message: string } {
  const s = (spec ?? 'critical').trim();
  if (s === 'critical') {
    if (critical.length === 0) return { ok: false, message: '--merge: this database has no critical_tables configured (name the tables: --tables t1,t2)' };
    return { ok: true, mode: { kind: 'merge', tables: [...critical] } };
  }
  if (s === 'all') return { ok: true, mode: { kind: 'merge', tables: [...critical, ...normal] } };
  const names = s.split(',').map((t) => t.trim()).filter(Boolean);
  if (names.length === 0) return { ok: false, message: `--tables ${JSON.stringify(spec)}: expected critical, all, or a comma-separated list of tables` };
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) return { ok: false, message: `--tables: ${dup} is named twice` };
  return { ok: true, mode: { kind: 'merge', tables: names } };
}

/**
 * `--tables critical|all|t1,t2` → stages. Critical tables come first as their own stage, then the
 * normal ones (issue #4: trades, portfolios, strategies before market_data, backtest_results).
 * A list names tables directly; those among the configured critical ones still go first.
 * Table existence in the backup is checked later, against the backup itself.
 */
export function planStages(spec: string | undefined, critical: readonly string[], normal: readonly string[]): { ok: true; mode: RestoreMode } | { ok: false; message: string } {
  if (spec === undefined) return { ok: true, mode: { kind: 'whole' } };
  const s = spec.trim();
  if (s === 'critical') {
    if (critical.length === 0) return { ok: false, message: '--tables critical: this database has no critical_tables configured (name the tables: --tables t1,t2)' };
    return { ok: true, mode: { kind: 'tables', stages: [{ name: 'critical', tables: [...critical] }] } };
  }
  if (s === 'all') {
    if (critical.length + normal.length === 0) return { ok: true, mode: { kind: 'tables', stages: [{ name: 'all', tables: [] }] } };
    const stages: Stage[] = [];
    if (critical.length) stages.push({ name: 'critical', tables: [...critical] });
    if (normal.length) stages.push({ name: 'normal', tables: [...normal] });
    return { ok: true, mode: { kind: 'tables', stages } };
  }
  const names = s.split(',').map((t) => t.trim()).filter(Boolean);
  if (names.length === 0) return { ok: false, message: `--tables ${JSON.stringify(spec)}: expected critical, all, or a comma-separated list of tables` };
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) return { ok: false, message: `--tables: ${dup} is named twice` };
  const first = names.filter((n) => critical.includes(n));
  const rest = names.filter((n) => !critical.includes(n));
  const stages: Stage[] = [];
  if (first.length) stages.push({ name: 'critical', tables: first });
  if (rest.length) stages.push({ name: first.length ? 'normal' : 'selected', tables: rest });
  return { ok: true, mode: { kind: 'tables', stages } };
}

/** What a restore plan needs to know. */
export interface RestorePlanInput {
  database: string;
  dbPath: string;
  backupId: string;
  /** `3h ago, daily, verified, within RPO` */
  backupSummary: string;
  writers: readonly string[];
  safetyDir: string;
  mode: RestoreMode;
  /** Issue #27: `checksum` — the backup passed its full check when verified (`verifiedAt`); only its SHA-256 is checked again. Default `full`. */
  verify?: 'checksum' | 'full';
  verifiedAt?: string;
  /** Expected durations of the byte-bound steps (src/domain/step-estimate.ts), shown in their details. */
  expected?: Record<string, { ms: number; from: 'past' | 'default' }>;
}

/** Ids of the steps that change the database file itself: once one started, undoing needs the safety copy. */
export const changesDatabase = (id: string) => id === 'swap' || id === 'merge' || id.startsWith('stage:');

const step = (id: string, title: string, detail: string, flags: Partial<Pick<StepDef, 'confirm' | 'optional' | 'mutating' | 'expect'>> = {}): StepDef => ({
  id,
  title,
  detail,
  confirm: flags.confirm ?? true,
  optional: flags.optional ?? false,
  mutating: flags.mutating ?? false,
  ...(flags.expect ? { expect: flags.expect } : {}),
});

/** The eight steps of issue #4 as data; a staged restore has one step per stage. */
export function restoreSteps(p: RestorePlanInput): StepDef[] {
  const writers = p.writers.length ? p.writers.join(', ') : 'none configured';
  const restore: StepDef[] =
    p.mode.kind === 'whole'
      ? [step('swap', 'restore the whole file', `write the backup to a temp file beside ${p.dbPath}, fsync, remove stale -wal/-shm, rename over the database (rows written after the backup are lost)`, { mutating: true })]
      : p.mode.kind === 'merge'
        ? [
            step(
              'merge',
              'merge the missing rows back',
              `one transaction: insert into ${p.mode.tables.join(', ')} (and their ON DELETE CASCADE children) the backup's rows that are missing now, matched on the primary key, parents first; a backup row whose key now holds a different row goes to _opsdeck_conflicts_<table>; no live row is changed or deleted`,
              { mutating: true },
            ),
          ]
        : p.mode.stages.map((s) =>
            step(`stage:${s.name}`, `restore ${s.name} tables`, `one transaction: replace the rows of ${s.tables.length ? s.tables.join(', ') : 'every table of the backup'} in ${p.dbPath} with the backup's (rows written after the backup are lost)`, { mutating: true, optional: true }),
          );
  const expect = (id: string) => (p.expected?.[id] ? ` — ${expectedText(p.expected[id])}` : '');
  // Said as the step starts only when it is a wait a person notices (a second or more).
  const says = (id: string) => (p.expected?.[id] && p.expected[id].ms >= 1000 ? { expect: expectedText(p.expected[id]) } : {});
  // Issue #27: a whole file's copy is checked before the swap (quick_check, or the full check).
  const verify =
    p.verify === 'checksum'
      ? `checksum (SHA-256) while decompressing beside ${p.dbPath}; integrity_check and foreign_key_check passed when it was verified${p.verifiedAt ? ` (${p.verifiedAt})` : ''} and are not run again (--full-verify runs them)${p.mode.kind === 'whole' ? '; quick_check of the copy before anything is replaced' : ''}`
      : `checksum, decompress beside ${p.dbPath}, integrity_check and foreign_key_check${p.mode.kind === 'whole' ? ' of the copy before anything is replaced' : ''}`;
  return [
    step('choose', 'choose the backup', `${p.backupId} (${p.backupSummary})`),
    step('verify', 'verify the backup', `${verify}${p.mode.kind === 'tables' ? ', tables present' : ''}${expect('verify')}`, { confirm: false, ...says('verify') }),
    step('stop-writers', 'stop the writers', `stop ${writers}; refuse while another process has ${p.dbPath} open`, { mutating: true }),
    step('safety-copy', 'safety copy of the current database', `copy ${p.dbPath} (and -wal/-shm/-journal) as it is to ${p.safetyDir}${expect('safety-copy')}`, { confirm: false, mutating: true, ...says('safety-copy') }),
    ...restore,
    step('check', 'check the result', `${p.mode.kind === 'whole' ? 'the file in place is the checked copy (its SQLite header, it opens)' : 'integrity_check'}, foreign_key_check and ${p.mode.kind === 'merge' ? "every backup row present or kept as a conflict" : 'row counts'} in ${p.dbPath}${expect('check')}`, { confirm: false, ...says('check') }),
    step('ledger', 'record what came back', 'compare the critical tables with the backup before any writer runs again: rows it brought back leave the row-loss alert, rows no backup holds stay missing', { confirm: false }),
    step('start-writers', 'start the writers again', `start ${writers}`, { confirm: false, mutating: true }),
    step('health', 'verify the writers are healthy', `wait for ${writers} to run and pass their health checks`, { confirm: false }),
    step('accept-loss', 'rows still missing', 'if rows are still missing after the restore, name them (count and id ranges) and ask whether to give them up; skipping keeps the row-loss alert firing', { optional: true }),
  ];
}

/** Summary of an unfinished restore, as the journal knows it. */
export interface OpenRestore {
  runId: string;
  database: string;
  dbPath: string;
  position: string;
  safetyDir?: string;
  startedAt: number;
}

/** How to finish or undo a restore, as its unfinished-run finding says it. */
export const restoreHint = (database: string, safetyDir?: string, configFile?: string) =>
  `run: opsdeck restore${configFile ? ` --config ${configFile}` : ''} --db ${database} --resume, or --rollback${safetyDir ? ` (safety copy: ${safetyDir})` : ''}`;

/** An unfinished restore is a CRITICAL finding until it is resumed or rolled back (the engine's finding for a restore run). */
export function openRestoreCheck(r: OpenRestore): CheckResult {
  return {
    id: `journal:restore:${r.database}`,
    kind: 'journal',
    target: r.dbPath,
    status: 'critical',
    value: r.position,
    message: `restore ${r.runId} of ${r.database} is unfinished (${r.position}); ${restoreHint(r.database, r.safetyDir)}`,
    critical: true,
  };
}
