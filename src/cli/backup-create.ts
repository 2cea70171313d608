// `opsdeck backup create` (split out of backupCommand, issue #17): database backups, configuration
// files, the files set, --verify, the off-host copies of what verified, --prune; audited, and the
// scheduler's run recorded when the scheduler started it.

import type BetterSqlite3 from 'better-sqlite3';
import { dirname, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import type { OffHostCopy } from '../domain/copy-template.js';
import { ExitError } from '../domain/errors.js';
import { formatBytes } from '../domain/format.js';
import type { RetentionHold } from '../domain/retention.js';
import { describeRun } from '../domain/schedule.js';
import { backupDir, createBackup, planPrune, prunePlanned, verifyBackup, type BackupManifest } from '../services/backup.js';
import { backupConfigFiles, type ConfigCopy } from '../services/backup-config.js';
import { createFilesBackup, FILES_TARGET, planFilesPrune, pruneFilesPlanned, verifyFilesBackup, type FilesManifest } from '../services/backup-files.js';
import { recordAudit } from '../state/acks.js';
import { sqliteAlertHolds } from '../state/alert-history.js';
import { recordRun } from '../state/backup-scheduler.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import type { BackupOptions, Target } from './backup.js';
import { copyVerified, filesDir } from './backup-files.js';
import { err, out, outJson, redact } from './output.js';

/** Deletes the planned backups, each audited; returns their ids. */
export function pruneTargets(plan: readonly { id: string; dir: string; database?: string }[], audit: Pick<Audit, 'record'>, detail?: string): string[] {
  const done = (id: string) => audit.record({ action: 'backup.prune', target: id, outcome: 'ok', ...(detail ? { detail } : {}) });
  return [...prunePlanned(plan.filter((p) => p.database !== FILES_TARGET), done), ...pruneFilesPlanned(plan.filter((p) => p.database === FILES_TARGET), done)];
}

/** Writes verification results into the state database's history and audit log. */
export function recordVerifications(db: BetterSqlite3.Database, results: readonly Pick<BackupManifest, 'id' | 'database' | 'verify'>[]): void {
  const ins = db.prepare('INSERT INTO backup_verifications (at, database, backup_id, ok, message) VALUES (?, ?, ?, ?, ?)');
  for (const r of results) {
    recordAudit(db, { action: 'backup.verify', target: r.id, outcome: r.verify?.ok ? 'ok' : 'failed', detail: r.verify?.message ?? '' });
    ins.run(Date.parse(r.verify?.at ?? new Date().toISOString()), r.database, r.id, r.verify?.ok ? 1 : 0, redact(r.verify?.message ?? ''));
  }
}

/** The audit log and scheduled-run record of one `backup create`. */
export interface Audit {
  record(e: Parameters<typeof recordAudit>[1]): void;
  /** Records the scheduled run's outcome (a no-op for a manual create). */
  run(r: { ok: boolean; message: string }, backupId?: string): void;
  verifications(results: readonly Pick<BackupManifest, 'id' | 'database' | 'verify'>[]): void;
  holds(database: string): RetentionHold[];
  close(): void;
}

/**
 * The state database for `backup create`: its audit entries are best effort — a backup must not fail
 * because the state folder cannot be written; that is said on stderr instead. Prune holds are not:
 * without the alert history, `--prune` deletes nothing.
 */
async function openAudit(loaded: LoadedConfig, scheduledRun: number | undefined): Promise<Audit> {
  let db: BetterSqlite3.Database | undefined;
  let warned = false;
  const warn = (e: unknown) => {
    if (!warned) err(`opsdeck: warning: audit log not written: ${(e as Error).message}`);
    warned = true;
  };
  try {
    db = await openStateDb(stateDir(loaded.config.state_dir));
  } catch (e) {
    warn(e);
  }
  const guard = (fn: (d: BetterSqlite3.Database) => void) => {
    try {
      if (db) fn(db);
    } catch (e) {
      warn(e);
    }
  };
  return {
    record: (e) => guard((d) => recordAudit(d, e)),
    run: (r, backupId) => {
      if (scheduledRun !== undefined) guard((d) => recordRun(d, scheduledRun, r.ok ? 'ok' : 'failed', backupId, r.message));
    },
    verifications: (results) => guard((d) => recordVerifications(d, results)),
    holds: (database) => {
      if (!db) throw new Error('the state database (open alerts) could not be opened');
      return sqliteAlertHolds(db, database);
    },
    close: () => db?.close(),
  };
}

/** What one `backup create` did, for its output. */
interface Created {
  made: readonly { m: BackupManifest }[];
  list: readonly Target[];
  configCopies: readonly ConfigCopy[];
  files: FilesManifest | undefined;
  filesVerified: FilesManifest | undefined;
  allVerified: readonly Pick<BackupManifest, 'id' | 'verify'>[];
  copies: readonly { id: string; offHost: OffHostCopy }[];
  pruned: readonly string[];
  pruneError?: string;
  filesError?: string;
  warnings: readonly string[];
  fdir: string;
}

/** Prints what `backup create` did: one JSON document (`--json`) or a line per backup, copy and prune. */
function report(g: BackupOptions, c: Created): void {
  const offHostOf = (id: string) => {
    const found = c.copies.find((x) => x.id === id);
    return found ? { offHost: found.offHost } : {};
  };
  if (g.json) {
    outJson({
      created: c.made.map((x) => ({ ...x.m, ...offHostOf(x.m.id) })),
      configFiles: c.configCopies,
      ...(c.files ? { filesBackup: { ...(c.filesVerified ?? c.files), ...offHostOf(c.files.id) } } : {}),
      ...(c.filesError ? { filesError: c.filesError } : {}),
      ...(g.verify ? { verified: c.allVerified.map((v) => ({ id: v.id, ...v.verify })), copies: c.copies.map((x) => ({ id: x.id, ...x.offHost })) } : {}),
      ...(g.prune ? { pruned: c.pruned, ...(c.pruneError ? { pruneError: c.pruneError } : {}) } : {}),
      warnings: c.warnings,
    });
    return;
  }
  for (const { m } of c.made) out(`created ${m.id}: ${formatBytes(m.sizeBytes)} (${formatBytes(m.rawBytes)} raw), sha256 ${m.sha256.slice(0, 12)}…, in ${c.list.find((t) => t.name === m.database)?.dir ?? ''}`);
  for (const x of c.configCopies) out(`config file ${x.source} changed: copied to ${x.stored}`);
  if (c.files) out(`created ${c.files.id}: ${c.files.files.length} file${c.files.files.length === 1 ? '' : 's'}, ${formatBytes(c.files.sizeBytes)}, in ${c.fdir}`);
  for (const v of c.allVerified) out(`${v.verify?.ok ? 'OK      ' : 'FAILED  '}${v.id}: ${v.verify?.message ?? ''}`);
  for (const x of c.copies.filter((y) => y.offHost.ok)) out(`off-host ${x.id}: ${x.offHost.message}`);
  for (const r of c.pruned) out(`pruned ${r}`);
}

/** Refuses `backup create` under --read-only, audited. */
async function refuseReadOnly(loaded: LoadedConfig, names: string[]): Promise<never> {
  const db = await openStateDb(stateDir(loaded.config.state_dir));
  recordAudit(db, { action: 'backup.create', target: names.join(', '), outcome: 'refused', detail: '--read-only' });
  db.close();
  throw new ExitError(1, 'read-only', 'backup create writes files; refused in --read-only mode');
}

/**
 * `opsdeck backup create`: backs up `list` (and the files set when `withFiles`), copies changed
 * configuration files; --verify verifies them and copies what verified off-host
 * (`backup.copy_command`); --prune prunes once everything verified. Exit 0; 2 when a verification
 * failed; 1 when the files set failed beside databases that were backed up (alone, it is the
 * error's own exit code, as a database's is). A failed off-host copy does not change the exit code: it is a warning on stderr and in
 * `--json` (`warnings`), recorded in the manifest and shown by `backup list` and the RPO check.
 */
export async function createCommand(loaded: LoadedConfig, g: BackupOptions, list: readonly Target[], withFiles: boolean): Promise<number> {
  if (g.readOnly) return refuseReadOnly(loaded, [...list.map((t) => t.name), ...(withFiles ? [FILES_TARGET] : [])]);
  const { backup } = loaded.config;
  const audit = await openAudit(loaded, g.scheduledRun ? Number(g.scheduledRun) : undefined);
  const by = g.scheduledBy ? `scheduled by ${g.scheduledBy}` : undefined;
  const failed = (target: string, e: unknown): never => {
    audit.record({ action: 'backup.create', target, outcome: 'failed', detail: [by, (e as Error).message].filter(Boolean).join(': ') });
    audit.run(describeRun({ error: (e as Error).message }));
    throw e;
  };
  const made: { m: BackupManifest; t: Target }[] = [];
  try {
    for (const t of list) {
      try {
        made.push({ m: await createBackup({ db: t.path, name: t.name, dir: t.dir, tables: t.tables }), t });
      } catch (e) {
        failed(t.name, e);
      }
      const last = made.at(-1);
      if (last) audit.record({ action: 'backup.create', target: last.m.id, outcome: 'ok', ...(by ? { detail: by } : {}) });
    }
    // Configuration files (relative to the config file) are copied when their content changed.
    const base = loaded.file ? dirname(loaded.file) : process.cwd();
    const configCopies = backupConfigFiles(backup.config_files.map((f) => resolve(base, f)), backupDir('_config', backup.dir));
    const fdir = filesDir(loaded);
    // A files set that fails ends a files-only create; beside databases, theirs go on (exit 1 at the end).
    let files: FilesManifest | undefined;
    let filesError: string | undefined;
    if (withFiles) {
      try {
        files = await createFilesBackup({ globs: backup.files, base, dir: fdir });
        audit.record({ action: 'backup.create', target: files.id, outcome: 'ok', detail: [by, `${files.files.length} files`].filter(Boolean).join(': ') });
      } catch (e) {
        if (made.length === 0) failed(FILES_TARGET, e);
        filesError = `files backup failed: ${(e as Error).message}`;
        audit.record({ action: 'backup.create', target: FILES_TARGET, outcome: 'failed', detail: [by, (e as Error).message].filter(Boolean).join(': ') });
      }
    }
    // --verify: the new backups are verified at once (a scheduled backup always is: issue #10).
    const verified: BackupManifest[] = [];
    if (g.verify) for (const { m, t } of made) verified.push(await verifyBackup(t.dir, m));
    const filesVerified = g.verify && files ? await verifyFilesBackup(fdir, files) : undefined;
    const allVerified = [...verified, ...(filesVerified ? [filesVerified] : [])];
    audit.verifications(allVerified);
    const allOk = allVerified.every((v) => v.verify?.ok);
    // Off-host copies of what verified (issue #17); a failed copy is a warning, never a bad backup.
    const copies = await copyVerified(backup, [...verified.map((m) => ({ m, dir: made.find((x) => x.m.id === m.id)?.t.dir ?? '' })), ...(filesVerified ? [{ files: filesVerified, dir: fdir }] : [])], audit);
    const warnings = [...(files?.unmatched.length ? [`backup.files: no file matches ${files.unmatched.join(', ')}`] : []), ...copies.filter((c) => !c.offHost.ok).map((c) => `off-host copy of ${c.id} failed: ${c.offHost.message}`)];
    // --prune: only after every new backup verified, so a bad backup never pushes a good one out.
    let pruned: string[] = [];
    let pruneError: string | undefined;
    if (g.prune && allOk) {
      try {
        pruned = pruneTargets([...planPrune(made.map((x) => x.t), backup, (name) => audit.holds(name)), ...(files ? planFilesPrune(fdir, backup) : [])], audit, by);
      } catch (e) {
        pruneError = `not pruned: ${(e as Error).message}`;
      }
    }
    const createdId = made[0]?.m.id ?? files?.id;
    audit.run(describeRun({ ...(createdId ? { created: createdId } : {}), verified: allVerified.map((v) => ({ id: v.id, ok: !!v.verify?.ok, message: v.verify?.message ?? '' })), pruned: pruned.length, ...(pruneError ? { pruneError } : {}) }), createdId);
    report(g, { made, list, configCopies, files, filesVerified, allVerified, copies, pruned, ...(pruneError ? { pruneError } : {}), ...(filesError ? { filesError } : {}), warnings, fdir });
    for (const w of warnings) err(`opsdeck: warning: ${w}`);
    if (pruneError) err(`opsdeck: ${pruneError}`);
    if (filesError) err(`opsdeck: ${filesError}`);
    return allOk ? (filesError ? 1 : 0) : 2;
  } finally {
    audit.close();
  }
}
