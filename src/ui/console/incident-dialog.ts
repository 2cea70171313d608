// The console's incident keys (issue #18), pure as the rest of the reducer: I opens a small dialog
// (severity and title) that declares an incident, N one that adds a note to the open incident.
// Both take typed text, so App hands them raw keys (`text` events) instead of commands: enter
// submits, esc closes, backspace deletes, ↑/↓ (or tab, going round) change the severity, anything else is text.

import { SEVERITIES, type Severity } from '../../domain/incident.js';
import { firstKey } from '../keys.js';
import type { ConsoleState, ConsoleWorld, Effect, Flash, Step } from './reducer.js';

/** The incident dialogs: declare (a severity and a title), or a note on the open incident. */
export type IncidentDialog = { kind: 'incident-declare'; severity: Severity; title: string } | { kind: 'incident-note'; id: string; severity: Severity; text: string };

/** A raw key for a text dialog: its name in the key table's notation (`enter`, `escape`, `backspace`, `a`) and the text it typed. */
export interface TextKey {
  name: string;
  input: string;
}

/** Longest title or note the dialog takes (a title is one line of the header). */
export const MAX_TEXT = 200;

const step = (state: ConsoleState, ...effects: Effect[]): Step => ({ state, effects });
const flash = (text: string, color: Flash['color'], w: ConsoleWorld): Flash => ({ text, color, at: w.now });

/** Whether a dialog takes raw text keys. */
export function isTextDialog(d: { kind: string } | undefined): d is IncidentDialog {
  return d?.kind === 'incident-declare' || d?.kind === 'incident-note';
}

/** `I`: the declare dialog, P2 preselected (the class of a critical check); with one open, its class. */
export function openDeclare(s: ConsoleState, w: ConsoleWorld): Step {
  return step({ ...s, dialog: { kind: 'incident-declare', severity: w.incident?.severity ?? 'P2', title: '' } });
}

/** `N`: the note dialog on the open incident; without one, says how to declare it. */
export function openNote(s: ConsoleState, w: ConsoleWorld): Step {
  if (!w.incident) return step({ ...s, flash: flash(`no open incident to note: ${firstKey(w.keys, 'incident.declare')} declares one`, 'yellow', w) });
  return step({ ...s, dialog: { kind: 'incident-note', id: w.incident.id, severity: w.incident.severity, text: '' } });
}

/** One raw key in an incident dialog. */
export function onIncidentText(s: ConsoleState, d: IncidentDialog, k: TextKey, w: ConsoleWorld): Step {
  const close = { ...s, dialog: undefined };
  const text = d.kind === 'incident-declare' ? d.title : d.text;
  const set = (t: string): Step => step({ ...s, dialog: d.kind === 'incident-declare' ? { ...d, title: t } : { ...d, text: t } });
  switch (k.name) {
    case 'escape':
      return step(close);
    case 'enter': {
      const t = text.trim();
      if (!t) return step({ ...s, flash: flash(d.kind === 'incident-declare' ? 'type a title first (esc closes)' : 'type the note first (esc closes)', 'yellow', w) });
      if (d.kind === 'incident-declare') return step({ ...close, flash: flash(`declaring a ${d.severity} incident: ${t}`, 'yellow', w) }, { effect: 'incident.declare', severity: d.severity, title: t });
      return step({ ...close, flash: flash(`note added to ${d.id}`, 'green', w) }, { effect: 'incident.note', id: d.id, text: t });
    }
    case 'backspace':
      return set([...text].slice(0, -1).join(''));
    case 'up':
    case 'down':
    case 'tab': {
      if (d.kind !== 'incident-declare') return step(s);
      // ↑ more severe, ↓ less, stopping at P1 and P4; tab goes round.
      const i = SEVERITIES.indexOf(d.severity) + (k.name === 'up' ? -1 : 1);
      const next = k.name === 'tab' ? (i + SEVERITIES.length) % SEVERITIES.length : Math.max(0, Math.min(SEVERITIES.length - 1, i));
      return step({ ...s, dialog: { ...d, severity: SEVERITIES[next] as Severity } });
    }
    default: {
      // Printable text only: a control key or an escape sequence types nothing.
      const typed = k.name === 'space' ? ' ' : [...k.input].filter((c) => c >= ' ' && c !== '\x7f').join('');
      if (!typed || /^ctrl\+/.test(k.name)) return step(s);
      return set([...(text + typed)].slice(0, MAX_TEXT).join(''));
    }
  }
}
