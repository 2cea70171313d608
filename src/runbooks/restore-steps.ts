// Over 300 lines, knowingly: the restore runbook's steps as engine actions (issue #14), one per
// step id, in the order they run — kept together so a restore reads top to bottom. The driver
// (src/engine/driver.ts) journals, asks, retries and rolls back; src/runbooks/restore.ts starts,
// resumes and ends runs; the CLI only parses flags.

import { closeSync, existsSync, openSync, readSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Failure } from '../domain/errors.js';
import { formatRanges, intersect as intersectRanges, normalize, size, subtract as subtractRanges, type Range } from '../domain/ranges.js';
import { changesDatabase, type RestoreMode } from '../domain/restore-plan.js';
import type { StepDef } from '../domain/runbook.js';
import type { Action, Prompt, Runbook, StepContext } from '../engine/driver.js';
import type { RunRecord } from '../engine/journal.js';
import { type DbReport, extractVerified, holdersOf, inspectDatabase, putBack, restoreTables, safetyCopy, swapIn } from '../services/backup-restore.js';
import { carryOver, conflictsTable, mergeKey, mergeOrder, mergeTables, replaceLoss, unmergedRows, type CarriedOver } from '../services/merge.js';
import { integerKey, islands } from '../services/row-tracker.js';
import { rowsInFile } from '../services/rows-in-file.js';
import { listBackups } from '../services/backup.js';
import { quickCheckInChild, startQuickCheck } from '../services/sqlite-worker.js';
import { trace } from '../cli/trace.js';
import { startWriters, stopAllWriters, stopWriters, writersHealthy, type Writer, type WriterHealth } from '../services/writers.js';
import type { LedgerEntry } from '../domain/row-ledger.js';
import type { RowLedger } from '../state/row-ledger.js';

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
  /**
   * How the verify step checks the backup (issue #27): `checksum` — a backup whose full check passed
   * when it was verified (`verifiedAt`): its SHA-256 only; `full` (also when absent: runs journaled
   * before) — integrity_check and foreign_key_check too.
   */
  verify?: 'checksum' | 'full';
  verifiedAt?: string;
  /**
   * A whole-file restore's copy passed this check at the verify step, before any swap (issue #27):
   * the check step then proves the file in place is that copy (its SQLite header, it opens, its row
   * counts) instead of running quick_check after the swap. Absent (runs journaled before): after.
   */
  checkedBeforeSwap?: 'quick_check' | 'integrity_check';
  /** The 100-byte SQLite header (hex) of the copy the swap renamed into place, after opsdeck's own tables and WAL mode were carried over. */
  swappedHeader?: string;
  /** A merge's inserted rows by table, as id ranges of its one integer key (the ledger step names those never counted missing). */
  mergedIds?: Record<string, { key: string; ranges: Range[] }>;
  /** The backup's database size and the live file's (with -wal) at the start: what the expected step durations were read from. */
  rawBytes?: number;
  liveBytes?: number;
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
  /** Of replaceLoss, the ids the backup holds in another version: replacing turns them back, it does not remove them. */
  replaceChanged?: Record<string, [number, number][]>;
  /** Tables whose replace loss was counted from the row-loss ledger (the file could not be read): "at least". */
  replaceLossFromLedger?: string[];
  /** A rollback put the safety copy back (the undo of the first replacing step does it once). */
  putBack?: boolean;
  /** How far a rollback got: the file kept as it was, the safety copy put back, the rows written since merged back. */
  rollback?: 'kept' | 'put-back' | 'merged';
}

/** What the steps share besides the run: the row-loss ledger of the state database. */
export interface RestoreDeps {
  ledger: RowLedger;
  /** A command writer's health check (its service's health_url), read from the configuration of now (never journaled). */
  writerHealth?: (service: string) => WriterHealth | undefined;
}

type X = StepContext<RestoreCtx, RestoreDeps>;
type Stored = RunRecord<RestoreCtx>;
type RestoreAction = Action<RestoreCtx, RestoreDeps>;

const backupFile = (ctx: RestoreCtx) => join(ctx.backupDir, `${ctx.backupId}.db.br`);

/** The question of a restore step: its preview (with what a replace loses), then y/n (and s for a stage). */
function restorePrompt(x: X): Prompt {
  const { step } = x;
  const ctx = x.record.ctx;
  // Before a replace, what it loses (measured after the safety copy) is part of the question.
  const loses = (step.id === 'swap' || step.id.startsWith('stage:')) && ctx.replaceLoss ? ` — ${describeReplaceLoss(stageLoss(ctx, step.id), ctx.replaceLossFromLedger, ctx.replaceChanged)}` : '';
  return {
    intro: `${step.title}: ${step.detail}${loses}`,
    text: step.optional ? 'run this stage? y runs it · s skips it (its tables stay as they are) · n stops the restore here' : 'run this step?',
    skipMeans: 'its tables stay as they are',
  };
}

/**
 * Undo of a step that changed the file: every writer stopped, the file as it is now kept beside the
 * safety copy (`before-rollback/`), the safety copy put back, then the rows written since the restore
 * — in neither the safety copy nor the backup: the writers wrote them after they started again —
 * merged back in (insert only; a key holding another row goes to `_opsdeck_conflicts_<table>`), so a
 * rollback never loses a committed row (issue #14's operator found 133 trades lost this way). Once
 * per rollback, each phase journaled: a killed rollback finishes by running again.
 */
