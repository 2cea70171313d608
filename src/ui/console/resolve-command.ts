// Looking a key up in the key table (issue #15), apart from the reducer so that file keeps to its size.

import type { KeyBinding, KeyScope } from '../keys.js';
import type { Command, ConsoleEvent, ConsoleState } from './reducer.js';

/** The command a key name stands for in the given scopes, with the choice a `dialog.choose` key takes. */
export function resolveCommand(keys: readonly KeyBinding[], name: string, scopes: readonly KeyScope[]): Command | undefined {
  for (const scope of scopes) {
    const hit = keys.find((b) => b.scope === scope && b.keys.includes(name));
    if (!hit) continue;
    if (hit.id === 'dialog.choose') return { id: 'dialog.choose', index: hit.keys.indexOf(name) };
    return { id: hit.id };
  }
  return undefined;
}

/**
 * A pane's key pressed while the other pane has the focus (`F` on Containers): what to say instead of
 * ignoring it silently — "F acts on the Alerts pane: tab moves there" — or undefined when the key
 * means nothing there either. (An operator's trial pressed F with Containers focused: nothing happened.)
 */
export function elsewhere(keys: readonly KeyBinding[], name: string, focus: 'alerts' | 'containers'): string | undefined {
  const other = focus === 'alerts' ? 'containers' : 'alerts';
  const hit = keys.find((b) => b.scope === other && b.keys.includes(name));
  if (!hit) return undefined;
  const move = keys.find((b) => b.id === (other === 'alerts' ? 'focus.alerts' : 'focus.next'))?.keys[0] ?? keys.find((b) => b.id === 'focus.next')?.keys[0];
  return `${name} acts on the ${other === 'alerts' ? 'Alerts' : 'Containers'} pane${move ? `: ${move} moves there` : ''}`;
}

/** What a key does on the dashboard or in a dialog: its command, else what `elsewhere` says about it. */
export function keyEvent(keys: readonly KeyBinding[], name: string, scopes: readonly KeyScope[], s: Pick<ConsoleState, 'view' | 'dialog' | 'focus'>): ConsoleEvent | undefined {
  const command = resolveCommand(keys, name, scopes);
  if (command) return { type: 'command', command };
  const text = s.view.kind === 'dashboard' && !s.dialog ? elsewhere(keys, name, s.focus) : undefined;
  return text ? { type: 'said', text, color: 'yellow' } : undefined;
}
