import type { ColumnRule } from '../config/schema-integrity.js';
import { worstStatus, type CheckStatus } from './check.js';
import { formatRanges, size, type Range } from './ranges.js';
import { re2, type RE2 } from './re2.js';

// Issue #22's pure decisions: whether a value breaks a column's format rules, what each finding of
// `opsdeck db check` means (its status), the order in which lost tables are recovered, and the exact
// merge command that brings them back. The SQLite work is src/services/integrity.ts.

/** A table opsdeck creates in a user's database to keep the rows `db repair` moved out (ARCHITECTURE "Reserved names"). */
export const QUARANTINE_PREFIX = '_opsdeck_quarantine_';
export const quarantineTable = (table: string) => `${QUARANTINE_PREFIX}${table}`;
/** The columns a quarantine table has besides the table's own. */
export const QUARANTINE_COLUMNS = ['_opsdeck_reason', '_opsdeck_run', '_opsdeck_rowid', '_opsdeck_at'] as const;

/** Why a row is moved into quarantine. */
export type ProblemKind = 'orphan' | 'duplicate' | 'malformed';

/** One row that breaks a rule: its table, rowid and why. */
export interface RowProblem {
  table: string;
  rowid: number;
  kind: ProblemKind;
  reason: string;
}

/** A compiled column rule: `violation` says why a value breaks it, or undefined. */
export interface CompiledRule {
  table: string;
  column: string;
  rule: ColumnRule;
  /** The compiled regex, when the rule has one. */
  re?: RE2;
  violation(value: unknown): string | undefined;
}

/** Whether a value passes a rule's regex (the text of a number; a blob never does). */
export const regexMatches = (re: RE2, value: unknown): boolean => (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') && re.matcher(String(value)).find();

/** Compiles `"table.column": rule` entries (the regex with RE2: linear in the value's length). */
export function compileRules(rules: Record<string, ColumnRule>): CompiledRule[] {
  return Object.entries(rules).map(([key, rule]) => {
    const [table = '', column = ''] = key.split('.');
    const re = rule.regex === undefined ? undefined : re2().compile(rule.regex);
    return { table, column, rule, ...(re ? { re } : {}), violation: (v: unknown) => ruleViolation(v, rule, re) };
  });
}

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : v instanceof Uint8Array ? `a ${v.length}-byte blob` : String(v));

/** Why `value` breaks `rule` (`NULL`, `not matching ^[A-Z]+$`, `below min 0`, `not one of buy, sell`), or undefined. */
export function ruleViolation(value: unknown, rule: ColumnRule, re?: RE2): string | undefined {
  if (value === null || value === undefined) return rule.not_null ? 'NULL where not_null' : undefined;
  if (re && !regexMatches(re, value)) return `${show(value)} does not match ${JSON.stringify(rule.regex)}`;
  if (rule.min !== undefined || rule.max !== undefined) {
    const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : Number.NaN;
    if (Number.isNaN(n)) return `${show(value)} is not a number (min/max)`;
    if (rule.min !== undefined && n < rule.min) return `${show(value)} below min ${rule.min}`;
    if (rule.max !== undefined && n > rule.max) return `${show(value)} above max ${rule.max}`;
  }
  if (rule.allowed && !rule.allowed.some((a) => a === value || (typeof value === 'bigint' && a === Number(value)))) return `${show(value)} not one of ${rule.allowed.join(', ')}`;
  return undefined;
}

/** One line of `db check`: an id (`integrity`, `fk`, `duplicates:trades`, `rules:trades.side`, `table:trades`, `loss:trades`), a status and a message. */
export interface IntegrityFinding {
  id: string;
  status: CheckStatus;
  message: string;
}

/** The overall status of a check: the worst finding (OK with none). */
export const overallOf = (findings: readonly IntegrityFinding[]): CheckStatus => worstStatus(findings.map((f) => f.status));

/**
 * Rows of `problems` grouped per table and kind, as findings: orphans and malformed rows of a
 * critical table are CRITICAL, any other problem a WARNING (the data is readable; `db repair` moves them).
 */
