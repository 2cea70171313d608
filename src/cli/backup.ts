// `opsdeck backup`: target resolution and the verify, list and prune actions; `create` lives in
// backup-create.ts, the files set and off-host copies in backup-files.ts (issue #17).

import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { formatDuration } from '../config/duration.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { ExitError, UsageError } from '../domain/errors.js';
import { formatBytes } from '../domain/format.js';
import { applyRetention, retentionPolicy, safetyPolicy, type RetentionHold } from '../domain/retention.js';
import { backupDir, createBackup, listBackups, planPrune, verifyBackup, type BackupManifest } from '../services/backup.js';
import { FILES_TARGET, planFilesPrune, type FilesManifest } from '../services/backup-files.js';
import { offHostStatus } from '../domain/copy-template.js';
import { demoDir } from '../demo/workspace.js';
import { recordAudit } from '../state/acks.js';
import { readAlertHolds, sqliteAlertHolds } from '../state/alert-history.js';
import { createCommand, pruneTargets, recordVerifications } from './backup-create.js';
import { filesDir, filesRows, filesScope, offHostText, verifyFilesSets } from './backup-files.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { listSafetyCopies, planSafetyPrune, safetyRoot } from '../state/safety-copies.js';
import { err, out, outJson, useSecrets, type GlobalOptions } from './output.js';

/** Options of the backup commands. */
export interface BackupOptions extends GlobalOptions {
  db?: string;
  dir?: string;
  all?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  /** create: verify the new backups at once. */
  verify?: boolean;
  /** create: prune after the new backups verified. */
  prune?: boolean;
  /** create: who scheduled this backup, for the audit log (the scheduler's child process). */
  scheduledBy?: string;
  /** create: the scheduler's run (backup_runs.id) whose outcome this process records. */
  scheduledRun?: string;
  /** The files set of `backup.files` only (issue #17). */
  files?: boolean;
  /** extract: the new file the database is written to (issue #27). */
  to?: string;
}

/** A database the backup and restore commands act on. */
export interface Target {
  name: string;
  path: string;
  dir: string;
  tables: string[];
  critical: string[];
  normal: string[];
  /** Service names that write to it (config `writers`). */
  writers: string[];
  /** Merge keys of tables without a PRIMARY KEY (config `merge_keys`). */
  mergeKeys?: Record<string, string[]>;
}

/** `--db` is a configured database's name or the path of any SQLite file (works with no config at all). */
export function targets(loaded: LoadedConfig, g: BackupOptions): Target[] {
  const { config } = loaded;
  const toTarget = (d: (typeof config.databases)[number]): Target => ({
    name: d.name,
    path: d.path,
    dir: backupDir(d.name, config.backup.dir, g.dir),
    tables: [...d.critical_tables, ...d.normal_tables],
    critical: [...d.critical_tables],
    normal: [...d.normal_tables],
    writers: [...d.writers],
    mergeKeys: Object.fromEntries(Object.entries(d.merge_keys).map(([t, k]) => [t, typeof k === 'string' ? [k] : [...k]])),
  });
  if (!g.db && g.dir) {
    // `--dir DIR` alone (issue #11): the manifests in DIR name the database they hold.
    const dir = resolve(g.dir);
    const found = listBackups(dir);
    const names = [...new Set(found.map((m) => m.database))];
    if (names.length > 1) throw new UsageError(`--dir ${g.dir} holds backups of ${names.join(', ')}: name one with --db`);
    const m = found[0];
    if (m) {
      const named = config.databases.find((d) => d.name === m.database);
      return [named ? { ...toTarget(named), dir } : { name: m.database, path: m.sourcePath, dir, tables: [], critical: [], normal: [], writers: [] }];
    }
  }
  if (g.db) {
    const named = config.databases.find((d) => d.name === g.db);
    if (named) return [toTarget(named)];
    const path = resolve(g.db);
    if (existsSync(path)) {
      const name = basename(path).replace(/\.(db|sqlite3?)$/, '');
      return [{ name, path, dir: backupDir(name, config.backup.dir, g.dir), tables: [], critical: [], normal: [], writers: [] }];
    }
    const known = config.databases.map((d) => d.name);
    throw new UsageError(`--db ${g.db}: no configured database of that name and no such file (expected ${known.length ? `one of: ${known.join(', ')}, or ` : ''}the path of a SQLite file)`);
  }
  if (config.databases.length === 0) {
    // A running demo is the likely target of someone who just ran a drill (issue #11): name its --config.
    const demo = join(demoDir(), 'opsdeck.yaml');
    const hint = !loaded.file && existsSync(demo) ? ` (the demo's databases: --config ${demo})` : '';
    throw new UsageError(`no database configured: pass --db NAME|PATH${hint}`);
  }
  return config.databases.map(toTarget);
}