async function putBackSafetyCopy(x: X): Promise<string | undefined> {
  let ctx = x.record.ctx;
  if (ctx.rollback === 'merged') return undefined;
  const keepDir = join(ctx.safetyDir, 'before-rollback');
  const notes: string[] = [];
  await stopAllWriters(ctx.writers, ctx.dockerHost);
  if (ctx.rollback === undefined) {
    safetyCopy(ctx.dbPath, keepDir);
    x.persist((ctx = { ...ctx, rollback: 'kept' }));
  }
  if (ctx.rollback === 'kept') {
    await putBack(ctx.safetyDir, ctx.dbPath);
    x.persist((ctx = { ...ctx, rollback: 'put-back', putBack: true }));
  }
  notes.push(`put back ${ctx.dbPath} from ${ctx.safetyDir}`);
  const kept = await mergeWrittenSince(ctx, x.record.id, keepDir).catch((e: unknown) => `rows written since the restore NOT merged back (${(e as Error).message}); the file as it was is kept at ${keepDir}`);
  if (kept) notes.push(kept);
  x.persist({ ...ctx, rollback: 'merged' });
  return notes.join('; ');
}

/** The ids of rows written since the restore: in the file kept before the rollback, in neither the put-back file nor the backup. */
async function writtenSince(ctx: RestoreCtx, keptFile: string): Promise<Record<string, { key: string; ids: Range[] }>> {
  const { default: Database } = await import('better-sqlite3');
  if (!existsSync(keptFile) || !existsSync(ctx.dbPath)) return {};
  if (!existsSync(ctx.tmpPath)) await extractVerified(backupFile(ctx), ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`).catch(() => undefined);
  const db = new Database(ctx.dbPath, { readonly: true, fileMustExist: true, timeout: 10_000 });
  const out: Record<string, { key: string; ids: Range[] }> = {};
  try {
    db.prepare('ATTACH DATABASE ? AS k').run(keptFile);
    if (existsSync(ctx.tmpPath)) db.prepare('ATTACH DATABASE ? AS b').run(ctx.tmpPath);
    const has = (schema: string, t: string) => !!db.prepare(`SELECT 1 FROM ${schema}.sqlite_master WHERE type = 'table' AND name = ?`).get(t);
    for (const t of ctx.criticalTables ?? []) {
      if (!has('k', t) || !has('main', t)) continue;
      const key = integerKey(db, t, 'k');
      if (!key) continue;
      let ids = subtractRanges(islands(db, t, key, undefined, undefined, 'k'), islands(db, t, key));
      if (ids.length && existsSync(ctx.tmpPath) && has('b', t)) ids = subtractRanges(ids, islands(db, t, key, undefined, undefined, 'b'));
      if (ids.length) out[t] = { key, ids };
    }
  } finally {
    db.close();
  }
  return out;
}

/** Merges the rows written since the restore back into the put-back file; a note, or undefined when there were none. */
async function mergeWrittenSince(ctx: RestoreCtx, runId: string, keepDir: string): Promise<string | undefined> {
  const keptFile = join(keepDir, basename(ctx.dbPath));
  const found = await writtenSince(ctx, keptFile);
  const tables = Object.keys(found);
  if (!tables.length) return undefined;
  // A copy of the kept file holding only those rows is merged in (the kept file itself stays as it was).
  const { default: Database } = await import('better-sqlite3');
  const { copyFileSync } = await import('node:fs');
  const only = `${ctx.tmpPath}.since`;
  for (const sfx of ['', '-wal']) if (existsSync(`${keptFile}${sfx}`)) copyFileSync(`${keptFile}${sfx}`, `${only}${sfx}`);
  try {
    const db = new Database(only, { timeout: 10_000 });
    try {
      db.pragma('foreign_keys = OFF');
      db.exec('CREATE TEMP TABLE opsdeck_keep (lo INTEGER, hi INTEGER)');
      for (const t of tables) {
        const { key, ids } = found[t] as { key: string; ids: Range[] };
        db.exec('DELETE FROM temp.opsdeck_keep');
        const ins = db.prepare('INSERT INTO temp.opsdeck_keep VALUES (?, ?)');
        for (const [lo, hi] of ids) ins.run(lo, hi);
        const k = `"${key.replace(/"/g, '""')}"`;
        db.prepare(`DELETE FROM "${t.replace(/"/g, '""')}" WHERE NOT EXISTS (SELECT 1 FROM temp.opsdeck_keep WHERE ${k} BETWEEN lo AND hi)`).run();
      }
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
    const keys = Object.fromEntries(tables.map((t) => [t, [(found[t] as { key: string }).key]]));
    const counts = await mergeTables(ctx.dbPath, only, tables, keys, { id: runId, backupId: 'before-rollback' });
    return `kept the rows written since the restore: ${tables.map((t) => `${t}: ${size((found[t] as { ids: Range[] }).ids)} rows (${(found[t] as { key: string }).key} ${formatRanges((found[t] as { ids: Range[] }).ids)}) merged back${counts[t]?.conflicts ? `, ${counts[t].conflicts} kept in ${conflictsTable(t)}` : ''}`).join('; ')}`;
  } finally {
    for (const sfx of ['', '-wal', '-shm']) rmSync(`${only}${sfx}`, { force: true });
  }
}

/** Starts what the run stopped again: the undo of stopping the writers. */
export async function startStopped(ctx: RestoreCtx): Promise<string> {
  if (ctx.stopped.length === 0) return 'no writer was stopped';
  await startWriters(ctx.writers, ctx.dockerHost, ctx.stopped);
  return `started ${ctx.stopped.join(', ')} again`;
}

const replacing = (execute: (x: X) => Promise<string>): RestoreAction => ({ dangerous: true, prompt: restorePrompt, execute, undo: putBackSafetyCopy });

