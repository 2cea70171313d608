// Over 300 lines, knowingly: `opsdeck demo` and every `drill` verb (list, run, recover, score, and
// the demo services' stop/start commands the runbooks call) share one set of flags and messages.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDuration } from '../config/duration.js';
import { loadConfig } from '../config/load.js';
import { ExitError, UsageError } from '../domain/errors.js';
import { readOpenRunChecks } from '../engine/findings.js';
import { committedLogFor, committedSince, presentBeforeDrill } from '../demo/committed.js';
import { DRILLS, demoForConfig, findDrill, recoverDrill, runDrill } from '../demo/drills.js';
import { controlApi, controlRedis, controlWorker } from '../demo/services.js';
import { controlWriter, demoDir, readDemoState, startDemo, stopDemo, type DemoState, type DrillRecord } from '../demo/workspace.js';
import { openAlertFiredAt } from '../state/alert-history.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { demoBackup, newestBackupMaxRowid, openConsole } from './demo-links.js';
import { err, out, outJson, type GlobalOptions } from './output.js';
import { refuseReadOnly } from './refuse.js';

/** Options of `opsdeck demo`. */
export interface DemoOptions extends GlobalOptions {
  dir?: string;
  stop?: boolean;
  detach?: boolean;
  interval?: string;
}

/**
 * `opsdeck demo`: creates the demo workspace with a real stack and opens the console on it; `q`
 * stops and removes everything. `--detach` leaves it running (stop with `--stop`).
 */
export async function demoCommand(g: DemoOptions): Promise<number> {
  const dir = demoDir(g.dir);
  // Refused before anything runs (issue #12: `demo --stop --read-only` killed the processes and deleted the folder).
  if (g.readOnly && g.stop) return refuseReadOnly(demoStateDir(join(dir, 'opsdeck.yaml')), 'demo.stop', dir, `opsdeck demo --stop stops processes and deletes ${dir}; refused in --read-only mode (nothing stopped)`);
  if (g.stop) {
    const stopped = await stopDemo(dir);
    if (g.json) outJson({ dir, stopped });
    else out(stopped.length ? `stopped ${stopped.join(', ')}; removed ${dir}` : `no demo running in ${dir}`);
    return 0;
  }
  if (g.readOnly) return refuseReadOnly(demoStateDir(join(dir, 'opsdeck.yaml')), 'demo.start', dir, 'opsdeck demo starts processes and writes files; refused in --read-only mode');
  if (g.interval !== undefined && parseDuration(g.interval) === undefined)
    throw new UsageError(`--interval: expected a duration such as 5s or 1m, got ${JSON.stringify(g.interval)}`);
  const s = await startDemo({ dir, ...(g.interval ? { interval: g.interval } : {}) });
  const backup = await firstBackup(s);
  const summary = { dir, config: s.config, api: `http://127.0.0.1:${s.apiPort}`, notes: [...s.notes, backup] };
  const interactive = !g.detach && !g.json && process.stdout.isTTY && process.stdin.isTTY;
  if (!interactive) {
    if (g.json) outJson(summary);
    else {
      out(`demo stack running in ${dir}`);
      for (const n of summary.notes) out(`  - ${n}`);
      out(`config: ${s.config}`);
      out(`open the console:  opsdeck --config ${s.config}`);
      out(`practise:          opsdeck drill list --config ${s.config}`);
      out(`stop and remove:   opsdeck demo --stop${g.dir ? ` --dir ${g.dir}` : ''}`);
    }
    return 0;
  }
  let code = 0;
  try {
    code = await openConsole({ ...g, config: s.config });
  } finally {
    // The scores are printed after the console left the screen, before the workspace goes.
    const unfinished = await unfinishedRuns(demoStateDir(s.config));
    const lines = await demoScoreLines(readDemoState(dir) ?? s, !unfinished.length);
    // A run left unfinished (a restore paused at a question, a wizard quit half-way) keeps the
    // demo: removing the workspace would delete its journal and its safety copies with it.
    if (unfinished.length) code = Math.max(code, 1);
    else {
      const stopped = await stopDemo(dir);
      lines.push(`demo stopped${stopped.length ? ` (${stopped.join(', ')})` : ''}; removed ${dir}`);
    }
    for (const l of lines) out(l);
    for (const l of keptForUnfinished(unfinished, dir, s.config, g.dir)) out(l);
  }
  return code;
}

