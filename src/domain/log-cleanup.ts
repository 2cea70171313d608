// The weekly log cleanup's plan (issue #23), pure: for each file a `logs:` entry's globs match, what
// happens to it — archived (an important file), deleted (older than delete_after), compressed (older
// than compress_after), or left — and why a file is skipped (the live log, open for writing).

/** A file the globs matched, as found on disk. */
export interface LogFileFact {
  path: string;
  size: number;
  mtimeMs: number;
  /** The process writing it, when one has it open for writing. */
  writer?: { pid: number; command: string };
}

/** The retention of one entry (durations in ms). */
export interface CleanupRules {
  livePath: string;
  deleteAfterMs?: number;
  compressAfterMs?: number;
  /** File-name globs of important files. */
  important: readonly string[];
  archiveDir?: string;
}

/** What the cleanup does with one file. */
export type CleanupStep =
  | { op: 'archive'; path: string; size: number; to: string }
  | { op: 'delete'; path: string; size: number; ageMs: number }
  | { op: 'compress'; path: string; size: number; ageMs: number; to: string }
  | { op: 'skip'; path: string; size: number; why: string };

/** A file-name glob (`*`, `?`) as a regular expression over a base name. */
export function nameGlob(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/**
 * The plan for one entry's files at `now`. A file open for writing and the live log are skipped;
 * an important file is moved to the archive (never deleted); then the oldest rule that applies wins:
 * delete before compress. Already compressed files (`.gz`) are only ever deleted. Files with nothing
 * to do are left out.
 */
export function planCleanup(files: readonly LogFileFact[], rules: CleanupRules, now: number): CleanupStep[] {
  const important = rules.important.map(nameGlob);
  const steps: CleanupStep[] = [];
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    const ageMs = now - f.mtimeMs;
    const name = baseName(f.path);
    const isImportant = important.some((re) => re.test(name));
    const wantsDelete = rules.deleteAfterMs !== undefined && ageMs > rules.deleteAfterMs;
    const wantsCompress = rules.compressAfterMs !== undefined && ageMs > rules.compressAfterMs && !name.endsWith('.gz');
    if (!isImportant && !wantsDelete && !wantsCompress) continue;
    if (f.path === rules.livePath) continue; // the live log is rotated by its writer, not here
    if (rules.archiveDir && f.path.startsWith(`${rules.archiveDir}/`)) continue; // archived already
    if (f.writer) {
      steps.push({ op: 'skip', path: f.path, size: f.size, why: `open for writing by pid ${f.writer.pid}${f.writer.command ? ` (${f.writer.command})` : ''}` });
      continue;
    }
    if (isImportant && rules.archiveDir) steps.push({ op: 'archive', path: f.path, size: f.size, to: `${rules.archiveDir}/${name}` });
    else if (wantsDelete) steps.push({ op: 'delete', path: f.path, size: f.size, ageMs });
    else if (wantsCompress) steps.push({ op: 'compress', path: f.path, size: f.size, ageMs, to: `${f.path}.gz` });
  }
  return steps;
}
