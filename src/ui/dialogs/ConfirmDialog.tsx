import { Box, Text } from 'ink';
import type { Dialog } from '../console/reducer.js';
import { firstKey, type KeyBinding } from '../keys.js';
import { C } from '../theme.js';

/** The confirmation of a container action: its preview (exactly what will happen), then y / n from the key table. */
export function ConfirmDialog(props: { dialog: Extract<Dialog, { kind: 'confirm' }>; keys: readonly KeyBinding[]; width: number }) {
  const { dialog } = props;
  return (
    <Box flexDirection="column" borderStyle="round" width={Math.min(props.width, 90)} paddingX={1}>
      {dialog.preview.map((l, i) => (
        <C key={i} bold={i === 0} color={i === 0 ? 'yellow' : undefined} wrap="wrap">
          {l}
        </C>
      ))}
      <Text>
        <Text bold>{firstKey(props.keys, 'dialog.yes')}</Text> {dialog.action} now · <Text bold>{firstKey(props.keys, 'dialog.no')}</Text> cancel
      </Text>
    </Box>
  );
}
