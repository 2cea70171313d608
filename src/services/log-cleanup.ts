// The weekly log cleanup on disk (issue #23): the files of a `logs:` entry's globs with their age and
// writer, and each planned step done — delete, gzip in place (same modification time), move to the
// archive. Every step looks again for a writer just before it acts; the plan is src/domain/log-cleanup.ts.

import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { LogConfig } from '../config/schema-logs.js';
import type { Config } from '../config/schema.js';
import { planCleanup, type CleanupRules, type CleanupStep, type LogFileFact } from '../domain/log-cleanup.js';
import { openForWriting } from './open-files.js';

/** The rules of one entry. */
export function rulesOf(l: LogConfig): CleanupRules {
  return {
    livePath: l.path,
    important: l.important,
    ...(l.delete_after !== undefined ? { deleteAfterMs: l.delete_after } : {}),
    ...(l.compress_after !== undefined ? { compressAfterMs: l.compress_after } : {}),
    ...(l.archive_dir ? { archiveDir: l.archive_dir } : {}),
  };
}

/** The regular files an entry's globs match, with size, modification time and writer. */
export async function logFiles(l: LogConfig): Promise<LogFileFact[]> {
  if (!l.glob) return [];
  const { glob } = await import('tinyglobby');
  const paths = await glob(l.glob, { absolute: true, onlyFiles: true, followSymbolicLinks: false, dot: true });
  const writers = openForWriting(paths);
  const out: LogFileFact[] = [];
  for (const path of paths) {
    try {
      const st = await stat(path);
      if (!st.isFile()) continue;
      const w = writers.get(path);
      out.push({ path, size: st.size, mtimeMs: st.mtimeMs, ...(w ? { writer: w } : {}) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** A free name for `to`: itself, else `name.1`, `name.2`, … (an archive never overwrites). */
async function freeName(to: string): Promise<string> {
  for (let i = 0; ; i++) {
    const candidate = i ? `${to}.${i}` : to;
    try {
      await stat(candidate);
    } catch {
      return candidate;
    }
  }
}

/** Does one step; a step whose file a process opened for writing since the plan is skipped (the returned text says so). */
export async function applyStep(step: CleanupStep): Promise<{ done: boolean; text: string }> {
  if (step.op === 'skip') return { done: false, text: `skipped ${step.path}: ${step.why}` };
  const w = openForWriting([step.path]).get(step.path);
  if (w) return { done: false, text: `skipped ${step.path}: open for writing by pid ${w.pid} since the plan` };
  switch (step.op) {
    case 'delete':
      await rm(step.path, { force: true });
      return { done: true, text: `deleted ${step.path}` };
    case 'compress': {
      const st = await stat(step.path);
      const tmp = `${step.to}.${process.pid}.tmp`;
      try {
        await pipeline(createReadStream(step.path), createGzip(), createWriteStream(tmp, { flags: 'wx' }));
        await utimes(tmp, st.atime, st.mtime);
        await rename(tmp, await freeName(step.to));
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
      await rm(step.path, { force: true });
      return { done: true, text: `compressed ${step.path} → ${step.to}` };
    }
    case 'archive': {
      await mkdir(dirname(step.to), { recursive: true });
      const to = await freeName(step.to);
      try {
        await rename(step.path, to);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
        const st = await stat(step.path);
        await copyFile(step.path, to);
        await utimes(to, st.atime, st.mtime);
        await rm(step.path, { force: true });
      }
      return { done: true, text: `archived ${step.path} → ${to}` };
    }
  }
}

/** A planned step and, once acted on, how it went. */
export type CleanupOutcome = CleanupStep & { outcome?: 'done' | 'skipped' | 'failed'; error?: string };

/** One entry's plan (and outcomes when acted on). */
export interface EntryCleanup {
  name: string;
  steps: CleanupOutcome[];
}

/**
 * The cleanup of every `logs:` entry with a glob (or `only`): the plan, and when `act`, each step
 * done in order (`onLine` hears each outcome). Never throws for a step: a failed one is recorded.
 */
export async function cleanupLogs(config: Config, o: { act: boolean; only?: string; now?: number; onLine?: (text: string) => void }): Promise<EntryCleanup[]> {
  const now = o.now ?? Date.now();
  const out: EntryCleanup[] = [];
  for (const l of config.logs.filter((x) => x.glob && (!o.only || x.name === o.only))) {
    const plan = planCleanup(await logFiles(l), rulesOf(l), now);
    if (!o.act) {
      out.push({ name: l.name, steps: plan });
      continue;
    }
    const steps: CleanupOutcome[] = [];
    for (const s of plan) {
      try {
        const r = await applyStep(s);
        steps.push({ ...s, outcome: r.done ? 'done' : 'skipped', ...(r.done ? {} : { error: r.text }) });
        o.onLine?.(r.text);
      } catch (e) {
        const msg = `${s.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
        steps.push({ ...s, outcome: 'failed', error: msg });
        o.onLine?.(`failed: ${msg}`);
      }
    }
    out.push({ name: l.name, steps });
  }
  return out;
}

/** The audit line of one acted-on entry: "deleted 2, compressed 2, archived 1, skipped 1". */
export function cleanupSummary(steps: readonly CleanupOutcome[]): string {
  const count = (op: string) => steps.filter((s) => s.op === op && s.outcome === 'done').length;
  return `deleted ${count('delete')}, compressed ${count('compress')}, archived ${count('archive')}, skipped ${steps.filter((s) => s.outcome !== 'done' && s.outcome !== 'failed').length}${steps.some((s) => s.outcome === 'failed') ? `, failed ${steps.filter((s) => s.outcome === 'failed').length}` : ''}`;
}
