import { createHash } from 'node:crypto';
import { accessSync, chmodSync, constants as fsConstants, createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BackupConfig } from '../config/schema.js';
import { redactSecrets } from '../config/secrets.js';
import type { OffHostCopy } from '../domain/copy-template.js';
import { Failure } from '../domain/errors.js';
import { applyRetention, retentionPolicy } from '../domain/retention.js';
import type { PrunePlanned } from './backup.js';
import { fsError, fsyncPath, sweepDead } from './backup-restore.js';
import { alive } from './process.js';
import { writeTar } from './tar.js';

// Files backups (issue #17): report files and other data files named by `backup.files` (globs
// relative to the configuration file's folder) are stored as one set per backup:
// `<dir>/<id>/<relative>` (each copy keeps its mode; written as `.part`, fsynced, renamed; the set is
// built in `.<id>-<pid>.part/` and renamed into place) and the manifest `<dir>/<id>.json`, written
// last. `dir` is `backupDir('_files', backup.dir)`. Retention is the database backups' own.

// Read at the console's start without the rest of this module (issue #27 point 4): ./backup-list.ts.
export { FILES_TARGET, listFilesBackups } from './backup-list.js';
import { FILES_TARGET, listFilesBackups } from './backup-list.js';

/** One file of a files backup set. */
export interface FilesEntry {
  /** The file's absolute path when it was backed up: where a restore puts it back. */
  source: string;
  /** Its path inside the set: relative to `base`, or `_abs/<absolute path>` when outside it. */
  relative: string;
  sha256: string;
  size: number;
  /** Its permission bits (`mode & 0o7777`), given back by a restore. */
  mode: number;
}

/** What is known about one files backup set; saved as `<id>.json` beside the folder `<id>/`. */
export interface FilesManifest {
  id: string;
  kind: 'files';
  /** Always `_files`, so lists of backups group it like a database. */
  database: typeof FILES_TARGET;
  createdAt: string;
  /** The folder the globs were matched in (the configuration file's). */
  base: string;
  globs: string[];
  /** Globs that matched no file (a warning, not a failure). */
  unmatched: string[];
  files: FilesEntry[];
  /** Total bytes of the files. */
  sizeBytes: number;
  /** sha256 of the set's list in `sha256sum` format (`<sha256>  <relative>\n`, sorted by relative). */
  sha256: string;
  verify?: { at: string; ok: boolean; message: string };
  offHost?: OffHostCopy;
}

