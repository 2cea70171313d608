// The console's keys audit (issue #16) and a runbook start's command line: out of console.ts (past
// 400 lines with issue #27's first frame).

import type BetterSqlite3 from 'better-sqlite3';
import type { Alert } from '../domain/alerts.js';
import { recordAudit } from '../state/acks.js';
import type { AppStore } from '../state/store.js';
import type { RunbookStart } from '../ui/console/runbook-wizard.js';

/** `opsdeck runbook run NAME [--target T] [--check ID]` for a start (spawnDriven adds --config and --protocol). */
export function runbookArgs(start: RunbookStart): string[] {
  if (start.resume && start.check !== undefined) return ['runbook', 'resume', '--check', start.check];
  const target = start.target.kind !== 'none' && start.target.name ? ['--target', start.target.name] : [];
  return ['runbook', 'run', start.runbook, ...target, ...(start.check !== undefined ? ['--check', start.check] : [])];
}

/** Counts keys per firing alert and the runbooks started for it; audits both as the alert resolves. */
export interface KeyTracker {
  fired(a: Alert, at: number): void;
  key(): void;
  runbook(checkId: string, name: string): void;
  /** A restore of `database` started from the console: `restore-database` for each of its open alerts (`sqlite:<db>`, `sqlite:<db>:…`). */
  restore(database: string): void;
  resolved(a: Alert, at: number): void;
}

/**
 * The drill score's input (issue #16): for each alert, the keys pressed in this console from when it
 * fired until it resolved (firing or resolving in the store at the key), and the runbooks started
 * from the console for its check; written as one `console.keys` audit entry when it resolves:
 * `{"keys": N, "firedAt": ms, "resolvedAt": ms, "runbooks": [names]}`.
 */
export function keyTracker(db: BetterSqlite3.Database, store: AppStore, now: () => number = Date.now): KeyTracker {
  const open = new Map<string, { firedAt: number; keys: number; runbooks: string[] }>();
  const entry = (checkId: string, firedAt: number | undefined) => {
    let e = open.get(checkId);
    if (!e) {
      e = { firedAt: firedAt ?? now(), keys: 0, runbooks: [] };
      open.set(checkId, e);
    }
    return e;
  };
  return {
    // A runbook started while the alert was still pending made its entry already: the firing sets its time.
    fired: (a, at) => void (entry(a.checkId, a.firedAt ?? at).firedAt = a.firedAt ?? at),
    key: () => {
      for (const a of Object.values(store.getState().alerts)) if (a.state === 'firing' || a.state === 'resolving') entry(a.checkId, a.firedAt).keys++;
    },
    runbook: (checkId, name) => void entry(checkId, store.getState().alerts[checkId]?.firedAt).runbooks.push(name),
    // The wizard is not told which alert it was opened from: every open alert of the database counts it
    // (an operator's trial: drill score listed no runbook for db-corrupt recovered by F → restore).
    restore: (database) => {
      for (const a of Object.values(store.getState().alerts)) {
        const ofDb = a.checkId === `sqlite:${database}` || a.checkId.startsWith(`sqlite:${database}:`);
        if (ofDb && (a.state === 'firing' || a.state === 'resolving' || a.state === 'pending')) entry(a.checkId, a.firedAt).runbooks.push('restore-database');
      }
    },
    resolved: (a, at) => {
      const e = open.get(a.checkId) ?? { firedAt: a.firedAt ?? at, keys: 0, runbooks: [] };
      open.delete(a.checkId);
      recordAudit(db, { action: 'console.keys', target: a.checkId, outcome: 'ok', detail: JSON.stringify({ keys: e.keys, firedAt: e.firedAt, resolvedAt: at, runbooks: e.runbooks }) }, at);
    },
  };
}
