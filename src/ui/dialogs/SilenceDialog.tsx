import { Box, Text } from 'ink';
import { isExternal, silenceMatchers } from '../../domain/alertmanager.js';
import { printable } from '../../domain/printable.js';
import { SILENCES, type Dialog } from '../console/reducer.js';
import { choiceKey, firstKey, type KeyBinding } from '../keys.js';
import { C } from '../theme.js';

/** How long to silence an alert for: one choice key per duration (the key table's `dialog.choose`). */
export function SilenceDialog(props: { dialog: Extract<Dialog, { kind: 'silence' }>; keys: readonly KeyBinding[]; width: number }) {
  return (
    <Box flexDirection="column" borderStyle="round" width={Math.min(props.width, 70)} paddingX={1}>
      <C bold>{`Silence ${props.dialog.alert.checkId}${isExternal(props.dialog.alert) ? ' in Alertmanager' : ''} for:`}</C>
      {/* Issue #25: exactly what the silence will match (every label of the alert, equal). */}
      {isExternal(props.dialog.alert) ? <Text wrap="wrap">{printable(`matchers: ${silenceMatchers(props.dialog.alert.external).map((m) => `${m.name}="${m.value}"`).join(', ')}`)}</Text> : null}
      <Text>
        {SILENCES.map(([label], i) => `${choiceKey(props.keys, i) ?? '-'}) ${label}`).join('   ')}   {firstKey(props.keys, 'dialog.back')} cancel
      </Text>
    </Box>
  );
}
