// The console's runbook keys (issue #16), pure as the rest of the reducer: F runs the selected
// alert's runbook (runbookForCheck: the configured map, else the default for its check's kind),
// `:` opens the runbook picker (the catalog cli/console.ts loaded), then a target among the
// configured entries of the runbook's kind when there is more than one.

import type { RunbookChoice } from '../../domain/runbook-map.js';
import { firstKey } from '../keys.js';
import type { RunbookEntry, RunbookStart } from './runbook-wizard.js';
import { startLabel } from './runbook-wizard.js';
import type { Command, ConsoleState, ConsoleWorld, Dialog, Effect, Flash, Step } from './reducer.js';

/** The words for a target kind, and the config key its entries come from. */
const KIND_WORDS: Record<Exclude<RunbookEntry['target'], 'none'>, [string, string]> = {
  service: ['a service', 'services:'],
  database: ['a database', 'databases:'],
  redis: ['a Redis server', 'redis:'],
  endpoint: ['an endpoint', 'endpoints:'],
  host: ['a filesystem', 'the host gauges list none yet'],
  app: ['an application', 'apps:'],
};

const step = (state: ConsoleState, ...effects: Effect[]): Step => ({ state, effects });
const flash = (text: string, color: Flash['color'], w: ConsoleWorld): Flash => ({ text, color, at: w.now });

/** An unfinished run's finding (`journal:<runbook>:<subject>`): which runbook and subject it is. */
export function unfinishedRun(checkId: string): { runbook: string; subject: string } | undefined {
  const m = /^journal:([^:]+):(.+)$/.exec(checkId);
  return m ? { runbook: m[1] === 'restore' ? 'restore-database' : (m[1] as string), subject: m[2] as string } : undefined;
}

/**
 * The selected alert's runbook, if one fits it ("F: run service-recovery for api" says so). On an
 * unfinished run's finding it is that run, to resume (a restore: the restore wizard, which offers
 * resume and rollback).
 */
export function alertRunbook(checkId: string | undefined, w: Pick<ConsoleWorld, 'runbookFor'>): RunbookChoice | undefined {
  if (checkId === undefined) return undefined;
  const open = unfinishedRun(checkId);
  if (open) return { runbook: open.runbook, target: { kind: 'none', name: open.subject }, check: checkId };
  return w.runbookFor(checkId);
}

/** What F says for a runbook choice: "run service-recovery for api", or "resume service-recovery for api". */
export function runbookHint(choice: RunbookChoice): string {
  const open = unfinishedRun(choice.check);
  if (open) return open.runbook === 'restore-database' ? `resume or roll back the restore of ${open.subject}` : `resume ${open.runbook} for ${open.subject} (the unfinished run)`;
  return `run ${startLabel(choice)}`;
}

/** Whether restore-database is the built-in one (then F opens the restore wizard, as W does). */
function builtInRestore(name: string, w: ConsoleWorld): boolean {
  return name === 'restore-database' && !w.runbooks.entries.some((e) => e.name === name && e.source === 'user');
}

/** Opens the runbook view for a start (the wizard component spawns the run as it mounts). */
function begin(s: ConsoleState, start: RunbookStart): Step {
  return step({ ...s, dialog: undefined, view: { kind: 'runbook', start } });
}

/** F on the selected alert. */
export function runAlertRunbook(s: ConsoleState, w: ConsoleWorld, checkId: string | undefined): Step {
  if (checkId === undefined) return step(s);
  const pick = firstKey(w.keys, 'runbook.pick');
  const choice = alertRunbook(checkId, w);
  if (!choice) return step({ ...s, flash: flash(`no runbook fits ${checkId} (map one under runbooks.map in the config) — ${pick} picks one by hand`, 'yellow', w) });
  if (builtInRestore(choice.runbook, w)) {
    if (w.databases === 0) return step({ ...s, flash: flash('restore wizard: no database in the config (`databases:`)', 'yellow', w) });
    return step({ ...s, view: { kind: 'wizard' } }, { effect: 'wizard.opened' });
  }
  if (w.runbooks.entries.length && !w.runbooks.entries.some((e) => e.name === choice.runbook)) {
    return step({ ...s, flash: flash(`${checkId} maps to runbook ${choice.runbook}, which is not in the catalog — ${pick} picks one by hand`, 'red', w) });
  }
  return begin(s, unfinishedRun(choice.check) ? { ...choice, resume: true } : choice);
}

