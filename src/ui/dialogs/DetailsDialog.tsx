import { Box } from 'ink';
import { isExternal } from '../../domain/alertmanager.js';
import { printable } from '../../domain/printable.js';
import type { Dialog } from '../console/reducer.js';
import { fit, statusColor, wrapColumns } from '../format/cells.js';
import { firstKey, type KeyBinding } from '../keys.js';
import { C } from '../theme.js';

/** One probe result of a check, for the details dialog. */
export interface ProbeResult {
  at: number;
  status: string;
  message: string;
}

/**
 * An alert's details: title, message, since, then the probe history as a window the cursor keys
 * scroll. The header always shows; the message is bounded (issue #11: a corrupt database's
 * quick_check pushed the header off).
 */
export function DetailsDialog(props: { dialog: Extract<Dialog, { kind: 'details' }>; keys: readonly KeyBinding[]; width: number; height: number; history: (checkId: string) => ProbeResult[]; runbookHint?: (checkId: string) => string | undefined }) {
  const { dialog, width } = props;
  const a = dialog.alert;
  const inner = width - 4;
  const up = firstKey(props.keys, 'cursor.up');
  const down = firstKey(props.keys, 'cursor.down');
  const msg = a.message.split('\n').flatMap((line) => wrapColumns(line, inner));
  const msgRows = Math.max(1, Math.min(msg.length, Math.floor((props.height - 8) / 3)));
  const shownMsg = msg.length > msgRows ? [...msg.slice(0, msgRows - 1), fit(`${msg[msgRows - 1] ?? ''}… (+${msg.length - msgRows + 1} lines)`, inner)] : msg;
  // An Alertmanager alert has no probe history here: its labels (what a silence matches), its state and silence instead.
  const ext = isExternal(a) ? a.external : undefined;
  const extLines = ext
    ? [
        `Alertmanager: ${ext.state}${ext.inhibited ? ', inhibited by another alert' : ''}${ext.stale ? ' (Alertmanager unreachable: as it said last)' : ''}`,
        ...(ext.silence ? [`silenced by ${ext.silence.createdBy || '?'} until ${new Date(ext.silence.endsAt).toISOString().slice(0, 16).replace('T', ' ')}Z (silence ${ext.silence.id.slice(0, 8)}): ${ext.silence.comment}`] : []),
        'labels:',
        ...Object.entries(ext.labels).sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => `  ${k}="${v}"`),
      ].map((l) => printable(l))
    : [];
  const all = ext ? [] : props.history(a.checkId);
  // What F does for this alert (issue #16): "F: run service-recovery for api (esc, then F)".
  const hint = props.runbookHint?.(a.checkId);
  const f = firstKey(props.keys, 'alert.runbook');
  const runbook = hint ? `${f}: ${hint} (from the alert list: ${firstKey(props.keys, 'dialog.back')}, then ${f})` : undefined;
  const room = Math.max(1, props.height - 7 - shownMsg.length - (runbook ? 1 : 0));
  const end = Math.max(0, all.length - dialog.back);
  const hist = all.slice(Math.max(0, end - room), end);
  const older = Math.max(0, end - hist.length);
  return (
    <Box flexDirection="column" borderStyle="round" width={width} paddingX={1}>
      <C bold color={statusColor(a.status)}>{fit(`${a.checkId}: ${a.state} ${a.status.toUpperCase()}`, inner)}</C>
      {shownMsg.map((l, i) => (
        <C key={`m${i}`}>{l}</C>
      ))}
      <C>{fit(`failing since ${a.since ? new Date(a.since).toLocaleTimeString() : '-'}${a.firedAt ? ` · fired ${new Date(a.firedAt).toLocaleTimeString()}` : ''} · ${a.failStreak} failed / ${a.passStreak} passed in a row`, inner)}</C>
      {runbook ? <C bold color="cyan">{fit(runbook, inner)}</C> : null}
      {ext ? extLines.slice(0, room + 1).map((l, i) => <C key={`x${i}`}>{fit(l, inner)}</C>) : null}
      {ext ? null : <C bold>{fit(`probe history (newest last${older ? `; ${older} older: ${up}` : ''}${dialog.back ? `; ${dialog.back} newer: ${down}` : ''})`, inner)}</C>}
      {hist.map((h, i) => (
        <C key={i} color={statusColor(h.status as 'ok')}>
          {fit(`${new Date(h.at).toLocaleTimeString()} ${h.status.toUpperCase().padEnd(8)} ${h.message.replace(/\s+/g, ' ')}`, inner)}
        </C>
      ))}
      <C dim>{`${up}${down} scroll · ${firstKey(props.keys, 'dialog.back')} close`}</C>
    </Box>
  );
}
