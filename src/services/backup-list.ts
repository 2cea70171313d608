// Reading the backup folders without the backup machinery (issue #27 point 4, the console's first
// frame): the monitor's backup sources, the scheduler's last runs, an incident's RPO and capacity read
// these as the console starts; ./backup.ts (compression, restore, worker threads, zlib, crypto) and
// ./backup-files.ts (globs, tar) load only when a backup is made, verified or restored.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BackupManifest } from './backup.js';
import type { FilesManifest } from './backup-files.js';

/** The pseudo-target of files backups: the backup folder's name, the scheduler's run name. */
export const FILES_TARGET = '_files';

/** The backup folder of a database: --dir, else backup.dir/<db>, else $XDG_DATA_HOME/opsdeck/backups/<db>. */
export function backupDir(name: string, configured: string | undefined, override?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (override) return resolve(override);
  if (configured) return join(configured, name);
  return join(env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local/share'), 'opsdeck', 'backups', name);
}

/** Reads the manifests of a backup folder, newest first. */
export function listBackups(dir: string): BackupManifest[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as BackupManifest & { kind?: string })
    // A files set's manifest (issue #17, `kind: 'files'`) is not a database backup: `--dir` at `_files` finds none.
    .filter((m) => m.kind !== 'files')
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** The files backup sets of `dir`, newest first. */
export function listFilesBackups(dir: string): FilesManifest[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .flatMap((f) => {
      try {
        const m = JSON.parse(readFileSync(join(dir, f), 'utf8')) as FilesManifest;
        return m.kind === 'files' ? [m] : [];
      } catch {
        return [];
      }
    })
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
