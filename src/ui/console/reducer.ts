// Over 300 lines, knowingly: one exhaustive switch per view over every command id, so the compiler
// names each place a new command must be handled; split by view it would hide which keys compete.
// The console's input model (issue #15, part 3): a pure reducer over the key table's command ids.
// App.tsx resolves a key to a command through the table (listeningScopes), calls `reduce`, keeps
// the new state and performs the effects, which are plain data; nothing here touches the world.

import { isExternal } from '../../domain/alertmanager.js';
import type { Alert } from '../../domain/alerts.js';
import type { Result } from '../../domain/result.js';
import type { ContainerInfo, ContainerOutcome } from '../../domain/observations.js';
import { closesReading, onReading } from './help.js';
import { DIALOG_SCOPES, firstKey, type CommandId, type KeyBinding, type KeyScope } from '../keys.js';
import type { LogTarget } from '../LogsView.js';
import type { RunbookChoice } from '../../domain/runbook-map.js';
import { onRunbookDialog, openRunbookPicker, runAlertRunbook } from './runbook-picker.js';
import { previewAction } from './preview.js';
import { isTextDialog, onIncidentText, openDeclare, openNote, type IncidentDialog, type TextKey } from './incident-dialog.js';
import { enableHealing, healSubject } from './heal-keys.js';
import type { Severity } from '../../domain/incident.js';
import type { RunbookCatalog, RunbookEntry, RunbookStart, RunbookTargetKind } from './runbook-wizard.js';
import { alertIndex, containerIndex, selectedAlert, selectedContainer } from './selection.js';
import { containerKeyOf, containerLogTarget, containerOfCheck, onHostKey, pickLogTargets } from './hosts.js';

/** What a container command does. */
export type ContainerVerb = 'restart' | 'stop' | 'start';

/** The pane of the dashboard that takes the pane keys. */
export type Focus = 'containers' | 'alerts';

/** The view in front: the dashboard, a followed log, the restore wizard, or a runbook's wizard (issue #16). */
export type View = { kind: 'dashboard' } | { kind: 'logs'; target: LogTarget } | { kind: 'wizard' } | { kind: 'runbook'; start: RunbookStart };

/** A dialog over the view (each drawn by its own file in src/ui/dialogs/). */
export type Dialog =
  | { kind: 'confirm'; action: ContainerVerb; container: ContainerInfo; preview: string[] }
  | { kind: 'silence'; alert: Alert }
  /** `back`: how many of the newest probe results are scrolled past (↑ shows older ones). */
  | { kind: 'details'; alert: Alert; back: number }
  | { kind: 'pick-log'; targets: LogTarget[]; selected: number }
  /** The runbook picker (`:`), then the target among the configured entries of its kind. */
  | { kind: 'pick-runbook'; entries: readonly RunbookEntry[]; selected: number }
  | { kind: 'pick-target'; entry: RunbookEntry; targets: readonly string[]; selected: number }
  | { kind: 'help'; view: 'dashboard' | 'logs'; top?: number }
  /** I and N (issue #18): typed text, so they take raw keys (`text` events). */
  | IncidentDialog
  | { kind: 'healing' } // H (issue #20): the healing pane (App asks the injected `healing` at each frame)
  | { kind: 'maintenance' }; // M (issue #23): the log review and the probes (the injected `maintenance` computes them off the render path)

/** A status-line message; `at` says when, so it expires (issue #11). */
export interface Flash {
  text: string;
  color: 'green' | 'red' | 'yellow';
  at: number;
}

/** Everything the console decides on a key: focus, selection, view, dialog, status line. */
export interface ConsoleState {
  focus: Focus;
  /** The selected row of the containers table (in its order: problems first), used when its container (selCName) is gone. */
  selC: number;
  /** The selected container, by name (operator trial): the table re-sorts as containers fail and recover; r / x / S act on the one chosen, not on what slid into its row. */
  selCName?: string | undefined;
  /** The selected alert's row, used when its check (selAId) is gone from the list. */
  selA: number;
  /** The selected alert, by check id: the list re-sorts as alerts come and go; a key acts on the alert looked at, not on what slid into its row. */
  selAId?: string | undefined;
  view: View;
  dialog?: Dialog | undefined;
  /** A container action under way ("restart web…"): another one waits. */
  busy?: string | undefined;
  hostFilter?: string | undefined; // the containers pane's host filter (`h`, issue #25): `local` or a host; undefined: all
  flash?: Flash | undefined;
}