/** The unfinished runs' findings in a state folder (a journal that cannot be read counts as one). */
export async function unfinishedRuns(dir: string): Promise<string[]> {
  return (await readOpenRunChecks(dir)).filter((c) => c.status !== 'ok').map((c) => c.message);
}

/** What quitting the demo's console says when runs are unfinished: it kept the demo, and why. */
export function keptForUnfinished(unfinished: readonly string[], dir: string, config: string, dirFlag?: string): string[] {
  if (!unfinished.length) return [];
  return [
    `the demo keeps running in ${dir}: removing it now would delete what these runs need (their journal and safety copies):`,
    ...unfinished.map((m) => `  - ${m}`),
    `finish them:      opsdeck --config ${config} (the console lists them), or the command named above with --config ${config}`,
    `stop and remove:  opsdeck demo --stop${dirFlag ? ` --dir ${dirFlag}` : ''} (deletes the workspace and its safety copies)`,
  ];
}

/** Takes and verifies the demo's first backup. */
async function firstBackup(s: DemoState): Promise<string> {
  try {
    return await demoBackup(s.config);
  } catch (e) {
    return `no first backup: ${(e as Error).message}`;
  }
}

/** Where a refusal about the demo is audited: its workspace's state folder, else the default one. */
function demoStateDir(configFile: string): string {
  try {
    if (existsSync(configFile)) return stateDir(loadConfig({ file: configFile }).config.state_dir);
  } catch {
    // a broken workspace config: the default state folder
  }
  return stateDir();
}

/** Options of `opsdeck drill`. */
export interface DrillOptions extends GlobalOptions {
  dir?: string;
}

function demoState(g: DrillOptions): DemoState {
  const file = g.config ?? join(demoDir(g.dir), 'opsdeck.yaml');
  // No --config and no demo in the default workspace: say where drills look and what to do.
  if (!g.config && !existsSync(file)) throw new ExitError(1, 'demo', `no demo in ${dirname(file)} (drills act on a demo workspace): start one with opsdeck demo${g.dir ? ` --dir ${g.dir}` : ''}, or pass the demo's --config`);
  const loaded = loadConfig({ file });
  return demoForConfig(loaded.file, loaded.config.demo);
}

/** A word for /bin/sh, quoted only when it needs to be. */
const shellWord = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/**
 * Every `opsdeck …` command a drill text names, with the `--config` it needs (issue #11: the
 * printed recovery commands exited 64 without it, while `drill` finds the demo on its own).
 */
export function withConfig(text: string, config: string): string {
  return text.replace(/\bopsdeck((?: (?:restore|backup|drill|check|watch|runbook))(?: [^\s,;:()]+)*)/g, (_m, rest: string) => `opsdeck${rest} --config ${shellWord(config)}`);
}

/** Whether `opsdeck` is a command on PATH (in a checkout it is not until `npm install -g .`). */
function opsdeckOnPath(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'opsdeck')));
}

/** One line saying how to run the printed commands when `opsdeck` is not on PATH. */
function pathHint(): string | undefined {
  if (opsdeckOnPath()) return undefined;
  return `(opsdeck is not on PATH here: run those commands as ${process.execPath} ${process.argv[1] ?? 'dist/cli.js'} …, or install it with npm install -g . in the checkout)`;
}

/** The demo config drills act on: --config, else the default demo workspace's. */
function drillConfig(g: DrillOptions): string {
  return g.config ?? join(demoDir(g.dir), 'opsdeck.yaml');
}

