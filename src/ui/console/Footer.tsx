import { Box, Text } from 'ink';
import { memo } from 'react';
import { C } from '../theme.js';
import type { FooterHint } from './hints.js';

/**
 * The footer: the key hints of what listens now (from the key table), or why keys are off. Drawn
 * again only when a hint's key, label or refusal changed (issue #27: the hints are computed afresh at
 * every frame, and at idle they read the same — ~30 Text elements React and Ink would redo each refresh).
 */
export const Footer = memo(function Footer(props: { hints: readonly FooterHint[]; keysOn: boolean }) {
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
}, sameFooter);

/** Whether two footers draw the same: the same hints (key, label, refused) in the same order. */
export function sameFooter(a: { hints: readonly FooterHint[]; keysOn: boolean }, b: { hints: readonly FooterHint[]; keysOn: boolean }): boolean {
  if (a.keysOn !== b.keysOn || a.hints.length !== b.hints.length) return false;
  return a.hints.every((h, i) => {
    const o = b.hints[i];
    return !!o && h.key === o.key && h.label === o.label && h.refused === o.refused;
  });
}
