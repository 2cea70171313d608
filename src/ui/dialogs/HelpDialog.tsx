import { Box } from 'ink';
import type { Dialog } from '../console/reducer.js';
import { fit } from '../format/cells.js';
import { firstKey, type KeyBinding, type KeyScope } from '../keys.js';
import { C } from '../theme.js';

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

/** Every key of a view, from the key table; two columns when one does not fit the height and the terminal is wide enough. */
export function HelpDialog(props: { dialog: Extract<Dialog, { kind: 'help' }>; keys: readonly KeyBinding[]; readOnly: boolean; width: number; height: number }) {
  const { dialog, width } = props;
  const lines = helpLines(props.keys, dialog.view, props.readOnly);
  const room = Math.max(1, props.height - 2);
  const columns = lines.length > room && width >= 120 ? 2 : 1;
  const colW = Math.floor(width / columns);
  const perCol = Math.ceil(lines.length / columns);
  const cols = Array.from({ length: columns }, (_, i) => lines.slice(i * perCol, (i + 1) * perCol));
  const hidden = Math.max(0, perCol - room);
  return (
    <Box flexDirection="column" width={width}>
      <C bold>{`Keys of the ${dialog.view === 'logs' ? 'logs view' : 'dashboard'} (remap them in the config under \`keys:\`)`}</C>
      <Box>
        {cols.map((col, ci) => (
          <Box key={ci} flexDirection="column" width={colW}>
            {col.slice(0, hidden ? room - 1 : room).map((l) => (
              <C key={l.id} dim={l.refused}>
                {fit(l.text, colW - 1)}
              </C>
            ))}
          </Box>
        ))}
      </Box>
      {hidden ? <C dim>{`+${hidden * columns} more: a taller terminal shows every key`}</C> : null}
      <C dim>{`${firstKey(props.keys, 'dialog.back')} close`}</C>
    </Box>
  );
}
