// The files backup set and off-host copies in the `backup` commands (issue #17): which commands
// include the files set, its rows in `backup list`, its verification, and copying verified
// backups off-host (`backup.copy_command`), each copy audited as `backup.copy`.

import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import type { BackupConfig } from '../config/schema.js';
import { offHostStatus, type OffHostCopy } from '../domain/copy-template.js';
import { UsageError } from '../domain/errors.js';
import { backupDir, recordOffHost, type BackupManifest } from '../services/backup.js';
import { copyOffHost, type CopySubject } from '../services/backup-copy.js';
import { filesArchive, FILES_TARGET, listFilesBackups, verifyFilesBackup, writeFilesManifest, type FilesManifest } from '../services/backup-files.js';
import type { BackupOptions } from './backup.js';

/** The folder of the files backup sets: `backupDir('_files', backup.dir)`. */
export function filesDir(loaded: LoadedConfig): string {
  return backupDir(FILES_TARGET, loaded.config.backup.dir);
}

/**
 * Whether a `backup` command acts on the files set, and on databases. `--files`: the files set only
 * (refused without `backup.files` for create; with `--db` or `--dir`, which name a database). Without
 * it: the files set too unless `--db`/`--dir` narrows to a database, when `backup.files` is set
 * (create) or sets exist (verify, list, prune); databases unless none is configured and the files
 * set is all there is.
 */
export function filesScope(loaded: LoadedConfig, g: BackupOptions, action: string): { files: boolean; databases: boolean } {
  const configured = loaded.config.backup.files.length > 0;
  if (g.files) {
    if (g.db || g.dir) throw new UsageError('--files backs up the files set of backup.files: it takes no --db or --dir');
    if (action === 'create' && !configured) throw new UsageError(`--files: backup.files is not set${loaded.file ? ` in ${loaded.file}` : ''} (expected a list of globs, relative to the configuration file's folder)`);
    return { files: true, databases: false };
  }
  if (g.db || g.dir) return { files: false, databases: true };
  const files = configured || (action !== 'create' && listFilesBackups(filesDir(loaded)).length > 0);
  return { files, databases: !(files && loaded.config.databases.length === 0) };
}

/** A verified backup to copy off-host: a database backup in its folder, or a files set. */
export type CopyItem = { m: BackupManifest; dir: string } | { files: FilesManifest; dir: string };

/**
 * Copies each verified backup off-host with `backup.copy_command` (none set: nothing to do) and
 * records the outcome in its manifest and the audit log (`backup.copy`). A files set is copied as
 * one tar archive `<id>.tar` made beside it for the copy and removed after it. Never throws.
 */