/** `:`: the runbook picker, or why there is nothing to pick. */
export function openRunbookPicker(s: ConsoleState, w: ConsoleWorld): Step {
  const { entries, error } = w.runbooks;
  if (error) return step({ ...s, flash: flash(`runbooks: ${error}`, 'red', w) });
  if (entries.length === 0) return step({ ...s, flash: flash('no runbook to pick', 'yellow', w) });
  return step({ ...s, dialog: { kind: 'pick-runbook', entries, selected: 0 } });
}

/**
 * A runbook chosen in the picker: started at once when it needs no target or there is one entry of
 * its kind, else a second list asks which. The cursor starts on the selected alert's target.
 */
function chooseRunbook(s: ConsoleState, entry: RunbookEntry, w: ConsoleWorld, alertCheck: string | undefined): Step {
  if (builtInRestore(entry.name, w)) {
    if (w.databases === 0) return step({ ...s, dialog: undefined, flash: flash('restore wizard: no database in the config (`databases:`)', 'yellow', w) });
    return step({ ...s, dialog: undefined, view: { kind: 'wizard' } }, { effect: 'wizard.opened' });
  }
  if (entry.target === 'none') return begin(s, { runbook: entry.name, target: { kind: 'none', name: '' } });
  const targets = w.targets(entry.target, entry.name);
  const [word, key] = KIND_WORDS[entry.target];
  if (targets.length === 0) return step({ ...s, dialog: undefined, flash: flash(`${entry.name} acts on ${word}, and none is configured (${key})`, 'yellow', w) });
  if (targets.length === 1) return startOn(s, entry, targets[0] ?? '', w, alertCheck);
  const fromAlert = alertRunbook(alertCheck, w)?.target;
  const at = fromAlert?.kind === entry.target ? Math.max(0, targets.indexOf(fromAlert.name)) : 0;
  return step({ ...s, dialog: { kind: 'pick-target', entry, targets, selected: at } });
}

/** Starts a picked runbook on a target; it answers the selected alert when that alert's target is the one chosen. */
function startOn(s: ConsoleState, entry: RunbookEntry, name: string, w: ConsoleWorld, alertCheck: string | undefined): Step {
  const target = { kind: entry.target, name };
  const fromAlert = alertRunbook(alertCheck, w);
  const answers = fromAlert && fromAlert.target.kind === target.kind && fromAlert.target.name === name;
  return begin(s, { runbook: entry.name, target, ...(answers && alertCheck !== undefined ? { check: alertCheck } : {}) });
}

/** The picker's two lists: ↑↓ (j/k), enter or a number takes one, esc or n closes. */
export function onRunbookDialog(s: ConsoleState, d: Extract<Dialog, { kind: 'pick-runbook' | 'pick-target' }>, c: Command, w: ConsoleWorld, alertCheck: string | undefined): Step {
  const count = d.kind === 'pick-runbook' ? d.entries.length : d.targets.length;
  if (c.id === 'cursor.up') return step({ ...s, dialog: { ...d, selected: Math.max(0, d.selected - 1) } });
  if (c.id === 'cursor.down') return step({ ...s, dialog: { ...d, selected: Math.min(count - 1, d.selected + 1) } });
  if (c.id === 'dialog.back' || c.id === 'dialog.no') return step({ ...s, dialog: undefined });
  const chosen = c.id === 'dialog.choose' ? (c.index < count ? c.index : undefined) : c.id === 'dialog.pick' ? d.selected : undefined;
  if (chosen === undefined) return step(s);
  if (d.kind === 'pick-runbook') {
    const entry = d.entries[chosen];
    return entry ? chooseRunbook(s, entry, w, alertCheck) : step(s);
  }
  const name = d.targets[chosen];
  return name === undefined ? step(s) : startOn(s, d.entry, name, w, alertCheck);
}
