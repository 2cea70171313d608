import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig } from '../../config/load.js';
import { SecretRegistry } from '../../config/secrets.js';
import { Failure } from '../../domain/errors.js';
import { describeMoved, quarantineTable, type RowProblem } from '../../domain/integrity.js';
import { formatRanges, type Range } from '../../domain/ranges.js';
import { factsOf, remember, type GenericDeps } from '../../engine/actions.js';
import type { StepContext, Action } from '../../engine/driver.js';
import { RunJournal } from '../../engine/journal.js';
import { PolicyOperator } from '../../engine/operator.js';
import { safetyCopy } from '../../services/backup-restore.js';
import { dropSnapshot, moveToQuarantine, openDatabase, problemRows, quarantinedBy, takeSnapshot, undoQuarantine } from '../../services/integrity.js';
import { startWriters, stopWriters, writerHealthOf } from '../../services/writers.js';
import { recordAudit } from '../../state/acks.js';
import { RowLedger } from '../../state/row-ledger.js';
import { safetyRoot } from '../../state/safety-copies.js';
import { openStateDb, stateDir } from '../../state/statedb.js';
import { targets, type Target } from '../../cli/backup.js';
import { checkDatabase, ruleSetOf, type DbReport } from '../../cli/db.js';
import { redactCtx, resolveWriters, startRestore } from '../restore.js';
import type { RestoreCtx } from '../restore-steps.js';
import { configOf } from './config.js';

// The db-repair runbook's actions (issue #22): the integrity check, the merge of the rows a
// backup holds and the database lacks, and the repair into quarantine — as engine steps, so the
// console runs them as a wizard (`:` → db-repair) and a run killed with the writers stopped is
// resumed (`opsdeck runbook resume`) instead of forgotten. `opsdeck db check` / `db repair` stay
// the one-shot commands; both use the same services (src/services/integrity*.ts).

type X = StepContext<unknown, GenericDeps>;

/** The configuration as the CLI's helpers take it (no secrets are read here: databases have none). */
function loadedOf(x: X): LoadedConfig {
  return { config: configOf(x, '(databases)'), ...(x.deps.configFile ? { file: x.deps.configFile } : {}), secrets: new SecretRegistry(), notes: [] };
}

/** The database this step acts on (`params.db`, filled from the run's target). */
function targetOf(x: X): { loaded: LoadedConfig; t: Target } {
  const loaded = loadedOf(x);
  const db = x.step.params?.db;
  if (typeof db !== 'string' || !db) throw new Failure('params', `step ${x.step.id}: parameter db (a configured database name) is missing`);
  const list = targets(loaded, { db });
  const t = list[0];
  if (!t) throw new Failure('not-found', `step ${x.step.id}: no database named ${db}`);
  return { loaded, t };
}

/** One line per finding that is not OK, the loss and its merge. */
function describeReport(r: DbReport): string {
  const bad = r.findings.filter((f) => f.status !== 'ok');
  // One finding a line: a wall of ten findings joined by ';' was hard to read in the wizard.
  return bad.length ? [`${r.database}: ${r.status.toUpperCase()}`, ...bad.map((f) => `  ${f.status.toUpperCase()} ${f.id}: ${f.message}`)].join('\n') : `${r.database}: OK — ${r.findings.length} checks ok`;
}

/** The tables and ranges a merge would bring back, from the check step's facts. */
interface LossPlan {
  backup: string;
  tables: { table: string; key?: string; missing: Range[]; count: number }[];
}

function lossPlan(x: X): LossPlan | undefined {
  const raw = factsOf(x)['db.loss'];
  if (typeof raw !== 'string' || !raw) return undefined;
  const p = JSON.parse(raw) as LossPlan;
  return p.tables.length ? p : undefined;
}

const describeLoss = (p: LossPlan) => p.tables.map((t) => `${t.count} rows of ${t.table}${t.key && t.missing.length ? ` (${t.key} ${formatRanges(t.missing)})` : ''}`).join(', ');

/** The problem rows as they are now, read from a fresh snapshot (the live file is not held). */
async function problemsNow(loaded: LoadedConfig, t: Target): Promise<RowProblem[]> {
  const snap = await takeSnapshot(t.path, statSync(t.path).size, `${t.name}-repair`);
  try {
    const db = await openDatabase(snap, true);
    try {
      return problemRows(db, ruleSetOf(loaded, t)).filter((p) => p.rowid >= 0);
    } finally {
      db.close();
    }
  } finally {
    dropSnapshot(snap);
  }
}

