// What the console loads after its first frame (issue #27 point 4): self-healing and failover, the
// notifier, the incident rules, the backup scheduler and the runbook catalog — ~0.5 MB of bundle the
// first frame does not draw. console.ts imports this module with import() once the frame is on the
// screen; until then its keys answer through `lateActions` (console-late-keys.ts).

import type BetterSqlite3 from 'better-sqlite3';
import type { LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { EventBus } from '../engine/events.js';
import { loadCatalog } from '../runbooks/catalog.js';
import { backupSchedulerSource } from '../state/backup-scheduler.js';
import { notifierRunner } from '../state/notifier.js';
import type { Source } from '../state/sources.js';
import type { AppStore } from '../state/store.js';
import type { RunbookCatalog } from '../ui/console/runbook-wizard.js';
import { consoleHeal } from './console-heal.js';
import { consoleIncidents } from './console-incidents.js';

export interface ConsoleLater {
  /** The deferred parts' sources for a configuration (the monitor takes them when they load, and at each reload). */
  sources: (c: Config) => Source[];
  actions: ReturnType<typeof consoleHeal>['actions'] & ReturnType<typeof consoleIncidents>['actions'];
  /** A healing action under way finishes its step, or pauses journaled; the rest stops at once. */
  stop: () => Promise<void>;
}

/** Builds the console's deferred wiring: the same calls console.ts made before its first frame until issue #27. */
export function consoleLater(o: {
  db: BetterSqlite3.Database;
  bus: EventBus;
  store: AppStore;
  readOnly: boolean;
  loaded: LoadedConfig;
  running: () => Config;
  /** Where healing's act (the runbook catalog read and checked) is made: a macrotask of its own. */
  warm: (make: () => void) => void;
}): ConsoleLater {
  const { db, bus, store, readOnly, loaded } = o;
  // Scheduled backups (issue #10) run here only while no watch holds the lease; never read-only.
  const scheduler = (c: Config) => {
    const s = !readOnly && loaded.file ? backupSchedulerSource({ config: c, configFile: loaded.file, stateDb: db, owner: 'console' }) : undefined;
    return s ? [s] : [];
  };
  // Incidents (issue #18): the rules (their lease), the header's banner, I and N.
  const incidents = consoleIncidents({ db, bus, store, readOnly, config: o.running });
  // Notifications (issue #19): sent while this console holds the `notifier` lease (a watch takes it); their failures are `notify:<channel>` alerts.
  const notifier = readOnly ? undefined : notifierRunner({ bus, stateDb: db, owner: 'console', config: o.running });
  // Self-healing (issue #20): here only while no watch holds the healer lease; H and E.
  const healing = consoleHeal({ db, bus, store, readOnly, loaded: () => ({ ...loaded, config: o.running() }), warm: o.warm });
  return {
    sources: (c) => [...scheduler(c), ...incidents.sources(), ...(notifier ? [notifier.source()] : []), healing.source(), ...healing.failoverSources()],
    actions: { ...incidents.actions, ...healing.actions },
    stop: async () => {
      await healing.stop();
      incidents.stop();
      notifier?.off();
    },
  };
}

/**
 * The runbook catalog for the picker (`:`): built-in and the config's `runbooks.dir`. A bad runbook
 * file does not stop the console: the picker says why instead (`opsdeck check` names it too).
 */
export function runbookCatalog(config: Config): RunbookCatalog {
  try {
    return { entries: loadCatalog(config).entries };
  } catch (e) {
    return { entries: [], error: (e as Error).message };
  }
}
