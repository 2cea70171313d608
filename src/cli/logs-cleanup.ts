import type { Config } from '../config/schema.js';
import { formatBytes, formatDuration } from '../domain/format.js';
import type { CleanupStep } from '../domain/log-cleanup.js';
import { cleanupLogs, cleanupSummary } from '../services/log-cleanup.js';
import { canSeeOpenFiles } from '../services/open-files.js';
import { recordAudit } from '../state/acks.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { UsageError } from '../domain/errors.js';
import { out, outJson } from './output.js';
import { refuseReadOnly } from './refuse.js';
import type { LogsOptions } from './logs.js';

/** One line of the plan. */
function stepText(s: CleanupStep): string {
  switch (s.op) {
    case 'delete':
      return `delete    ${formatBytes(s.size).padStart(9)}  ${s.path} (${formatDuration(s.ageMs, 'coarse')} old)`;
    case 'compress':
      return `compress  ${formatBytes(s.size).padStart(9)}  ${s.path} → ${s.to} (${formatDuration(s.ageMs, 'coarse')} old)`;
    case 'archive':
      return `archive   ${formatBytes(s.size).padStart(9)}  ${s.path} → ${s.to}`;
    case 'skip':
      return `skip      ${formatBytes(s.size).padStart(9)}  ${s.path}: ${s.why}`;
  }
}

/**
 * `opsdeck logs cleanup [--target NAME] [--yes]` (issue #23): for every `logs:` entry with a glob,
 * the plan (delete, compress, archive; files open for writing skipped); a dry run unless --yes, which
 * acts (refused under --read-only) and audits each entry as `logs.cleanup`. Exit 0; 1 when a step failed.
 */
export async function logsCleanup(config: Config, g: LogsOptions): Promise<number> {
  if (g.target && !config.logs.some((l) => l.name === g.target)) throw new UsageError(`logs cleanup: --target ${JSON.stringify(g.target)}: expected a logs[] name (${config.logs.map((l) => l.name).join(', ') || 'none configured'})`);
  const act = !!g.yes && !g.dryRun;
  const dir = stateDir(config.state_dir);
  if (act && g.readOnly) await refuseReadOnly(dir, 'logs.cleanup', g.target ?? 'all', 'logs cleanup: refused: opsdeck runs in --read-only mode (without --yes it only shows the plan)');
  const now = Date.now();
  const results = await cleanupLogs(config, { act, now, ...(g.target ? { only: g.target } : {}), ...(g.json ? {} : { onLine: out }) });
  const failed = results.some((r) => r.steps.some((s) => s.outcome === 'failed'));
  if (act) {
    const db = await openStateDb(dir);
    try {
      for (const r of results) if (r.steps.length) recordAudit(db, { action: 'logs.cleanup', target: r.name, outcome: r.steps.some((s) => s.outcome === 'failed') ? 'failed' : 'ok', detail: cleanupSummary(r.steps) }, now);
    } finally {
      db.close();
    }
  }
  const plans = results;
  if (g.json) {
    outJson({ dryRun: !act, openFilesVisible: canSeeOpenFiles(), entries: results });
    return failed ? 1 : 0;
  }
  if (!act) {
    if (!plans.length) out('logs cleanup: no logs[] entry has a glob (nothing to clean up; see README "Log cleanup")');
    if (!canSeeOpenFiles()) out('warning: /proc cannot be searched here: files open for writing cannot be recognised');
    for (const p of plans) {
      out(`${p.name}: ${p.steps.length ? `${p.steps.length} files` : 'nothing to do'}`);
      for (const s of p.steps) out(`  ${stepText(s)}`);
    }
    out('dry run: nothing changed (opsdeck logs cleanup --yes acts on the plan)');
  } else if (!results.some((r) => r.steps.length)) out('logs cleanup: nothing to do');
  return failed ? 1 : 0;
}
