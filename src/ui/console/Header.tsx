import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import { formatDuration } from '../../config/duration.js';
import type { CheckResult } from '../../domain/check.js';
import { overallStatus } from '../../domain/check.js';
import { clockText } from '../../domain/incident.js';
import type { IncidentBanner } from '../../state/incident-report.js';
import { statusColor } from '../format/cells.js';
import { C } from '../theme.js';

/** The header's words for the open incident (issue #18): its class, the RTO clock counting down, the RPO status; each red once breached. */
export function incidentCells(i: IncidentBanner, now: number): { text: string; breached: boolean }[] {
  const left = i.deadline - now;
  const rpo = i.rpo.worst;
  const rpoText = !rpo ? 'RPO —' : rpo.ageMs === undefined ? `RPO ${rpo.database}: no verified backup` : `RPO ${clockText(rpo.ageMs)}/${clockText(i.rpo.rpoMs)}`;
  return [
    { text: `${i.id} ${i.severity}`, breached: false },
    { text: left >= 0 ? `RTO ${clockText(left)} left` : `RTO BREACHED +${clockText(-left)}`, breached: left < 0 },
    { text: rpoText, breached: i.rpo.breached },
  ];
}

/**
 * Whether the header shows its clock yet. Issue #27 point 4: formatting it (`toLocaleTimeString`, ICU's
 * first date format in the process: ~15 ms of CPU in a profile of the console's start, the first
 * frame's largest single cost) waits for the frame after the first one, a macrotask later; every
 * header after that (a view switched, a reload) has it from its first frame.
 */
let clockDue = false;
function useClockDue(): boolean {
  const [due, setDue] = useState(clockDue);
  useEffect(() => {
    if (due) return undefined;
    const t = setTimeout(() => setDue((clockDue = true)), 0);
    return () => clearTimeout(t);
  }, [due]);
  return due;
}

/** The console's first line: stack name, host, clock, health, overall status, read-only mark, oldest alert, the open incident. */
/** `amCritical`: Alertmanager's active CRITICAL alerts (issue #25): the health and status are this stack's checks only, so they are counted beside them. */
export function Header(props: { name: string; hostname: string; now: number; checks: Record<string, CheckResult>; readOnly: boolean; oldestFiring: number | undefined; incident?: IncidentBanner | undefined; amCritical?: number }) {
  const checks = Object.values(props.checks);
  const overall = checks.length ? overallStatus(checks) : 'unknown';
  const health = props.checks['system:health'];
  const clock = useClockDue() ? ` ${new Date(props.now).toLocaleTimeString()}` : '';
  return (
    <Box>
      {/* The stack name is never cut (which stack is on fire comes first); the host and clock, then the oldest alert's age, give way. */}
      <Box flexShrink={0}>
        <C bold inverse color={statusColor(overall)}>{` ${props.name} `}</C>
      </Box>
      <Box flexShrink={1}>
        <Text wrap="truncate">{` ${props.hostname}${clock} `}</Text>
      </Box>
      <Box flexShrink={0}>
        <C bold color={health ? statusColor(health.status) : 'gray'}>{`health ${health?.value ?? '…'}%`}</C>
        {/* Issue #27: drawn before every source answered; the figure counts what ran, and says so. */}
        {health?.pending?.length ? <C color="gray">{` checking ${health.pending.length}…`}</C> : null}
        {/* Nothing found wrong yet, but not everything checked: not "OK" before it is. */}
        {health?.pending?.length && overall === 'ok' ? <C color="gray">{' CHECKING'}</C> : <C color={statusColor(overall)}>{` ${overall.toUpperCase()}`}</C>}
      </Box>
      {props.amCritical ? (
        // Gives way before the incident's clocks on a narrow terminal (after the host and clock).
        <Box flexShrink={2}>
          <Text wrap="truncate" bold color="red">{`  AM ${props.amCritical} CRITICAL`}</Text>
        </Box>
      ) : null}
      {props.readOnly ? (
        <Box flexShrink={0}>
          <C bold color="yellow">{'  [READ-ONLY]'}</C>
        </Box>
      ) : null}
      {props.incident ? (
        // Kept whole on a narrow terminal (the host name and the clock give way first): at 3 a.m. the clock matters most.
        <Box flexShrink={0}>
          <Text>{' '}</Text>
          {incidentCells(props.incident, props.now).map((c, i) => (
            <C key={i} bold color={c.breached ? 'red' : 'yellow'} inverse={i === 0}>{` ${c.text}${i === 0 ? ' ' : ''}`}</C>
          ))}
        </Box>
      ) : null}
      {props.oldestFiring !== undefined ? (
        <Box flexShrink={4}>
          <Text wrap="truncate" color="red">{`  oldest alert ${formatDuration(props.now - props.oldestFiring)}`}</Text>
        </Box>
      ) : null}
    </Box>
  );
}
