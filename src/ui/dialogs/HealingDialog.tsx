import { Box } from 'ink';
import { fit } from '../format/cells.js';
import { firstKey, type KeyBinding } from '../keys.js';
import { C } from '../theme.js';

/** What the healing pane shows (issue #20), read by cli/console.ts from the state database as it opens. */
export interface HealView {
  /** Healing on, or off and why (heal.enabled false, --read-only). */
  on: boolean;
  why?: string;
  /** Who holds the `healer` lease ("this console", "watch (pid 812 on db1) since 03:12:04Z"), or nobody. */
  holder: string;
  /** One line per subject: its state, what is next and when. */
  subjects: { subject: string; stopped: boolean; text: string }[];
  /** The latest actions, newest first: when, what, how it ended. */
  recent: { at: number; text: string; failed: boolean }[];
}

const hhmmss = (t: number) => new Date(t).toISOString().slice(11, 19);

/** H: the healing pane — who heals, each service's healing, the latest actions (what was done, when). */
export function HealingDialog(props: { view: HealView | undefined; keys: readonly KeyBinding[]; width: number; height: number }) {
  const { view, width } = props;
  const inner = width - 4;
  if (!view) {
    return (
      <Box flexDirection="column" borderStyle="round" width={width} paddingX={1}>
        <C bold>Healing</C>
        <C dim>{fit('not available in this console', inner)}</C>
      </Box>
    );
  }
  const room = Math.max(2, props.height - 6 - view.subjects.length);
  const recent = view.recent.slice(0, room);
  const e = firstKey(props.keys, 'heal.enable');
  return (
    <Box flexDirection="column" borderStyle="round" width={width} paddingX={1}>
      <C bold color={view.on ? 'green' : 'yellow'}>{fit(`Healing ${view.on ? 'on' : `off (${view.why ?? ''})`} · healer: ${view.holder}`, inner)}</C>
      {view.subjects.length === 0 ? <C dim>{fit('no service has needed healing yet', inner)}</C> : null}
      {view.subjects.map((s) => (
        <C key={s.subject} color={s.stopped ? 'red' : undefined}>
          {fit(`${s.subject}: ${s.text}${s.stopped ? ` — ${e} on its heal: alert enables it` : ''}`, inner)}
        </C>
      ))}
      <C bold>{fit('Done (newest first)', inner)}</C>
      {recent.length === 0 ? <C dim>{fit('nothing yet', inner)}</C> : null}
      {recent.map((r, i) => (
        <C key={i} color={r.failed ? 'red' : undefined}>
          {fit(`${hhmmss(r.at)}Z ${r.text}`, inner)}
        </C>
      ))}
      <C dim>{`${firstKey(props.keys, 'dialog.back')} close`}</C>
    </Box>
  );
}
