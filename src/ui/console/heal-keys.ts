// The console's healing keys (issue #20), pure as the rest of the reducer: H opens the healing pane
// (a reading dialog: cli/console-heal.ts fills it), E enables healing of a subject again.

import { firstKey } from '../keys.js';
import { selectedAlert, type ConsoleState, type ConsoleWorld, type Effect, type Flash, type Step } from './reducer.js';

const step = (state: ConsoleState, ...effects: Effect[]): Step => ({ state, effects });
const flash = (text: string, color: Flash['color'], w: ConsoleWorld): Flash => ({ text, color, at: w.now });

/** E's subject: the selected alert's when it is a `heal:<subject>` alert, else the only subject whose healing stopped. */
export function healSubject(s: ConsoleState, w: ConsoleWorld): string | undefined {
  const a = selectedAlert(s, w);
  if (a?.checkId.startsWith('heal:')) return a.checkId.slice('heal:'.length);
  const stopped = w.healStopped ?? [];
  return stopped.length === 1 ? stopped[0] : undefined;
}

/** E (issue #20): healing of a subject on again, by an operator's word (App performs it, audited). */
export function enableHealing(s: ConsoleState, w: ConsoleWorld): Step {
  const subject = healSubject(s, w);
  const stopped = w.healStopped ?? [];
  if (subject) return step(s, { effect: 'heal.enable', subject });
  const text = stopped.length ? `${firstKey(w.keys, 'heal.enable')}: select the heal: alert of the service to enable (${stopped.join(', ')})` : `${firstKey(w.keys, 'heal.enable')}: healing is not stopped for any service`;
  return step({ ...s, flash: flash(text, 'yellow', w) });
}
