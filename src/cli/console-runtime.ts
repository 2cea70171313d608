// The console process's run-time settings (V8's heap and optimising compiler) and the Docker client a
// configuration needs: out of console.ts (past 400 lines with issue #26).

import { setFlagsFromString } from 'node:v8';
import type { Config } from '../config/schema.js';
import type { AppState, AppStore } from '../state/store.js';
import { DockerService, hostEndpoint, resolveDockerEndpoint } from '../services/docker.js';
import type { EngineEvent, EventBus } from '../engine/events.js';
import type { ConsoleActions } from '../ui/App.js';
import type { ConsoleLater } from './console-later.js';

/**
 * Keeps a long-running console small (issue #3: peak RSS ≤ 150 MB with 50 containers; it was ~150-190).
 * Measured with process.memoryUsage / v8.getHeapSpaceStatistics every second over 30 s runs:
 * - the young generation grew to its 2 × 16 MB maximum within the first second and stayed there
 *   (the frames allocate ~10 MB/s); `--semi-space-growth-factor=1` stops it growing from what start-up
 *   left (2 × 4 MB when this runs);
 * - the old generation grew to ~3× its ~20 MB live size between full GCs (V8 lets it grow up to 4×
 *   on a machine with a few GB); `--heap-growing-percent=30` starts the next full GC at +30 %.
 * Together: peak RSS ~150 → ~105 MB, for ~+0.3 s CPU per minute in more, smaller GCs.
 * Both are soft heuristics read by V8 at each GC, so setting them at run time works (v8.setFlagsFromString),
 * from any launcher (`opsdeck`, `node dist/cli.js`, npx), and only for the console. No hard
 * `--max-old-space-size`: an incident console that dies of "heap out of memory" while an operator
 * reads a long log is worse than a few more MB. Start-up flags in the shebang were the other option;
 * they do not apply when node is run on dist/cli.js directly (the benchmark, some service managers).
 * Not here: V8's GC-thread flags. `--no-parallel-scavenge`, `--no-concurrent-marking` and
 * `--no-parallel-marking` set at run time (to save the helper threads' ~0.05–0.1 s/min) crashed the
 * console within seconds (SIGILL in V8, Node 20, 2026-12-04); they are start-up flags only.
 */
export function tuneHeap(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=30');
}

/**
 * Turns off V8's optimising compiler (TurboFan) for the console: its code stays in the interpreter
 * and the Sparkplug baseline compiler (issue #3: own CPU ≤ htop's). Measured per thread over 40 s
 * runs of the bench dashboard (50 containers, 2 s refresh), in s/min:
 *
 * |                 | main thread | V8's worker threads | total |
 * |-----------------|-------------|---------------------|-------|
 * | TurboFan on     | 0.46–0.57   | 0.32–0.36           | 0.78–0.93 |
 * | TurboFan off    | 0.48–0.54   | 0.06–0.09           | 0.57–0.60 |
 *
 * A frame every 2 s never gets hot enough to repay compiling: TurboFan kept compiling and
 * deoptimising React's and Ink's large functions ("insufficient type feedback", "dependency change";
 * ~20 optimisations every 10 s after a minute) on its background threads, while the main thread was
 * no faster. The flag is read whenever V8 decides to optimise, so setting it at run time works, for
 * the console only: `check`, `backup` and `restore` keep TurboFan for their short bursts of work.
 * `--turbofan` is the flag's name since V8 10.9 (Node 20 has 11.3); `--opt` is an older alias.
 */
export function noOptimizingCompiler(): void {
  setFlagsFromString('--no-turbofan');
}

/**
 * TurboFan back on while a container's log is followed, off again when the last follow stops
 * (issue #26). A log flood is the opposite of the idle dashboard: the same few functions (the
 * demultiplexer, the buffer, the filter) run millions of times, which is what the optimising compiler
 * repays; the idle dashboard's figures above stay as they are while no log is open. Measured by
 * `npm run bench:logview` (README "Performance: the logs view"): the pipeline alone (demultiplexer →
 * buffer, 1M lines) read 0.57–1.09M lines/s with TurboFan, 0.36–0.39M without; the whole console
 * following ~5.7k lines/s used 7.5 s/min with it, 8.2 without (the rest is the socket and the
 * frames); at the fastest rate both fell behind alike. The flag is read whenever V8 decides to
 * optimise, both ways: code optimised while a log was open stays optimised (it is correct code),
 * nothing new is optimised after. `OPSDECK_BENCH_TURBOFAN=off` keeps it off (the benchmark's
 * comparison; not for operators).
 */
