import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fsyncPath, fsError, sweepDead } from './backup-restore.js';

/** One stored version of a configuration file. */
export interface ConfigCopy {
  source: string;
  sha256: string;
  stored: string;
  at: string;
}

/**
 * Backs up configuration files when their content changed since the last stored copy (issue #4:
 * "configuration files named in config are backed up too, when their content changes"). Copies
 * go to `dir/<name>.<timestamp>` (fsync + rename); `dir/index.json` lists every version.
 * Returns the copies made this time (none when nothing changed).
 */
export function backupConfigFiles(files: readonly string[], dir: string, now = new Date()): ConfigCopy[] {
  if (files.length === 0) return [];
  try {
    // Copies keep their source's mode (copyFile does); a new folder is the operator's alone (issue #13).
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    sweepDead(dir, /^.+\.(\d+)\.part$/, /^.+\.part$/);
    const indexFile = join(dir, 'index.json');
    const index = existsSync(indexFile) ? (JSON.parse(readFileSync(indexFile, 'utf8')) as ConfigCopy[]) : [];
    const made: ConfigCopy[] = [];
    const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    for (const f of files) {
      const source = resolve(f);
      if (!existsSync(source)) throw Object.assign(new Error(`${source} does not exist`), { code: 'ENOENT' });
      const sha256 = createHash('sha256').update(readFileSync(source)).digest('hex');
      const last = [...index].reverse().find((c) => c.source === source);
      if (last?.sha256 === sha256) continue;
      const stored = join(dir, `${basename(source)}.${stamp}`);
      const part = `${stored}.${process.pid}.part`;
      copyFileSync(source, part);
      fsyncPath(part);
      renameSync(part, stored);
      const c = { source, sha256, stored, at: now.toISOString() };
      index.push(c);
      made.push(c);
    }
    if (made.length) {
      const part = `${indexFile}.${process.pid}.part`;
      rmSync(part, { force: true });
      writeFileSync(part, `${JSON.stringify(index, null, 2)}\n`, { mode: 0o600 });
      fsyncPath(part);
      renameSync(part, indexFile);
      fsyncPath(dir);
    }
    return made;
  } catch (e) {
    throw fsError(e, `backup of configuration files into ${dir}`);
  }
}
