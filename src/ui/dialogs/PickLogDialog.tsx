import { Box } from 'ink';
import type { Dialog } from '../console/reducer.js';
import { fit, windowRows } from '../format/cells.js';
import { choiceKey, choiceRange, firstKey, type KeyBinding } from '../keys.js';
import { C } from '../theme.js';

/** The log picker: containers, then configured log files, windowed to the rows there are; keys from the table. */
export function PickLogDialog(props: { dialog: Extract<Dialog, { kind: 'pick-log' }>; keys: readonly KeyBinding[]; width: number; height: number }) {
  const { dialog, width, keys } = props;
  const win = windowRows(dialog.targets, dialog.selected, Math.max(3, props.height - 4));
  const range = dialog.targets.length > 1 ? choiceRange(keys, dialog.targets.length) : '';
  return (
    <Box flexDirection="column" borderStyle="round" width={Math.min(width, 80)} paddingX={1}>
      <C bold>Follow which log?</C>
      {win.rows.map((t, i) => {
        const n = win.offset + i;
        const k = choiceKey(keys, n);
        return (
          <C key={`${t.kind}:${t.id}`} inverse={n === dialog.selected}>
            {fit(`${k !== undefined ? `${k})` : '  '} ${t.kind === 'container' ? 'container' : 'file     '} ${t.name}${t.kind === 'file' ? `  ${t.id}` : ''}`, Math.min(width, 80) - 4)}
          </C>
        );
      })}
      {win.hidden > 0 ? <C dim>{`+${win.hidden} more`}</C> : null}
      <C dim>{`${firstKey(keys, 'cursor.up')}${firstKey(keys, 'cursor.down')} choose · ${firstKey(keys, 'dialog.pick')}${range ? ` or ${range}` : ''} follow · ${firstKey(keys, 'dialog.back')} cancel`}</C>
    </Box>
  );
}
