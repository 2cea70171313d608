import { Box, Text } from 'ink';
import { C } from '../theme.js';
import type { FooterHint } from './hints.js';

/** The footer: the key hints of what listens now (from the key table), or why keys are off. */
export function Footer(props: { hints: readonly FooterHint[]; keysOn: boolean }) {
  if (!props.keysOn) return <C color="yellow">keys off: stdin is not a terminal · ctrl-c quits</C>;
  const { hints } = props;
  return (
    <Box>
      <Text wrap="truncate">
        {hints.map((h, i) => (
          <Text key={`${h.key}${i}`} dimColor={h.refused}>
            <Text bold>{h.key}</Text> {h.label}
            {h.refused ? '(read-only)' : ''}
            {i < hints.length - 1 ? ' · ' : ''}
          </Text>
        ))}
      </Text>
    </Box>
  );
}
