// Looking a key up in the key table (issue #15), apart from the reducer so that file keeps to its size.

import type { KeyBinding, KeyScope } from '../keys.js';
import type { Command } from './reducer.js';

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
