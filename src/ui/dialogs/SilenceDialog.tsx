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
      {/* Already silenced: a second silence is added beside the first (the later end decides); say so. */}
      {isExternal(props.dialog.alert) && props.dialog.alert.external.silence ? (
        <Text wrap="wrap">{printable(`already silenced by ${props.dialog.alert.external.silence.createdBy || '?'} until ${new Date(props.dialog.alert.external.silence.endsAt).toISOString().slice(0, 16).replace('T', ' ')}Z: this adds a second silence beside it (the later end decides)`)}</Text>
      ) : null}
      {isExternal(props.dialog.alert) ? <Text wrap="wrap">{printable(`matchers: ${silenceMatchers(props.dialog.alert.external).map((m) => `${m.name}="${m.value}"`).join(', ')}`)}</Text> : null}
      <Text>
        {SILENCES.map(([label], i) => `${choiceKey(props.keys, i) ?? '-'}) ${label}`).join('   ')}   {firstKey(props.keys, 'dialog.back')} cancel
      </Text>
    </Box>
  );
}
