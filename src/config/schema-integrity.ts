import { z } from 'zod';
import { re2 } from '../domain/re2.js';
import { name } from './fields.js';

// The `integrity:` section of issue #22 (`opsdeck db check` / `db repair`): per configured database,
// the unique keys to look for duplicates on, the format rules of columns, and the timestamp column a
// loss assessment dates missing rows by. Database names are checked against `databases:` in
// `checkIntegrity` (called by load.ts once the whole file parsed).

const column = z.string().min(1, 'expected a column name');

/** A regular expression in RE2 syntax (linear time: a rule runs over every row; no backreferences, no lookahead). */
const regex = z.string().min(1, 'expected a regular expression').superRefine((v, ctx) => {
  try {
    re2().compile(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `expected a regular expression in RE2 syntax (no backreferences, no lookahead), got ${JSON.stringify(v)}: ${(e as Error).message.split('\n')[0] ?? 'invalid'}` });
  }
});

/** The format rules of one column: a row breaking any of them is malformed (moved into quarantine by `db repair`). */
const ruleSchema = z
  .strictObject({
    /** NULL is malformed. */
    not_null: z.boolean().default(false),
    /** A non-NULL value must contain a match (anchor with ^…$ for the whole value); numbers are matched as their text. */
    regex: regex.optional(),
    /** A non-NULL value must be a number ≥ min / ≤ max. */
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
    /** A non-NULL value must be one of these. */
    allowed: z.array(z.union([z.string(), z.number()]), { error: 'expected a list of allowed values' }).min(1, 'expected at least one allowed value').optional(),
  })
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, { message: 'expected min ≤ max', path: ['max'] });

/** One database's integrity settings. */
const databaseIntegritySchema = z.strictObject({
  /** Table → the columns that must be unique together (`trades: [order_id]`); duplicates keep the lowest rowid. */
  unique: z.record(z.string().min(1), z.union([column, z.array(column).min(1, 'expected at least one column')], { error: 'expected a column name or a list of column names' })).default({}),
  /** `"table.column"` → its format rules. */
  rules: z
    .record(z.string(), ruleSchema)
    .superRefine((r, ctx) => {
      // Zod reports a bad record key as "Invalid key in record": the key is named here instead.
      for (const k of Object.keys(r)) if (!/^[^.]+\.[^.]+$/.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: `expected a key "table.column", got ${JSON.stringify(k)}` });
    })
    .default({}),
  /** Table → its timestamp column: a loss assessment also says which times the missing rows cover. */
  timestamp: z.record(z.string().min(1), column).default({}),
});

/** `integrity:` — database name → its settings. Unknown database names are refused by `checkIntegrity`. */
export const integritySchema = z.record(name, databaseIntegritySchema).default({});

export type IntegrityConfig = z.output<typeof integritySchema>;
export type DatabaseIntegrity = z.output<typeof databaseIntegritySchema>;
export type ColumnRule = z.output<typeof ruleSchema>;

/** The first `integrity:` entry naming no configured database, as a path and a message; undefined when all are known. */
export function checkIntegrity(c: { integrity: IntegrityConfig; databases: readonly { name: string }[] }): { path: (string | number)[]; message: string } | undefined {
  const known = c.databases.map((d) => d.name);
  const unknown = Object.keys(c.integrity).find((n) => !known.includes(n));
  if (unknown === undefined) return undefined;
  return { path: ['integrity', unknown], message: `database ${JSON.stringify(unknown)} is not in databases (expected one of: ${known.join(', ') || 'none declared'})` };
}
