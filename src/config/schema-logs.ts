// `logs:` entries (issue #23): a log file the console follows and the daily review reads, and —
// for the weekly cleanup — the files it owns (globs, e.g. its rotated copies) with their retention.

import { z } from 'zod';
import { DAY, duration, HOUR, name } from './fields.js';

const age = duration(0, { min: HOUR, max: 3650 * DAY, why: 'how old (by modification time) a log file must be' }).optional();

const globs = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'expected a glob such as "/var/log/app/*.log*" or a list of globs' })
  .transform((v) => (typeof v === 'string' ? [v] : v));

/** One `logs:` entry. */
export const logSchema = z
  .strictObject({
    name,
    path: z.string().min(1, 'expected the path of a log file'),
    /** The files the weekly cleanup looks after (relative to the configuration file's folder); the live `path` is never touched. */
    glob: globs.optional(),
    /** Delete a matched file older than this (`30d`). */
    delete_after: age,
    /** Gzip a matched file older than this (`7d`) in place (`app.log.3` → `app.log.3.gz`, same modification time). */
    compress_after: age,
    /** File-name globs (`audit-*`, `*.err*`) of the matched files worth keeping: moved to `archive_dir`, never deleted. */
    important: z.array(z.string().min(1)).default([]),
    /** Where important files go (relative to the configuration file's folder). */
    archive_dir: z.string().min(1).optional(),
  })
  .refine((l) => !l.important.length || l.archive_dir, { message: 'expected archive_dir too (important files are moved there)', path: ['archive_dir'] })
  .refine((l) => !(l.delete_after !== undefined && l.compress_after !== undefined) || l.compress_after < l.delete_after, { message: 'expected compress_after shorter than delete_after (a file is compressed first, deleted later)', path: ['compress_after'] })
  .refine((l) => l.glob || (l.delete_after === undefined && l.compress_after === undefined && !l.important.length), { message: 'expected glob too (the files delete_after, compress_after and important apply to)', path: ['glob'] });

export type LogConfig = z.output<typeof logSchema>;
