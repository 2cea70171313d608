import { Box, Text } from 'ink';
import { DEFAULT_CLASSES, SEVERITIES } from '../../domain/incident.js';
import type { IncidentDialog as IncidentDialogState } from '../console/incident-dialog.js';
import { firstKey, type KeyBinding } from '../keys.js';
import { C } from '../theme.js';

/** I: declare an incident (severity ↑/↓, a title); N: a note on the open incident (issue #18). */
export function IncidentDialog(props: { dialog: IncidentDialogState; keys: readonly KeyBinding[]; width: number }) {
  const d = props.dialog;
  const back = firstKey(props.keys, 'dialog.back');
  if (d.kind === 'incident-note') {
    return (
      <Box flexDirection="column" borderStyle="round" width={Math.min(props.width, 90)} paddingX={1}>
        <C bold>{`Note on ${d.id} (${d.severity}):`}</C>
        <Text wrap="truncate-start">{`> ${d.text}█`}</Text>
        <Text dimColor>{`enter add to the timeline · ${back} cancel`}</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" borderStyle="round" width={Math.min(props.width, 90)} paddingX={1}>
      <C bold>Declare an incident</C>
      <Text>
        {'severity: '}
        {SEVERITIES.map((s) => (s === d.severity ? `[${s}]` : ` ${s} `)).join(' ')}
        {`  ${DEFAULT_CLASSES[d.severity].meaning}`}
      </Text>
      <Text wrap="truncate-start">{`title> ${d.title}█`}</Text>
      <Text dimColor>{`↑/↓ severity · enter declare · ${back} cancel`}</Text>
    </Box>
  );
}
