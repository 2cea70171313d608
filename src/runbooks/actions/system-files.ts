import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../../config/schema.js';
import { Failure } from '../../domain/errors.js';
import type { GenericDeps } from '../../engine/actions.js';
import type { Action } from '../../engine/driver.js';
import { backupDir } from '../../services/backup.js';
import { latestConfigCopies, restoreConfigFiles } from '../../services/backup-config.js';
import { FILES_TARGET, listFilesBackups, restoreFilesBackup, type FilesManifest } from '../../services/backup-files.js';
import { configOf } from './config.js';

// full-system-recovery's files (issue #17): the configuration files of `backup.config_files` from
// their newest stored copies, the data files of `backup.files` (reports) from the newest verified
// files set. Only a file that is GONE is put back; one that exists but differs from its copy is left
// and listed (a newer edit or report is not overwritten with an older one).

const sha256Of = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A file as the recovery sees it against its stored copy. */
interface FileState {
  source: string;
  state: 'there' | 'gone' | 'differs';
}

function stateOf(source: string, sha256: string): FileState {
  if (!existsSync(source)) return { source, state: 'gone' };
  try {
    return { source, state: sha256Of(source) === sha256 ? 'there' : 'differs' };
  } catch {
    return { source, state: 'differs' };
  }
}

/** The configured configuration files with their newest copies, and those with none. */
function configFiles(config: Config): { dir: string; states: FileState[]; uncopied: string[] } {
  const dir = backupDir('_config', config.backup.dir);
  const copies = latestConfigCopies(dir);
  const listed = config.backup.config_files;
  const states = copies.filter((c) => listed.includes(c.source)).map((c) => stateOf(c.source, c.sha256));
  return { dir, states, uncopied: listed.filter((f) => !copies.some((c) => c.source === f)) };
}

/** The newest verified files set and its files' states. */
function dataFiles(config: Config): { dir: string; m?: FilesManifest; states: FileState[] } {
  const dir = backupDir(FILES_TARGET, config.backup.dir);
  const m = listFilesBackups(dir).find((b) => b.verify?.ok);
  return m ? { dir, m, states: m.files.map((f) => stateOf(f.source, f.sha256)) } : { dir, states: [] };
}

const count = (states: readonly FileState[], s: FileState['state']) => states.filter((x) => x.state === s);

function summary(what: string, states: readonly FileState[]): string {
  const gone = count(states, 'gone');
  const differs = count(states, 'differs');
  return `${what}: ${states.length - gone.length - differs.length} there${gone.length ? `, ${gone.length} gone (${gone.map((g) => g.source).join(', ')})` : ''}${differs.length ? `, ${differs.length} changed since the copy, left as they are (${differs.map((g) => g.source).join(', ')})` : ''}`;
}

/** How many configured configuration and data files are gone (and have a copy to come back from). */
export function goneFiles(config: Config): number {
  const c = config.backup.config_files.length ? count(configFiles(config).states, 'gone').length : 0;
  const d = config.backup.files.length ? count(dataFiles(config).states, 'gone').length : 0;
  return c + d;
}

/** The survey line for files (full-system-recovery's first step). */
export function filesSurvey(config: Config): string[] {
  const out: string[] = [];
  if (config.backup.config_files.length) {
    const c = configFiles(config);
    out.push(summary('configuration files', c.states) + (c.uncopied.length ? `; never copied: ${c.uncopied.join(', ')}` : ''));
  }
  if (config.backup.files.length) {
    const d = dataFiles(config);
    out.push(d.m ? `${summary(`data files (set ${d.m.id})`, d.states)}` : `data files: no verified files set in ${d.dir}`);
  }
  return out;
}

/** The file actions of full-system-recovery by id. */
export const SYSTEM_FILE_ACTIONS: Record<string, Action<unknown, GenericDeps>> = {
  'system.restore-config': {
    dangerous: true,
    settled: (x) => (configOf(x, '').backup.config_files.length ? undefined : 'no configuration files listed (backup.config_files): nothing to put back'),
    preview(x) {
      const c = configFiles(configOf(x, ''));
      const gone = count(c.states, 'gone');
      return `${gone.length ? `put back ${gone.map((g) => g.source).join(', ')} from their newest copies in ${c.dir}` : 'no configuration file is gone: nothing to put back'}${count(c.states, 'differs').length ? `; left as they are (changed since the copy): ${count(c.states, 'differs').map((g) => g.source).join(', ')}` : ''}`;
    },
    execute(x) {
      const c = configFiles(configOf(x, '(backup.config_files)'));
      const gone = count(c.states, 'gone').map((g) => g.source);
      const done = gone.length ? restoreConfigFiles(c.dir, { only: gone }) : { restored: [], unchanged: [] };
      return Promise.resolve(`${done.restored.length ? `put back: ${done.restored.join(', ')}` : 'no configuration file was gone'}${count(c.states, 'differs').length ? `; changed since the copy, left: ${count(c.states, 'differs').map((g) => g.source).join(', ')}` : ''}${c.uncopied.length ? `; never copied (no backup to put back): ${c.uncopied.join(', ')}` : ''}`);
    },
  },
  'system.restore-files': {
    dangerous: true,
    settled: (x) => (configOf(x, '').backup.files.length ? undefined : 'no data files listed (backup.files): nothing to put back'),
    preview(x) {
      const d = dataFiles(configOf(x, ''));
      if (!d.m) return `no verified files set in ${d.dir}: nothing can be put back`;
      const gone = count(d.states, 'gone');
      return `${gone.length ? `put back ${gone.length} file(s) from set ${d.m.id} (${d.m.createdAt}): ${gone.map((g) => g.source).join(', ')}` : `no data file of set ${d.m.id} is gone: nothing to put back`}${count(d.states, 'differs').length ? `; ${count(d.states, 'differs').length} changed since the set, left as they are` : ''}`;
    },
    async execute(x) {
      const d = dataFiles(configOf(x, '(backup.files)'));
      if (!d.m) throw new Failure('not-found', `no verified files set in ${d.dir}: the data files cannot be put back (opsdeck backup create --files makes one, for next time)`);
      const gone = count(d.states, 'gone').map((g) => g.source);
      const done = gone.length ? await restoreFilesBackup(d.dir, d.m, { only: gone }) : { restored: [], unchanged: [] };
      const differs = count(d.states, 'differs');
      return `${done.restored.length ? `put back ${done.restored.length} file(s) from set ${d.m.id}: ${done.restored.join(', ')}` : `no data file was gone (set ${d.m.id})`}${differs.length ? `; changed since the set, left: ${differs.map((g) => g.source).join(', ')}` : ''}`;
    },
  },
};