export async function copyVerified(backup: BackupConfig, items: readonly CopyItem[], audit: { record(e: { action: string; target: string; outcome: 'ok' | 'failed'; detail?: string }): void }): Promise<{ id: string; offHost: OffHostCopy }[]> {
  const command = backup.copy_command;
  if (!command) return [];
  const done: { id: string; offHost: OffHostCopy }[] = [];
  for (const it of items) {
    const id = 'm' in it ? it.m.id : it.files.id;
    if (!('m' in it ? it.m : it.files).verify?.ok) continue;
    let offHost: OffHostCopy;
    let archive: string | undefined;
    try {
      let subject: CopySubject;
      if ('m' in it) {
        const path = resolve(it.dir, `${id}.db.br`);
        subject = { 'backup.path': path, 'backup.file': basename(path), 'backup.id': id, 'backup.sha256': it.m.sha256, 'backup.database': it.m.database };
      } else {
        const a = await filesArchive(resolve(it.dir), it.files);
        archive = a.path;
        subject = { 'backup.path': a.path, 'backup.file': basename(a.path), 'backup.id': id, 'backup.sha256': a.sha256, 'backup.database': FILES_TARGET };
      }
      const r = await copyOffHost({ command, verifyCommand: backup.copy_verify_command, timeoutMs: backup.copy_timeout, subject });
      offHost = 'm' in it ? r : { ...r, sha256: subject['backup.sha256'] };
    } catch (e) {
      offHost = { at: new Date().toISOString(), ok: false, verified: false, message: `not copied: ${(e as Error).message}` };
    } finally {
      if (archive) rmSync(archive, { force: true });
    }
    try {
      if ('m' in it) {
        const m = recordOffHost(it.dir, it.m, offHost);
        // The manifest goes along (after the data copy, with its result), so a folder of copies is
        // restorable as it is: `opsdeck restore --db NAME --dir <copies>` (an operator's trial found
        // copies no restore could find). Its own result joins the message; the local manifest is
        // written once more with it.
        if (offHost.ok) {
          offHost = { ...offHost, message: `${offHost.message}; ${await copyManifest(backup, resolve(it.dir), m)}` };
          recordOffHost(it.dir, m, offHost);
        }
      } else writeFilesManifest(it.dir, { ...it.files, offHost });
    } catch (e) {
      offHost = { ...offHost, message: `${offHost.message} (not recorded in the manifest: ${(e as Error).message})` };
    }
    audit.record({ action: 'backup.copy', target: id, outcome: offHost.ok ? 'ok' : 'failed', detail: offHost.message });
    done.push({ id, offHost });
  }
  return done;
}

/** Copies a backup's manifest `<id>.json` with the same command; one phrase saying how it went. */
async function copyManifest(backup: BackupConfig, dir: string, m: BackupManifest): Promise<string> {
  const command = backup.copy_command;
  if (!command) return 'manifest not copied (no copy_command)';
  // A command naming its destination by {{backup.id}} (`remote:db/{{backup.id}}.db.br`) would write
  // the manifest over the data copy: then the manifest stays here, and the message says so.
  if (command.some((a) => /\{\{\s*backup\.id\s*\}\}/.test(a))) return 'its manifest was not copied: copy_command names {{backup.id}}, where a second copy could overwrite the first (name the destination with {{backup.file}} to have the manifest copied too)';
  const path = resolve(dir, `${m.id}.json`);
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  const r = await copyOffHost({ command, verifyCommand: backup.copy_verify_command, timeoutMs: backup.copy_timeout, subject: { 'backup.path': path, 'backup.file': basename(path), 'backup.id': m.id, 'backup.sha256': sha, 'backup.database': m.database } });
  return r.ok ? `its manifest too${r.verified ? ' (verified)' : ''}` : `its manifest was NOT copied (${r.message}): restoring from the copy then needs the manifest from here`;
}

/** A files set as `backup list` shows it. */
export function filesRows(loaded: LoadedConfig, tierOf: (all: readonly FilesManifest[]) => (id: string) => string): (FilesManifest & { tier: string; dir: string })[] {
  const dir = filesDir(loaded);
  const all = listFilesBackups(dir);
  const tier = tierOf(all);
  return all.map((m) => ({ ...m, tier: tier(m.id), dir }));
}

/** The off-host column of `backup list`: verified / unverified / FAILED (with why) / none. */
export function offHostText(c: OffHostCopy | undefined): string {
  const s = offHostStatus(c);
  return s === 'none' ? 'off-host: none' : s === 'FAILED' ? `off-host: FAILED (${c?.message ?? ''})` : `off-host: ${s}`;
}

/** `backup verify` of files sets: the newest, every one (`--all`) or the one named `id`. */
export async function verifyFilesSets(loaded: LoadedConfig, id: string | undefined, all: boolean, record: boolean): Promise<FilesManifest[]> {
  const dir = filesDir(loaded);
  const sets = listFilesBackups(dir);
  const chosen = id ? sets.filter((m) => m.id === id) : all ? sets : sets.slice(0, 1);
  const results: FilesManifest[] = [];
  for (const m of chosen) results.push(await verifyFilesBackup(dir, m, new Date(), { record }));
  return results;
}
