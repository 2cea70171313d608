import { loadConfig, type LoadedConfig } from '../config/load.js';
import { ConfigError } from '../domain/errors.js';
import { buildKeyTable, type KeyBinding } from '../ui/keys.js';
import { exitCodeFor, overallStatus, severityRank, type CheckResult, type CheckStatus } from '../domain/check.js';
import { systemHealth } from '../domain/evaluate.js';
import { printable } from '../domain/printable.js';
import { hardwareSources } from '../state/hardware.js';
import { probeSources } from '../state/probes.js';
import { buildSources } from '../state/sources.js';
import { createAppStore } from '../state/store.js';
import { outJson, outStyled, useSecrets, type GlobalOptions } from './output.js';

/** The JSON document of `opsdeck check --json`. */
export interface CheckReport {
  status: CheckStatus;
  checkedAt: string;
  checks: CheckResult[];
  notes: string[];
}

// CPU % (host and containers) needs two reads a moment apart.
const SAMPLE_GAP_MS = 500;

/** The console's key table with the configuration's remapping; a bad `keys` section is a config error (78). */
export function configuredKeys(loaded: LoadedConfig): KeyBinding[] {
  try {
    return buildKeyTable(loaded.config.keys);
  } catch (e) {
    throw new ConfigError(`${loaded.file ?? 'config'}: ${(e as Error).message}`);
  }
}

/** Runs every check once (raw results: hysteresis belongs to the monitor loop). */
export async function runChecks(opts: { config?: string | undefined }): Promise<{ report: CheckReport; secrets: ReturnType<typeof loadConfig>['secrets'] }> {
  const loaded = loadConfig(opts.config ? { file: opts.config } : {});
  useSecrets(loaded.secrets);
  // The console's keys are part of the configuration: `check` refuses what the console would (issue #13).
  configuredKeys(loaded);
  const store = createAppStore();
  // Issue #23: the probes and the hardware signs are checks like any other (nothing recorded here).
  const sources = [...buildSources(loaded.config, store, Date.now, { oneShot: true }), ...probeSources({ config: loaded.config, readOnly: true }), ...hardwareSources(loaded.config)];
  // Issue #27: only the sources with a first read (`prime`: host and container CPU %) wait for the
  // sample's second read; the others (Redis, SQLite, HTTP, probes, hardware) run inside that window
  // instead of after it.
  const t0 = Date.now();
  const primed = Promise.all(sources.map((s) => (s.prime ? s.prime() : Promise.resolve())));
  // Started after the first reads are on their way: a SQLite probe runs on this thread.
  const oneRead = new Map(sources.filter((s) => !s.prime).map((s) => [s, s.run()] as const));
  await primed;
  const wait = SAMPLE_GAP_MS - (Date.now() - t0);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const results = (await Promise.all(sources.map((s) => oneRead.get(s) ?? s.run()))).flat();
  for (const s of sources) s.close?.();
  results.push(systemHealth(results, loaded.config.thresholds.system_health));
  return {
    report: { status: overallStatus(results), checkedAt: new Date().toISOString(), checks: results, notes: loaded.notes },
    secrets: loaded.secrets,
  };
}

const LABEL: Record<CheckStatus, string> = { ok: 'OK', warning: 'WARNING', critical: 'CRITICAL', unknown: 'UNKNOWN' };
const COLOR: Record<CheckStatus, string> = { ok: '\x1b[32m', warning: '\x1b[33m', critical: '\x1b[31;1m', unknown: '\x1b[35m' };

/** Whether to colour output: a TTY, no NO_COLOR, no --no-color, no FORCE_COLOR=0. */
export function useColor(g: GlobalOptions, stream: NodeJS.WriteStream = process.stdout): boolean {
  if (g.color === false || process.env.NO_COLOR || process.env.FORCE_COLOR === '0') return false;
  return !!stream.isTTY;
}

/**
 * Renders the report as a table for people: problems first. Every value is escaped (`printable`):
 * a container name or path holding an escape sequence or a newline is shown, never obeyed, and
 * never splits a row (issue #12); the only escape codes left are the table's own colours.
 */
export function formatReport(report: CheckReport, color: boolean): string {
  const paint = (s: CheckStatus, text: string) => (color ? `${COLOR[s]}${text}\x1b[0m` : text);
  const rows = [...report.checks]
    .sort((a, b) => severityRank(b.status) - severityRank(a.status) || a.id.localeCompare(b.id))
    .map((r) => ({ ...r, id: printable(r.id), message: printable(r.message) }));
  const idWidth = Math.min(32, Math.max(5, ...rows.map((r) => r.id.length)));
  const lines: string[] = [];
  for (const n of report.notes) lines.push(`note: ${printable(n)}`);
  const counts = (['critical', 'unknown', 'warning', 'ok'] as const)
    .map((s) => [s, rows.filter((r) => r.status === s && !r.suppressedBy).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  const suppressed = rows.filter((r) => r.suppressedBy).length;
  lines.push(`${paint(report.status, LABEL[report.status])}: ${counts.join(', ')}${suppressed ? `, ${suppressed} suppressed` : ''} — ${report.checkedAt}`);
  lines.push('');
  lines.push(`${'STATUS'.padEnd(9)}${'CHECK'.padEnd(idWidth + 2)}MESSAGE`);
  for (const r of rows) {
    const label = r.suppressedBy ? 'SUPPRESSED' : LABEL[r.status];
    const id = r.id.length > idWidth ? `${r.id.slice(0, idWidth - 1)}…` : r.id;
    lines.push(`${paint(r.suppressedBy ? 'unknown' : r.status, label.padEnd(9).slice(0, Math.max(9, label.length)))}${label.length >= 9 ? ' ' : ''}${id.padEnd(idWidth + 2)}${r.message}`);
  }
  return lines.join('\n');
}

/** `opsdeck check`: one sample of every check; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export async function checkCommand(g: GlobalOptions): Promise<number> {
  const { report } = await runChecks({ config: g.config });
  if (g.json) outJson(report);
  else outStyled(formatReport(report, useColor(g)));
  return exitCodeFor(report.status);
}