/** A command from the key table; `dialog.choose` carries which choice (0-based) its key takes. */
export type Command = { id: Exclude<CommandId, 'dialog.choose'> } | { id: 'dialog.choose'; index: number };

/** What the reducer is driven by: a command, a view in front going back, a container action ending. */
export type ConsoleEvent =
  | { type: 'command'; command: Command }
  /** The restore wizard or a runbook's went back to the dashboard (each owns its own keys and phases). */
  | { type: 'wizard.closed' }
  | { type: 'task.ended'; verb: ContainerVerb; name: string; result: Result<ContainerOutcome> }
  /** A raw key for a text dialog (I, N), and what an incident action answered. */
  | ({ type: 'text' } & TextKey)
  | { type: 'said'; text: string; color: Flash['color'] };

/** What App does for the reducer, described as data. */
export type Effect =
  | { effect: 'quit' }
  | { effect: 'refresh' }
  | { effect: 'container'; verb: ContainerVerb; container: ContainerInfo }
  | { effect: 'audit'; action: string; target: string; outcome: 'refused' | 'cancelled'; detail?: string }
  | { effect: 'ack'; alert: Alert }
  | { effect: 'silence'; alert: Alert; ms: number }
  /** The restore wizard opened: read which databases have an unfinished restore (its choices say so). */
  | { effect: 'wizard.opened' }
  | { effect: 'incident.declare'; severity: Severity; title: string }
  | { effect: 'incident.note'; id: string; text: string }
  | { effect: 'heal.enable'; subject: string } // E (issue #20): an operator enables healing of a subject again
  | { effect: 'maint.review' }; // R in the maintenance view (issue #23): review the logs again

/** The world as a key finds it, read by App from the store and the config at that moment. */
export interface ConsoleWorld {
  keys: readonly KeyBinding[];
  readOnly: boolean;
  now: number;
  /** The containers in the table's order (problems first). */
  containers: readonly ContainerInfo[];
  /** The alerts in the Alerts pane's order (visibleAlerts). */
  alerts: readonly Alert[];
  /** The target of each check (a container check's target is the container's name). */
  checkTargets: Readonly<Record<string, string | undefined>>;
  /** How many databases the config names (the restore wizard needs one). */
  databases: number;
  /** The configured log files (`logs:`), after the containers in the log picker. */
  logFiles: readonly LogTarget[];
  /** How many probe results of a check the details dialog can scroll through. */
  historyCount: (checkId: string) => number;
  /** The runbook catalog (`:`), as cli/console.ts loaded it. */
  runbooks: RunbookCatalog;
  /** The runbook for an alert's check (runbookForCheck on its latest result), if one fits. */
  runbookFor: (checkId: string) => RunbookChoice | undefined;
  /** The entries a runbook of a kind may act on (names; mount points for host; failback: the pairs' primaries). */
  targets: (kind: Exclude<RunbookTargetKind, 'none'>, runbook?: string) => readonly string[];
  /** The open incident (issue #18), if any. */
  incident?: { id: string; severity: Severity } | undefined;
  /** The subjects whose healing stopped (their `heal:<subject>` check is CRITICAL, issue #20). */
  healStopped?: readonly string[] | undefined;
  hostChoices?: readonly string[] | undefined; // what `h` cycles through (issue #25): local (when configured), each host
  dialogSize?: { width: number; height: number }; // the room a dialog has (the help scrolls within it)
}

/** The reducer's answer: the next state and what App must do. */
export interface Step {
  state: ConsoleState;
  effects: Effect[];
}

/** How long a silence can be chosen for, in the silence dialog's order. */
export const SILENCES: readonly (readonly [string, number])[] = [
  ['15m', 15 * 60_000],
  ['1h', 3_600_000],
  ['4h', 4 * 3_600_000],
  ['24h', 24 * 3_600_000],
];

/** The console as it starts: without Docker in the config the Containers pane has nothing to do, so Alerts starts focused. */
export function initialConsoleState(dockerConfigured: boolean): ConsoleState {
  return { focus: dockerConfigured ? 'containers' : 'alerts', selC: 0, selA: 0, view: { kind: 'dashboard' } };
}

