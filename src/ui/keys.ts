import type { Key } from 'ink';

/** Where a key binding applies. 'global' keys work in every view unless a view claims the key. */
export type KeyScope = 'global' | 'dashboard' | 'containers' | 'alerts' | 'logs' | 'dialog';

/**
 * Every command of the console, by id: the console reducer (src/ui/console/reducer.ts) switches on
 * these exhaustively, so a new command is a line here, a row in KEY_TABLE and a case there.
 */
export const COMMAND_IDS = [
  'app.quit',
  'app.help',
  'app.refresh',
  'focus.next',
  'focus.alerts',
  'cursor.up',
  'cursor.down',
  'logs.open',
  'restore.wizard',
  'runbook.pick',
  'incident.declare',
  'incident.note',
  'heal.pane',
  'heal.enable',
  'maint.pane',
  'containers.host',
  'container.logs',
  'container.restart',
  'container.stop',
  'container.start',
  'alert.ack',
  'alert.silence',
  'alert.details',
  'alert.restart',
  'alert.runbook',
  'logs.filter',
  'logs.pause',
  'logs.jump',
  'logs.now',
  'logs.back',
  'dialog.yes',
  'dialog.no',
  'dialog.back',
  'dialog.skip',
  'dialog.pick',
  'dialog.choose',
] as const;

/** A command id of the key table. */
export type CommandId = (typeof COMMAND_IDS)[number];

/** One command of the console: its keys, what it does, where, and whether it changes the world. */
export interface KeyBinding {
  id: CommandId;
  keys: string[];
  description: string;
  scope: KeyScope;
  /** Changes the world (restart, stop…): refused, visibly, in --read-only mode. */
  dangerous?: boolean;
  /** Shown in the footer hints of its scope. */
  hint?: boolean;
  /** The footer's word for it, when the second half of its id does not say it ("runbooks", not "pick"). */
  label?: string;
}

/**
 * The one key table (docs/STYLE.md §6): footer hints and the `?` help are generated from it.
 * Key names: single characters, or `enter`, `escape`, `tab`, `up`, `down`, `left`, `right`,
 * `pageup`, `pagedown`, `ctrl+c`. Nothing is bound to tmux's prefix keys (ctrl+b, ctrl+a).
 */
