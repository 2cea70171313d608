import { existsSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { formatDuration } from '../config/duration.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { ExitError, UsageError } from '../domain/errors.js';
import { formatBytes } from '../domain/format.js';
import { applyRetention } from '../domain/retention.js';
import { backupDir, createBackup, listBackups, verifyBackup, type BackupManifest } from '../services/backup.js';
import { backupConfigFiles } from '../services/backup-config.js';
import { recordAudit } from '../state/acks.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { out, outJson, useSecrets, type GlobalOptions } from './output.js';

/** Options of the backup commands. */
export interface BackupOptions extends GlobalOptions {
  db?: string;
  dir?: string;
  all?: boolean;
  dryRun?: boolean;
  yes?: boolean;
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
  if (config.databases.length === 0) throw new UsageError('no database configured: pass --db NAME|PATH');
  return config.databases.map(toTarget);
}

const age = (m: BackupManifest, now: number) => formatDuration(now - Date.parse(m.createdAt));

/** `opsdeck backup create|verify|list|prune`. */
export async function backupCommand(action: string, id: string | undefined, g: BackupOptions): Promise<number> {
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const now = Date.now();
  const list = targets(loaded, g);
  switch (action) {
    case 'create': {
      if (g.readOnly) {
        const db = await openStateDb(stateDir(loaded.config.state_dir));
        recordAudit(db, { action: 'backup.create', target: list.map((t) => t.name).join(', '), outcome: 'refused', detail: '--read-only' });
        db.close();
        throw new ExitError(1, 'read-only', 'backup create writes files; refused in --read-only mode');
      }
      const made: BackupManifest[] = [];
      for (const t of list) made.push(await createBackup({ db: t.path, name: t.name, dir: t.dir, tables: t.tables }));
      // Configuration files (relative to the config file) are copied when their content changed.
      const base = loaded.file ? dirname(loaded.file) : process.cwd();
      const configCopies = backupConfigFiles(loaded.config.backup.config_files.map((f) => resolve(base, f)), backupDir('_config', loaded.config.backup.dir));
      if (g.json) outJson({ created: made, configFiles: configCopies });
      else {
        for (const m of made) out(`created ${m.id}: ${formatBytes(m.sizeBytes)} (${formatBytes(m.rawBytes)} raw), sha256 ${m.sha256.slice(0, 12)}…, in ${list.find((t) => t.name === m.database)?.dir ?? ''}`);
        for (const c of configCopies) out(`config file ${c.source} changed: copied to ${c.stored}`);
      }
      return 0;
    }
    case 'verify': {
      const results: BackupManifest[] = [];
      for (const t of list) {
        const all = listBackups(t.dir);
        const chosen = id ? all.filter((m) => m.id === id) : g.all ? all : all.slice(0, 1);
        if (id && chosen.length === 0 && list.length === 1) throw new ExitError(1, 'not-found', `backup ${id}: not found in ${t.dir}`);
        for (const m of chosen) results.push(await verifyBackup(t.dir, m));
      }
      if (id && results.length === 0) throw new ExitError(1, 'not-found', `backup ${id}: not found`);
      const db = await openStateDb(stateDir(loaded.config.state_dir));
      const ins = db.prepare('INSERT INTO backup_verifications (at, database, backup_id, ok, message) VALUES (?, ?, ?, ?, ?)');
      for (const r of results) {
        recordAudit(db, { action: 'backup.verify', target: r.id, outcome: r.verify?.ok ? 'ok' : 'failed', detail: r.verify?.message ?? '' });
        ins.run(Date.parse(r.verify?.at ?? new Date().toISOString()), r.database, r.id, r.verify?.ok ? 1 : 0, r.verify?.message ?? '');
      }
      db.close();
      if (g.json) outJson({ verified: results.map((r) => ({ id: r.id, ...r.verify })) });
      else for (const r of results) out(`${r.verify?.ok ? 'OK      ' : 'FAILED  '}${r.id}: ${r.verify?.message ?? ''}`);
      return results.every((r) => r.verify?.ok) ? 0 : 2;
    }
    case 'list': {
      const rows = list.flatMap((t) => {
        const all = listBackups(t.dir);
        const decision = applyRetention(all.map((m) => ({ id: m.id, createdAt: Date.parse(m.createdAt), verified: !!m.verify?.ok })), loaded.config.backup.keep_daily !== undefined ? { daily: loaded.config.backup.keep_daily, weekly: loaded.config.backup.keep_weekly, monthly: loaded.config.backup.keep_monthly } : { daily: 7, weekly: 4, monthly: 12 });
        return all.map((m) => ({ ...m, tier: (decision.keep.get(m.id) ?? ['expired']).join(', '), dir: t.dir }));
      });
      if (g.json) outJson({ backups: rows.map((r) => ({ id: r.id, database: r.database, createdAt: r.createdAt, ageSec: Math.round((now - Date.parse(r.createdAt)) / 1000), sizeBytes: r.sizeBytes, tier: r.tier, verified: r.verify?.ok ?? false })) });
      else if (rows.length === 0) out(`no backups in ${list.map((t) => t.dir).join(', ')}`);
      else for (const r of rows) out(`${r.id}  ${age(r, now).padStart(7)} ago  ${formatBytes(r.sizeBytes).padStart(9)}  ${r.verify ? (r.verify.ok ? 'verified' : 'FAILED  ') : 'unverified'}  ${r.tier}`);
      return 0;
    }
    case 'prune': {
      const policy = { daily: loaded.config.backup.keep_daily, weekly: loaded.config.backup.keep_weekly, monthly: loaded.config.backup.keep_monthly };
      const plan = list.flatMap((t) => {
        const all = listBackups(t.dir);
        const d = applyRetention(all.map((m) => ({ id: m.id, createdAt: Date.parse(m.createdAt), verified: !!m.verify?.ok })), policy);
        return d.remove.map((rid) => ({ id: rid, dir: t.dir }));
      });
      if (!g.json) for (const p of plan) out(`${g.dryRun ? 'would delete' : 'delete'} ${p.id}`);
      if (g.dryRun || plan.length === 0) {
        if (g.json) outJson({ dryRun: !!g.dryRun, delete: plan.map((p) => p.id) });
        else if (plan.length === 0) out('nothing to prune');
        return 0;
      }
      if (g.readOnly) {
        const db = await openStateDb(stateDir(loaded.config.state_dir));
        recordAudit(db, { action: 'backup.prune', target: list.map((t) => t.name).join(', '), outcome: 'refused', detail: `--read-only; would delete ${plan.length}` });
        db.close();
        throw new ExitError(1, 'read-only', 'backup prune deletes files; refused in --read-only mode');
      }
      if (!g.yes) {
        if (!process.stdin.isTTY) throw new UsageError('backup prune deletes backups: confirm in a terminal, or pass --yes (or --dry-run to preview)');
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = await rl.question(`delete these ${plan.length} backups? [y/N] `);
        rl.close();
        if (answer.trim().toLowerCase() !== 'y') {
          const db = await openStateDb(stateDir(loaded.config.state_dir));
          recordAudit(db, { action: 'backup.prune', target: list.map((t) => t.name).join(', '), outcome: 'cancelled', detail: `declined deleting ${plan.length}` });
          db.close();
          out('nothing deleted');
          return 1;
        }
      }
      const db = await openStateDb(stateDir(loaded.config.state_dir));
      for (const p of plan) {
        rmSync(join(p.dir, `${p.id}.db.br`), { force: true });
        rmSync(join(p.dir, `${p.id}.json`), { force: true });
        recordAudit(db, { action: 'backup.prune', target: p.id, outcome: 'ok' });
      }
      db.close();
      if (g.json) outJson({ deleted: plan.map((p) => p.id) });
      return 0;
    }
    default:
      throw new UsageError(`unknown backup action "${action}" (expected create, verify, list or prune)`);
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