/** The restore's actions, by step id (`stage:*` steps share `stage`). */
export const RESTORE_ACTIONS: Record<string, RestoreAction> = {
  choose: {
    dangerous: false,
    prompt: restorePrompt,
    execute: (x) => Promise.resolve(x.step.detail),
  },
  verify: {
    dangerous: false,
    prompt: restorePrompt,
    async execute(x) {
      const ctx = x.record.ctx;
      const file = backupFile(ctx);
      trace('verify: start');

      // Issue #27: a backup whose full check passed when it was verified, and whose bytes still match
      // that SHA-256 (just checked while decompressing), holds the same pages: its integrity_check
      // and foreign_key_check are not run again (they were 10.8 of a 16.7 s restore of 927 MiB);
      // --full-verify (or the wizard's choice) runs them anyway, and an unverified backup always gets
      // them. The copy is checked before it is renamed into place, beside its fsync
      // (`extractVerified`'s check): integrity_check when the backup is checked in full, else — for a
      // whole-file restore, whose swap puts these very pages in place — quick_check, memory-mapped in a
      // child (a SIGBUS there is a failed check, not a dead restore). A copy that fails is never
      // swapped in; after the swap the check step proves the file in place is this one.
      const checksumOnly = ctx.verify === 'checksum';
      const whole = ctx.mode.kind === 'whole';
      const got: { rep?: DbReport } = {};
      // The quick_check's process starts now (boots while the copy is written) and waits for the copy.
      const qc = checksumOnly && whole ? startQuickCheck() : undefined;
      await extractVerified(file, ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`, 'restore', async (part) => {
        trace('verify: copy written, checksum ok');
        const [q, i] = await Promise.allSettled([qc?.run(part).finally(() => trace('verify: quick_check done')), inspectDatabase(part, undefined, checksumOnly ? 'none' : 'integrity').finally(() => trace('verify: tables counted'))]);
        if (q.status === 'rejected') throw q.reason;
        const quick = q.value;
        if (quick && (quick.length !== 1 || quick[0] !== 'ok')) throw new Failure('corrupt', `backup ${ctx.backupId}: quick_check failed (${oneLine(quick)}); it cannot be restored`);
        if (i.status === 'rejected') {
          // Pages that do not even let the tables be counted: the copy is damaged, like a failed check.
          const code = (i.reason as { code?: unknown }).code;
          if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') throw new Failure('corrupt', `backup ${ctx.backupId}: its copy cannot be read (${(i.reason as Error).message}); it cannot be restored`);
          throw i.reason;
        }
        const inspected = i.value;
        if (!checksumOnly && (inspected.integrity.length !== 1 || inspected.integrity[0] !== 'ok')) throw new Failure('corrupt', `backup ${ctx.backupId}: integrity_check failed (${oneLine(inspected.integrity)}); it cannot be restored`);
        got.rep = inspected;
      }).finally(() => qc?.cancel());
      const rep = got.rep;
      trace('verify: copy checked and fsynced');
      if (!rep) throw new Failure('internal', `backup ${ctx.backupId}: the copy was not checked`);
      const preChecked = whole ? (checksumOnly ? 'quick_check' : 'integrity_check') : undefined;
      const fk = rep.fkViolations ?? ctx.backupFk;
      if (fk > ctx.backupFk) throw new Failure('corrupt', `backup ${ctx.backupId}: ${fk} foreign-key violations, ${ctx.backupFk} recorded at backup time`);
      let mode = ctx.mode;
      if (mode.kind === 'tables') {
        // `--tables all` without configured tables means every table of the backup.
        mode = { kind: 'tables', stages: mode.stages.map((s) => (s.tables.length ? s : { ...s, tables: rep.tables })) };
        const unknown = mode.stages.flatMap((s) => s.tables).filter((tb) => !rep.tables.includes(tb));
        if (unknown.length) throw new Failure('not-found', `table ${unknown.join(', ')} is not in backup ${ctx.backupId} (it has: ${rep.tables.join(', ')})`);
      }
      let mergeNote = '';
      let mergeKeys = ctx.mergeKeys;
      if (mode.kind === 'merge') {
        const unknown = mode.tables.filter((tb) => !rep.tables.includes(tb));
        if (unknown.length) throw new Failure('not-found', `table ${unknown.join(', ')} is not in backup ${ctx.backupId} (it has: ${rep.tables.join(', ')})`);
        const plan = await planMergeFrom(ctx.tmpPath, mode.tables, ctx.mergeKeys ?? {}, ctx.dbPath, x.deps.ledger, ctx.database, backupTakenAt(ctx));
        mode = { kind: 'merge', tables: plan.tables };
        mergeKeys = plan.keys;
        mergeNote = `; merge covers ${plan.tables.join(', ')}${plan.cascaded.length ? ` (${plan.cascaded.join(', ')}: ON DELETE CASCADE children)` : ''}${plan.holds ? `; ${plan.holds}` : ''}`;
      }
      x.persist({ ...ctx, mode, backupCounts: rep.rowCounts, ...(mergeKeys ? { mergeKeys } : {}), ...(preChecked ? { checkedBeforeSwap: preChecked } : {}) });
      const checks = checksumOnly
        ? `checksum ok (the SHA-256 of the backup verified ${ctx.verifiedAt ?? 'before'}: integrity_check and foreign_key_check passed then, not run again; --full-verify runs them)${preChecked ? ', quick_check of the copy ok' : ''}`
        : `checksum ok, integrity_check ok, ${fk} foreign-key violations${fk ? ' (already in the source: warning)' : ''}`;
      return `${checks}, ${rep.tables.length} tables${mergeNote}`;
    },
  },
  'stop-writers': {
    dangerous: true,
    prompt: restorePrompt,
    async execute(x) {
      const ctx = x.record.ctx;
      const stopped = await stopWriters(ctx.writers, ctx.dockerHost, ctx.stopped, (name) => x.persist({ ...x.record.ctx, stopped: [...x.record.ctx.stopped, name] }));
      // A monitor's probe (the console, watch, check) holds the file for a moment: wait up to 5 s
      // for such readers to let go before calling what still holds it a writer.
      let holders = holdersOf(ctx.dbPath);
      for (const until = Date.now() + 5000; holders.length && !ctx.force && Date.now() < until; holders = holdersOf(ctx.dbPath)) await new Promise((res) => setTimeout(res, 100));
      if (holders.length && !ctx.force)
        throw new Failure('writers-running', `refused: ${ctx.dbPath} is still open in ${holders.map((h) => `pid ${h.pid} (${h.command})`).join(', ')}; stop it, or pass --force`);
      return `${stopped.length ? `stopped ${stopped.join(', ')}` : 'no writer was running'}${holders.length ? `; --force: still open in pid ${holders.map((h) => h.pid).join(', ')}` : ''}`;
    },
    undo: (x) => startStopped(x.record.ctx),
  },
  'safety-copy': {
    dangerous: true,
    prompt: restorePrompt,
    async execute(x) {
      const ctx = x.record.ctx;
      const file = backupFile(ctx);

      // A whole-file restore links the main file instead of copying it (issue #27): the swap renames
      // over the name, so the old bytes stay in the safety copy untouched. Not with --force: another
      // process may still write the file.
      const m = safetyCopy(ctx.dbPath, ctx.safetyDir, { link: ctx.mode.kind === 'whole' && !ctx.force });
      const copied = m.missing
        ? `no database file existed; recorded in ${ctx.safetyDir}`
        : `${m.linked ? `linked ${basename(ctx.dbPath)} (same file system: the swap leaves the old file there, nothing copied)${m.files.length > 1 ? ', copied ' : ''}` : 'copied '}${m.files.filter((f) => !m.linked || f !== '').map((f) => basename(ctx.dbPath) + f).join(', ')} to ${ctx.safetyDir}`;
      if (ctx.mode.kind === 'merge' || m.missing) return copied;
      // Writers are stopped: what replacing would lose is measured now and shown before the replace.
      if (!existsSync(ctx.tmpPath)) await extractVerified(file, ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`);
      const critical = ctx.criticalTables ?? [];
      const tables = ctx.mode.kind === 'whole' ? critical : ctx.mode.stages.flatMap((st) => st.tables).filter((t) => critical.includes(t));
      const loss = await replaceLoss(ctx.dbPath, ctx.tmpPath, tables, integerKey);
      // A table the file cannot give (corrupt pages): the ids the row-loss ledger knew and the backup
      // does not hold are counted instead — at least those are lost.
      const fromLedger: string[] = [];
      const changed: Record<string, [number, number][]> = {};
      const unread = Object.entries(loss).filter(([, v]) => v === undefined).map(([t]) => t);
      const { default: Database } = await import('better-sqlite3');
      const b = new Database(ctx.tmpPath, { readonly: true, fileMustExist: true });
      try {
        for (const t of unread) {
          const e = x.deps.ledger.entry(ctx.database, t);
          if (!e?.key) continue;
          loss[t] = subtractRanges(e.known, islands(b, t, e.key)).map(([lo, hi]): [number, number] => [lo, hi]);
          fromLedger.push(t);
        }
        // A lost id the backup also holds is a row changed since the backup: replacing reverts it.
        for (const [t, r] of Object.entries(loss)) {
          const key = r?.length && !fromLedger.includes(t) ? integerKey(b, t) : undefined;
          if (!r || !key) continue;
          const both = intersectRanges(r, islands(b, t, key)).map(([lo, hi]): [number, number] => [lo, hi]);
          if (both.length) changed[t] = both;
        }
      } finally {
        b.close();
      }
      x.persist({
        ...ctx,
        replaceLoss: Object.fromEntries(Object.entries(loss).map(([t, v]) => [t, v ?? null])),
        ...(Object.keys(changed).length ? { replaceChanged: changed } : {}),
        ...(fromLedger.length ? { replaceLossFromLedger: fromLedger } : {}),
      });
      return `${copied}; measured what replacing loses (the replace step names it)`;
    },
  },
  swap: replacing(async (x) => {
    const ctx = x.record.ctx;
    const file = backupFile(ctx);

      // A copy made again here (its verify step's was gone) passes the same check before it is swapped in.
      if (!existsSync(ctx.tmpPath)) await extractVerified(file, ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`, 'restore', ctx.checkedBeforeSwap ? (part) => checkCopy(part, ctx) : undefined);
      // opsdeck's own tables (quarantined and conflicting rows) and WAL mode outlive the swap.
      const kept = existsSync(ctx.dbPath) ? carryOver(ctx.tmpPath, ctx.dbPath) : undefined;
      // The copy's header as it goes in (page count, change counter, WAL or not): the check step finds it in place.
      if (ctx.checkedBeforeSwap) x.persist({ ...ctx, swappedHeader: dbHeader(ctx.tmpPath) });
      await swapIn(ctx.tmpPath, ctx.dbPath);
      return `${ctx.dbPath} replaced by backup ${ctx.backupId}${kept ? describeCarried(kept, ctx.safetyDir) : ''}`;
  }),
  merge: replacing(async (x) => {
    const ctx = x.record.ctx;
    const r = x.record;
    const file = backupFile(ctx);

      if (ctx.mode.kind !== 'merge') throw new Failure('internal', 'merge step in a run that is not a merge');
      if (!existsSync(ctx.tmpPath)) await extractVerified(file, ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`);
      const counts = await mergeTables(ctx.dbPath, ctx.tmpPath, ctx.mode.tables, ctx.mergeKeys ?? {}, { id: r.id, backupId: ctx.backupId });
      // What this merge inserted, by id: a resumed merge inserts only what is still absent, so the ids join those of the attempt before.
      const mergedIds = { ...ctx.mergedIds };
      for (const [t, c] of Object.entries(counts)) {
        if (!c.insertedIds) continue;
        const before = mergedIds[t]?.key === c.insertedIds.key ? mergedIds[t].ranges : [];
        mergedIds[t] = { key: c.insertedIds.key, ranges: normalize([...before, ...c.insertedIds.ids.map((id): Range => [id, id])]) };
      }
      x.persist({ ...ctx, mergedIds });
      return Object.entries(counts)
        .map(([t, c]) => `${t}: ${c.inserted} rows inserted, ${c.unchanged} already there${c.conflicts ? `, ${c.conflicts} kept in ${conflictsTable(t)} (their key now holds a newer row)` : ''}${c.quarantined ? `, ${c.quarantined} not merged back: they wait in _opsdeck_quarantine_${t} (db repair moved them; db repair --undo puts them back)` : ''}`)
        .join('; ');
  }),
  stage: replacing(async (x) => {
    const ctx = x.record.ctx;
    const step = x.step;
    const file = backupFile(ctx);

      const name = step.id.slice('stage:'.length);
      const stage = ctx.mode.kind === 'tables' ? ctx.mode.stages.find((s) => s.name === name) : undefined;
      if (!stage) throw new Failure('internal', `stage ${name} is not in the plan`);
      if (!existsSync(ctx.tmpPath)) await extractVerified(file, ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`);
      const counts = await restoreTables(ctx.dbPath, ctx.tmpPath, stage.tables, name);
      return `restored ${Object.entries(counts).map(([t, n]) => `${t} (${n} rows)`).join(', ')}`;
  }),
  check: {
    dangerous: false,
    prompt: restorePrompt,
    async execute(x) {
      const ctx = x.record.ctx;
      const r = x.record;
      const file = backupFile(ctx);

      // A whole-file restore renamed the bytes that passed integrity_check at the verify step (plus
      // opsdeck's own tables carried over in one transaction): quick_check (one sequential pass,
      // docs/FACTS.md §4) proves the file readable; a staged restore wrote new pages, so it gets the
      // full integrity_check.
      // Issue #27: the whole file's quick_check runs memory-mapped in a child process
      // (quickCheckInChild: a SIGBUS there is a failed check, not a dead restore) while this process
      // counts the rows and runs foreign_key_check.
      // Since then the copy is checked before the swap (`checkedBeforeSwap`, the verify step): what
      // is left here is that the file in place is that copy — the SQLite header the swap put in place
      // (page count, change counter, WAL mode carried over), it opens, its foreign keys and row counts
      // are the backup's.
      const whole = ctx.mode.kind === 'whole';
      const before = whole ? ctx.checkedBeforeSwap : undefined;
      const [quick, inspected] = await Promise.all([whole && !before ? quickCheckInChild(ctx.dbPath) : undefined, inspectDatabase(ctx.dbPath, undefined, whole ? 'fk' : 'integrity')]);
      const rep = quick ? { ...inspected, integrity: quick } : before ? { ...inspected, integrity: ['ok'] } : inspected;
      if (rep.integrity.length !== 1 || rep.integrity[0] !== 'ok') throw new Failure('integrity', `${ctx.dbPath}: ${ctx.mode.kind === 'whole' ? 'quick_check' : 'integrity_check'} failed after the restore (${rep.integrity.slice(0, 2).join('; ')})`);
      const header = before ? dbHeader(ctx.dbPath) : undefined;
      if (before && ctx.swappedHeader && header !== ctx.swappedHeader) throw new Failure('mismatch', `${ctx.dbPath}: its SQLite header differs from the copy the swap put in place: the file in place is not the restored copy`);
      // Bytes 18–19 of the header: 2 in WAL mode (the only journal mode a file keeps).
      const journal = header === undefined ? undefined : header.slice(36, 38) === '02' ? 'wal' : 'rollback journal';
      if (ctx.mode.kind === 'merge') {
        // The honest check (issue #10): every row of the backup is in the table as it was, or kept
        // in the conflicts table by this run — otherwise the restore is not done.
        if (!existsSync(ctx.tmpPath)) await extractVerified(file, ctx.sha256, ctx.tmpPath, `backup ${ctx.backupId}`);
        const left = await unmergedRows(ctx.dbPath, ctx.tmpPath, ctx.mode.tables, ctx.mergeKeys ?? {}, r.id);
        const bad = Object.entries(left).filter(([, n]) => n > 0);
        if (bad.length) throw new Failure('mismatch', `${ctx.dbPath}: ${bad.map(([t, n]) => `${n} rows of ${t}`).join(', ')} from backup ${ctx.backupId} are neither in the table nor kept as conflicts`);
        const fkNote = (rep.fkViolations ?? 0) > ctx.backupFk ? `; WARNING: ${rep.fkViolations} foreign-key violations (PRAGMA foreign_key_check lists them)` : '';
        return `integrity_check ok; every row of the backup's ${ctx.mode.tables.join(', ')} is back or kept as a conflict${fkNote}`;
      }
      const restored = ctx.mode.kind === 'whole'
        ? Object.keys(ctx.backupCounts).filter((t) => !t.startsWith('_opsdeck_')) // the live file's were carried over
        : ctx.mode.stages.filter((s) => r.run.states[r.run.steps.findIndex((x) => x.id === `stage:${s.name}`)]?.status === 'done').flatMap((s) => s.tables);
      const wrong = restored.filter((t) => rep.rowCounts[t] !== ctx.backupCounts[t]);
      if (wrong.length) throw new Failure('mismatch', `${ctx.dbPath}: row counts differ from backup ${ctx.backupId} in ${wrong.map((t) => `${t} (${rep.rowCounts[t] ?? 'missing'} vs ${ctx.backupCounts[t]})`).join(', ')}`);
      if (ctx.mode.kind === 'whole' && (rep.fkViolations ?? 0) > ctx.backupFk) throw new Failure('foreign-keys', `${ctx.dbPath}: ${rep.fkViolations} foreign-key violations after the restore, ${ctx.backupFk} in the backup`);
      const fkNote = (rep.fkViolations ?? 0) > ctx.backupFk ? `; WARNING: ${rep.fkViolations} foreign-key violations (rows of tables not restored point at restored ones)` : '';
      const checked = before ? `${before} of the copy ok before the swap; the file in place is that copy (its header, ${journal ?? 'unread'}) and opens` : `${ctx.mode.kind === 'whole' ? 'quick_check' : 'integrity_check'} ok`;
      return `${checked}, ${restored.length} tables match the backup's row counts${fkNote}`;
    },
  },
  ledger: {
    dangerous: false,
    prompt: restorePrompt,
    execute: (x) => recordLedger(x.record, x.deps.ledger),
  },
  'start-writers': {
    dangerous: true,
    prompt: restorePrompt,
    async execute(x) {
      const ctx = x.record.ctx;
      if (ctx.stopped.length === 0) return 'nothing to start';
      await startWriters(ctx.writers, ctx.dockerHost, ctx.stopped);
      return `started ${ctx.stopped.join(', ')}`;
    },
  },
  health: {
    dangerous: false,
    prompt: restorePrompt,
    async execute(x) {
      const ctx = x.record.ctx;
      if (ctx.stopped.length === 0) return 'no writer to check';
      return writersHealthy(ctx.dockerHost, ctx.stopped, x.signal, x.deps.writerHealth);
    },
  },
  'accept-loss': {
    dangerous: false,
    audited: true,
    settled: (x) => (stillMissing(x.record, x.deps.ledger).length === 0 ? 'no row is missing' : undefined),
    // Missing rows are given up only by a person typing the database's name (a reflex y is a no), or
    // by --accept-loss: never silently by --yes.
    personOnly(x) {
      if (x.record.ctx.acceptLoss) return undefined;
      const missing = stillMissing(x.record, x.deps.ledger);
      return `not given up without a person's answer (--yes never gives up rows; pass --accept-loss to): ${missing.map((m) => `${size(m.missing)} rows of ${m.table} (${m.key} ${formatRanges(m.missing)})`).join(', ')}`;
    },
    prompt: (x) => ({
      intro: x.step.title,
      text: lossQuestion(stillMissing(x.record, x.deps.ledger), x.record.ctx.database, x.record.ctx.safetyDir && x.record.ctx.dbPath ? join(x.record.ctx.safetyDir, basename(x.record.ctx.dbPath)) : undefined),
      skipMeans: `not given up (only typing ${x.record.ctx.database} gives them up): the rows stay missing; the row-loss alert keeps firing`,
      confirm: x.record.ctx.database,
    }),
    async execute(x) {
      const r = x.record;
      const missing = stillMissing(r, x.deps.ledger);
      if (missing.length === 0) return 'no row is missing';
      const lines = missing.map((m) => x.deps.ledger.accept(r.ctx.database, m.table, m.missing, r.id));
      // The audit line says who gave them up: the flag, or a person who typed the name (journaled as "confirmed by typing").
      return `given up, recorded in the state database: ${lines.join('; ')} (${r.ctx.acceptLoss ? 'by --accept-loss' : `the operator typed "${r.ctx.database}" to confirm`})`;
    },
  },
};

