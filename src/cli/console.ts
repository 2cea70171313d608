// Over 300 lines, knowingly: the console command's wiring in one place — configuration and its
// reloads, the state database, the monitor and its bus, acks, the backup scheduler, the runbook
// catalog and the children it spawns, the keys audit — so what the console holds is closed in one finally.

import type BetterSqlite3 from 'better-sqlite3';
import { endDriven, spawnDriven } from '../engine/protocol.js';
import { unwatchFile, watchFile } from 'node:fs';
import { hostname } from 'node:os';
import { loadConfig } from '../config/load.js';
import { reloadConfig } from '../config/reload.js';
import type { Config } from '../config/schema.js';
import { exitCodeFor } from '../domain/check.js';
import type { DockerService } from '../services/docker.js';
import { checkingRows, dockerFor, earlyEvents, firstDataHook, hostDockersFor, lateActions, noOptimizingCompiler, optimizingWhileFollowing, tuneHeap } from './console-runtime.js';
import { followContainerLogs, followFile } from '../services/logs.js';
import { EventBus } from '../engine/events.js';
import { actor, AckStore, recordAudit } from '../state/acks.js';
import { openRunChecks, openSubjects } from '../engine/findings.js';
import { consoleMaintenance } from './console-maintenance.js';
import type * as LaterModule from './console-later.js';
import type { ConsoleLater } from './console-later.js';
import { Monitor } from '../state/monitor.js';
import { hostHistorySeed, type HostSeed } from '../state/capacity.js';
import { maintenanceSources } from '../state/maintenance.js';
import { alertmanagerSources, silenceInAlertmanager } from '../state/alertmanager.js';
import { buildSources } from '../state/sources.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { createAppStore } from '../state/store.js';
import type * as UiModule from '../ui/run.js';
import type { LiveProps } from '../ui/run.js';
import type { ConsoleActions } from '../ui/App.js';
import type { RestoreEvents, RestoreRun } from '../ui/RestoreWizard.js';
import { createHostHistory } from '../ui/useHostHistory.js';
import { configuredKeys, formatReport, runChecks, useColor } from './check.js';
import { out, useSecrets, type GlobalOptions } from './output.js';
import { retiredChecks } from '../domain/retired.js';
import { keyTracker, runbookArgs, type KeyTracker } from './console-keys.js';
import { trace } from './trace.js';

export { keyTracker, runbookArgs, type KeyTracker } from './console-keys.js';

/**
 * The default command: the live console. When stdout is not a terminal (piped, cron) it prints a
 * plain-text snapshot once and exits with `check`'s exit code — decided from stdout alone.
 */