const age = (m: Pick<BackupManifest, 'createdAt'>, now: number) => formatDuration(now - Date.parse(m.createdAt));

const retentionItems = (all: readonly Pick<BackupManifest, 'id' | 'createdAt' | 'verify'>[]) => all.map((m) => ({ id: m.id, createdAt: Date.parse(m.createdAt), verified: !!m.verify?.ok }));

/**
 * The safety copies of the listed databases (issue #13: shown in `backup list`), each with the
 * retention rule that keeps it, read from a read-only connection to the state database.
 */
async function safetyCopiesFor(loaded: LoadedConfig, list: readonly Target[], now: number): Promise<{ root: string; rows: { id: string; database?: string; createdAt: string; sizeBytes: number; status?: string; kept?: string }[]; error?: string }> {
  const sdir = stateDir(loaded.config.state_dir);
  const root = safetyRoot(sdir);
  const file = join(sdir, 'state.db');
  if (!existsSync(file) || !existsSync(root)) return { root, rows: [] };
  try {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 2000 });
    try {
      const copies = listSafetyCopies(sdir, db);
      const { keep } = planSafetyPrune(copies, safetyPolicy(loaded.config.backup), now);
      const names = new Set(list.map((t) => t.name));
      return {
        root,
        rows: copies
          .filter((c) => c.database === undefined || names.has(c.database))
          .map((c) => ({ id: c.id, ...(c.database ? { database: c.database } : {}), createdAt: new Date(c.at).toISOString(), sizeBytes: c.sizeBytes, ...(c.status ? { status: c.status } : {}), ...(keep.get(c.id) !== undefined ? { kept: keep.get(c.id) as string } : {}) })),
      };
    } finally {
      db.close();
    }
  } catch (e) {
    return { root, rows: [], error: `safety copies unknown (state database: ${(e as Error).message})` };
  }
}

