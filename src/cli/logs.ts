import { parseDuration } from '../config/duration.js';
import { loadConfig } from '../config/load.js';
import { UsageError } from '../domain/errors.js';
import { formatDuration } from '../domain/format.js';
import { printable } from '../domain/printable.js';
import { reviewLogs } from '../state/log-review.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { out, outJson, useSecrets, type GlobalOptions } from './output.js';

/** Options of `opsdeck logs`. */
export interface LogsOptions extends GlobalOptions {
  since?: string;
  target?: string;
  top?: string;
  dryRun?: boolean;
  yes?: boolean;
}

const ACTIONS = ['review', 'cleanup'] as const;

/**
 * `opsdeck logs review|cleanup` (issue #23). review: per service (its container's log) and per
 * configured log file, the ERROR and WARN counts since --since (24h), the top groups by pattern and
 * the patterns new since the previous review (recorded in the state database; not under --read-only).
 * Exit 0, or 1 when a source could not be read; 64 usage, 78 configuration.
 */
export async function logsCommand(action: string, g: LogsOptions): Promise<number> {
  if (!(ACTIONS as readonly string[]).includes(action)) throw new UsageError(`logs: unknown action ${JSON.stringify(action)} (expected one of: ${ACTIONS.join(', ')})`);
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const { config } = loaded;
  if (action === 'cleanup') return (await import('./logs-cleanup.js')).logsCleanup(config, g);
  const windowMs = parseDuration(g.since ?? '24h');
  if (windowMs === undefined || windowMs <= 0) throw new UsageError(`logs review: --since ${JSON.stringify(g.since)}: expected a duration such as 24h, 90m or 7d`);
  const top = g.top === undefined ? 5 : Number(g.top);
  if (!Number.isInteger(top) || top < 1) throw new UsageError(`logs review: --top ${JSON.stringify(g.top)}: expected a whole number of groups, 1 or more`);
  if (g.target && !config.services.some((s) => s.name === g.target) && !config.logs.some((l) => l.name === g.target)) {
    throw new UsageError(`logs review: --target ${JSON.stringify(g.target)}: expected a configured service or logs[] name (${[...config.services.map((s) => s.name), ...config.logs.map((l) => l.name)].join(', ') || 'none configured'})`);
  }
  const db = await openStateDb(stateDir(config.state_dir));
  let review: Awaited<ReturnType<typeof reviewLogs>>;
  try {
    review = await reviewLogs(config, db, { windowMs, record: !g.readOnly, ...(g.target ? { only: g.target } : {}) });
  } finally {
    db.close();
  }
  const { at: now, sinceMs, sources: reviewed } = review;
  const failed = reviewed.some((s) => s.error);
  if (g.json) {
    outJson({
      at: new Date(now).toISOString(),
      since: new Date(sinceMs).toISOString(),
      recorded: !g.readOnly,
      sources: reviewed.map((s) => ({
        kind: s.kind,
        name: s.name,
        from: s.from,
        ...(s.error ? { error: s.error } : {}),
        ...(s.review
          ? {
              lines: s.review.lines,
              errors: s.review.errors,
              warnings: s.review.warnings,
              groups: s.review.groups.slice(0, top),
              groupCount: s.review.groups.length,
              previousReview: s.previous === undefined ? null : new Date(s.previous).toISOString(),
              newPatterns: s.fresh,
            }
          : {}),
      })),
    });
    return failed ? 1 : 0;
  }
  if (!reviewed.length) out('logs review: nothing to review (no service with a container or compose_service, no logs[] entry)');
  out(`log review of the last ${formatDuration(windowMs, 'coarse')} (since ${new Date(sinceMs).toISOString()})${g.readOnly ? ' — --read-only: not recorded' : ''}`);
  for (const s of reviewed) {
    const head = `${s.kind === 'service' ? 'service' : 'log'} ${s.name} (${s.from})`;
    if (!s.review) {
      out(`${head}: not read: ${s.error ?? 'unknown error'}`);
      continue;
    }
    const r = s.review;
    out(`${head}: ${r.errors} ERROR, ${r.warnings} WARN in ${r.lines} lines`);
    for (const grp of r.groups.slice(0, top)) out(`  ${String(grp.count).padStart(7)}  ${grp.level === 'error' ? 'ERROR' : 'WARN '}  ${printable(grp.pattern)}`);
    if (r.groups.length > top) out(`  … ${r.groups.length - top} more patterns (--top N)`);
    if (s.previous === undefined) out('  first review of this source: every pattern is new');
    else if (!s.fresh.length) out(`  no new patterns since the review of ${new Date(s.previous).toISOString()}`);
    else {
      out(`  ${s.fresh.length} new since the review of ${new Date(s.previous).toISOString()}:`);
      for (const grp of s.fresh.slice(0, top)) out(`  NEW ${String(grp.count).padStart(5)}  ${grp.level === 'error' ? 'ERROR' : 'WARN '}  ${printable(grp.pattern)}`);
      if (s.fresh.length > top) out(`  … ${s.fresh.length - top} more new patterns`);
    }
  }
  return failed ? 1 : 0;
}