export async function consoleCommand(g: GlobalOptions): Promise<number> {
  if (!process.stdout.isTTY) {
    const { report } = await runChecks({ config: g.config });
    out(formatReport(report, false));
    return exitCodeFor(report.status);
  }
  trace('console: start');
  noOptimizingCompiler();
  // Ink changes its output when CI is set (only the last frame at exit). What a real terminal
  // gets must not depend on the environment, so neutralise it before Ink is loaded (issue #3).
  for (const v of ['CI', 'CONTINUOUS_INTEGRATION', 'BUILD_NUMBER', 'RUN_ID']) delete process.env[v];
  // React runs its production build: scripts/build.mjs fixes process.env.NODE_ENV at build time, so
  // the development builds (checks on every render, warnings on stderr over the frame) are not even
  // in the bundle. No run-time NODE_ENV is set, so child processes inherit the operator's env.
  // Issue #27: Ink, React and yoga start loading now (their files read while the configuration is
  // parsed and the state database opened); awaited before the first render. A configuration error
  // still ends the console before anything is drawn (the load is then left unused).
  const uiLoading = import('../ui/run.js');
  uiLoading.catch(() => undefined);
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const { config } = loaded;
  trace('console: config loaded');
  const keys = configuredKeys(loaded);
  const db = await openStateDb(stateDir(config.state_dir));
  trace('console: state database open');
  // One bus for the console's life: its listeners outlive a monitor restarted by a reload (issue #14).
  const bus = new EventBus();
  const acks = new AckStore(db, undefined, undefined, bus);
  // An ack holds for one firing episode: it lapses when the alert resolves.
  bus.subscribe('alert.resolved', (e) => acks.lapse(e.alert.checkId, e.at));
  const store = createAppStore();
  store.setState(checkingRows(config));
  // Issue #27: what the first full frame does not need waits until it is drawn — the runbook catalog
  // (35–190 ms) and healing's act.
  const afterFirstData = firstDataHook(store, config);
  // The heap settings for a long run (tuneHeap: the young generation kept at its size) wait for the
  // first frame too: set at start, they held the young generation at ~1 MB while ~3 MB of code loaded
  // (issue #27: ~100 ms of scavenges before the first frame).
  afterFirstData(tuneHeap);
  // The keys pressed while each alert fired, and the runbooks started for it, audited as it resolves
  // (`console.keys`, read by `drill score`, issue #16).
  const tracker = keyTracker(db, store);
  bus.subscribe('alert.fired', (e) => tracker.fired(e.alert, e.at));
  bus.subscribe('alert.resolved', (e) => tracker.resolved(e.alert, e.at));
  let running = config;
  // Issue #27: the scheduled backups, incidents, notifications, self-healing and failover, and the
  // runbook catalog load after the first frame (./console-later.ts, ~0.5 MB of bundle). What the bus
  // carries until then (an alert fired by the first results) is held and heard by their listeners
  // first (`earlyEvents`); their keys answer meanwhile (`lateActions`); the monitor takes their
  // sources when they load (`Monitor.add`).
  let later: ConsoleLater | undefined;
  let laterModule: typeof LaterModule | undefined;
  let laterLoading: Promise<void> | undefined;
  let closing = false;
  const held = earlyEvents(bus);
  const sources = (c: Config) => [...buildSources(c, store), ...(later ? later.sources(c) : []), ...maintenanceSources({ config: c, stateDb: db, owner: 'console', readOnly: !!g.readOnly }), ...alertmanagerSources(c, store)];
  const startMonitor = (c: Config) => new Monitor({ config: (running = c), store, sources: sources(c), stateDb: db, bus });
  let monitor = startMonitor(config);
  let live: ReturnType<LiveProps['get']> = { config, keys, runbooks: { entries: [], error: 'the runbook catalog is still loading (a moment after start)' } };
  // An unfinished restore (opsdeck was killed mid-run) is offered at once, before its alert fires;
  // read from the state database the console already holds open.
  const unfinished = openRunChecks(db).filter((c) => c.status === 'critical');
  if (unfinished.length) {
    const of = (kind: string) => unfinished.flatMap((c) => (c.id.startsWith(`journal:${kind}:`) ? [c.id.slice(`journal:${kind}:`.length)] : []));
    const restores = of('restore');
    const others = unfinished.filter((c) => !c.id.startsWith('journal:restore:'));
    const text = [
      ...(restores.length ? [`unfinished restore of ${restores.join(', ')}: press W to resume it or roll it back (the safety copy is kept)`] : []),
      ...others.map((c) => c.message),
    ].join(' · ');
    live = { ...live, notice: { text, color: 'red', until: Date.now() + 10 * 60_000 } };
  }
  const listeners = new Set<() => void>();
  const setLive = (next: typeof live) => {
    live = next;
    for (const l of listeners) l();
  };
  const loadLater = async () => {
    try {
      const m = await import('./console-later.js');
      if (closing) return;
      laterModule = m;
      const { built, release } = held.attach(() => m.consoleLater({ db, bus, store, readOnly: !!g.readOnly, loaded, running: () => running, warm: (make) => void setTimeout(make, 0) }));
      later = built;
      trace('console: deferred parts loaded');
      // Their listeners hear the held events once their sources ran once (the notifier's and the
      // healer's leases taken, as when they were built before the monitor started), 5 s at the latest.
      const ran = monitor.add(later.sources(running));
      await Promise.race([ran, new Promise((r) => setTimeout(r, 5_000).unref())]);
      release();
      trace('console: deferred parts listening');
      // The runbook catalog (35–190 ms) in a macrotask of its own: keys pressed meanwhile are handled first.
      setTimeout(() => !closing && setLive({ ...live, runbooks: m.runbookCatalog(running) }), 0);
    } catch (e) {
      // Never a crash: the console keeps showing what it checks, and says what is missing.
      held.stop();
      setLive({ ...live, runbooks: { entries: [], error: `not loaded: ${(e as Error).message}` }, notice: { text: `self-healing, notifications, incidents and scheduled backups did not load: ${(e as Error).message}`, color: 'red', until: Number.MAX_SAFE_INTEGER } });
    }
  };
  afterFirstData(() => void (laterLoading = closing ? undefined : loadLater()));
  // The start-up notice of unfinished runs goes once none is left (a resume or rollback finished):
  // it must not keep saying "unfinished" for its ten minutes (seen by a fresh-eyed operator).
  const startupNotice = live.notice;
  if (startupNotice) {
    const off = bus.subscribe('check.result', (e) => {
      if (!e.result.id.startsWith('journal:') || e.result.status !== 'ok' || live.notice !== startupNotice) return;
      if (Object.values(store.getState().checks).some((c) => c.id.startsWith('journal:') && c.status !== 'ok')) return;
      off();
      const { notice: _gone, ...rest } = live;
      setLive(rest);
    });
  }
  // The configuration file is watched as `watch` does: a change restarts the checks on the same
  // store (alert state survives), and the panes, keys and thresholds follow; a broken edit keeps
  // the running configuration and says why in the status line.
  let docker: DockerService | undefined;
  let hostDockers = new Map<string, DockerService>();
  const file = loaded.file;
  if (file) {
    watchFile(file, { interval: 1000 }, () => {
      try {
        const next = reloadConfig(file, live.config);
        const nextKeys = configuredKeys(next);
        useSecrets(next.secrets);
        monitor.stop();
        docker = dockerFor(next.config, docker);
        hostDockers = hostDockersFor(next.config, hostDockers);
        const retired = retiredChecks(running, next.config, Object.keys(store.getState().checks));
        monitor = startMonitor(next.config);
        monitor.retire(retired);
        monitor.start();
        setLive({ config: next.config, keys: nextKeys, runbooks: laterModule ? laterModule.runbookCatalog(next.config) : (live.runbooks ?? { entries: [], error: 'the runbook catalog is still loading (a moment after start)' }), notice: { text: `configuration reloaded from ${file}`, color: 'green', until: Date.now() + 10_000 } });
      } catch (e) {
        setLive({ ...live, notice: { text: `configuration not reloaded (the running one stays): ${(e as Error).message}`, color: 'red', until: Number.MAX_SAFE_INTEGER } });
      }
    });
  }
  const { history, stop: stopHistory } = createHostHistory(store, config.refresh, seedOf(() => hostHistorySeed(db, Date.now(), config.refresh)));
  // Recent results per check: the "probe history" behind an alert's details.
  const entries = new Map<string, { at: number; status: string; message: string }[]>();
  let lastChecks = store.getState().checks;
  const stopChecks = store.subscribe((s) => {
    if (s.checks === lastChecks) return;
    // for…in, not Object.entries: no array of pairs per store update (issue #27, the idle console's GC).
    for (const id in s.checks) {
      const c = s.checks[id];
      if (c === undefined || lastChecks[id] === c) continue;
      const list = entries.get(id) ?? [];
      list.push({ at: Date.now(), status: c.status, message: c.message });
      if (list.length > 30) list.shift();
      entries.set(id, list);
    }
    lastChecks = s.checks;
  });
  // Rebuilt by a reload (dockerFor), so read through a getter by the actions.
  docker = dockerFor(config, undefined);
  hostDockers = hostDockersFor(config);
  // The first probes run while Ink and React load (~0.45 s from the bundle, FACTS/issue #3), so the
  // first frame already has data: the first full frame is the target, not the first empty one.
  monitor.start();
  trace('console: monitor started');
  let ui: typeof UiModule;
  try {
    ui = await uiLoading;
    trace('console: UI loaded');
    // The first render waits for the host's and Docker's first data (bounded), so it is the full frame.
    await afterFirstData.arrived(FIRST_DATA_WAIT_MS);
    trace('console: first data');
  } catch (e) {
    monitor.stop();
    db.close();
    throw e;
  }

  const actions = { ...consoleActions({ readOnly: !!g.readOnly, db, acks, docker: () => docker, hostDocker: (h) => hostDockers.get(h), optimizing: optimizingWhileFollowing(), monitor: () => monitor, entries, configFile: file, tracker, config: () => running }), ...lateActions(() => later), maintenance: consoleMaintenance({ db, store, readOnly: !!g.readOnly, config: () => running }) };
  const color = useColor(g);
  const altScreen = !process.env.OPSDECK_NO_ALT_SCREEN;
  if (altScreen) process.stdout.write('\x1b[?1049h\x1b[H');
  const restore = () => {
    if (altScreen) process.stdout.write('\x1b[?1049l');
  };
  process.once('exit', restore);
  const ending = ui.runConsole(
    {
        store,
        config,
        keys,
        readOnly: !!g.readOnly,
        history,
        hostname: hostname(),
        actions,
    },
    color,
    { get: () => live, subscribe: (l) => (listeners.add(l), () => listeners.delete(l)) },
  );
  trace('console: first frame drawn');
  afterFirstData.drawn();
  const end = await ending;
  // A wizard's run still going (quit, ctrl-c, a hang-up at its question) pauses journaled; said below.
  const driven = await endDriven(5_000);
  trace(`console: ended (${driven} driven run(s) were going)`);
  if (file) unwatchFile(file);
  // A healing action under way finishes its step, or pauses journaled (a finding until resumed).
  closing = true;
  await laterLoading;
  await later?.stop();
  held.stop();
  monitor.stop();
  stopHistory();
  stopChecks();
  restore();
  process.removeListener('exit', restore);
  // Never a silent exit 0 over a run left half-done: each unfinished run, with how to resume or roll back.
  const left = driven ? openRunChecks(db).filter((c) => c.status !== 'ok') : [];
  for (const c of left) process.stderr.write(`opsdeck: left unfinished: ${c.message}\n`);
  db.close();
  // 128 + signal number, as a shell reports a process a signal ended (SIGHUP 1, SIGTERM 15).
  return end.by === 'signal' ? 128 + (end.signal === 'SIGHUP' ? 1 : 15) : left.length ? 1 : 0;
}

