// The steps of the maintenance routines (issue #23: daily-check, weekly-maintenance,
// monthly-maintenance): each composes a piece of this issue or an existing check. They report what
// they find; only `logs.cleanup` (it deletes, compresses and moves files) changes anything and asks.
// A finding is not a step failure: a routine runs to its end and says what needs a person.

import { Failure } from '../../domain/errors.js';
import { severityRank, type CheckResult } from '../../domain/check.js';
import { systemHealth } from '../../domain/evaluate.js';
import { formatBytes } from '../../domain/format.js';
import { signedBytes } from '../../domain/capacity.js';
import { probeCheck } from '../../domain/probe.js';
import { printable } from '../../domain/printable.js';
import type { GenericDeps } from '../../engine/actions.js';
import type { Action, StepContext } from '../../engine/driver.js';
import { backupDir, createBackup, verifyBackup } from '../../services/backup.js';
import { sampleCapacity } from '../../services/capacity.js';
import { checkDependencies, SEVERITIES } from '../../services/deps.js';
import { cleanupLogs, cleanupSummary } from '../../services/log-cleanup.js';
import { readProbe } from '../../services/probe.js';
import { recordAudit } from '../../state/acks.js';
import { CapacityStore, capacityChecks, projections } from '../../state/capacity.js';
import { hardwareSources, kernelLogCheck, readOnlyChecks } from '../../state/hardware.js';
import { reviewLogs } from '../../state/log-review.js';
import { probeSources, probeTarget, ProbeValues } from '../../state/probes.js';
import { buildSources } from '../../state/sources.js';
import { openStateDb, stateDir } from '../../state/statedb.js';
import { createAppStore } from '../../state/store.js';
import { configOf } from './config.js';

type X = StepContext<unknown, GenericDeps>;

/** The typed ids of the routine steps. */
export type RoutineActionId = 'maint.check' | 'logs.review' | 'logs.cleanup' | 'capacity.report' | 'probes.read' | 'hardware.check' | 'deps.check' | 'backup.all';