/** The check of a whole-file restore's copy before the swap (issue #27; the verify step's, again). */
async function checkCopy(part: string, ctx: RestoreCtx): Promise<void> {
  const rows = ctx.checkedBeforeSwap === 'integrity_check' ? (await inspectDatabase(part, [], 'integrity')).integrity : await quickCheckInChild(part);
  if (rows.length !== 1 || rows[0] !== 'ok') throw new Failure('corrupt', `backup ${ctx.backupId}: ${ctx.checkedBeforeSwap ?? 'quick_check'} failed (${oneLine(rows)}); it cannot be restored`);
}

/** A check's first result lines as one line ("*** in database main ***\nFreelist: …" included). */
const oneLine = (rows: readonly string[]) => rows.slice(0, 2).join('; ').replace(/\s*\n\s*/g, ' ');

/** The first 100 bytes of a database file — SQLite's header — in hex ('' when shorter or unreadable). */
function dbHeader(path: string): string {
  try {
    const fd = openSync(path, 'r');
    try {
      const b = Buffer.alloc(100);
      return readSync(fd, b, 0, 100, 0) === 100 ? b.toString('hex') : '';
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** The restore runbook: its actions, which steps commit, and where its audit lines go. */
export function restoreRunbook(audit: Runbook<RestoreCtx, RestoreDeps>['audit']): Runbook<RestoreCtx, RestoreDeps> {
  return {
    kind: 'restore',
    action: (step: StepDef) => RESTORE_ACTIONS[step.action ?? (step.id.startsWith('stage:') ? 'stage' : step.id)],
    commits: changesDatabase,
    audit,
  };
}

/**
 * What a merge covers, resolved against the backup: the chosen tables and their ON DELETE CASCADE
 * children, parents first, each with the key it is matched on (a table with neither a PRIMARY KEY
 * nor a configured merge key is refused); and how many of the ledger's missing rows the backup holds.
 */
async function planMergeFrom(backupPath: string, chosen: readonly string[], configured: Record<string, string[]>, dbPath: string, ledger: RowLedger, database: string, backupAt: number | undefined): Promise<{ tables: string[]; cascaded: string[]; keys: Record<string, string[]>; holds: string }> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    db.prepare('ATTACH DATABASE ? AS b').run(backupPath);
    const { tables, cascaded } = mergeOrder(db, chosen);
    const keys: Record<string, string[]> = {};
    for (const t of tables) {
      const k = mergeKey(db, t, configured[t]);
      if (!k) throw new Failure('no-key', `table ${t} has no PRIMARY KEY and no merge key: a merge cannot tell its rows apart (rowids change with VACUUM); set databases[].merge_keys.${t}, or restore it by replacing (--tables ${t} without --merge)`);
      keys[t] = k;
    }
    const holds = ledger
      .entries(database)
      .filter((e) => e.key && e.missing.length && tables.includes(e.table))
      .map((e) => {
        const key = e.key as string;
        if (takenAfterLoss(backupAt, e)) return `the backup, taken after the loss was noticed, holds none of the ${size(e.missing)} missing rows of ${e.table} (rows under those ids in it are newer ones)`;
        const there = size(intersectRanges(e.missing, islands(db, e.table, key, undefined, undefined, 'b')));
        return `the backup holds ${there} of the ${size(e.missing)} missing rows of ${e.table}`;
      })
      .join('; ');
    return { tables, cascaded, keys, holds };
  } finally {
    db.close();
  }
}

/** When the restore's backup was taken (its manifest), if it can be read. */
function backupTakenAt(ctx: RestoreCtx): number | undefined {
  const createdAt = listBackups(ctx.backupDir).find((x) => x.id === ctx.backupId)?.createdAt;
  return createdAt !== undefined ? Date.parse(createdAt) : undefined;
}

/**
 * A backup taken after a table's loss was noticed cannot vouch for its missing ids: in it they hold
 * new rows that reused them (INTEGER PRIMARY KEY takes max + 1), not the lost ones (operator trial:
 * counted by id, such a backup "held" every lost trade and the ledger called them back).
 */
function takenAfterLoss(backupAt: number | undefined, e: Pick<LedgerEntry, 'missingSince'>): boolean {
  return backupAt !== undefined && e.missingSince !== undefined && backupAt >= e.missingSince;
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
  const backupAt = backupTakenAt(ctx);
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
      // A replace leaves exactly the backup's rows; a merge's backup is attached as `b`; one taken
      // after the loss was noticed does not vouch for the missing ids (they stay missing).
      const held = key ? (ctx.mode.kind === 'merge' ? islands(live, t, key, undefined, undefined, 'b') : present) : [];
      const lost = ledger.entries(ctx.database).find((e) => e.table === t);
      const backupIds = lost && takenAfterLoss(backupAt, lost) ? subtractRanges(held, lost.missing) : held;
      const qt = `_opsdeck_quarantine_${t}`;
      const quarantined = key && live.prepare('SELECT 1 FROM pragma_table_info(?) WHERE name = ?').get(qt, key) ? islands(live, qt, key) : [];
      // A merge keeps a backup row whose id a newer row took in the conflicts table: the ledger counts
      // it as found (`kept`, not `recovered`), and the note says where it is (not "back" in the table).
      const ct = conflictsTable(t);
      const kept: Range[] =
        key && ctx.mode.kind === 'merge' && live.prepare("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?").get(ct)
          ? normalize((live.prepare(`SELECT "${key.replace(/"/g, '""')}" AS id FROM main."${ct.replace(/"/g, '""')}" WHERE _opsdeck_run = ?`).all(r.id) as { id: number }[]).filter((x) => Number.isInteger(x.id)).map((x): Range => [x.id, x.id]))
          : [];
      const x = ledger.restored(ctx.database, t, key, present, backupIds, count, r.id, Date.now(), ctx.mode.kind === 'merge' ? [] : (ctx.replaceLoss?.[t] ?? []), quarantined, kept);
      if (!key) {
        notes.push(`${t}: ${count} rows (no integer key: counted, not tracked by id)`);
        continue;
      }
      const inTable = subtractRanges(x.recovered, kept);
      const inConflicts = intersectRanges(x.recovered, kept);
      const parts = [`${size(inTable)} missing rows back${inTable.length ? ` (${key} ${formatRanges(inTable)})` : ''}`];
      if (inConflicts.length) parts.push(`${size(inConflicts)} kept in ${ct} (${key} ${formatRanges(inConflicts)}: the id now holds a newer row)`);
      // The merge keeps every backup row that differs from the live one, also those the row-loss check
      // never counted missing (an id reused between two looks): said, so the two counts agree.
      const other = subtractRanges(kept, inConflicts);
      if (other.length) parts.push(`${size(other)} more kept there (${key} ${formatRanges(other)}: the live row differs from the backup's; not missing to the row-loss check)`);
      // The merge also inserts backup rows absent now that the row-loss check never counted missing
      // (deleted after its last look): said, so its count and this one agree (operator trial: step 5
      // "14 rows inserted", this step "11 missing rows back").
      const merged = ctx.mode.kind === 'merge' && ctx.mergedIds?.[t]?.key === key ? ctx.mergedIds[t].ranges : [];
      const unseen = subtractRanges(merged, x.recovered);
      if (unseen.length) parts.push(`${size(unseen)} more inserted (${key} ${formatRanges(unseen)}: absent when the merge ran, deleted after the row-loss check's last look)`);
      if (x.lostByRestore.length) parts.push(`${size(x.lostByRestore)} rows written after the backup are gone (${key} ${formatRanges(x.lostByRestore)})`);
      if (x.reverted.length) parts.push(`${size(x.reverted)} rows changed since the backup now hold the backup's version (${key} ${formatRanges(x.reverted)}; the replaced versions are in the safety copy ${ctx.safetyDir})`);
      parts.push(x.missing.length ? `${size(x.missing)} still missing (${key} ${formatRanges(x.missing)})` : 'none missing');
      notes.push(`${t}: ${parts.join(', ')}`);
    }
  } finally {
    live.close();
  }
  return notes.join('; ');
}

