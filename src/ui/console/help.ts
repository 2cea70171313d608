import { fit } from '../format/cells.js';
import type { Command, ConsoleState, ConsoleWorld, Dialog, Step } from './reducer.js';
import type { KeyBinding, KeyScope } from '../keys.js';

/** The scopes whose keys work in a view, in the order help lists them. */
export function viewScopes(view: 'dashboard' | 'logs'): KeyScope[] {
  return view === 'logs' ? ['logs', 'global'] : ['containers', 'alerts', 'dashboard', 'global'];
}

/** The `?` help of a view, one line per command, generated from the key table (docs/STYLE.md §6). */
export function helpLines(keys: readonly KeyBinding[], view: 'dashboard' | 'logs', readOnly: boolean): { id: string; text: string; refused: boolean }[] {
  return viewScopes(view).flatMap((scope) =>
    keys
      .filter((b) => b.scope === scope)
      .map((b) => {
        const refused = readOnly && !!b.dangerous;
        return { id: b.id, refused, text: `${fit(b.keys.join(', '), 13)} ${b.description}${refused ? ' — refused: read-only mode' : ''}` };
      }),
  );
}

/**
 * How `?` lays out `count` lines in a dialog of `width` × `height`: every line when they fit (in
 * two columns on a wide terminal), else one column that scrolls — `perPage` lines from `top`, with
 * a row saying which lines show (at 80×24 the last keys were cut off behind "+6 more", and `q`,
 * `?`, `R` with them). `maxTop` is the last `top` that still fills the page; the reducer keeps
 * `top` within it, so ↑ scrolls back at once after ↓ reached the end.
 */
export function helpLayout(count: number, width: number, height: number): { columns: 1 | 2; perPage: number; maxTop: number } {
  const room = Math.max(1, height - 2); // the title and the close line
  if (count <= room) return { columns: 1, perPage: count, maxTop: 0 };
  if (width >= 120 && Math.ceil(count / 2) <= room) return { columns: 2, perPage: Math.ceil(count / 2), maxTop: 0 };
  const perPage = Math.max(1, room - 1); // one row says where the page is
  return { columns: 1, perPage, maxTop: Math.max(0, count - perPage) };
}

/** The help's first line after ↑ (`by` -1) or ↓ (+1): within what the page can show (helpLayout). */
export function scrollHelp(top: number | undefined, by: number, keys: readonly KeyBinding[], view: 'dashboard' | 'logs', readOnly: boolean, size: { width: number; height: number }): number {
  const { maxTop } = helpLayout(helpLines(keys, view, readOnly).length, size.width, size.height);
  return Math.max(0, Math.min(maxTop, Math.min(top ?? 0, maxTop) + by));
}

/** A dialog that only shows something (help, details) closes with esc, q, enter or ?. */
export function closesReading(c: Command): boolean {
  return c.id === 'dialog.back' || c.id === 'app.quit' || c.id === 'dialog.pick' || c.id === 'app.help';
}

/** The keys of a dialog that only shows something: ↑/↓ scroll the help, R reviews the logs again in maintenance (issue #23), closesReading closes it. */
export function onReading(s: ConsoleState, d: Extract<Dialog, { kind: 'help' | 'healing' | 'maintenance' }>, c: Command, w: ConsoleWorld): Step {
  if (d.kind === 'help' && (c.id === 'cursor.up' || c.id === 'cursor.down')) {
    const top = scrollHelp(d.top, c.id === 'cursor.down' ? 1 : -1, w.keys, d.view, w.readOnly, w.dialogSize ?? { width: 80, height: 20 });
    return { state: { ...s, dialog: { ...d, top } }, effects: [] };
  }
  if (d.kind === 'maintenance' && c.id === 'app.refresh') return { state: s, effects: [{ effect: 'maint.review' }] };
  return { state: closesReading(c) ? { ...s, dialog: undefined } : s, effects: [] };
}