/**
 * How long the first render waits for the host's and Docker's first data once the UI is loaded (issue
 * #27). Usually they are in by then (the monitor starts before the UI loads); an engine that is slow
 * to answer gets the frame with what has arrived, and its pane fills in.
 */
const FIRST_DATA_WAIT_MS = 300;

/** The message of an action the console refuses in --read-only mode (the audit log records it). */
export const READ_ONLY_REFUSAL = 'refused: opsdeck runs in --read-only mode';

/**
 * What the console can do to the world. In --read-only mode every action that changes something —
 * a container action, an acknowledgement, a silence, a restore — is refused here and the refusal
 * audited (issue #12: `a` and `s` ran, were saved and were not audited under --read-only), whatever
 * the key handling above it decided. Reading (logs, acks, history) and refreshing stay.
 */
export function consoleActions(o: {
  readOnly: boolean;
  db: BetterSqlite3.Database;
  acks: AckStore;
  /** The Docker client of the running configuration (a reload may add, change or drop it). */
  docker: () => DockerService | undefined;
  /** A configured host's Docker client (issue #25), for containers that live there. */
  hostDocker?: (host: string) => DockerService | undefined;
  /** TurboFan while a container log is followed (the console; absent in tests). */
  optimizing?: { acquire(): () => void };
  monitor: () => Monitor;
  entries: ReadonlyMap<string, { at: number; status: string; message: string }[]>;
  configFile: string | undefined;
  tracker?: KeyTracker;
  /** The running configuration (its `alertmanager:`, issue #25). */
  config?: () => Config;
}): ConsoleActions {
  const { db, acks } = o;
  const refuse = (action: string, target: string) => recordAudit(db, { action, target, outcome: 'refused', detail: '--read-only' });
  return {
    containerAction: async (kind, c) => {
      // A container on a configured host (issue #25) is acted on through that host's engine; audited as name@host.
      const docker = c.host === undefined ? o.docker() : o.hostDocker?.(c.host);
      const target = c.host === undefined ? c.name : `${c.name}@${c.host}`;
      if (o.readOnly) {
        refuse(`container.${kind}`, target);
        return { ok: false, error: { kind: 'invalid', source: 'console', message: `${kind} ${target}: ${READ_ONLY_REFUSAL}` } };
      }
      if (!docker) return { ok: false, error: { kind: 'unavailable', source: 'docker', message: c.host === undefined ? 'no Docker engine configured' : `no Docker engine for host ${c.host} (is it still in hosts:?)` } };
      const r = kind === 'restart' ? await docker.restart(c.id) : kind === 'stop' ? await docker.stop(c.id) : await docker.start(c.id);
      // A started container is watched a few seconds: "done" must not hide one that exits again.
      const settled = r.ok && kind !== 'stop' ? await docker.settle(c.id) : undefined;
      const outcome = settled ? (settled.ok ? settled.value : { note: `done; then ${settled.error.message}`, exitedAgain: false }) : { note: 'done', exitedAgain: false };
      recordAudit(db, { action: `container.${kind}`, target, outcome: r.ok ? 'ok' : 'failed', detail: r.ok ? outcome.note : r.error.message });
      return r.ok ? { ok: true, value: outcome } : r;
    },
    follow: async (t, onLine, onEnd) => {
      if (t.kind === 'file') return followFile(t.id, { onLine, onEnd });
      const docker = t.host === undefined ? o.docker() : o.hostDocker?.(t.host);
      if (!docker) throw new Error(t.host === undefined ? 'no Docker engine configured' : `no Docker engine for host ${t.host}`);
      // Fault injection (tests only): a consumer slower by N µs a line, so the view falls behind on demand.
      const slowUs = Number(process.env.OPSDECK_FAULT_LOG_SLOW_US ?? 0);
      const line = slowUs > 0 ? (l: Parameters<typeof onLine>[0]) => {
        for (const until = performance.now() + slowUs / 1000; performance.now() < until; );
        onLine(l);
      } : onLine;
      const f = await followContainerLogs(docker, t.id, { onLine: line, onEnd });
      const release = o.optimizing?.acquire();
      return { ...f, stop: () => (f.stop(), release?.()) };
    },
    refresh: () => void o.monitor().runAll(),
    ack: (a) => (o.readOnly ? refuse('alert.ack', a.checkId) : acks.ack(a.checkId, a.firedAt)),
    silence: (a, ms) => (o.readOnly ? refuse('alert.silence', a.checkId) : acks.silence(a.checkId, ms)),
    silenceExternal: (a, ms) => {
      // Issue #25: an Alertmanager alert is silenced in Alertmanager (asked first by the dialog, which shows the matchers).
      if (o.readOnly) {
        refuse('alert.silence', a.checkId);
        return Promise.resolve({ ok: false, text: `silence ${a.checkId}: ${READ_ONLY_REFUSAL}` });
      }
      const cfg = o.config?.();
      if (!cfg) return Promise.resolve({ ok: false, text: `${a.checkId}: silence it in Alertmanager` });
      return silenceInAlertmanager(cfg, a, ms, actor()).then((said) => {
        recordAudit(db, { action: 'alert.silence', target: a.checkId, outcome: said.ok ? 'ok' : 'failed', detail: said.ok ? `Alertmanager silence ${said.silenceId ?? ''} for ${Math.round(ms / 60_000)} min` : said.text });
        if (said.ok) void o.monitor().runAll();
        return said;
      });
    },
    acks: (a) => acks.get(a.checkId, a.firedAt),
    audit: (action, target, outcome, detail) => recordAudit(db, { action, target, outcome, ...(detail ? { detail } : {}) }),
    history: (id) => o.entries.get(id) ?? [],
    unfinishedRestores: () => {
      try {
        return openSubjects(db, 'restore');
      } catch {
        return undefined; // an unreadable journal: the wizard keeps its plain labels
      }
    },
    restore: (args, events) => {
      if (o.readOnly) {
        const db = args.indexOf('--db');
        refuse('restore', (db >= 0 ? args[db + 1] : undefined) ?? '-');
        // The wizard hears it as a restore that ended at once: nothing was started.
        queueMicrotask(() => events.onExit(1, `restore ${READ_ONLY_REFUSAL}`));
        return { answer: () => undefined };
      }
      if (args.includes('--db')) o.tracker?.restore(args[args.indexOf('--db') + 1] ?? '');
      return startRestoreChild(args, events, o.configFile);
    },
    runbook: (start, events) => {
      if (o.readOnly) {
        refuse('alert.runbook', start.check ?? start.runbook);
        queueMicrotask(() => events.onExit(1, `runbook ${start.runbook} ${READ_ONLY_REFUSAL}`));
        return { answer: () => undefined };
      }
      if (start.check !== undefined) o.tracker?.runbook(start.check, start.runbook);
      return spawnDriven(runbookArgs(start), events, { ...(o.configFile ? { configFile: o.configFile } : {}), what: `runbook ${start.runbook}` });
    },
    keyPressed: () => o.tracker?.key(),
  };
}

/**
 * Runs `opsdeck restore ARGS --protocol` as a child process for the console's restore wizard
 * (src/engine/protocol.ts: the same protocol every driven run speaks). The journal, audit log and
 * safety copy are the restore command's own.
 */
function startRestoreChild(args: string[], events: RestoreEvents, configFile: string | undefined): RestoreRun {
  return spawnDriven(['restore', ...args], events, { ...(configFile ? { configFile } : {}), what: 'restore' });
}

/** The seed, or none when the state database cannot give it (the history then starts empty, as before). */
function seedOf(read: () => HostSeed): HostSeed {
  try {
    return read();
  } catch {
    return { disks: new Map(), cpu: [], mem: [] };
  }
}