/**
 * The scopes a key is looked up in, first scope first; undefined while the logs view is in front
 * without a dialog (it takes raw keys: its filter prompt takes any text, "q" included).
 */
export function listeningScopes(s: ConsoleState): readonly KeyScope[] | undefined {
  if (s.dialog || s.view.kind === 'wizard' || s.view.kind === 'runbook') return DIALOG_SCOPES;
  if (s.view.kind === 'logs') return undefined;
  return [s.focus, 'dashboard', 'global'];
}

export { alertIndex, containerIndex, selectedAlert, selectedContainer } from './selection.js';

export { pickLogTargets } from './hosts.js';

/** Issue #25: an Alertmanager alert is acknowledged and silenced in Alertmanager, never here. */
const amOnly = (checkId: string) => `${checkId} is Alertmanager's: nothing to acknowledge here; s silences it in Alertmanager`;

/** Exhaustiveness guard for switches over unions. */
export function assertNever(x: never): never {
  throw new Error(`unexpected: ${JSON.stringify(x)}`);
}

/** The console's one transition function: pure, so every key's meaning is tested without rendering. */
export function reduce(s: ConsoleState, e: ConsoleEvent, w: ConsoleWorld): Step {
  switch (e.type) {
    case 'command':
      if (s.dialog) return onDialog(s, s.dialog, e.command, w);
      switch (s.view.kind) {
        case 'dashboard':
          return onDashboard(s, e.command, w);
        case 'logs':
          return onLogs(s, e.command);
        case 'wizard':
        case 'runbook':
          // A wizard takes its own keys (App hands them over); it says when it goes back.
          return same(s);
        default:
          return assertNever(s.view);
      }
    case 'wizard.closed':
      return same({ ...s, view: { kind: 'dashboard' } });
    case 'text':
      return isTextDialog(s.dialog) ? onIncidentText(s, s.dialog, e, w) : same(s);
    case 'said':
      return same({ ...s, flash: flash(e.text, e.color, w) });
    case 'task.ended': {
      const r = e.result;
      const flash: Flash = r.ok
        ? { text: `${e.verb} ${e.name}: ${r.value.note}`, color: r.value.exitedAgain ? 'red' : 'green', at: w.now }
        : { text: `${e.verb} ${e.name} failed: ${r.error.message}`, color: 'red', at: w.now };
      return { state: { ...s, busy: undefined, flash }, effects: [{ effect: 'refresh' }] };
    }
    default:
      return assertNever(e);
  }
}

const same = (state: ConsoleState, ...effects: Effect[]): Step => ({ state, effects });

const flash = (text: string, color: Flash['color'], w: ConsoleWorld): Flash => ({ text, color, at: w.now });

/** Keys of the logs view that are the console's business (the view itself filters, pauses, jumps). */
function onLogs(s: ConsoleState, c: Command): Step {
  switch (c.id) {
    case 'app.quit':
      return same(s, { effect: 'quit' });
    case 'app.help':
      return same({ ...s, dialog: { kind: 'help', view: 'logs' } });
    case 'logs.back':
      return same({ ...s, view: { kind: 'dashboard' } });
    default:
      return same(s);
  }
}

/**
 * A dialog's keys. Esc (dialog.back) never confirms anything: it cancels a confirmation, closes
 * every other dialog (issue #10).
 */