/** `opsdeck drill list|run|recover|score`. */
export async function drillCommand(action: string, scenario: string | undefined, g: DrillOptions): Promise<number> {
  if (action === 'list') {
    // No demo there (it runs in another --dir): a placeholder, not a path that does not exist (operator trial).
    const cfg = existsSync(drillConfig(g)) ? drillConfig(g) : '<demo dir>/opsdeck.yaml';
    if (g.json) outJson({ drills: DRILLS.map(({ name, breaks, alert, runbook, recover }) => ({ name, breaks, alert, runbook, recover: withConfig(recover, cfg) })) });
    else for (const d of DRILLS) out(`${d.name.padEnd(20)} ${d.breaks}\n${''.padEnd(20)} alert: ${d.alert}; recover: ${withConfig(d.recover, cfg)}`);
    return 0;
  }
  if (action === 'score') return scoreCommand(demoState(g), g, scenario);
  const verb = /^(stop|start)-(api|worker|redis|writer)$/.exec(action);
  if (verb) {
    const [, op, part] = verb as unknown as [string, 'stop' | 'start', 'api' | 'worker' | 'redis' | 'writer'];
    if (g.readOnly) return refuseReadOnly(demoStateDir(g.config ?? join(demoDir(g.dir), 'opsdeck.yaml')), `drill.${action}`, 'demo', `drill ${action} changes the demo stack; refused in --read-only mode`);
    const note = await controlPart(demoState(g), part, op);
    if (g.json) outJson({ [part]: op === 'stop' ? 'stopped' : 'started', note });
    else out(note);
    return 0;
  }
  if (action !== 'run' && action !== 'recover') throw new UsageError(`unknown drill action "${action}" (expected list, run, recover, score, or stop-|start- api, worker, redis, writer)`);
  if (!scenario) throw new UsageError(`opsdeck drill ${action} needs a scenario (opsdeck drill list shows them)`);
  const d = findDrill(scenario);
  if (g.readOnly) return refuseReadOnly(demoStateDir(g.config ?? join(demoDir(g.dir), 'opsdeck.yaml')), `drill.${action}`, d.name, `drill ${action} ${d.name} changes the demo stack; refused in --read-only mode`);
  const s = demoState(g);
  if (action === 'run') {
    // An alert still open from before (an earlier drill's side effect: the API answers 503 while the
    // database is corrupt) fired before this drill began: the score counts neither its detection nor
    // its recovery in the console. Said, not refused: the operator may want the fault anyway.
    const openSince = await openAlertFiredAt(demoStateDir(s.config), d.alert).catch(() => undefined);
    if (openSince !== undefined) err(`note: alert ${d.alert} is still open (fired ${formatSec(Math.max(0, Date.now() - openSince))} s ago, not resolved since): this drill's score counts only a firing after it starts — for clean figures, let it resolve first`);
    await runDrill(s, d, await backupMaxTradeId(s));
    if (g.json) outJson({ drill: d.name, broke: d.breaks, alert: d.alert, runbook: d.runbook, recover: withConfig(d.recover, s.config) });
    else {
      out(`drill ${d.name}: ${d.breaks}`);
      const c = loadConfig({ file: s.config }).config;
      out(`expect alert ${d.alert} to fire within ${c.failure_threshold} checks of ${s.interval} (plus one probe timeout for a slow or hanging service; a rate alert needs the failures spread over a few probes) — the console's Alerts pane, or ${withConfig('opsdeck watch', s.config)}`);
      out(`recover: ${withConfig(d.recover, s.config)}`);
      out(`then: ${withConfig(`opsdeck drill score ${d.name}`, s.config)} (times to detect and to recover, the console's keys and time, trades lost)`);
      const hint = pathHint();
      if (hint) out(hint);
    }
    return 0;
  }
  await recoverDrill(s, d);
  if (g.json) outJson({ drill: d.name, recovered: true });
  else {
    const c = loadConfig({ file: s.config }).config;
    // The README's rule: a rate alert (api-errors) resolves after max(recovery_threshold, rate_recovery) successes in a row.
    const rule = d.name === 'api-errors' ? `${Math.max(c.recovery_threshold, c.thresholds.rate_recovery)} successful probes in a row (an error-rate alert)` : `${c.recovery_threshold} good checks`;
    out(`drill ${d.name}: fault undone; the alert resolves after ${rule}; then: ${withConfig(`opsdeck drill score ${d.name}`, s.config)}`);
  }
  return 0;
}

