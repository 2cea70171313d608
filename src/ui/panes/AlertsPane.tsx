import { Box } from 'ink';
import { formatDuration } from '../../config/duration.js';
import { externalLabel, isExternal, type ExternalAlert } from '../../domain/alertmanager.js';
import type { Alert } from '../../domain/alerts.js';
import { severityRank } from '../../domain/check.js';
import type { AckState } from '../../state/acks.js';
import { alertStateLabel, fit, statusColor, windowRows, wrapColumns } from '../format/cells.js';
import { C, PaneTitle } from '../theme.js';

/**
 * Alerts that need eyes: firing first (critical before warning), then resolving, then pending.
 * Alertmanager's (issue #25, `external`) after opsdeck's own firing ones of the same severity.
 */
export function visibleAlerts(alerts: Record<string, Alert>, external: readonly ExternalAlert[] = []): Alert[] {
  const order = { firing: 0, resolving: 1, pending: 2, resolved: 3, ok: 4 };
  return [...Object.values(alerts), ...external]
    .filter((a) => a.state === 'firing' || a.state === 'resolving' || a.state === 'pending')
    .sort((a, b) => order[a.state] - order[b.state] || severityRank(b.status) - severityRank(a.status) || Number(isExternal(a)) - Number(isExternal(b)) || (a.since ?? 0) - (b.since ?? 0));
}

/** The alerts pane: severity, check, message, since, state (firing / acknowledged / silenced / resolving). */
export function AlertsPane(props: {
  alerts: Alert[];
  acks: (a: Alert) => AckState;
  selected: number;
  focused: boolean;
  width: number;
  height: number;
  now: number;
  /** What F does for an alert ("F: run service-recovery for api"), when a runbook fits it (issue #16). */
  runbookLine?: (checkId: string) => string | undefined;
  /** Sources that have not answered yet (the first seconds): no "every check passes" before they have. */
  checking?: number;
}) {
  const { alerts, width, now } = props;
  const firing = alerts.filter((a) => a.state === 'firing').length;
  // The selected alert's whole message, wrapped under the list (issue #11: at 120×32 the message
  // column was a bare "…"): readable without opening anything.
  const sel = alerts[Math.min(props.selected, alerts.length - 1)];
  const room = props.height - 1;
  const wrapped = sel && room >= 3 ? wrapColumns(`▸ ${sel.checkId}: ${sel.message.replace(/\s+/g, ' ')}`, width) : [];
  // The selected alert's runbook, under its message: "F: run service-recovery for api" (issue #16).
  const runbook = sel && room >= 3 ? props.runbookLine?.(sel.checkId) : undefined;
  // The list keeps at least half the pane (or all its rows); the message takes what is left, up to 6 lines.
  const detailRows = Math.min(wrapped.length + (runbook ? 1 : 0), 6, Math.max(room >= 3 ? 1 : 0, room - Math.min(alerts.length, Math.ceil(room / 2))));
  const withRunbook = !!runbook && detailRows >= 2;
  const msgRows = withRunbook ? detailRows - 1 : detailRows;
  const msg = wrapped.length > msgRows ? [...wrapped.slice(0, msgRows - 1), fit(`${wrapped[msgRows - 1] ?? ''}…`, width)] : wrapped;
  const detail = withRunbook ? [...msg, fit(`  ${runbook}`, width)] : msg;
  const win = windowRows(alerts, props.selected, Math.max(1, room - detail.length));
  return (
    <Box flexDirection="column">
      <PaneTitle focused={props.focused} color={firing ? 'red' : undefined}>{`Alerts (${firing} firing)`}</PaneTitle>
      {/* Issue #27: the first frame comes before every source answered — "every check passes" only once they all have. */}
      {alerts.length === 0 ? (props.checking ? <C color="gray">{`no alerts yet — ${props.checking} still checking…`}</C> : <C color="green">no alerts — every check passes</C>) : null}
      {win.rows.map((a, i) => {
        // An Alertmanager alert says so (AM active / silenced / inhibited): its acks and silences are Alertmanager's.
        const label = isExternal(a) ? externalLabel(a.external) : alertStateLabel(a, props.acks(a), now);
        const muted = label === 'AM silenced' || label === 'AM inhibited' || label === 'AM suppressed' || label.startsWith('silenced') || label === 'acknowledged' || a.state === 'pending';
        // An Alertmanager alert without a warning/critical severity is informational (INFO, listed last);
        // another sender's start in the future (its clock) is shown as just started, never a negative age.
        const shown = isExternal(a) && a.status === 'ok' ? 'INFO' : a.status.toUpperCase();
        // The worst status seen while firing stays (no CRITICAL ↔ WARNING flapping); what it is now is said first.
        const eased = a.current && a.current !== a.status ? `now ${a.current.toUpperCase()}: ` : '';
        const text = `${fit(shown, 8)} ${fit(a.checkId, 22)} ${fit(formatDuration(Math.max(0, now - (a.since ?? now))), 6)} ${fit(label, 13)} ${eased}${a.message}`;
        return (
          <C key={a.checkId} color={statusColor(a.status)} dim={muted} inverse={props.focused && win.offset + i === props.selected}>
            {fit(text, width)}
          </C>
        );
      })}
      {win.hidden > 0 ? <C dim>{`+${win.hidden} more`}</C> : null}
      {detail.map((l, i) => (
        <C key={`d${i}`} color={sel ? statusColor(sel.status) : undefined}>
          {l}
        </C>
      ))}
    </Box>
  );
}
