// `probes:` (issue #23): business and application metrics — a number from an SQL query against a
// configured database (read-only) or from a JSON field of an HTTP endpoint — each a check
// `probe:<name>` thresholded like any other. (Not `metrics:`: that name is kept for Prometheus.)

import { z } from 'zod';
import { duration, DURATION_RANGES, httpUrl, name } from './fields.js';

const probeFields = z.strictObject({
  name,
  /** SQL: a configured database's name and a query whose first column of the first row is the number. */
  database: z.string().min(1).optional(),
  sql: z.string().min(1).optional(),
  /** HTTP: a URL answering JSON and the dotted path of the number in it (`errorRate`, `stats.requests`). */
  url: httpUrl.optional(),
  json_path: z.string().min(1).optional(),
  /** How often it is read; default the configuration's interval. */
  interval: duration(0, DURATION_RANGES.interval).optional(),
  timeout: duration(5_000, DURATION_RANGES.timeout),
  /** Thresholds: a value above (below) `warn_*` is a WARNING, above (below) `critical_*` CRITICAL. */
  warn_above: z.number().optional(),
  critical_above: z.number().optional(),
  warn_below: z.number().optional(),
  critical_below: z.number().optional(),
  /** Shown after the number (`%`, `req`, `rows`). */
  unit: z.string().max(12).default(''),
  /** A probe that cannot be read is CRITICAL (else a WARNING). */
  critical: z.boolean().default(false),
});

export const probeSchema = probeFields
  .refine((p) => (p.sql ? 1 : 0) + (p.url ? 1 : 0) === 1, { message: 'expected either sql (with database) or url (with json_path)', path: ['sql'] })
  .refine((p) => !p.sql || p.database, { message: 'expected database too (the configured database the query runs on)', path: ['database'] })
  .refine((p) => !p.url || p.json_path, { message: 'expected json_path too (the number\'s field in the JSON answer, such as "errorRate")', path: ['json_path'] });

export type ProbeConfig = z.output<typeof probeFields>;

/** Adds an issue for each probe whose database is not configured. */
export function checkProbes(probes: readonly ProbeConfig[], databases: readonly string[], ctx: z.RefinementCtx): void {
  probes.forEach((p, i) => {
    if (p.database && !databases.includes(p.database)) ctx.addIssue({ code: 'custom', path: ['probes', i, 'database'], message: `database ${JSON.stringify(p.database)} is not in databases (expected one of: ${databases.join(', ') || 'none declared'})` });
  });
}