export const KEY_TABLE: readonly KeyBinding[] = [
  { id: 'app.quit', keys: ['q', 'ctrl+c'], description: 'quit (restores the terminal)', scope: 'global', hint: true },
  { id: 'app.help', keys: ['?'], description: 'show every key of this view', scope: 'global', hint: true },
  { id: 'app.refresh', keys: ['R'], description: 'run every check now', scope: 'global' },
  { id: 'focus.next', keys: ['tab'], description: 'move focus: containers → alerts', scope: 'dashboard', hint: true },
  { id: 'focus.alerts', keys: ['A'], description: 'jump to the Alerts pane', scope: 'dashboard' },
  { id: 'cursor.up', keys: ['up', 'k'], description: 'select the previous row', scope: 'dashboard' },
  { id: 'cursor.down', keys: ['down', 'j'], description: 'select the next row', scope: 'dashboard' },
  { id: 'logs.open', keys: ['o'], description: 'open a log: pick a container or a configured log file', scope: 'dashboard', hint: true },
  { id: 'restore.wizard', keys: ['W'], description: 'restore wizard: a database from its backup, step by step (asks first)', scope: 'dashboard', dangerous: true, hint: true },
  // Issue #16: the keys ARCHITECTURE.md kept for runbooks (`:` and F) since issue #15.
  { id: 'runbook.pick', keys: [':'], description: 'runbook picker (choose a runbook and its target, then run it step by step; asks first)', scope: 'dashboard', dangerous: true, hint: true, label: 'runbooks' },
  // Issue #18: the keys ARCHITECTURE.md kept for incidents (I and N) since issue #15. Saved in the state database: refused under --read-only.
  { id: 'incident.declare', keys: ['I'], description: 'declare an incident (a severity P1–P4 and a title); its RTO clock starts', scope: 'dashboard', dangerous: true, label: 'incident' },
  { id: 'incident.note', keys: ['N'], description: 'add a note to the open incident\'s timeline', scope: 'dashboard', dangerous: true, label: 'note' },
  // Issue #20: the keys ARCHITECTURE.md kept for self-healing (H and E) since issue #15.
  { id: 'heal.pane', keys: ['H'], description: 'healing: who heals, what was done and when, what is next and when', scope: 'dashboard', label: 'healing' },
  { id: 'heal.enable', keys: ['E'], description: 'enable healing again of the service whose heal: alert is selected (or the only one stopped)', scope: 'dashboard', dangerous: true, label: 'heal on' },
  // Issue #23: the maintenance view — the daily log review and the probes, read-only (a review is recorded unless --read-only).
  { id: 'maint.pane', keys: ['M'], description: 'maintenance: the log review of the last 24 h (counts, top patterns, what is new) and the probes with their recorded values', scope: 'dashboard', label: 'maintenance' },
  // Issue #25: several Docker engines; the pane's title says which filter is on.
  { id: 'containers.host', keys: ['h'], description: 'containers of which host: all → local → each configured host → all', scope: 'dashboard', label: 'host' },
  { id: 'container.logs', keys: ['l', 'enter'], description: 'follow the selected container\'s log', scope: 'containers', hint: true },
  { id: 'container.restart', keys: ['r'], description: 'restart the selected container (asks first)', scope: 'containers', dangerous: true, hint: true },
  { id: 'container.stop', keys: ['x'], description: 'stop the selected container (asks first)', scope: 'containers', dangerous: true, hint: true },
  { id: 'container.start', keys: ['S'], description: 'start the selected container (asks first)', scope: 'containers', dangerous: true },
  // Acknowledging and silencing are saved in the state database: refused under --read-only (issue #12).
  { id: 'alert.ack', keys: ['a'], description: 'acknowledge the selected alert', scope: 'alerts', dangerous: true, hint: true },
  { id: 'alert.silence', keys: ['s'], description: 'silence the selected alert for a chosen time', scope: 'alerts', dangerous: true, hint: true },
  { id: 'alert.details', keys: ['enter'], description: 'details: the probe history behind the alert', scope: 'alerts', hint: true },
  // No hint of its own: the footer offers it only while a container alert fires.
  { id: 'alert.restart', keys: ['r'], description: 'restart the container behind the selected container alert (asks first)', scope: 'alerts', dangerous: true },
  // The footer names the runbook and its target for the selected alert ("F run service-recovery for api").
  { id: 'alert.runbook', keys: ['F'], description: "run the selected alert's runbook (restore-database opens the restore wizard; asks first)", scope: 'alerts', dangerous: true, hint: true, label: 'runbook' },
  { id: 'logs.filter', keys: ['/'], description: 'filter lines by a regular expression', scope: 'logs', hint: true },
  { id: 'logs.pause', keys: ['p', 'space'], description: 'pause / resume following', scope: 'logs', hint: true },
  { id: 'logs.jump', keys: ['g'], description: 'jump to when the oldest firing alert started', scope: 'logs', hint: true },
  { id: 'logs.now', keys: ['G'], description: 'skip to now: drop the lines not yet read (when the view is behind) and follow on', scope: 'logs', hint: true },
  { id: 'logs.back', keys: ['escape'], description: 'back to the dashboard', scope: 'logs', hint: true },
  { id: 'dialog.yes', keys: ['y'], description: 'confirm', scope: 'dialog', hint: true },
  // Esc never answers a question (issue #10: Esc bound to "no" skipped the critical-tables stage):
  // it closes a dialog that has not started anything, and asks again inside a running restore.
  { id: 'dialog.no', keys: ['n'], description: 'no: cancel, or stop a restore or a runbook where it is', scope: 'dialog', hint: true },
  { id: 'dialog.back', keys: ['escape'], description: 'back (closes a dialog; never answers a restore\'s question)', scope: 'dialog' },
  { id: 'dialog.skip', keys: ['s'], description: 'skip this restore or runbook step (only where offered; reported as skipped)', scope: 'dialog' },
  { id: 'dialog.pick', keys: ['enter'], description: 'take the selected choice (log picker, runbook picker, restore wizard)', scope: 'dialog' },
  // The n-th key takes the n-th choice (a silence's duration, a log, a restore's database or way).
  { id: 'dialog.choose', keys: ['1', '2', '3', '4', '5', '6', '7', '8', '9'], description: 'take the numbered choice (silence time, log, runbook, target, restore wizard)', scope: 'dialog' },
];