/**
 * "replacing loses 51 rows of trades written after the backup (id 2311–2361); turns 2 rows of trades
 * changed since the backup back to the backup's version (id 7, 9)" / "replacing loses no row of a critical table".
 */
function describeReplaceLoss(loss: Record<string, [number, number][] | null | undefined>, fromLedger: readonly string[] = [], changedOf: Record<string, [number, number][]> = {}): string {
  const lost: string[] = [];
  const reverted: string[] = [];
  for (const [t, r] of Object.entries(loss)) {
    if (r === undefined || r === null) {
      lost.push(`${t}: cannot be read and the row-loss ledger knows no ids of it, so what it loses cannot be counted`);
      continue;
    }
    if (fromLedger.includes(t)) {
      if (r.length) lost.push(`at least ${size(r)} rows of ${t} (id ${formatRanges(r)}) — the file cannot be read; counted from the ids the row-loss ledger knew`);
      continue;
    }
    const changed = changedOf[t] ?? [];
    const written = subtractRanges(r, changed);
    if (written.length) lost.push(`${size(written)} rows of ${t} written after the backup (id ${formatRanges(written)})`);
    if (changed.length) reverted.push(`${size(changed)} rows of ${t} changed since the backup (id ${formatRanges(changed)})`);
  }
  const parts = [
    ...(lost.length ? [`replacing loses ${lost.join('; ')}`] : []),
    ...(reverted.length ? [`${lost.length ? 'and turns' : 'replacing loses no row; it turns'} ${reverted.join('; ')} back to the backup's version (the newer versions stay in the safety copy)`] : []),
  ];
  return parts.length ? parts.join(' ') : 'replacing loses no row of a critical table';
}

