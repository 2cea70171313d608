import { Box } from 'ink';
import { terminalSafe } from '../../domain/printable.js';
import type { Dialog } from '../console/reducer.js';
import type { RunbookEntry } from '../console/runbook-wizard.js';
import { fit, windowRows, wrapColumns } from '../format/cells.js';
import { choiceKey, choiceRange, firstKey, type KeyBinding } from '../keys.js';
import { C } from '../theme.js';

/** Where a runbook comes from, as the picker marks it: a user runbook replacing a built-in says so. */
export function sourceLabel(e: Pick<RunbookEntry, 'source' | 'replaces'>): string {
  return e.source === 'built-in' ? 'built-in' : e.replaces ? 'user, replaces the built-in' : 'user';
}

/** What a target kind is called in the second list's question. */
const TARGET_WORDS: Record<RunbookEntry['target'], string> = { service: 'service', database: 'database', redis: 'Redis server', endpoint: 'endpoint', host: 'filesystem', app: 'application', none: 'target' };

/**
 * The runbook picker (`:`, issue #16): the catalog's runbooks (name, title, where from), windowed to
 * the rows there are, the selected one's description under the list; then, for a runbook whose kind
 * has more than one configured entry, which one. Titles and descriptions come from runbook files:
 * escaped before they reach the frame.
 */
export function PickRunbookDialog(props: { dialog: Extract<Dialog, { kind: 'pick-runbook' | 'pick-target' }>; keys: readonly KeyBinding[]; width: number; height: number }) {
  const { dialog, keys } = props;
  const width = Math.min(props.width, 100);
  const inner = width - 4;
  // name, title, source: the source column as wide as its longest label; the title takes the rest.
  const srcW = dialog.kind === 'pick-runbook' ? Math.max(...dialog.entries.map((e) => sourceLabel(e).length)) : 0;
  const nameW = dialog.kind === 'pick-runbook' ? Math.min(24, Math.max(...dialog.entries.map((e) => e.name.length))) : 0;
  const items =
    dialog.kind === 'pick-runbook'
      ? dialog.entries.map((e) => `${fit(terminalSafe(e.name), nameW)}  ${fit(terminalSafe(e.title), Math.max(10, inner - 6 - nameW - 2 - srcW - 2))}  ${sourceLabel(e)}`)
      : dialog.targets.map((t) => terminalSafe(t));
  const sel = dialog.kind === 'pick-runbook' ? dialog.entries[dialog.selected] : undefined;
  const about = sel ? wrapColumns(terminalSafe(sel.description), inner).slice(0, 2) : [];
  const win = windowRows(items, dialog.selected, Math.max(3, props.height - 5 - about.length));
  const range = items.length > 1 ? choiceRange(keys, items.length) : '';
  const title = dialog.kind === 'pick-runbook' ? 'Run which runbook?' : `Run ${dialog.entry.name} on which ${TARGET_WORDS[dialog.entry.target]}?`;
  return (
    <Box flexDirection="column" borderStyle="round" width={width} paddingX={1}>
      <C bold>{fit(title, inner)}</C>
      {win.rows.map((label, i) => {
        const n = win.offset + i;
        const k = choiceKey(keys, n);
        return (
          <C key={`${n}`} inverse={n === dialog.selected}>
            {fit(`${n === dialog.selected ? '▸' : ' '} ${k !== undefined ? `${k})` : '  '} ${label}`, inner)}
          </C>
        );
      })}
      {win.hidden > 0 ? <C dim>{`+${win.hidden} more`}</C> : null}
      {about.map((l, i) => (
        <C key={`a${i}`} dim>
          {l}
        </C>
      ))}
      <C dim>{fit(`${firstKey(keys, 'cursor.up')}${firstKey(keys, 'cursor.down')} choose · ${firstKey(keys, 'dialog.pick')}${range ? ` or ${range}` : ''} ${dialog.kind === 'pick-runbook' ? 'take it' : 'run it'} · ${firstKey(keys, 'dialog.back')} cancel`, inner)}</C>
    </Box>
  );
}
