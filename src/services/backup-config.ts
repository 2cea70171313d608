import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Failure } from '../domain/errors.js';
import { fsyncPath, fsError, sweepDead } from './backup-restore.js';
import { sweepRestoreParts } from './backup-files.js';
import { placeUnique } from './place-unique.js';

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
      const named = (n: number) => join(dir, `${basename(source)}.${stamp}${n === 1 ? '' : `-${n}`}`);
      const part = `${named(1)}.${process.pid}.part`;
      copyFileSync(source, part);
      fsyncPath(part);
      // A second change within the same second gets `-2`, never the first copy's place.
      const stored = named(placeUnique(part, named));
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

/** The newest stored version of each configuration file in `dir` (its `index.json`), in index order. */
export function latestConfigCopies(dir: string): ConfigCopy[] {
  const indexFile = join(dir, 'index.json');
  if (!existsSync(indexFile)) return [];
  let index: ConfigCopy[];
  try {
    index = JSON.parse(readFileSync(indexFile, 'utf8')) as ConfigCopy[];
  } catch (e) {
    throw new Failure('corrupt', `${indexFile}: not a readable index of configuration copies (${(e as Error).message})`);
  }
  const latest = new Map<string, ConfigCopy>();
  for (const c of index) latest.set(c.source, c);
  return [...latest.values()];
}

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * Puts the newest stored version of each configuration file back at its source path: copied to
 * `<source>.<pid>.part` (missing parent folders created), its sha256 checked against the index,
 * fsynced, renamed. A file already identical is `unchanged` (running it again changes nothing).
 * `only`: source paths (or their base names) to restore; one not in the index is `not-found`. A
 * stored copy whose sha256 differs is `corrupt`: that file is not replaced.
 */
export function restoreConfigFiles(dir: string, opts: { only?: string[] } = {}): { restored: string[]; unchanged: string[] } {
  const copies = latestConfigCopies(dir);
  const only = opts.only;
  const named = (c: ConfigCopy, o: string) => o === c.source || resolve(o) === c.source || o === basename(c.source);
  if (only) {
    const missing = only.filter((o) => !copies.some((c) => named(c, o)));
    if (missing.length) throw new Failure('not-found', `no stored copy of ${missing.join(', ')} in ${dir}`);
  }
  const restored: string[] = [];
  const unchanged: string[] = [];
  for (const c of copies.filter((x) => !only || only.some((o) => named(x, o)))) {
    try {
      if (existsSync(c.source) && statSync(c.source).isFile() && sha256Of(c.source) === c.sha256) {
        unchanged.push(c.source);
        continue;
      }
      mkdirSync(dirname(c.source), { recursive: true });
      sweepRestoreParts(c.source);
      const part = `${c.source}.${process.pid}.part`;
      rmSync(part, { force: true });
      copyFileSync(c.stored, part);
      if (sha256Of(part) !== c.sha256) {
        rmSync(part, { force: true });
        throw new Failure('corrupt', `the stored copy ${c.stored} does not match its sha256; ${c.source} not replaced`);
      }
      fsyncPath(part);
      renameSync(part, c.source);
      fsyncPath(dirname(c.source));
      restored.push(c.source);
    } catch (e) {
      throw fsError(e, `restore of configuration file ${c.source}`);
    }
  }
  return { restored, unchanged };
}