const stampOf = (now: Date) => now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/** The set's digest: sha256 of its `sha256sum`-style list. */
function setDigest(files: readonly FilesEntry[]): string {
  const lines = [...files].sort((a, b) => a.relative.localeCompare(b.relative)).map((f) => `${f.sha256}  ${f.relative}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}

/** Where a matched file goes inside the set: its path relative to `base`, or `_abs/…` outside it. */
function storedName(base: string, file: string): string {
  const rel = relative(base, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : `_abs${file}`;
}

/**
 * The files the globs name (tinyglobby; `!pattern` excludes), absolute, sorted, never inside the
 * backup folder itself; and the globs that matched nothing.
 */
export async function matchFiles(globs: readonly string[], base: string, exclude?: string): Promise<{ files: string[]; unmatched: string[] }> {
  // Exclusions as absolute patterns, so one applies whether the glob it excludes from is relative or absolute.
  const ignore = globs.filter((g) => g.startsWith('!')).map((g) => (isAbsolute(g.slice(1)) ? g.slice(1) : `${base.split(sep).join('/')}/${g.slice(1)}`));
  const found = new Set<string>();
  const unmatched: string[] = [];
  // tinyglobby (and picomatch, ~85 KB of bundle) loads when a files backup runs, not with every
  // command that reaches this module (a restore, issue #27).
  const { glob } = await import('tinyglobby');
  for (const g of globs.filter((x) => !x.startsWith('!'))) {
    const abs = isAbsolute(g);
    const hits = await glob(abs ? g.slice(1) : g, { cwd: abs ? '/' : base, absolute: true, onlyFiles: true, dot: true, ignore, expandDirectories: false });
    const kept = hits.map((h) => resolve(h)).filter((h) => !exclude || (h !== exclude && !h.startsWith(exclude + sep)));
    if (kept.length === 0) unmatched.push(g);
    for (const h of kept) found.add(h);
  }
  return { files: [...found].sort(), unmatched };
}

/** Copies `src` to `dst` (mode `mode`, fsynced) hashing what it copied. */
async function copyHashed(src: string, dst: string, mode: number): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  rmSync(dst, { force: true });
  await pipeline(createReadStream(src, { highWaterMark: 1 << 20 }), tap, createWriteStream(dst, { mode }));
  chmodSync(dst, mode);
  fsyncPath(dst);
  return { sha256: hash.digest('hex'), size };
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Removes the set folders (`.<id>-<pid>.part`), manifest and archive temps a killed files backup left. */
function sweepFilesTemps(dir: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^\..+-(\d+)\.(?:part|json\.tmp)$|^.+\.tar\.(\d+)\.part$/.exec(n);
    if (m && !alive(Number(m[1] ?? m[2]))) rmSync(join(dir, n), { recursive: true, force: true });
  }
}

/** Writes a files manifest (0600, fsync + rename) with its message texts redacted. */
export function writeFilesManifest(dir: string, m: FilesManifest): void {
  const tmp = join(dir, `.${m.id}-${process.pid}.json.tmp`);
  rmSync(tmp, { force: true });
  const stored: FilesManifest = {
    ...m,
    ...(m.verify ? { verify: { ...m.verify, message: redactSecrets(m.verify.message) } } : {}),
    ...(m.offHost ? { offHost: { ...m.offHost, message: redactSecrets(m.offHost.message), ...(m.offHost.where ? { where: redactSecrets(m.offHost.where) } : {}) } } : {}),
  };
  writeFileSync(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  fsyncPath(tmp);
  renameSync(tmp, join(dir, `${m.id}.json`));
}

/**
 * Backs up the files `globs` name (relative to `base`; absolute globs allowed) into one set in `dir`:
 * each file copied with its mode and sha256, the set's manifest written last. No matching file at
 * all is a `not-found` failure (a weekly backup of nothing should be noticed); a glob that matches
 * nothing is listed in `unmatched`. Throws a `Failure` naming what failed; partial sets never remain.
 */
export async function createFilesBackup(opts: { globs: string[]; base: string; dir: string; now?: Date }): Promise<FilesManifest> {
  const dir = resolve(opts.dir);
  const now = opts.now ?? new Date();
  const id = `files-${stampOf(now)}`;
  const part = join(dir, `.${id}-${process.pid}.part`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, fsConstants.W_OK);
    sweepFilesTemps(dir);
    const { files, unmatched } = await matchFiles(opts.globs, opts.base, dir);
    if (files.length === 0) throw new Failure('not-found', `backup.files: no file matches ${opts.globs.join(', ')} (relative to ${opts.base})`);
    if (existsSync(join(dir, id)) || existsSync(join(dir, `${id}.json`))) throw new Failure('busy', `files backup ${id} already exists in ${dir} (one files backup per second)`);
    mkdirSync(part, { mode: 0o700 });
    const entries: FilesEntry[] = [];
    for (const source of files) {
      const mode = statSync(source).mode & 0o7777;
      const rel = storedName(opts.base, source);
      const dst = join(part, rel);
      mkdirSync(dirname(dst), { recursive: true, mode: 0o700 });
      const { sha256, size } = await copyHashed(source, `${dst}.part`, mode & 0o777);
      renameSync(`${dst}.part`, dst);
      entries.push({ source, relative: rel, sha256, size, mode });
    }
    fsyncPath(part);
    renameSync(part, join(dir, id));
    fsyncPath(dir);
    const m: FilesManifest = { id, kind: 'files', database: FILES_TARGET, createdAt: now.toISOString(), base: opts.base, globs: [...opts.globs], unmatched, files: entries, sizeBytes: entries.reduce((a, e) => a + e.size, 0), sha256: setDigest(entries) };
    writeFilesManifest(dir, m);
    return m;
  } catch (e) {
    rmSync(part, { recursive: true, force: true });
    throw fsError(e, `files backup into ${dir}`, 'backup');
  }
}

/**
 * Re-hashes every stored copy of a set against its manifest (missing, resized or changed copies
 * fail it); the result and its time go into the manifest unless `record` is false (--read-only).
 */
export async function verifyFilesBackup(dir: string, m: FilesManifest, now = new Date(), opts: { record?: boolean } = {}): Promise<FilesManifest> {
  const problems: string[] = [];
  for (const e of m.files) {
    const stored = join(dir, m.id, e.relative);
    try {
      if ((await sha256File(stored)) !== e.sha256) problems.push(`${e.relative}: sha256 differs from the manifest`);
    } catch (err) {
      problems.push(`${e.relative}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message}`);
    }
  }
  const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : '';
  const result = problems.length ? { ok: false, message: `${problems.slice(0, 3).join('; ')}${more}` } : { ok: true, message: `ok: ${m.files.length} file${m.files.length === 1 ? '' : 's'}, every sha256 matches` };
  const next: FilesManifest = { ...m, verify: { at: now.toISOString(), ...result } };
  if (opts.record !== false) writeFilesManifest(dir, next);
  return next;
}

/** Removes the `<file>.<pid>.part` a killed restore left beside `file` (its pid is gone). */
export function sweepRestoreParts(file: string): void {
  sweepDead(dirname(file), new RegExp(`^${basename(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.part$`));
}

/** Whether `e` is one of `only` (its relative path, its source path, or a path resolving to it). */
const named = (e: FilesEntry, only: readonly string[]) => only.some((o) => o === e.relative || o === e.source || resolve(o) === e.source);

/**
 * Copies each file of a set back to its source path: to `<source>.<pid>.part` (missing parent
 * folders created), its sha256 checked against the manifest, its mode set, fsynced, renamed. A file
 * already identical (content and mode) is `unchanged`, so running it again changes nothing.
 * `only`: relative or source paths of the files to restore (one not in the set is `not-found`).
 * A stored copy whose sha256 differs is `corrupt`: that file is not replaced.
 */
export async function restoreFilesBackup(dir: string, m: FilesManifest, opts: { only?: string[] } = {}): Promise<{ restored: string[]; unchanged: string[] }> {
  const only = opts.only;
  if (only) {
    const missing = only.filter((o) => !m.files.some((e) => named(e, [o])));
    if (missing.length) throw new Failure('not-found', `files backup ${m.id} holds no ${missing.join(', ')}`);
  }
  const restored: string[] = [];
  const unchanged: string[] = [];
  for (const e of m.files.filter((x) => !only || named(x, only))) {
    try {
      const st = existsSync(e.source) ? statSync(e.source) : undefined;
      if (st?.isFile() && (st.mode & 0o7777) === e.mode && (await sha256File(e.source)) === e.sha256) {
        unchanged.push(e.source);
        continue;
      }
      mkdirSync(dirname(e.source), { recursive: true });
      sweepRestoreParts(e.source);
      const part = `${e.source}.${process.pid}.part`;
      const { sha256 } = await copyHashed(join(dir, m.id, e.relative), part, e.mode & 0o777);
      if (sha256 !== e.sha256) {
        rmSync(part, { force: true });
        throw new Failure('corrupt', `files backup ${m.id}: the stored copy of ${e.relative} does not match its sha256; ${e.source} not replaced`);
      }
      chmodSync(part, e.mode);
      renameSync(part, e.source);
      fsyncPath(dirname(e.source));
      restored.push(e.source);
    } catch (err) {
      throw fsError(err, `restore of ${e.source} from files backup ${m.id}`);
    }
  }
  return { restored, unchanged };
}

/** The sets retention lets go of (the database backups' keep_* rules; the newest verified set stays). */
export function planFilesPrune(dir: string, backup: Pick<BackupConfig, 'keep_last' | 'keep_hourly' | 'keep_daily' | 'keep_weekly' | 'keep_monthly'>): PrunePlanned[] {
  const all = listFilesBackups(dir);
  const remove = new Set(applyRetention(all.map((m) => ({ id: m.id, createdAt: Date.parse(m.createdAt), verified: !!m.verify?.ok })), retentionPolicy(backup)).remove);
  return all.filter((m) => remove.has(m.id)).map((m) => ({ id: m.id, database: FILES_TARGET, dir, sizeBytes: m.sizeBytes }));
}

/** Deletes planned sets (the folder and any archive, then the manifest; idempotent), `done` after each. */
export function pruneFilesPlanned(plan: readonly Pick<PrunePlanned, 'id' | 'dir'>[], done?: (id: string) => void): string[] {
  for (const p of plan) {
    rmSync(join(p.dir, p.id), { recursive: true, force: true });
    rmSync(join(p.dir, `${p.id}.tar`), { force: true });
    rmSync(join(p.dir, `${p.id}.json`), { force: true });
    done?.(p.id);
  }
  return plan.map((p) => p.id);
}

/**
 * The set as one tar archive `<dir>/<id>.tar` (0600) for an off-host copy: `<id>/<relative>` for
 * each file with its mode, and `<id>/.opsdeck-manifest.json` (the manifest without verify/offHost);
 * deterministic, so the same set always gives the same sha256. The caller removes it after the copy.
 */
export async function filesArchive(dir: string, m: FilesManifest): Promise<{ path: string; sha256: string; size: number }> {
  const path = join(dir, `${m.id}.tar`);
  const mtime = Math.floor(Date.parse(m.createdAt) / 1000);
  const { verify: _v, offHost: _o, ...stable } = m;
  const entries = [
    { name: `${m.id}/.opsdeck-manifest.json`, data: Buffer.from(`${JSON.stringify(stable, null, 2)}\n`), mode: 0o600, mtime },
    ...m.files.map((e) => ({ name: `${m.id}/${e.relative}`, file: join(dir, m.id, e.relative), mode: e.mode, mtime })),
  ];
  const r = await writeTar(`${path}.${process.pid}.part`, entries, 0o600);
  renameSync(`${path}.${process.pid}.part`, path);
  return { path, ...r };
}