/** The critical tables' rows still missing after this run, per the ledger. */
function stillMissing(r: Stored, ledger: RowLedger): { table: string; key: string; missing: Range[] }[] {
  const critical = r.ctx.criticalTables ?? [];
  return ledger.entries(r.ctx.database).flatMap((e) => (e.key && e.missing.length && critical.includes(e.table) ? [{ table: e.table, key: e.key, missing: [...e.missing] }] : []));
}

/** The question of the accept-loss step: exactly which rows would be given up, and the word that gives them up. */
function lossQuestion(missing: { table: string; key: string; missing: Range[] }[], database: string, safetyFile: string | undefined): string {
  // Rows a whole-file restore replaced are still in its safety copy: said, so "give up" is not read as "they are gone".
  const held = missing.flatMap((x) => {
    const n = safetyFile ? rowsInFile(safetyFile, x.table, x.key, x.missing) : undefined;
    return n ? [`${n} of the ${x.table} rows`] : [];
  });
  const inSafety = held.length ? ` The safety copy ${safetyFile} (the database as it was before this restore) still holds ${held.join(' and ')}: giving them up does not delete it — copy them back from it by hand (sqlite3) if they are needed, under new ids: the writers may already reuse these ids for new rows, and inserting by id would clash with them.` : '';
  return `give up ${missing.map((x) => `${size(x.missing)} rows of ${x.table} (${x.key} ${formatRanges(x.missing)})`).join(' and ')}? They are missing after this restore: lost before it and not in the backup used, replaced away by it (written after that backup), or in a stage that was skipped; rows written after the monitor's last look are not counted.${inSafety} Type ${database} to record them as given up (the row-loss alert resolves) · anything else, y included, keeps them missing (the alert keeps firing until they are found)`;
}

/** "; kept 3 rows of _opsdeck_quarantine_orders from the file it replaced; journal mode WAL kept". */
function describeCarried(k: CarriedOver, safetyDir: string): string {
  if (k.unreadable) return `; the file it replaced could not be read (${k.unreadable}): opsdeck's own tables and its journal mode were not carried over — they are in the safety copy ${safetyDir}`;
  const rows = Object.entries(k.rows).map(([t, n]) => `${n} rows of ${t}`);
  return `${rows.length ? `; kept ${rows.join(', ')} from the file it replaced` : ''}${k.journal === 'wal' ? '; journal mode WAL kept' : ''}`;
}

/** The replace loss of the tables one step replaces. */
function stageLoss(ctx: RestoreCtx, stepId: string): Record<string, [number, number][] | null> {
  const all = ctx.replaceLoss ?? {};
  if (stepId === 'swap' || ctx.mode.kind !== 'tables') return all;
  const stage = ctx.mode.stages.find((s) => `stage:${s.name}` === stepId);
  return Object.fromEntries(Object.entries(all).filter(([t]) => stage?.tables.includes(t)));
}