/** tmux's default and common prefix keys: never bound. */
export const FORBIDDEN_KEYS = ['ctrl+b', 'ctrl+a'];

/** Key names besides single characters and `ctrl+<letter>` (keyName's notation). */
const NAMED_KEYS = ['enter', 'escape', 'tab', 'space', 'up', 'down', 'left', 'right', 'pageup', 'pagedown'];

/** Other spellings people write for the named keys. */
const KEY_ALIASES: Record<string, string> = {
  return: 'enter',
  esc: 'escape',
  pgup: 'pageup',
  'page-up': 'pageup',
  page_up: 'pageup',
  pgdn: 'pagedown',
  pgdown: 'pagedown',
  'page-down': 'pagedown',
  page_down: 'pagedown',
  spc: 'space',
};

/**
 * Commands that must keep a key, or an operator can be stuck: quit, help, leaving the logs view,
 * leaving a dialog, and stopping a restore at its question (issue #13: `app.quit: []` was accepted).
 */
export const ESSENTIAL_COMMANDS: readonly CommandId[] = ['app.quit', 'app.help', 'logs.back', 'dialog.back', 'dialog.no'];

/**
 * The scopes a dialog (and the restore wizard) listens to: its own keys first, then the dashboard's
 * cursor keys (a list to move in, a history to scroll), then the global ones (q and ? close help).
 */
export const DIALOG_SCOPES: readonly KeyScope[] = ['dialog', 'dashboard', 'global'];

/**
 * The scopes the console listens to at once (src/ui/console/reducer.ts `listeningScopes`: a focused
 * pane with the dashboard and global keys; the logs view with global keys; a dialog or the restore
 * wizard with the dashboard's cursor keys). One key bound to two commands of one such group means
 * one of them never runs, so buildKeyTable refuses it, on the table as remapped.
 * A dialog also hears the global keys, after its own (q and ? close help and details): a dialog key
 * remapped onto a global one is that dialog's there — as before issue #15, where a dialog read only
 * its own keys — and esc (dialog.back, never unbound) still closes it, so this is not refused.
 */
export const ACTIVE_TOGETHER: readonly (readonly KeyScope[])[] = [
  ['containers', 'dashboard', 'global'],
  ['alerts', 'dashboard', 'global'],
  ['logs', 'global'],
  ['dialog', 'dashboard'],
];

/**
 * One key name in the table's notation, whatever the spelling (issue #13): `ctrl-B`, `Ctrl+b`, `C-b`
 * and `^B` are all `ctrl+b` (a terminal sends ctrl+B and ctrl+b alike); `Esc` is `escape`, `Return`
 * is `enter`, `" "` is `space`. A single character stays as it is (`R` and `r` are two keys).
 * Undefined for a name no terminal key produces (`R2`, `alt+x`).
 */
export function normalizeKey(raw: string): string | undefined {
  if (raw === ' ') return 'space';
  const k = raw.trim();
  if ([...k].length === 1) return k;
  const ctrl = /^(?:ctrl|control|c)\s*[-+]\s*(.)$/i.exec(k) ?? /^\^(.)$/.exec(k);
  if (ctrl) {
    const letter = (ctrl[1] ?? '').toLowerCase();
    return /^[a-z]$/.test(letter) ? `ctrl+${letter}` : undefined;
  }
  const lower = k.toLowerCase();
  const named = KEY_ALIASES[lower] ?? lower;
  return NAMED_KEYS.includes(named) ? named : undefined;
}

/**
 * Applies remappings from config (`keys: {container.restart: ["R"]}`). Refused, with the field:
 * an unknown command id, a key name no terminal sends, tmux's prefix keys in any spelling, an
 * empty list for an essential command, and one key for two commands the console listens to at once.
 */