/**
 * The demo's stand-ins for `systemctl stop|start` and `docker compose stop|up -d --force-recreate`,
 * named by the generated config's stop_command / start_command (src/demo/services.ts).
 */
function controlPart(s: DemoState, part: 'api' | 'worker' | 'redis' | 'writer', op: 'stop' | 'start'): Promise<string> {
  switch (part) {
    case 'api':
      return controlApi(s, op);
    case 'worker':
      return controlWorker(s, op);
    case 'redis':
      return controlRedis(s, op);
    case 'writer':
      return controlWriter(s, op);
  }
}

/** The highest trade id in the newest backup, when there is one. */
async function backupMaxTradeId(s: DemoState): Promise<number | undefined> {
  try {
    return await newestBackupMaxRowid(s.config, 'trading', 'trades');
  } catch {
    return undefined;
  }
}

/** One drill's score, as `drill score` prints it. */
export interface DrillScore {
  drill: string;
  startedAt: string;
  alert: string;
  timeToDetectSec: number | null;
  timeToRecoverSec: number | null;
  tradesBeforeDrill: number;
  tradesMissing: number; // …of tradesBeforeDrill, counted when the next drill started (`tradesCountedAt`), or now: the last drill
  tradesCountedAt: 'next drill' | 'now';
  tradesMissingCoveredByBackup?: number;
  tradesMissingWrittenAfterBackup?: number;
  /** Trades the writer committed from the drill's start, and how many of them were gone when the next drill started (or are now: the last drill) — src/demo/committed.ts. */
  tradesCommittedDuring: number;
  tradesLostDuring: number;
  /** Keys pressed in the console while the alert fired, up to its recovery; null: not recovered in the console. */
  consoleKeys: number | null;
  /** The console's time from detection (the alert fired) to recovery (it resolved), ms; null as above. */
  consoleMs: number | null;
  /** The runbooks the console ran for it. */
  consoleRunbooks?: string[];
}

/** What the console records when an alert resolves (audit action `console.keys`, target the check id). */
export interface ConsoleKeys {
  keys: number;
  firedAt: number;
  resolvedAt: number;
  runbooks: string[];
}

/** The `console.keys` audit entry's detail, when it is one; undefined for anything else. */
export function parseConsoleKeys(detail: string | null | undefined): ConsoleKeys | undefined {
  if (!detail) return undefined;
  try {
    const v = JSON.parse(detail) as Partial<ConsoleKeys>;
    const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
    if (!num(v.keys) || !num(v.firedAt) || !num(v.resolvedAt)) return undefined;
    return { keys: v.keys, firedAt: v.firedAt, resolvedAt: v.resolvedAt, runbooks: Array.isArray(v.runbooks) ? v.runbooks.filter((r): r is string => typeof r === 'string') : [] };
  } catch {
    return undefined;
  }
}

/**
 * The console's record for a drill run: the first `console.keys` entry of its alert whose firedAt is
 * at or after the drill's start and before the next drill on the same alert started.
 */
export function consoleRecord(entries: readonly ConsoleKeys[], startedAt: number, nextStartedAt: number | undefined): ConsoleKeys | undefined {
  return entries
    .filter((e) => e.firedAt >= startedAt && (nextStartedAt === undefined || e.firedAt < nextStartedAt))
    .sort((a, b) => a.firedAt - b.firedAt)[0];
}

/**
 * `drill score [SCENARIO]`: every drill run in this demo, each scored on its own (issue #11: only
 * the last one was, so the first half of a combined drill never was), or the last run of SCENARIO.
 */