function onDialog(s: ConsoleState, d: Dialog, c: Command, w: ConsoleWorld): Step {
  const close = { ...s, dialog: undefined };
  switch (d.kind) {
    case 'confirm':
      if (c.id === 'dialog.yes') {
        return same({ ...close, busy: `${d.action} ${d.container.name}…`, flash: undefined }, { effect: 'container', verb: d.action, container: d.container });
      }
      if (c.id === 'dialog.no' || c.id === 'dialog.back') {
        return same({ ...close, flash: flash(`${d.action} ${d.container.name}: cancelled`, 'yellow', w) }, { effect: 'audit', action: `container.${d.action}`, target: d.container.name, outcome: 'cancelled' });
      }
      return same(s);
    case 'silence': {
      const choice = c.id === 'dialog.choose' ? SILENCES[c.index] : undefined;
      // An Alertmanager alert (issue #25) is silenced there: App says how it went once Alertmanager answers.
      const what = isExternal(d.alert) ? `asking Alertmanager to silence ${d.alert.checkId} for ${choice?.[0] ?? ''}…` : `${d.alert.checkId} silenced for ${choice?.[0] ?? ''}`;
      if (choice) return same({ ...close, flash: flash(what, 'yellow', w) }, { effect: 'silence', alert: d.alert, ms: choice[1] });
      return c.id === 'dialog.back' || c.id === 'dialog.no' ? same(close) : same(s);
    }
    case 'pick-log': {
      const chosen = c.id === 'dialog.choose' ? d.targets[c.index] : c.id === 'dialog.pick' ? d.targets[d.selected] : undefined;
      if (chosen) return same({ ...close, view: { kind: 'logs', target: chosen } });
      if (c.id === 'cursor.up') return same({ ...s, dialog: { ...d, selected: Math.max(0, d.selected - 1) } });
      if (c.id === 'cursor.down') return same({ ...s, dialog: { ...d, selected: Math.min(d.targets.length - 1, d.selected + 1) } });
      return c.id === 'dialog.back' || c.id === 'dialog.no' ? same(close) : same(s);
    }
    case 'details':
      if (c.id === 'cursor.up') return same({ ...s, dialog: { ...d, back: Math.min(d.back + 1, Math.max(0, w.historyCount(d.alert.checkId) - 1)) } });
      if (c.id === 'cursor.down') return same({ ...s, dialog: { ...d, back: Math.max(0, d.back - 1) } });
      return closesReading(c) ? same(close) : same(s);
    case 'help':
    case 'healing':
    case 'maintenance':
      return onReading(s, d, c, w);
    case 'pick-runbook':
    case 'pick-target':
      return onRunbookDialog(s, d, c, w, selectedAlert(s, w)?.checkId);
    case 'incident-declare':
    case 'incident-note':
      return c.id === 'dialog.back' ? same(close) : same(s); // App hands them raw keys (`text`)
    default:
      return assertNever(d);
  }
}

