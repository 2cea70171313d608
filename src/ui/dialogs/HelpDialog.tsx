import { Box } from 'ink';
import type { Dialog } from '../console/reducer.js';
import { helpLayout, helpLines } from '../console/help.js';
import { fit } from '../format/cells.js';
import { firstKey, type KeyBinding } from '../keys.js';
import { C } from '../theme.js';

/** Every key of a view, from the key table: two columns when one does not fit the height and the terminal is wide enough, else one that scrolls (↑/↓). */
export function HelpDialog(props: { dialog: Extract<Dialog, { kind: 'help' }>; keys: readonly KeyBinding[]; readOnly: boolean; width: number; height: number }) {
  const { dialog, width } = props;
  const lines = helpLines(props.keys, dialog.view, props.readOnly);
  const { columns, perPage, maxTop } = helpLayout(lines.length, width, props.height);
  const top = Math.min(dialog.top ?? 0, maxTop);
  const colW = Math.floor(width / columns);
  const cols = columns === 2 ? [lines.slice(0, perPage), lines.slice(perPage)] : [lines.slice(top, top + perPage)];
  const up = firstKey(props.keys, 'cursor.up');
  const down = firstKey(props.keys, 'cursor.down');
  return (
    <Box flexDirection="column" width={width}>
      <C bold>{`Keys of the ${dialog.view === 'logs' ? 'logs view' : 'dashboard'} (remap them in the config under \`keys:\`)`}</C>
      <Box>
        {cols.map((col, ci) => (
          <Box key={ci} flexDirection="column" width={colW}>
            {col.map((l) => (
              <C key={l.id} dim={l.refused}>
                {fit(l.text, colW - 1)}
              </C>
            ))}
          </Box>
        ))}
      </Box>
      {maxTop > 0 ? <C dim>{fit(`keys ${top + 1}–${top + perPage} of ${lines.length} · ${up}/${down} scroll`, width - 1)}</C> : null}
      <C dim>{`${firstKey(props.keys, 'dialog.back')} close`}</C>
    </Box>
  );
}