async function scoreCommand(s: DemoState, g: GlobalOptions, scenario?: string): Promise<number> {
  if (scenario) findDrill(scenario);
  const runs = scenario ? s.drills.filter((r) => r.scenario === scenario).slice(-1) : s.drills;
  if (runs.length === 0) throw new ExitError(1, 'drill', scenario ? `drill ${scenario} has not run in this demo yet (opsdeck drill run ${scenario})` : 'no drill has run in this demo yet (opsdeck drill run SCENARIO)');
  const scores = await scoreDrills(s, runs);
  if (g.json) outJson(scenario ? scores[0] : { drills: scores });
  else for (const score of scores) printScore(score, s);
  return 0;
}

function printScore(score: DrillScore, s: DemoState): void {
  out(`drill ${score.drill} started ${score.startedAt}`);
  out(`  detected:  ${score.timeToDetectSec !== null ? `${score.timeToDetectSec}s (alert ${score.alert} fired)` : `not yet — is a monitor running? (the console, or opsdeck watch --config ${s.config})`}`);
  out(`  recovered: ${score.timeToRecoverSec !== null ? `${score.timeToRecoverSec}s (alert resolved)` : 'not yet'}`);
  out(`  console:   ${score.consoleKeys !== null && score.consoleMs !== null ? `${score.consoleKeys} keys, ${formatSec(score.consoleMs)}s from detection to recovery${score.consoleRunbooks?.length ? ` (runbooks: ${score.consoleRunbooks.join(', ')})` : ''}` : 'not recovered in the console'}`);
  out(`  trades committed before the drill: ${score.tradesBeforeDrill}, missing ${score.tradesCountedAt === 'now' ? 'now' : 'when the next drill started'}: ${score.tradesMissing}`);
  if (score.tradesMissingWrittenAfterBackup !== undefined)
    out(`    of which written after the last backup (not in it): ${score.tradesMissingWrittenAfterBackup}; in the backup but not restored: ${score.tradesMissingCoveredByBackup ?? 0}`);
  out(`  trades committed during the drill${score.tradesCountedAt === 'now' ? '' : ' (up to the next drill)'}: ${score.tradesCommittedDuring}, missing ${score.tradesCountedAt === 'now' ? 'now' : 'when the next drill started'}: ${score.tradesLostDuring}${score.tradesLostDuring ? ' — LOST (a whole-file restore drops what was written after its backup)' : ''}`);
}

const formatSec = (ms: number) => Math.round(ms / 100) / 10;