/** The dashboard's keys: a focused pane's, the dashboard's and the global ones. */
// eslint-disable-next-line complexity -- one case per dashboard command; the exhaustive switch is the map (ARCHITECTURE.md "House rules")
function onDashboard(s: ConsoleState, c: Command, w: ConsoleWorld): Step {
  const binding = w.keys.find((b) => b.id === c.id);
  if (binding?.dangerous && w.readOnly) {
    // Said, and audited, rather than silent (docs/STYLE.md §6).
    // A dashboard-wide command (the restore wizard) acts on no selected row: its target is itself.
    const target = (binding.scope === 'alerts' ? selectedAlert(s, w)?.checkId : binding.scope === 'containers' ? containerKeyOf(selectedContainer(s, w)) : binding.id === 'restore.wizard' ? 'databases' : binding.id === 'runbook.pick' ? 'runbooks' : binding.id.startsWith('incident.') ? (w.incident?.id ?? 'incident') : binding.id === 'heal.enable' ? healSubject(s, w) : undefined) ?? '-';
    return same(
      { ...s, flash: flash(`${binding.description.split(' (')[0] ?? binding.id}: refused — opsdeck runs in --read-only mode`, 'red', w) },
      { effect: 'audit', action: binding.id, target, outcome: 'refused', detail: 'read-only mode' },
    );
  }
  switch (c.id) {
    case 'app.quit':
      return same(s, { effect: 'quit' });
    case 'app.help':
      return same({ ...s, dialog: { kind: 'help', view: 'dashboard' } });
    case 'app.refresh':
      return same({ ...s, flash: flash('running every check now', 'green', w) }, { effect: 'refresh' });
    case 'focus.next':
      return same({ ...s, focus: s.focus === 'containers' ? 'alerts' : 'containers' });
    case 'focus.alerts':
      return same({ ...s, focus: 'alerts' });
    case 'cursor.up':
    case 'cursor.down': {
      const delta = c.id === 'cursor.up' ? -1 : 1;
      if (s.focus === 'containers') {
        const k = Math.max(0, Math.min(Math.max(0, w.containers.length - 1), containerIndex(s, w.containers) + delta));
        return same({ ...s, selC: k, selCName: containerKeyOf(w.containers[k]) });
      }
      const i = Math.max(0, Math.min(Math.max(0, w.alerts.length - 1), alertIndex(s, w.alerts) + delta));
      return same({ ...s, selA: i, selAId: w.alerts[i]?.checkId });
    }
    case 'containers.host':
      return same(onHostKey(s, w));
    case 'container.logs': {
      const sc = selectedContainer(s, w);
      const target: LogTarget | undefined = sc ? containerLogTarget(sc) : w.logFiles[0];
      return target ? same({ ...s, view: { kind: 'logs', target } }) : same(s);
    }
    case 'logs.open': {
      const targets = pickLogTargets(w);
      if (targets.length === 0) return same({ ...s, flash: flash('no log to follow: no container seen and no `logs:` files in the config', 'yellow', w) });
      return same({ ...s, dialog: { kind: 'pick-log', targets, selected: 0 } });
    }
    case 'restore.wizard':
      if (w.databases === 0) return same({ ...s, flash: flash('restore wizard: no database in the config (`databases:`)', 'yellow', w) });
      return same({ ...s, view: { kind: 'wizard' } }, { effect: 'wizard.opened' });
    case 'runbook.pick':
      return openRunbookPicker(s, w);
    case 'alert.runbook':
      return runAlertRunbook(s, w, selectedAlert(s, w)?.checkId);
    case 'incident.declare':
      return openDeclare(s, w);
    case 'incident.note':
      return openNote(s, w);
    case 'heal.pane':
      return same({ ...s, dialog: { kind: 'healing' } });
    case 'heal.enable':
      return enableHealing(s, w);
    case 'maint.pane':
      return same({ ...s, dialog: { kind: 'maintenance' } });
    case 'container.restart':
    case 'container.stop':
    case 'container.start': {
      const sc = selectedContainer(s, w);
      if (!sc) return same(s);
      return confirm(s, c.id === 'container.restart' ? 'restart' : c.id === 'container.stop' ? 'stop' : 'start', sc, w);
    }
    case 'alert.restart': {
      const a = selectedAlert(s, w);
      const sc = a ? containerOfCheck(a.checkId, w.checkTargets[a.checkId], w.containers) : undefined;
      if (!sc) return same({ ...s, flash: flash(`${firstKey(w.keys, 'alert.restart')}: the selected alert is not a container's (${firstKey(w.keys, 'focus.next')} to Containers to restart one)`, 'yellow', w) });
      return confirm(s, 'restart', sc, w);
    }
    case 'alert.ack': {
      const a = selectedAlert(s, w);
      if (a && isExternal(a)) return same({ ...s, flash: flash(amOnly(a.checkId), 'yellow', w) });
      return a ? same({ ...s, flash: flash(`${a.checkId} acknowledged`, 'green', w) }, { effect: 'ack', alert: a }) : same(s);
    }
    case 'alert.silence': {
      const a = selectedAlert(s, w);
      return a ? same({ ...s, dialog: { kind: 'silence', alert: a } }) : same(s);
    }
    case 'alert.details': {
      const a = selectedAlert(s, w);
      return a ? same({ ...s, dialog: { kind: 'details', alert: a, back: 0 } }) : same(s);
    }
    // Keys of other views: they do nothing on the dashboard.
    case 'logs.filter':
    case 'logs.pause':
    case 'logs.jump':
    case 'logs.now':
    case 'logs.back':
    case 'dialog.yes':
    case 'dialog.no':
    case 'dialog.back':
    case 'dialog.skip':
    case 'dialog.pick':
    case 'dialog.choose':
      return same(s);
    default:
      return assertNever(c);
  }
}

/** Opens the confirmation of a container action, unless another one is under way. */
function confirm(s: ConsoleState, action: ContainerVerb, container: ContainerInfo, w: ConsoleWorld): Step {
  if (s.busy) return same({ ...s, flash: flash(`wait: ${s.busy}`, 'yellow', w) });
  return same({ ...s, dialog: { kind: 'confirm', action, container, preview: previewAction(action, container, w.now) } });
}

export { keyEvent, resolveCommand } from './resolve-command.js';