/**
 * Keys kept for the features that come next (ARCHITECTURE.md "Reserved keys"): no command binds
 * them on the dashboard today and a remap of a dashboard or global command onto one is refused, so
 * they mean the same on every installation later. (`:` and F were kept for runbooks until issue #16
 * bound them: `runbook.pick`, `alert.runbook`; I and N for incidents until issue #18: `incident.declare`, `incident.note`.)
 * Esc is never bound to a confirmation or a skip (`dialog.back`).
 */
export const RESERVED_KEYS: Readonly<Record<string, string>> = {};

/** The dashboard commands a dialog (and the restore wizard) acts on: moving in a list. */
const DIALOG_HEARS: readonly CommandId[] = ['cursor.up', 'cursor.down'];

/** The only commands escape may be bound to: the ways back. */
const ESCAPE_COMMANDS: readonly string[] = ['dialog.back', 'logs.back'];

/** Where the reserved keys are kept free: the dashboard and everywhere (a dialog or the logs view may use them). */
const RESERVED_SCOPES: readonly KeyScope[] = ['global', 'dashboard', 'containers', 'alerts'];

export function buildKeyTable(remap: Record<string, string[]> = {}): KeyBinding[] {
  const normalized: Record<string, string[]> = {};
  for (const id of Object.keys(remap)) {
    if (!KEY_TABLE.some((b) => b.id === id)) throw new Error(`keys.${id}: unknown command (expected one of: ${KEY_TABLE.map((b) => b.id).join(', ')})`);
    const keys: string[] = [];
    for (const raw of remap[id] ?? []) {
      const k = normalizeKey(raw);
      if (k === undefined) throw new Error(`keys.${id}: ${JSON.stringify(raw)} is not a key name (expected one character, ctrl+<letter>, or one of: ${NAMED_KEYS.join(', ')})`);
      if (FORBIDDEN_KEYS.includes(k)) throw new Error(`keys.${id}: ${JSON.stringify(raw)} is ${k}, tmux's prefix key, and cannot be bound`);
      // Esc only goes back (issue #10: an Esc that answered skipped a restore stage); it is never a yes, a skip or an action.
      if (k === 'escape' && !ESCAPE_COMMANDS.includes(id)) throw new Error(`keys.${id}: escape only goes back (${ESCAPE_COMMANDS.join(', ')}); it never confirms, skips or acts`);
      const reserved = RESERVED_SCOPES.includes(KEY_TABLE.find((b) => b.id === id)?.scope ?? 'global') ? RESERVED_KEYS[k] : undefined;
      if (reserved !== undefined) throw new Error(`keys.${id}: ${JSON.stringify(raw)} is reserved for ${reserved} (ARCHITECTURE.md "Reserved keys")`);
      if (!keys.includes(k)) keys.push(k);
    }
    if (keys.length === 0 && (ESSENTIAL_COMMANDS as readonly string[]).includes(id)) throw new Error(`keys.${id}: expected at least one key (without one the console cannot ${id === 'app.quit' ? 'be quit' : `do ${id}`})`);
    normalized[id] = keys;
  }
  const table = KEY_TABLE.map((b) => (normalized[b.id] ? { ...b, keys: normalized[b.id] as string[] } : b));
  for (const group of ACTIVE_TOGETHER) {
    const owner = new Map<string, KeyBinding>();
    // A dialog hears the dashboard's cursor keys only (its own keys come first): a dialog key on the
    // same key as another dashboard command (N for "no" beside incident.note, issue #18) is no clash.
    const heard = (x: KeyBinding) => group.includes(x.scope) && !(group.includes('dialog') && x.scope === 'dashboard' && !DIALOG_HEARS.includes(x.id));
    for (const b of table.filter(heard)) {
      for (const k of b.keys) {
        const other = owner.get(k);
        if (other && other.id !== b.id) {
          const [mine, theirs] = normalized[b.id] ? [b, other] : [other, b];
          throw new Error(`keys.${mine.id}: ${k} is also bound to ${theirs.id} (${theirs.scope} keys work in the same view); one key, one command`);
        }
        owner.set(k, b);
      }
    }
  }
  return table;
}