/** The scores of these drill runs (from the alert history and the trades table); never throws for one. */
export async function scoreDrills(s: DemoState, runs: readonly DrillRecord[]): Promise<DrillScore[]> {
  const loaded = loadConfig({ file: s.config });
  const state = await openStateDb(stateDir(loaded.config.state_dir));
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(s.db, { readonly: true, timeout: 5000 });
  try {
    const events = state.prepare('SELECT at, event FROM alert_events WHERE check_id = ? AND at >= ? ORDER BY at');
    const keys = state.prepare("SELECT detail FROM audit WHERE action = 'console.keys' AND target = ? AND outcome = 'ok' AND at >= ? ORDER BY at");
    // A drill followed by another: as counted when that one started (runDrill); the last: now.
    const unreadable = (e: unknown) => {
      throw new ExitError(1, 'drill', `cannot read trades from ${s.db}: ${(e as Error).message} (recover the database first)`);
    };
    const during = await Promise.all(runs.map(async (drill) => drill.during ?? (await committedSince(db, committedLogFor(s.db), new Date(drill.startedAt).toISOString())))).catch(unreadable);
    const frozenOf = (drill: DrillRecord) => (drill.during?.present !== undefined ? (drill.during as { present: number; presentBeforeBackup?: number }) : undefined);
    const counts = await Promise.all(runs.map(async (drill) => frozenOf(drill) ?? (await presentBeforeDrill(db, committedLogFor(s.db), drill)))).catch(unreadable);
    return runs.map((drill, i) => {
      const d = findDrill(drill.scenario);
      const ev = events.all(d.alert, drill.startedAt) as { at: number; event: string }[];
      const fired = ev.find((e) => e.event === 'fired');
      const resolved = fired ? ev.find((e) => e.event === 'resolved' && e.at >= fired.at) : undefined;
      const frozen = frozenOf(drill);
      const { present, presentBeforeBackup } = counts[i] ?? { present: 0 };
      const missing = Math.max(0, drill.tradeCount - present);
      const nextStart = s.drills.filter((x) => x.startedAt > drill.startedAt && findDrill(x.scenario).alert === d.alert).map((x) => x.startedAt).sort((a, b) => a - b)[0];
      const entries = (keys.all(d.alert, drill.startedAt) as { detail: string | null }[]).map((r) => parseConsoleKeys(r.detail)).filter((e): e is ConsoleKeys => e !== undefined);
      const inConsole = consoleRecord(entries, drill.startedAt, nextStart);
      return {
        drill: d.name,
        startedAt: new Date(drill.startedAt).toISOString(),
        alert: d.alert,
        timeToDetectSec: fired ? Math.round((fired.at - drill.startedAt) / 100) / 10 : null,
        timeToRecoverSec: resolved ? Math.round((resolved.at - drill.startedAt) / 100) / 10 : null,
        tradesBeforeDrill: drill.tradeCount,
        tradesMissing: missing,
        tradesCountedAt: frozen ? 'next drill' : 'now',
        tradesCommittedDuring: during[i]?.committed ?? 0,
        tradesLostDuring: during[i]?.missing ?? 0,
        consoleKeys: inConsole ? inConsole.keys : null,
        consoleMs: inConsole ? Math.max(0, inConsole.resolvedAt - inConsole.firedAt) : null,
        ...(inConsole ? { consoleRunbooks: inConsole.runbooks } : {}),
        // Missing trades the backup held (a recovery could have brought them back) and those written
        // after it (no backup had them: the RPO's price), counted apart.
        ...(drill.backupTradeCount !== undefined && presentBeforeBackup !== undefined
          ? {
              // (never more than the missing: a re-entered trade counts in both, its old id unknown)
              tradesMissingCoveredByBackup: Math.min(missing, Math.max(0, drill.backupTradeCount - presentBeforeBackup)),
              tradesMissingWrittenAfterBackup: Math.max(0, missing - Math.min(missing, Math.max(0, drill.backupTradeCount - presentBeforeBackup))),
            }
          : {}),
      };
    });
  } finally {
    db.close();
    state.close();
  }
}

/** The scores of every drill of a demo, as lines for its end (quitting deletes the record). */
export async function demoScoreLines(s: DemoState, removed = true): Promise<string[]> {
  if (s.drills.length === 0) return [];
  try {
    const scores = await scoreDrills(s, s.drills);
    return [
      `drill scores of this demo${removed ? ' (the workspace is removed now)' : ''}:`,
      ...scores.map(
        (x) =>
          `  ${x.drill.padEnd(20)} detected ${x.timeToDetectSec !== null ? `${x.timeToDetectSec}s` : 'not yet'} · recovered ${x.timeToRecoverSec !== null ? `${x.timeToRecoverSec}s` : 'not yet'} · trades missing ${x.tradesCountedAt === 'now' ? 'now' : 'at the next drill'} ${x.tradesMissing} of ${x.tradesBeforeDrill}${x.tradesLostDuring ? ` + ${x.tradesLostDuring} LOST of ${x.tradesCommittedDuring} written during it` : ''} · ${x.consoleKeys !== null && x.consoleMs !== null ? `console: ${x.consoleKeys} keys, ${formatSec(x.consoleMs)}s` : 'not recovered in the console'}`,
      ),
    ];
  } catch (e) {
    return [`drill scores unavailable: ${(e as Error).message}`];
  }
}
