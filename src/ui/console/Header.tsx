import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import { formatDuration } from '../../config/duration.js';
import type { CheckResult } from '../../domain/check.js';
import { overallStatus } from '../../domain/check.js';
import { clockText } from '../../domain/incident.js';
import type { IncidentBanner } from '../../state/incident-report.js';
import { statusColor } from '../format/cells.js';
import { textWidth } from '../ink/width.js';
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

/**
 * The words that give way on a narrow header, each whole or not at all (operator trial: at 80
 * columns the clock ran into "health" — "3:00:00…health" — and the oldest alert read "o…"): the host
 * name first, then "alert" of "oldest alert", then the oldest alert's age (the Alerts pane has it),
 * then the clock ('' in the first frame: useClockDue). `fixed`: the width of what never gives way
 * (stack name, health, marks, incident).
 */
export function headerFit(width: number, fixed: number, host: string, clock: string, oldest: string | undefined): { place: string; oldest: string } {
  const words = (...w: string[]) => ` ${w.filter(Boolean).join(' ')}${w.some(Boolean) ? ' ' : ''}`;
  const tries: [string, string][] = [
    [words(host, clock), oldest ? `  oldest alert ${oldest}` : ''],
    [words(clock), oldest ? `  oldest alert ${oldest}` : ''],
    [words(clock), oldest ? `  oldest ${oldest}` : ''],
    [words(clock), ''],
  ];
  return tries.map(([place, old]) => ({ place, oldest: old })).find((t) => fixed + textWidth(t.place) + textWidth(t.oldest) <= width) ?? { place: ' ', oldest: '' };
}

/** The console's first line: stack name, host, clock, health, overall status, read-only mark, the open incident, oldest alert — fitted to `width` (headerFit). */
/** `amCritical`: Alertmanager's active CRITICAL alerts (issue #25): the health and status are this stack's checks only, so they are counted beside them. */
export function Header(props: { name: string; hostname: string; now: number; checks: Record<string, CheckResult>; readOnly: boolean; oldestFiring: number | undefined; incident?: IncidentBanner | undefined; amCritical?: number; width?: number }) {
  const checks = Object.values(props.checks);
  const overall = checks.length ? overallStatus(checks) : 'unknown';
  const health = props.checks['system:health'];
  const clockOn = useClockDue();
  const name = ` ${props.name} `;
  const healthText = `health ${health?.value ?? '…'}%`;
  const pending = health?.pending?.length ? ` checking ${health.pending.length}…` : '';
  const status = health?.pending?.length && overall === 'ok' ? ' CHECKING' : ` ${overall.toUpperCase()}`;
  const am = props.amCritical ? `  AM ${props.amCritical} CRITICAL` : '';
  const ro = props.readOnly ? '  [READ-ONLY]' : '';
  const cells = props.incident ? incidentCells(props.incident, props.now).map((c, i) => ({ ...c, text: ` ${c.text}${i === 0 ? ' ' : ''}` })) : [];
  const fixed = [name, healthText, pending, status, am, ro, cells.length ? ' ' : '', ...cells.map((c) => c.text)].reduce((n, t) => n + textWidth(t), 0);
  const fit = headerFit(props.width ?? Infinity, fixed, props.hostname, clockOn ? new Date(props.now).toLocaleTimeString() : '', props.oldestFiring !== undefined ? formatDuration(props.now - props.oldestFiring) : undefined);
  return (
    <Box>
      {/* The stack name is never cut (which stack is on fire comes first); the host and clock, then the oldest alert's age, give way (headerFit). */}
      <Box flexShrink={0}>
        <C bold inverse color={statusColor(overall)}>{name}</C>
      </Box>
      <Box flexShrink={1}>
        <Text wrap="truncate">{fit.place}</Text>
      </Box>
      <Box flexShrink={0}>
        <C bold color={health ? statusColor(health.status) : 'gray'}>{healthText}</C>
        {/* Issue #27: drawn before every source answered; the figure counts what ran, and says so. */}
        {pending ? <C color="gray">{pending}</C> : null}
        {/* Nothing found wrong yet, but not everything checked: not "OK" before it is. */}
        <C color={pending && overall === 'ok' ? 'gray' : statusColor(overall)}>{status}</C>
      </Box>
      {am ? (
        // Gives way before the incident's clocks on a narrow terminal (after the host and clock).
        <Box flexShrink={2}>
          <Text wrap="truncate" bold color="red">{am}</Text>
        </Box>
      ) : null}
      {ro ? (
        <Box flexShrink={0}>
          <C bold color="yellow">{ro}</C>
        </Box>
      ) : null}
      {cells.length ? (
        // Kept whole on a narrow terminal (the host name and the clock give way first): at 3 a.m. the clock matters most.
        <Box flexShrink={0}>
          <Text>{' '}</Text>
          {cells.map((c, i) => (
            <C key={i} bold color={c.breached ? 'red' : 'yellow'} inverse={i === 0}>{c.text}</C>
          ))}
        </Box>
      ) : null}
      {fit.oldest ? (
        <Box flexShrink={4}>
          <Text wrap="truncate" color="red">{fit.oldest}</Text>
        </Box>
      ) : null}
    </Box>
  );
}