/** The key name of an Ink input event, in the table's notation. */
export function keyName(input: string, key: Key): string {
  if (key.ctrl && input) return `ctrl+${input.toLowerCase()}`;
  if (key.return) return 'enter';
  if (key.escape) return 'escape';
  if (key.tab) return 'tab';
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (input === ' ') return 'space';
  return input;
}

/** The command bound to a key in the given scopes (first scope wins), if any. */
export function commandFor(table: readonly KeyBinding[], name: string, scopes: readonly KeyScope[]): KeyBinding | undefined {
  for (const scope of scopes) {
    const hit = table.find((b) => b.scope === scope && b.keys.includes(name));
    if (hit) return hit;
  }
  return undefined;
}

/** Footer hints for the active scopes: "r restart · x stop · ? help". Dangerous ones marked in read-only mode. */
export function footerHints(table: readonly KeyBinding[], scopes: readonly KeyScope[], readOnly: boolean): { id: CommandId; key: string; label: string; refused: boolean; scope: KeyScope }[] {
  return scopes.flatMap((scope) =>
    table
      .filter((b) => b.scope === scope && b.hint)
      .map((b) => ({ id: b.id, key: b.keys[0] ?? '', label: shortLabel(b), refused: readOnly && !!b.dangerous, scope })),
  );
}

/** The footer text of one hint: "r restart", "r restart(read-only)". */
export function hintText(h: { key: string; label: string; refused: boolean }): string {
  return `${h.key} ${h.label}${h.refused ? '(read-only)' : ''}`;
}

/**
 * Hints that fit in `width` columns joined by " · ": the view's own hints drop from the end first;
 * quit and help (global) always stay, so an operator on a narrow terminal can still find `?`.
 */
export function fitHints<T extends { key: string; label: string; refused: boolean }>(hints: readonly T[], width: number, isGlobal: (h: T) => boolean): T[] {
  const out = [...hints];
  const len = () => out.reduce((a, h, i) => a + hintText(h).length + (i ? 3 : 0), 0);
  for (let i = out.length - 1; i >= 0 && len() > width; i--) {
    if (!isGlobal(out[i] as T)) out.splice(i, 1);
  }
  return out;
}

function shortLabel(b: KeyBinding): string {
  return b.label ?? b.id.split('.')[1] ?? b.id;
}

/** How a key is written in a hint: arrows as ↑ ↓ ← →, escape as esc, others as named. */
export function keyLabel(key: string): string {
  return KEY_LABELS[key] ?? key;
}

const KEY_LABELS: Record<string, string> = { escape: 'esc', up: '↑', down: '↓', left: '←', right: '→' };

/** The first key of a command as a hint shows it ("esc", "y", "↑"); "?" when it has none. */
export function firstKey(table: readonly KeyBinding[], id: CommandId): string {
  const k = table.find((b) => b.id === id)?.keys[0];
  return k === undefined ? '?' : keyLabel(k);
}

/** The key that takes the n-th choice (0-based), from `dialog.choose`; undefined past its keys. */
export function choiceKey(table: readonly KeyBinding[], n: number): string | undefined {
  return table.find((b) => b.id === 'dialog.choose')?.keys[n];
}

/** The choice a key takes (0-based), if it is one of `dialog.choose`'s keys. */
export function choiceIndex(table: readonly KeyBinding[], name: string): number | undefined {
  const i = table.find((b) => b.id === 'dialog.choose')?.keys.indexOf(name) ?? -1;
  return i >= 0 ? i : undefined;
}

/** "1-4": the keys of the first `count` choices, for a hint ("1" alone for one; "" for none). */
export function choiceRange(table: readonly KeyBinding[], count: number): string {
  const keys = table.find((b) => b.id === 'dialog.choose')?.keys ?? [];
  const n = Math.min(count, keys.length);
  if (n <= 0) return '';
  return n === 1 ? (keys[0] ?? '') : `${keys[0] ?? ''}-${keys[n - 1] ?? ''}`;
}