export function optimizingWhileFollowing(): { acquire(): () => void } {
  let open = 0;
  const keepOff = process.env.OPSDECK_BENCH_TURBOFAN === 'off';
  return {
    acquire: () => {
      if (!keepOff && open++ === 0) setFlagsFromString('--turbofan');
      let released = false;
      return () => {
        if (keepOff || released) return;
        released = true;
        if (--open === 0) setFlagsFromString('--no-turbofan');
      };
    },
  };
}

/**
 * The Docker client a configuration needs (issue #26: built again by a reload, so adding Docker to a
 * running console makes `l` work without a restart): undefined when it names no container, the
 * previous one while the engine address and time-out are unchanged.
 */
export function dockerFor(config: Config, previous: DockerService | undefined): DockerService | undefined {
  if (!(config.docker.all_containers || config.services.some((s) => s.container || s.compose_service))) return undefined;
  const endpoint = resolveDockerEndpoint(config.docker.host);
  if (previous && JSON.stringify(previous.endpoint) === JSON.stringify(endpoint) && previous.timeoutMs === config.docker.timeout) return previous;
  return new DockerService(endpoint, config.docker.timeout);
}

/**
 * One Docker client per configured host (issue #25): container actions and logs go to the engine
 * the container lives on. Built again by a reload, keeping a host's client while its address,
 * credentials and time-out are unchanged.
 */
export function hostDockersFor(config: Config, previous: ReadonlyMap<string, DockerService> = new Map()): Map<string, DockerService> {
  const out = new Map<string, DockerService>();
  for (const h of config.hosts) {
    const prev = previous.get(h.name);
    const same = prev && (prev as DockerService & { hostKey?: string }).hostKey === hostKey(h);
    const next = same ? prev : Object.assign(new DockerService(hostEndpoint(h), h.timeout), { hostKey: hostKey(h) });
    out.set(h.name, next);
  }
  // A replaced or removed host's kept ssh connection is closed (a follow still open on it ends).
  for (const [name, prev] of previous) if (out.get(name) !== prev) prev.endpoint.ssh?.close();
  return out;
}

function hostKey(h: Config['hosts'][number]): string {
  return JSON.stringify([h.docker, h.timeout, h.tls ?? null, h.ssh ?? null]);
}

/**
 * The datastores and endpoints the configuration declares, each a row still loading (issue #27): the
 * first frame is drawn before a slow probe answers, and its pane must say "checking…" for it, not
 * "none configured" (a row appeared only with its first answer).
 */
export function checkingRows(config: Config): Pick<AppState, 'redis' | 'databases' | 'endpoints'> {
  const rows = (names: string[]) => Object.fromEntries(names.map((n) => [n, { status: 'loading' as const }]));
  return {
    redis: rows(config.redis.map((r) => r.name)),
    databases: rows(config.databases.map((d) => d.name)),
    // Endpoints and services with a health_url are both checked as http:<name> (src/state/sources.ts).
    endpoints: rows([...config.endpoints.map((e) => e.name), ...config.services.flatMap((s) => (s.health_url ? [s.name] : []))]),
  };
}

/** What `firstDataHook` gives the console: deferred work, the data's arrival, the first full frame drawn. */
export interface FirstFrame {
  /** Runs `work` once the first full frame is on the screen (or after `maxMs`), each piece in its own macrotask. */
  (work: () => void): void;
  /** Resolves once the host and (when configured) Docker envelopes are no longer loading, or after `ms`. */
  arrived(ms: number): Promise<void>;
  /** The console says a frame was just written (Ink writes its first frame synchronously in render()). */
  drawn(): void;
}

/**
 * The first full frame (issue #27): the host's and (when configured) Docker's first data. The console
 * waits for it (`arrived`, bounded) before its first render, so that render is the full frame: one
 * render instead of an empty frame and then — up to Ink's 100 ms throttle later — the full one. Work
 * the frame does not need (the runbook catalog, healing's act, the heap settings) runs after it is
 * drawn: when `drawn()` comes with the data in the store, at once; when the data comes after the
 * first render, a little after it (App draws it within ~15 ms, Ink's throttle allows a frame every
 * 100 ms); after `maxMs` at the latest.
 */