/** `opsdeck backup create|verify|list|prune`. */
// eslint-disable-next-line complexity -- verify, list and prune in one function (create is backup-create.ts); to be split per subcommand (ARCHITECTURE.md "Known untidiness")
export async function backupCommand(action: string, id: string | undefined, g: BackupOptions): Promise<number> {
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const now = Date.now();
  // The files set (issue #17) goes with the databases unless --db/--dir narrows or --files picks it.
  const scope = filesScope(loaded, g, action);
  const list = scope.databases ? targets(loaded, g) : [];
  switch (action) {
    case 'create':
      return createCommand(loaded, g, list, scope.files);
    case 'extract':
      return (await import('./backup-extract.js')).extractCommand(list, id, g.to, !!g.json);
    case 'verify': {
      // Under --read-only a verify only reads: the backups are checked and the result printed, but
      // nothing is recorded — not in the manifests, not in the verification history, not in the
      // audit log (issue #12). Reading a backup changes nothing; recording a result would.
      const record = !g.readOnly;
      const results: Pick<BackupManifest, 'id' | 'database' | 'verify'>[] = [];
      for (const t of list) {
        const all = listBackups(t.dir);
        const chosen = id ? all.filter((m) => m.id === id) : g.all ? all : all.slice(0, 1);
        if (id && chosen.length === 0 && list.length === 1 && !scope.files) throw new ExitError(1, 'not-found', `backup ${id}: not found in ${t.dir}`);
        for (const m of chosen) results.push(await verifyBackup(t.dir, m, new Date(), { record }));
      }
      if (scope.files) results.push(...(await verifyFilesSets(loaded, id, !!g.all, record)));
      if (id && results.length === 0) throw new ExitError(1, 'not-found', `backup ${id}: not found`);
      if (record) {
        const db = await openStateDb(stateDir(loaded.config.state_dir));
        recordVerifications(db, results);
        db.close();
      }
      if (g.json) outJson({ verified: results.map((r) => ({ id: r.id, ...r.verify })), recorded: record });
      else {
        for (const r of results) out(`${r.verify?.ok ? 'OK      ' : 'FAILED  '}${r.id}: ${r.verify?.message ?? ''}`);
        if (!record) out('--read-only: checked only; the results were not recorded (manifests, verification history and audit log unchanged)');
      }
      return results.every((r) => r.verify?.ok) ? 0 : 2;
    }
    case 'list': {
      // Backups an open sqlite alert holds are shown as kept for it; an unreadable state database
      // is said, not hidden (prune would refuse to run without it).
      let holdsError: string | undefined;
      const holdsOf = async (name: string) => {
        try {
          return await readAlertHolds(stateDir(loaded.config.state_dir), name);
        } catch (e) {
          holdsError = `open alerts unknown (state database: ${(e as Error).message}): prune would refuse`;
          return [];
        }
      };
      type Row = Pick<BackupManifest, 'id' | 'database' | 'createdAt' | 'sizeBytes' | 'verify' | 'offHost'> & { tier: string; dir: string; files?: FilesManifest['files'] };
      const rows: Row[] = [];
      const tierOf = (all: readonly Pick<BackupManifest, 'id' | 'createdAt' | 'verify'>[], holds: RetentionHold[]) => {
        const decision = applyRetention(retentionItems(all), retentionPolicy(loaded.config.backup), holds);
        return (id: string) => (decision.keep.get(id) ?? ['expired']).join(', ');
      };
      for (const t of list) {
        const all = listBackups(t.dir);
        const tier = tierOf(all, await holdsOf(t.name));
        rows.push(...all.map((m) => ({ ...m, tier: tier(m.id), dir: t.dir })));
      }
      if (scope.files) rows.push(...filesRows(loaded, (all) => tierOf(all, [])));
      const safety = await safetyCopiesFor(loaded, list, now);
      if (g.json) outJson({ backups: rows.map((r) => ({ id: r.id, database: r.database, ...(r.files ? { kind: 'files', files: r.files.length } : {}), createdAt: r.createdAt, ageSec: Math.round((now - Date.parse(r.createdAt)) / 1000), sizeBytes: r.sizeBytes, tier: r.tier, verified: r.verify?.ok ?? false, offHost: offHostStatus(r.offHost), ...(r.offHost ? { offHostMessage: r.offHost.message, offHostAt: r.offHost.at } : {}) })), safetyCopies: safety.rows, ...(holdsError ? { warning: holdsError } : {}), ...(safety.error ? { safetyWarning: safety.error } : {}) });
      else {
        if (rows.length === 0) out(`no backups in ${[...list.map((t) => t.dir), ...(scope.files ? [filesDir(loaded)] : [])].join(', ')}`);
        // Ids padded to the longest: a second backup of one second (`…Z-2`) or another database's longer name keeps the columns.
        const idWidth = Math.max(0, ...rows.map((r) => r.id.length));
        for (const r of rows) out(`${r.id.padEnd(idWidth)}  ${age(r, now).padStart(7)} ago  ${formatBytes(r.sizeBytes).padStart(9)}  ${r.verify ? (r.verify.ok ? 'verified' : 'FAILED  ') : 'unverified'}  ${r.tier}  ${offHostText(r.offHost)}${r.files ? `  (${r.files.length} file${r.files.length === 1 ? '' : 's'})` : ''}`);
        if (safety.rows.length) {
          out('');
          out(`safety copies in ${safety.root} (restores keep the newest ${loaded.config.backup.keep_safety_copies} of each database, any under ${loaded.config.backup.keep_safety_days}d, and every unfinished run's):`);
          for (const c of safety.rows) out(`${c.id}  ${formatDuration(now - Date.parse(c.createdAt)).padStart(7)} ago  ${formatBytes(c.sizeBytes).padStart(9)}  ${c.status ?? 'not in the journal'}  ${c.kept ? `kept: ${c.kept}` : 'expired: removed after the next restore'}`);
        }
      }
      if (holdsError && !g.json) err(`opsdeck: ${holdsError}`);
      if (safety.error && !g.json) err(`opsdeck: ${safety.error}`);
      return 0;
    }
    case 'prune': {
      // The state database is read before anything is planned: without the open alerts, nothing
      // may be deleted (a backup taken before an open sqlite alert is the copy a restore needs).
      const db = await openStateDb(stateDir(loaded.config.state_dir));
      try {
        const plan = [...planPrune(list, loaded.config.backup, (name) => sqliteAlertHolds(db, name)), ...(scope.files ? planFilesPrune(filesDir(loaded), loaded.config.backup) : [])];
        // Refused before anything is printed: a "delete …" line above a refusal reads as done (issue #12).
        if (g.readOnly && !g.dryRun && plan.length > 0) {
          recordAudit(db, { action: 'backup.prune', target: [...list.map((t) => t.name), ...(scope.files ? [FILES_TARGET] : [])].join(', '), outcome: 'refused', detail: `--read-only; would delete ${plan.length}` });
          throw new ExitError(1, 'read-only', `backup prune deletes files; refused in --read-only mode (nothing deleted; --dry-run shows the ${plan.length} it would delete)`);
        }
        if (!g.json) for (const p of plan) out(`${g.dryRun ? 'would delete' : 'delete'} ${p.id}`);
        if (g.dryRun || plan.length === 0) {
          if (g.json) outJson({ dryRun: !!g.dryRun, delete: plan.map((p) => p.id) });
          else if (plan.length === 0) out('nothing to prune');
          return 0;
        }
        if (!g.yes) {
          if (!process.stdin.isTTY) throw new UsageError('backup prune deletes backups: confirm in a terminal, or pass --yes (or --dry-run to preview)');
          const rl = createInterface({ input: process.stdin, output: process.stdout });
          const answer = await rl.question(`delete these ${plan.length} backups? [y/N] `);
          rl.close();
          if (answer.trim().toLowerCase() !== 'y') {
            recordAudit(db, { action: 'backup.prune', target: list.map((t) => t.name).join(', '), outcome: 'cancelled', detail: `declined deleting ${plan.length}` });
            out('nothing deleted');
            return 1;
          }
        }
        const deleted = pruneTargets(plan, { record: (e) => recordAudit(db, e) });
        if (g.json) outJson({ deleted });
        return 0;
      } finally {
        db.close();
      }
    }
    default:
      throw new UsageError(`unknown backup action "${action}" (expected create, verify, list, prune or extract)`);
  }
}

/** The demo's first backup, verified. */
export async function demoBackup(configFile: string): Promise<string> {
  const loaded = loadConfig({ file: configFile });
  const d = loaded.config.databases[0];
  if (!d) return 'no first backup: the demo has no database';
  const dir = backupDir(d.name, loaded.config.backup.dir);
  const m = await createBackup({ db: d.path, name: d.name, dir, tables: [...d.critical_tables, ...d.normal_tables] });
  const v = await verifyBackup(dir, m);
  return `first backup ${m.id} (${formatBytes(m.sizeBytes)}), ${v.verify?.ok ? 'verified' : `verification FAILED: ${v.verify?.message ?? ''}`}`;
}

/** The highest rowid of a table in the newest verified backup of a configured database. */
export async function newestBackupMaxRowid(configFile: string, db: string, table: string): Promise<number | undefined> {
  const loaded = loadConfig({ file: configFile });
  const d = loaded.config.databases.find((x) => x.name === db);
  if (!d) return undefined;
  const m = listBackups(backupDir(d.name, loaded.config.backup.dir)).find((x) => x.verify?.ok);
  return Promise.resolve(m?.maxRowids[table]);
}
