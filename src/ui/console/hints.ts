import type { Alert } from '../../domain/alerts.js';
import { fitHints, footerHints, type CommandId, type KeyBinding, type KeyScope } from '../keys.js';
import type { ConsoleState } from './reducer.js';

/** Commands a firing alert makes urgent: the restore wizard for a database, restart for a container. */
export function urgentCommands(alerts: readonly Alert[]): Set<CommandId> {
  const out = new Set<CommandId>();
  for (const a of alerts) {
    if (a.state !== 'firing') continue;
    if (a.checkId.startsWith('sqlite:')) out.add('restore.wizard');
    if (a.checkId.startsWith('container:')) {
      out.add('container.restart');
      out.add('alert.restart');
    }
  }
  return out;
}

/** One footer hint: "r restart", dimmed and marked "(read-only)" when refused. */
export type FooterHint = ReturnType<typeof footerHints>[number];

/**
 * The footer's hints, generated from the key table for what listens now, fitted to `columns`.
 * What fires decides which hints never drop at 80 columns (issue #11): W while a database alert
 * fires (the only console path for a database incident), r while a container alert fires, F while
 * the selected alert fires and a runbook fits it — then F's hint names it: "F run service-recovery
 * for api" (`selected.runbook`, issue #16).
 */
export function consoleFooter(p: {
  keys: readonly KeyBinding[];
  readOnly: boolean;
  columns: number;
  state: Pick<ConsoleState, 'focus' | 'dialog' | 'view'>;
  hasContainers: boolean;
  alerts: readonly Alert[];
  selected?: { alert: Alert; runbook?: string | undefined };
}): FooterHint[] {
  const { dialog, focus } = p.state;
  const logs = p.state.view.kind === 'logs';
  const urgent = urgentCommands(p.alerts);
  const runbook = focus === 'alerts' ? p.selected?.runbook : undefined;
  if (runbook && p.selected?.alert.state === 'firing') urgent.add('alert.runbook');
  // An empty Containers pane offers none of its keys (they would do nothing).
  const paneScopes: KeyScope[] = focus === 'containers' && !p.hasContainers ? [] : [focus];
  // A confirmation offers its answers; the other dialogs say their own keys inside.
  const scopes: KeyScope[] = dialog ? (dialog.kind === 'confirm' ? ['dialog'] : []) : logs ? ['logs', 'global'] : [...paneScopes, 'dashboard', 'global'];
  const isUrgent = (id: CommandId) => !dialog && !logs && urgent.has(id);
  // A binding without a hint of its own (r on an alert) shows only while it is urgent.
  const table = p.keys.map((b) => (!b.hint && isUrgent(b.id) ? { ...b, hint: true } : b)).map((b) => (b.id === 'alert.runbook' && runbook ? { ...b, label: runbook } : b));
  const all = footerHints(table, scopes, p.readOnly);
  return fitHints([...all.filter((h) => isUrgent(h.id)), ...all.filter((h) => !isUrgent(h.id))], p.columns, (h) => h.scope === 'global' || isUrgent(h.id));
}