export function firstDataHook(store: AppStore, config: Config, maxMs = 3_000): FirstFrame {
  const docker = config.docker.all_containers || config.services.some((s) => !!(s.container ?? s.compose_service));
  const queue: (() => void)[] = [];
  let ready = false;
  let rendered = false;
  const run = () => {
    if (ready) return;
    ready = true;
    off();
    clearTimeout(timer);
    const next = () => {
      const w = queue.shift();
      if (!w) return;
      w();
      setTimeout(next, 0);
    };
    setTimeout(next, 0);
  };
  const settled = () => {
    const s = store.getState();
    return s.host.status !== 'loading' && (!docker || s.docker.status !== 'loading');
  };
  const waiting = new Set<() => void>();
  const off = store.subscribe(() => {
    if (!settled()) return;
    for (const w of waiting) w();
    waiting.clear();
    // Arrived after the first render: the frame that shows it is drawn first.
    if (rendered) setTimeout(run, 120);
  });
  const timer = setTimeout(run, maxMs);
  timer.unref();
  const hook = (work: () => void) => {
    if (!ready) return void queue.push(work);
    setTimeout(work, 0);
  };
  return Object.assign(hook, {
    arrived: (ms: number) =>
      settled()
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const t = setTimeout(() => (waiting.delete(done), resolve()), ms);
            const done = () => (clearTimeout(t), resolve());
            waiting.add(done);
          }),
    drawn: () => {
      if (rendered) return;
      rendered = true;
      if (settled()) run();
    },
  });
}

/**
 * What the bus carries before the console's deferred parts (./console-later.ts) listen (issue #27:
 * they load after the first frame, while the first results may already fire an alert). `attach`
 * builds them on the bus, holding back the listeners they subscribe; `release` — once their sources
 * have run once, so the notifier and the healer hold their leases as they did when built before the
 * monitor started — hands those listeners the held events in order, then the bus's next ones
 * (synchronously: nothing is heard twice or missed). At most `max` events are held (the first
 * seconds of a console carry a few hundred).
 */
export function earlyEvents(bus: EventBus, max = 10_000): { attach<T>(build: () => T): { built: T; release: () => void }; stop(): void; readonly held: number } {
  let events: EngineEvent[] = [];
  let off: (() => void) | undefined = bus.subscribe('*', (e) => void (events.length < max && events.push(e)));
  const real: (type: '*', listener: (e: EngineEvent) => unknown) => () => void = bus.subscribe.bind(bus);
  return {
    get held() {
      return events.length;
    },
    attach<T>(build: () => T) {
      type Held = { type: string; listener: (e: EngineEvent) => unknown; gone: boolean; off?: () => void };
      const added: Held[] = [];
      // The bus's subscribe, seen from `build` only: records who subscribed (the instance's own property, deleted after).
      Object.defineProperty(bus, 'subscribe', {
        configurable: true,
        value: (type: string, listener: (e: EngineEvent) => unknown) => {
          const h: Held = { type, listener, gone: false };
          added.push(h);
          return () => {
            h.gone = true;
            h.off?.();
          };
        },
      });
      let built: T;
      try {
        built = build();
      } finally {
        delete (bus as { subscribe?: unknown }).subscribe;
      }
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        off?.();
        off = undefined;
        const replay = events;
        events = [];
        for (const e of replay) {
          for (const h of added) {
            if (h.gone || (h.type !== e.type && h.type !== '*')) continue;
            try {
              const r = h.listener(e);
              if (r instanceof Promise) r.catch(() => undefined);
            } catch {
              // as the bus itself does: one listener's failure never stops the others
            }
          }
        }
        for (const h of added) if (!h.gone) h.off = real(h.type as '*', h.listener);
      };
      return { built, release };
    },
    stop() {
      off?.();
      off = undefined;
      events = [];
    },
  };
}

/**
 * The keys of the deferred parts (H's pane, E, I, N) answer from the first frame (issue #27): the
 * loaded parts' actions once they are in, meanwhile a pane that says so and a refusal that says to
 * try again (both need a dialog first, so a second is usually enough).
 */
export function lateActions(later: () => ConsoleLater | undefined): Pick<ConsoleActions, 'healing' | 'enableHeal' | 'declareIncident' | 'noteIncident'> {
  const loading = (what: string) => ({ ok: false, text: `${what}: still loading (a moment after start) — try again` });
  return {
    healing: () => later()?.actions.healing() ?? { on: false, why: 'still loading (a moment after start)', holder: '…', subjects: [], recent: [] },
    enableHeal: (subject) => later()?.actions.enableHeal(subject) ?? loading(`enable healing of ${subject}`),
    declareIncident: (severity, title) => later()?.actions.declareIncident?.(severity, title) ?? loading('declare'),
    noteIncident: (id, text) => later()?.actions.noteIncident?.(id, text) ?? loading('note'),
  };
}
