import { Box, Text } from 'ink';
import { formatDuration } from '../../config/duration.js';
import type { CheckResult } from '../../domain/check.js';
import { overallStatus } from '../../domain/check.js';
import { statusColor } from '../format/cells.js';
import { C } from '../theme.js';

/** The console's first line: stack name, host, clock, health, overall status, read-only mark, oldest alert. */
export function Header(props: { name: string; hostname: string; now: number; checks: Record<string, CheckResult>; readOnly: boolean; oldestFiring: number | undefined }) {
  const checks = Object.values(props.checks);
  const overall = checks.length ? overallStatus(checks) : 'unknown';
  const health = props.checks['system:health'];
  return (
    <Box>
      <C bold inverse color={statusColor(overall)}>{` ${props.name} `}</C>
      <Text>{` ${props.hostname} ${new Date(props.now).toLocaleTimeString()} `}</Text>
      <C bold color={health ? statusColor(health.status) : 'gray'}>{`health ${health?.value ?? '…'}%`}</C>
      <C color={statusColor(overall)}>{` ${overall.toUpperCase()}`}</C>
      {props.readOnly ? <C bold color="yellow">{'  [READ-ONLY]'}</C> : null}
      {props.oldestFiring !== undefined ? <C color="red">{`  oldest alert ${formatDuration(props.now - props.oldestFiring)}`}</C> : null}
    </Box>
  );
}
