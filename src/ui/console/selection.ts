import type { Alert } from '../../domain/alerts.js';
import type { ContainerInfo } from '../../domain/observations.js';
import type { ConsoleState, ConsoleWorld } from './reducer.js';
import { containerKey } from './hosts.js';

// The dashboard's selections (issue #15, operator trial): an alert is followed by its check id and a
// container by its name, so a re-sort never moves a key onto another row's subject.

/** The selected alert's row in `alerts`: its check's row, else the last row index clamped. */
export function alertIndex(s: ConsoleState, alerts: readonly Alert[]): number {
  const i = s.selAId === undefined ? -1 : alerts.findIndex((a) => a.checkId === s.selAId);
  return i >= 0 ? i : Math.max(0, Math.min(s.selA, alerts.length - 1));
}

/** The selected container's row in `containers`: its name's row, else the last row index clamped. */
export function containerIndex(s: ConsoleState, containers: readonly { name: string; host?: string | undefined }[]): number {
  const i = s.selCName === undefined ? -1 : containers.findIndex((c) => containerKey(c) === s.selCName);
  return i >= 0 ? i : Math.max(0, Math.min(s.selC, containers.length - 1));
}

/** The selected container, if the table has any. */
export function selectedContainer(s: ConsoleState, w: Pick<ConsoleWorld, 'containers'>): ContainerInfo | undefined {
  return w.containers[containerIndex(s, w.containers)];
}

/** The selected alert, if any fires. */
export function selectedAlert(s: ConsoleState, w: Pick<ConsoleWorld, 'alerts'>): Alert | undefined {
  return w.alerts[alertIndex(s, w.alerts)];
}
