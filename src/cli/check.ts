import { loadConfig, type LoadedConfig } from '../config/load.js';
import { ConfigError } from '../domain/errors.js';
import { buildKeyTable, type KeyBinding } from '../ui/keys.js';
import { exitCodeFor, overallStatus, severityRank, type CheckResult, type CheckStatus } from '../domain/check.js';
import { systemHealth } from '../domain/evaluate.js';
import { printable } from '../domain/printable.js';
import { hardwareSources } from '../state/hardware.js';
import { probeSources } from '../state/probes.js';
import { buildSources, type Source } from '../state/sources.js';
import { createAppStore } from '../state/store.js';
import { outJson, outStyled, useSecrets, type GlobalOptions } from './output.js';
import { CheckHostSampler, type HostHead } from './check-start.js';
import { trace } from './trace.js';

/** The JSON document of `opsdeck check --json`. */
export interface CheckReport {
  status: CheckStatus;
  checkedAt: string;
  checks: CheckResult[];
  notes: string[];
}

// CPU % (host and containers) needs two reads a moment apart.
const SAMPLE_GAP_MS = 500;
/**
 * A source whose first read ends late in the window (a slow engine, a loaded machine) still gets this
 * long between its two reads, so its CPU % is a measurement, not the noise of a few milliseconds.
 */
export const MIN_PAIR_GAP_MS = 100;

/** The console's key table with the configuration's remapping; a bad `keys` section is a config error (78). */
export function configuredKeys(loaded: LoadedConfig): KeyBinding[] {
  try {
    return buildKeyTable(loaded.config.keys);
  } catch (e) {
    throw new ConfigError(`${loaded.file ?? 'config'}: ${(e as Error).message}`);
  }
}

/**
 * Reads every source once for `check` (issue #27: nothing but the sample). The sampled sources (a
 * `firstRead`: host and container CPU %) read again once the window ends, each from its own first
 * read and never less than MIN_PAIR_GAP_MS after it; one whose second read takes a while (`lead`)
 * starts it that much earlier, so it ends with the window. The others (Redis, SQLite, HTTP, probes,
 * hardware) read once, inside the window, started after the first reads are on their way (a SQLite
 * probe runs on this thread). Results in the order of `sources`.
 */
export function readSources(sources: readonly Source[], windowEnd: number, firstRead: (s: Source) => Promise<unknown> | undefined): Promise<CheckResult[][]> {
  const paired = new Map<Source, Promise<CheckResult[]>>();
  for (const s of sources) {
    const first = firstRead(s);
    if (!first) continue;
    paired.set(
      s,
      first.then(async () => {
        trace(`check: primed ${s.id}`);
        // Each container's CPU % is over its own two reads' times (src/services/docker/stats.ts).
        await sleepUntil(Math.max(windowEnd - (s.lead?.() ?? 0), Date.now() + MIN_PAIR_GAP_MS));
        const r = await s.run();
        trace(`check: second read ${s.id}`);
        return r;
      }),
    );
  }
  const reads = sources.map((s) => paired.get(s) ?? s.run().then((r) => (trace(`check: read ${s.id}`), r)));
  trace('check: one-read sources started');
  return Promise.all(reads);
}

const sleepUntil = (at: number) => new Promise<void>((r) => (at > Date.now() ? setTimeout(r, at - Date.now()) : r()));

/**
 * Runs every check once (raw results: hysteresis belongs to the monitor loop). `head`: the host's
 * first read, already taken (`opsdeck check`: the window opens before this module loads).
 */
export async function runChecks(opts: { config?: string | undefined; head?: HostHead }): Promise<{ report: CheckReport; secrets: ReturnType<typeof loadConfig>['secrets'] }> {
  trace('check: start');
  const opened = opts.head?.startedAt ?? Date.now();
  const loaded = loadConfig(opts.config ? { file: opts.config } : {});
  trace('check: config loaded');
  useSecrets(loaded.secrets);
  // The console's keys are part of the configuration: `check` refuses what the console would (issue #13).
  configuredKeys(loaded);
  const store = createAppStore();
  // Issue #23: the probes and the hardware signs are checks like any other (nothing recorded here).
  const sources = [
    // The host's CPU % without this process's own work (CheckHostSampler), with or without a head start.
    ...buildSources(loaded.config, store, Date.now, { oneShot: true, host: opts.head?.sampler ?? new CheckHostSampler() }),
    ...probeSources({ config: loaded.config, readOnly: true }),
    ...hardwareSources(loaded.config),
  ];
  trace('check: sources built');
  const reads = readSources(sources, opened + SAMPLE_GAP_MS, (s) => (s.id === 'host' && opts.head ? opts.head.primed : s.prime?.()));
  const results = (await reads).flat();
  trace('check: all read');
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
export async function checkCommand(g: GlobalOptions, head?: HostHead): Promise<number> {
  const { report } = await runChecks({ config: g.config, ...(head ? { head } : {}) });
  if (g.json) outJson(report);
  else outStyled(formatReport(report, useColor(g)));
  trace('check: printed');
  return exitCodeFor(report.status);
}