function describeProblems(found: readonly RowProblem[]): string {
  const by = new Map<string, RowProblem[]>();
  for (const p of found) by.set(p.table, [...(by.get(p.table) ?? []), p]);
  return [...by].map(([table, rows]) => `${describeMoved(table, rows.length, rows.map((r): [number, number] => [r.rowid, r.rowid]))} → ${quarantineTable(table)} (${rows.slice(0, 2).map((r) => `rowid ${r.rowid} ${r.kind}: ${r.reason}`).join('; ')}${rows.length > 2 ? '; …' : ''})`).join('; ');
}

const safetyDirOf = (x: X, t: Target) => join(safetyRoot(x.deps.stateDir ?? stateDir(undefined)), `${(x.record as { id?: string } | undefined)?.id ?? '<run id>'}-${t.name}`);

/** The actions by id. */
export const DB_ACTIONS: Record<string, Action<unknown, GenericDeps>> = {
  'db.integrity': {
    dangerous: false,
    preview: (x) => `check ${targetOf(x).t.name}: quick_check on the live file; integrity_check, foreign keys, duplicates, format rules and critical tables on a fresh snapshot; the loss against the newest verified backup`,
    async execute(x) {
      const { loaded, t } = targetOf(x);
      const r = await checkDatabase(loaded, t);
      const mergeable = (r.loss?.tables ?? []).filter((l) => !l.tableMissing && l.count > 0);
      remember(x, 'db.loss', r.loss && mergeable.length ? JSON.stringify({ backup: r.loss.backup, tables: mergeable.map((l) => ({ table: l.table, ...(l.key ? { key: l.key } : {}), missing: l.missing, count: l.count })) } satisfies LossPlan) : '');
      return describeReport(r);
    },
  },
  'db.merge-loss': {
    // The merge restore of exactly the tables the check found short, from the backup it compared
    // with: inserts only rows whose key is absent now, never changes a live row (README "Restore").
    dangerous: true,
    settled: (x) => (lossPlan(x) ? undefined : 'the check found no row of the newest verified backup missing: nothing to merge'),
    preview(x) {
      const p = lossPlan(x);
      const { t } = targetOf(x);
      if (!p && factsOf(x)['db.loss'] === undefined) return `merge back into ${t.name} the rows the check step finds missing against the newest verified backup, if any: a merge restore (writers stopped and started by it, a safety copy first) that inserts only the rows missing now and never changes a live row`;
      return p ? `merge back ${describeLoss(p)} from backup ${p.backup} into ${t.name}: a merge restore (writers stopped and started by it, a safety copy first) that inserts only the rows missing now and never changes a live row` : 'nothing to merge';
    },
    async execute(x) {
      const p = lossPlan(x);
      if (!p) return 'nothing to merge';
      const { loaded, t } = targetOf(x);
      const sdir = x.deps.stateDir ?? stateDir(loaded.config.state_dir);
      const state = await openStateDb(sdir);
      try {
        const journal = new RunJournal(state, { redactCtx: (c) => redactCtx(c as RestoreCtx) });
        const op = new PolicyOperator((line) => x.say(line));
        const audit = (action: string, target: string, outcome: 'ok' | 'failed' | 'refused' | 'cancelled', detail?: string) => recordAudit(state, { action, target, outcome, ...(detail !== undefined ? { detail } : {}) });
        const e = { state, journal, op, audit, deps: { ledger: new RowLedger(state), writerHealth: writerHealthOf(loaded.config.services) }, json: false, ...(loaded.file ? { configFlag: ` --config ${loaded.file}` } : {}) };
        const code = await startRestore(e, loaded, { db: t.name, merge: true, backup: p.backup, tables: p.tables.map((l) => l.table).join(','), yes: true });
        // 3: finished with rows still missing (not given up unattended): said, not a failure of this step.
        if (code === 0 || code === 3) return `merge restore from backup ${p.backup} done for ${describeLoss(p)}${code === 3 ? '; some rows are still missing (the restore above names them)' : ' (the restore above says what came back)'}`;
        throw new Failure('integrity', `the merge restore of ${t.name} ended with exit code ${code}; its run says why (opsdeck runbook status)`);
      } finally {
        state.close();
      }
    },
  },
  'db.stop-writers': {
    dangerous: true,
    settled: (x) => (targetOf(x).t.writers.length ? undefined : `${targetOf(x).t.name} has no writers configured: nothing to stop`),
    preview: (x) => (targetOf(x).t.writers.length ? `stop the writers of ${targetOf(x).t.name} (${targetOf(x).t.writers.join(', ')}) so nothing writes while rows move` : `nothing to stop: ${targetOf(x).t.name} has no writers configured (databases[].writers)`),
    async execute(x) {
      const { loaded, t } = targetOf(x);
      const prior = String(factsOf(x)['db.stopped'] ?? '');
      const stopped = await stopWriters(resolveWriters(loaded, t), loaded.config.docker.host, prior ? prior.split('\n') : [], (n) => remember(x, 'db.stopped', [...(String(factsOf(x)['db.stopped'] ?? '') ? String(factsOf(x)['db.stopped']).split('\n') : []), n].join('\n')));
      return stopped.length ? `stopped ${stopped.join(', ')}` : 'no writer was running';
    },
    undo: (x) => startStopped(x),
  },
  'db.start-writers': {
    dangerous: true,
    settled: (x) => (String(factsOf(x)['db.stopped'] ?? '') ? undefined : 'no writer was stopped by this run: nothing to start'),
    preview: (x) => `start again what this run stopped: ${String(factsOf(x)['db.stopped'] ?? '').split('\n').filter(Boolean).join(', ') || `the writers of ${targetOf(x).t.name} the stop step stopped`}`,
    execute: async (x) => (await startStopped(x)) ?? 'nothing to start',
  },
  'db.quarantine': {
    dangerous: true,
    async settled(x) {
      const { loaded, t } = targetOf(x);
      if (!existsSync(t.path)) return `nothing to move: ${t.path} does not exist (restore-database brings a lost database back)`;
      if (Object.keys(await quarantinedBy(t.path, x.record.id)).length) return undefined; // moved before a kill: execute reports it
      return (await problemsNow(loaded, t)).length ? undefined : `nothing to repair in ${t.name}: no orphan, duplicate or malformed row`;
    },
    async preview(x) {
      const { loaded, t } = targetOf(x);
      if (!existsSync(t.path)) return `nothing to move: ${t.path} does not exist (restore-database brings a lost database back)`;
      const found = await problemsNow(loaded, t);
      if (!found.length) return `nothing to move in ${t.name} now: no orphan, duplicate or malformed row (looked again when the step runs)`;
      return `move ${found.length} rows of ${t.name} into quarantine tables in the same file, one transaction, a safety copy first (${safetyDirOf(x, t)}): ${describeProblems(found)}; the undo puts them back exactly`;
    },
    async execute(x) {
      const { loaded, t } = targetOf(x);
      // A resumed run whose transaction committed before the kill: the rows are in quarantine already.
      const done = await quarantinedBy(t.path, x.record.id);
      if (Object.keys(done).length) return `already moved by this run: ${Object.entries(done).map(([table, n]) => `${n} rows of ${table}`).join(', ')}`;
      const dir = safetyDirOf(x, t);
      if (!existsSync(dir)) safetyCopy(t.path, dir);
      const moved = await moveToQuarantine(t.path, ruleSetOf(loaded, t), x.record.id);
      writeFileSync(join(dir, 'repair.json'), `${JSON.stringify({ run: x.record.id, database: t.name, path: t.path, at: new Date().toISOString(), moved }, null, 2)}\n`, { mode: 0o600 });
      const total = Object.values(moved).reduce((a, m) => a + m.rows, 0);
      return `${total} rows moved into quarantine: ${Object.entries(moved).map(([table, m]) => `${describeMoved(table, m.rows, m.rowids)} → ${quarantineTable(table)}`).join('; ') || 'none'}; safety copy ${dir}`;
    },
    async undo(x) {
      const { t } = targetOf(x);
      const back = await undoQuarantine(t.path, x.record.id);
      const n = Object.values(back).reduce((a, b) => a + b, 0);
      return n ? `put back ${Object.entries(back).map(([table, k]) => `${k} rows of ${table}`).join(', ')} with their rowids` : 'nothing of this run was in quarantine';
    },
  },
};

/** Starts what this run stopped (the stop step's facts), and forgets it. */
async function startStopped(x: X): Promise<string | undefined> {
  const names = String(factsOf(x)['db.stopped'] ?? '').split('\n').filter(Boolean);
  if (!names.length) return undefined;
  const { loaded, t } = targetOf(x);
  await startWriters(resolveWriters(loaded, t), loaded.config.docker.host, names);
  remember(x, 'db.stopped', '');
  return `started ${names.join(', ')} again`;
}
