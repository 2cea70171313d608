import { Text } from 'ink';
import Spinner from 'ink-spinner';
import { formatDuration } from '../../config/duration.js';
import { C } from '../theme.js';
import type { Flash } from './reducer.js';

/** How long a status-line message stays. */
export const FLASH_MS = 10_000;

/** A message from outside the UI (a configuration reload), shown until `until`. */
export interface Notice {
  text: string;
  color: 'green' | 'red' | 'yellow';
  until: number;
}

/**
 * The status line, first of: the action under way (a spinner), the last message until it expires
 * (issue #11: "restart …: done" stayed forever), a notice, or what runs and how often.
 */
export function StatusLine(props: { busy: string | undefined; flash: Flash | undefined; notice: Notice | undefined; now: number; checks: number; refresh: number; interval: number }) {
  const { busy, flash, notice, now } = props;
  if (busy) {
    return (
      <Text>
        <Spinner type="dots" /> {busy}
      </Text>
    );
  }
  if (flash && now - flash.at < FLASH_MS) return <C color={flash.color}>{flash.text}</C>;
  if (notice && notice.until > now) return <C color={notice.color}>{notice.text}</C>;
  return <C dim>{`${props.checks} checks · refresh ${formatDuration(props.refresh)} · checks every ${formatDuration(props.interval)}`}</C>;
}