/** The state database of the run's configuration, for one step. */
async function withState<T>(x: X, fn: (db: Awaited<ReturnType<typeof openStateDb>>) => T | Promise<T>): Promise<T> {
  const db = await openStateDb(x.deps.stateDir ?? stateDir(configOf(x, 'with a state folder').state_dir));
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

/** Lines of the checks that are not OK, worst first; "all N OK" otherwise. */
function notOk(results: readonly CheckResult[], what: string): string {
  const bad = results.filter((r) => r.status !== 'ok').sort((a, b) => severityRank(b.status) - severityRank(a.status));
  if (!bad.length) return `${what}: all ${results.length} OK`;
  return [`${what}: ${bad.length} of ${results.length} need attention:`, ...bad.map((r) => `  ${r.status.toUpperCase().padEnd(8)} ${r.id}: ${printable(r.message)}`)].join('\n');
}

export const ROUTINE_ACTIONS: Record<RoutineActionId, Action<unknown, GenericDeps>> = {
  'maint.check': {
    dangerous: false,
    preview: () => 'check the whole stack once (services, containers, Redis, databases, endpoints, backups, host), as opsdeck check',
    async execute(x) {
      const c = configOf(x, 'to check');
      const sources = [...buildSources(c, createAppStore(), Date.now, { oneShot: true }), ...probeSources({ config: c, readOnly: true }), ...hardwareSources(c)];
      await Promise.all(sources.map((s) => (s.prime ? s.prime() : Promise.resolve())));
      await new Promise((r) => setTimeout(r, 500)); // rates (CPU %) need two samples
      const results = (await Promise.all(sources.map((s) => s.run()))).flat();
      for (const s of sources) s.close?.();
      results.push(systemHealth(results, c.thresholds.system_health));
      return notOk(results, 'checks');
    },
  },
  'logs.review': {
    dangerous: false,
    preview: (x) => `review the ERROR and WARN lines of the last ${Number(x.step.params?.hours ?? 24)} h of every service's container log and every configured log file; record the patterns`,
    async execute(x) {
      const c = configOf(x, 'with services or logs');
      const hours = Number(x.step.params?.hours ?? 24);
      const r = await withState(x, (db) => reviewLogs(c, db, { windowMs: hours * 3_600_000, record: true }));
      if (!r.sources.length) return 'no service with a container and no logs[] entry: nothing to review';
      return r.sources
        .map((s) =>
          !s.review
            ? `${s.kind} ${s.name}: not read: ${s.error ?? '?'}`
            : [`${s.kind} ${s.name}: ${s.review.errors} ERROR, ${s.review.warnings} WARN in ${s.review.lines} lines`, ...s.review.groups.slice(0, 3).map((g) => `  ${String(g.count).padStart(6)}  ${printable(g.pattern)}`), ...s.fresh.slice(0, 3).map((g) => `  NEW ${printable(g.pattern)}`)].join('\n'),
        )
        .join('\n');
    },
  },
  'logs.cleanup': {
    dangerous: true,
    settled: async (x) => ((await cleanupLogs(configOf(x, 'with logs'), { act: false })).every((e) => !e.steps.some((s) => s.op !== 'skip')) ? 'no log file to delete, compress or archive' : undefined),
    async preview(x) {
      const plan = await cleanupLogs(configOf(x, 'with logs'), { act: false });
      const lines = plan.flatMap((e) => e.steps.map((s) => `  ${s.op.padEnd(8)} ${formatBytes(s.size).padStart(9)}  ${s.path}${s.op === 'skip' ? `: ${s.why}` : s.op === 'archive' || s.op === 'compress' ? ` → ${s.to}` : ''}`));
      return lines.length ? ['the weekly log cleanup (files open for writing are skipped):', ...lines].join('\n') : 'no log file to delete, compress or archive';
    },
    async execute(x) {
      const c = configOf(x, 'with logs');
      const done = await cleanupLogs(c, { act: true });
      await withState(x, (db) => {
        for (const e of done) if (e.steps.length) recordAudit(db, { action: 'logs.cleanup', target: e.name, outcome: e.steps.some((s) => s.outcome === 'failed') ? 'failed' : 'ok', detail: cleanupSummary(e.steps) });
      });
      const failed = done.flatMap((e) => e.steps.filter((s) => s.outcome === 'failed'));
      if (failed.length) throw new Failure('exec', `log cleanup: ${failed.length} files failed: ${failed.map((s) => s.error).join('; ')}`);
      return done.map((e) => `${e.name}: ${cleanupSummary(e.steps)}`).join('\n') || 'nothing to clean up';
    },
  },
  'capacity.report': {
    dangerous: false,
    preview: () => 'sample database sizes, disk use and Redis memory now, and project growth and "full in N days" from the samples',
    async execute(x) {
      const c = configOf(x, 'to sample');
      const dir = x.deps.stateDir ?? stateDir(c.state_dir);
      const s = await sampleCapacity(c, dir);
      return withState(x, (db) => {
        const now = Date.now();
        new CapacityStore(db).add(s.samples, now);
        const lines = [...projections(db, c, now)].map(([subject, p]) => `  ${subject.padEnd(26)} ${formatBytes(p.used ?? 0).padStart(10)}${p.growthPerDay !== undefined ? ` ${signedBytes(p.growthPerDay)}/day` : ` (${p.samples} samples)`}${p.daysLeft !== undefined ? `, full in ${Math.floor(p.daysLeft)} days` : ''}`);
        return [notOk(capacityChecks(db, c, now), 'capacity'), ...lines, ...s.errors.map((e) => `  not sampled: ${e.subject}: ${e.message}`)].join('\n');
      });
    },
  },
  'probes.read': {
    dangerous: false,
    preview: (x) => `read the ${configOf(x, 'with probes').probes.length} business and application probes against their thresholds`,
    async execute(x) {
      const c = configOf(x, 'with probes');
      if (!c.probes.length) return 'no probes configured';
      const results: CheckResult[] = [];
      for (const p of c.probes) {
        const r = await readProbe(c, p);
        if (r.ok) await withState(x, (db) => new ProbeValues(db).add(p.name, Date.now(), r.value));
        results.push(probeCheck(p, probeTarget(p), r));
      }
      return [notOk(results, 'probes'), ...results.filter((r) => r.status === 'ok').map((r) => `  ${r.message}`)].join('\n');
    },
  },
  'hardware.check': {
    dangerous: false,
    preview: () => 'look for file systems mounted read-only and I/O errors in the kernel log of the last 24 h',
    execute: (x) => Promise.resolve(notOk([...readOnlyChecks(configOf(x, 'with databases')), kernelLogCheck()], 'hardware')),
  },
  'deps.check': {
    dangerous: false,
    preview: () => 'list outdated and vulnerable packages of each app folder (npm, pip); offline it says so',
    async execute(x) {
      const c = configOf(x, 'with apps');
      if (!c.apps.length) return 'no apps configured (apps[].dir): no dependencies to check';
      const lines: string[] = [];
      for (const a of c.apps) {
        const reps = await checkDependencies(a.dir);
        if (!reps.length) lines.push(`${a.name}: no package.json, requirements.txt or pyproject.toml`);
        for (const r of reps) {
          if (r.offline) lines.push(`${a.name} ${r.manager}: offline — ${r.offline}`);
          else lines.push(`${a.name} ${r.manager}: ${r.outdated.length} outdated; vulnerabilities: ${r.audited ? SEVERITIES.filter((s) => r.vulnerabilities[s]).map((s) => `${r.vulnerabilities[s]} ${s}`).join(', ') || 'none' : `not scanned${r.error ? `: ${r.error}` : ''}`}`);
        }
      }
      return lines.join('\n');
    },
  },
  'backup.all': {
    // Writes new files beside the others and changes nothing else, like the generic backup action.
    dangerous: false,
    preview: (x) => `back up and verify every configured database (${configOf(x, 'with databases').databases.map((d) => d.name).join(', ') || 'none'})`,
    async execute(x) {
      const c = configOf(x, 'with databases');
      const notes: string[] = [];
      for (const d of c.databases) {
        const dir = backupDir(d.name, c.backup.dir);
        const m = await createBackup({ db: d.path, name: d.name, dir, tables: [] });
        const v = await verifyBackup(dir, m);
        if (!v.verify?.ok) throw new Failure('corrupt', `backup ${m.id}: verification failed (${v.verify?.message ?? 'no result'})`);
        notes.push(`${d.name}: backup ${m.id} taken and verified (${formatBytes(m.sizeBytes ?? 0)})`);
      }
      return notes.join('\n') || 'no databases configured';
    },
  },
};