export function problemFindings(problems: readonly RowProblem[], critical: readonly string[]): IntegrityFinding[] {
  const groups = new Map<string, RowProblem[]>();
  for (const p of problems) {
    const k = `${p.kind}:${p.table}`;
    groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  return [...groups.entries()].map(([id, rows]) => {
    const first = rows[0] as RowProblem;
    const status: CheckStatus = critical.includes(first.table) && first.kind !== 'duplicate' ? 'critical' : 'warning';
    const what = first.kind === 'orphan' ? 'foreign-key orphans' : first.kind === 'duplicate' ? 'duplicates' : 'malformed rows';
    const sample = rows.slice(0, 3).map((r) => `rowid ${r.rowid}: ${r.reason}`).join('; ');
    return { id, status, message: `${first.table}: ${rows.length} ${what} (${sample}${rows.length > 3 ? '; …' : ''}); opsdeck db repair moves them into ${quarantineTable(first.table)}` };
  });
}

/** The tables a database must have with rows in them: absent or empty is CRITICAL. */
export function tableFindings(critical: readonly string[], counts: Readonly<Record<string, number | undefined>>): IntegrityFinding[] {
  return critical.map((t) => {
    const n = counts[t];
    if (n === undefined) return { id: `table:${t}`, status: 'critical', message: `critical table ${t} is missing` };
    if (n === 0) return { id: `table:${t}`, status: 'critical', message: `critical table ${t} is empty` };
    return { id: `table:${t}`, status: 'ok', message: `critical table ${t}: ${n} rows` };
  });
}

/** What one table lost against a backup: id ranges (integer key) or only a count (no integer key). */
export interface TableLoss {
  table: string;
  /** The integer key the ranges are of; undefined for a table without one. */
  key?: string;
  missing: Range[];
  /** Rows missing: the size of `missing`, or the backup's count minus today's for a keyless table. */
  count: number;
  /** The timestamp column's span of each missing range (configured `integrity.<db>.timestamp`). */
  times?: { column: string; ranges: [string | number | null, string | number | null][] };
  /** The table is gone altogether. */
  tableMissing?: boolean;
}

/** Recovery order: critical tables first (in their configured order), then the rest by rows lost, most first. */
export function prioritize(losses: readonly TableLoss[], critical: readonly string[]): (TableLoss & { priority: number; critical: boolean })[] {
  const rank = (t: string) => (critical.includes(t) ? critical.indexOf(t) : critical.length);
  return [...losses]
    .filter((l) => l.count > 0 || l.tableMissing)
    .sort((a, b) => rank(a.table) - rank(b.table) || b.count - a.count || a.table.localeCompare(b.table))
    .map((l, i) => ({ ...l, priority: i + 1, critical: critical.includes(l.table) }));
}

/**
 * The findings of a loss assessment: a critical table missing rows is CRITICAL, a configured
 * normal table a WARNING; any other table is listed as OK (applications delete rows too).
 */
export function lossFindings(ranked: ReturnType<typeof prioritize>, normal: readonly string[], backupId: string): IntegrityFinding[] {
  return ranked.map((l) => {
    const status: CheckStatus = l.critical ? 'critical' : normal.includes(l.table) ? 'warning' : 'ok';
    const ids = l.key ? ` (${l.key} ${formatRanges(l.missing)})` : ' (no integer key: counted, not located)';
    const when = l.times?.ranges.length ? `, ${l.times.column} ${l.times.ranges.slice(0, 3).map(([a, b]) => (a === b ? String(a) : `${String(a)} – ${String(b)}`)).join(', ')}${l.times.ranges.length > 3 ? ', …' : ''}` : '';
    const what = l.tableMissing ? `table ${l.table} is gone; backup ${backupId} holds ${l.count} rows` : `${l.table}: ${l.count} rows in backup ${backupId} are missing now${ids}${when}`;
    return { id: `loss:${l.table}`, status, message: `priority ${l.priority}: ${what}` };
  });
}

/** The exact command that merges the lost rows of these tables back from that backup (a merge only inserts missing rows). */
export function mergeCommand(database: string, tables: readonly string[], backupId: string, configFlag = ''): string {
  return `opsdeck${configFlag} restore --db ${database} --merge --tables ${tables.join(',')} --backup ${backupId}`;
}

/** `42 rows of trades (id 101–142)` for a preview. */
export function describeMoved(table: string, n: number, rowids: readonly Range[]): string {
  return `${n} rows of ${table} (rowid ${formatRanges(rowids)})`;
}

export { size as rangeSize };
