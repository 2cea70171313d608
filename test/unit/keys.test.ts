import { describe, expect, it } from 'vitest';
import { buildKeyTable, KEY_TABLE, keyName, normalizeKey } from '../../src/ui/keys.js';
import { keyEvent } from '../../src/ui/console/resolve-command.js';

// Key remapping from config (issue #13): only the exact strings ctrl+b/ctrl+a were refused, and a
// remap could leave the console without a way to quit.

describe('key names are normalised', () => {
  it.each([
    ['ctrl+b', 'ctrl+b'],
    ['ctrl-b', 'ctrl+b'],
    ['ctrl+B', 'ctrl+b'],
    ['Ctrl-B', 'ctrl+b'],
    ['C-b', 'ctrl+b'],
    ['^B', 'ctrl+b'],
    ['control+x', 'ctrl+x'],
    ['Esc', 'escape'],
    ['Return', 'enter'],
    [' ', 'space'],
    ['Space', 'space'],
    ['PgUp', 'pageup'],
    ['R', 'R'],
    ['r', 'r'],
    ['?', '?'],
    ['R2', undefined],
    ['alt+x', undefined],
    ['ctrl+1', undefined],
    ['', undefined],
  ])('%j → %j', (raw, want) => {
    expect(normalizeKey(raw)).toBe(want);
  });

  it('an input event with ctrl and a capital letter is the same key as with a small one', () => {
    const ctrl = { ctrl: true } as Parameters<typeof keyName>[1];
    expect(keyName('B', ctrl)).toBe('ctrl+b');
  });
});

describe('buildKeyTable refuses what would lock an operator out', () => {
  it.each([
    ['ctrl-b', { 'app.quit': ['ctrl-b'] }, /keys\.app\.quit: "ctrl-b" is ctrl\+b, tmux's prefix key/],
    ['ctrl+B', { 'app.help': ['ctrl+B'] }, /keys\.app\.help: "ctrl\+B" is ctrl\+b, tmux's prefix key/],
    ['C-a', { 'logs.pause': ['C-a'] }, /keys\.logs\.pause: "C-a" is ctrl\+a, tmux's prefix key/],
    ['an empty list for app.quit', { 'app.quit': [] }, /keys\.app\.quit: expected at least one key \(without one the console cannot be quit\)/],
    ['an empty list for logs.back', { 'logs.back': [] }, /keys\.logs\.back: expected at least one key/],
    ['q for a second command of the logs view', { 'logs.pause': ['q'] }, /keys\.logs\.pause: q is also bound to app\.quit \(global keys work in the same view\)/],
    ['one key for two commands of one view', { 'container.stop': ['r'] }, /keys\.container\.stop: r is also bound to container\.restart/],
    ['quit moved onto a pane key', { 'app.quit': ['x'] }, /keys\.app\.quit: x is also bound to container\.stop/],
    ['a name no terminal sends', { 'container.restart': ['R2'] }, /keys\.container\.restart: "R2" is not a key name/],
    // Issue #20 bound H and E: a remap onto them clashes with the healing commands instead.
    ['H onto a pane command', { 'container.restart': ['H'] }, /keys\.container\.restart: H is also bound to heal\.pane/],
    ['E onto a dashboard command', { 'logs.open': ['E'] }, /keys\.logs\.open: E is also bound to heal\.enable/],
    // Issue #18 bound I and N: a remap onto them clashes with the incident commands instead.
    ['I onto a dashboard command', { 'logs.open': ['I'] }, /keys\.logs\.open: I is also bound to incident\.declare/],
    ['N onto a pane command', { 'container.stop': ['N'] }, /keys\.container\.stop: N is also bound to incident\.note/],
    // Issue #16 bound : and F: a remap onto them clashes with the runbook commands instead.
    [': onto a dashboard command', { 'logs.open': [':'] }, /keys\.logs\.open: : is also bound to runbook\.pick/],
    ['F onto an alert command', { 'alert.ack': ['F'] }, /keys\.alert\.ack: F is also bound to alert\.runbook/],
    ['escape as yes, with back moved away (esc must never confirm)', { 'dialog.back': ['b'], 'dialog.yes': ['escape'] }, /keys\.dialog\.yes: escape only goes back \(dialog\.back, logs\.back\); it never confirms, skips or acts/],
    ['escape as a container action', { 'dialog.back': ['b'], 'container.restart': ['esc'] }, /keys\.container\.restart: escape only goes back/],
  ])('%s', (_name, remap, pattern) => {
    expect(() => buildKeyTable(remap)).toThrow(pattern);
  });

  it('takes a remap that moves keys without a clash, in any spelling', () => {
    const t = buildKeyTable({ 'container.restart': ['T'], 'logs.pause': ['Space', 'P'], 'app.quit': ['q', 'ctrl-c'] });
    expect(t.find((b) => b.id === 'container.restart')?.keys).toEqual(['T']);
    expect(t.find((b) => b.id === 'logs.pause')?.keys).toEqual(['space', 'P']);
    expect(t.find((b) => b.id === 'app.quit')?.keys).toEqual(['q', 'ctrl+c']);
    // A non-essential command may be unbound.
    expect(buildKeyTable({ 'logs.jump': [] }).find((b) => b.id === 'logs.jump')?.keys).toEqual([]);
  });

  it('a dialog may use I and N (its own keys come first there; it hears only the cursor keys of the dashboard)', () => {
    expect(buildKeyTable({ 'dialog.no': ['N'] }).find((b) => b.id === 'dialog.no')?.keys).toEqual(['N']);
    expect(() => buildKeyTable({ 'dialog.pick': ['down'] })).toThrow(/keys\.dialog\.pick: down is also bound to cursor\.down/);
  });

  it('the built-in table passes its own rules', () => {
    expect(buildKeyTable({})).toEqual(KEY_TABLE);
  });
});

describe('reserved keys', () => {
  it('no command binds a reserved key today (they keep one meaning on every installation)', async () => {
    const { KEY_TABLE, RESERVED_KEYS } = await import('../../src/ui/keys.js');
    const bound = KEY_TABLE.flatMap((b) => b.keys.filter((k) => Object.hasOwn(RESERVED_KEYS, k)).map((k) => `${b.id}: ${k}`));
    expect(bound).toEqual([]);
    expect(Object.keys(RESERVED_KEYS).sort()).toEqual([]);
  });

  it('the keys kept for self-healing are theirs now (issue #20): H the healing pane, E enables healing again', () => {
    expect(KEY_TABLE.find((b) => b.id === 'heal.pane')).toMatchObject({ keys: ['H'], scope: 'dashboard' });
    expect(KEY_TABLE.find((b) => b.id === 'heal.pane')?.dangerous).toBeUndefined();
    expect(KEY_TABLE.find((b) => b.id === 'heal.enable')).toMatchObject({ keys: ['E'], scope: 'dashboard', dangerous: true });
  });

  it('M opens the maintenance view (issue #23): a dashboard key that only shows', () => {
    expect(KEY_TABLE.find((b) => b.id === 'maint.pane')).toMatchObject({ keys: ['M'], scope: 'dashboard' });
    expect(KEY_TABLE.find((b) => b.id === 'maint.pane')?.dangerous).toBeUndefined();
  });

  it('the keys kept for incidents are theirs now (issue #18): I declares one, N notes the open one', () => {
    expect(KEY_TABLE.find((b) => b.id === 'incident.declare')).toMatchObject({ keys: ['I'], scope: 'dashboard', dangerous: true });
    expect(KEY_TABLE.find((b) => b.id === 'incident.note')).toMatchObject({ keys: ['N'], scope: 'dashboard', dangerous: true });
  });

  it('the keys kept for runbooks are theirs now (issue #16): : picks a runbook, F runs the selected alert’s', () => {
    expect(KEY_TABLE.find((b) => b.id === 'runbook.pick')).toMatchObject({ keys: [':'], scope: 'dashboard', dangerous: true, hint: true });
    expect(KEY_TABLE.find((b) => b.id === 'alert.runbook')).toMatchObject({ keys: ['F'], scope: 'alerts', dangerous: true, hint: true });
  });

  it('they can be remapped like any other command', () => {
    const t = buildKeyTable({ 'runbook.pick': ['P'], 'alert.runbook': ['G'] });
    expect(t.find((b) => b.id === 'runbook.pick')?.keys).toEqual(['P']);
    expect(t.find((b) => b.id === 'alert.runbook')?.keys).toEqual(['G']);
  });
});

describe('a pane key pressed while the other pane has the focus is said, not ignored (an operator pressed F on Containers)', () => {
  const dash = { view: { kind: 'dashboard' as const }, dialog: undefined, focus: 'containers' as const };
  it('F with Containers focused: says it acts on the Alerts pane and how to get there; nothing runs', () => {
    expect(keyEvent(KEY_TABLE, 'F', ['containers', 'dashboard', 'global'], dash)).toEqual({ type: 'said', text: 'F acts on the Alerts pane: A moves there', color: 'yellow' });
  });
  it('r with Alerts focused still restarts the alert\'s container (bound in both panes); a key bound nowhere says nothing', () => {
    expect(keyEvent(KEY_TABLE, 'r', ['alerts', 'dashboard', 'global'], { ...dash, focus: 'alerts' })).toEqual({ type: 'command', command: { id: 'alert.restart' } });
    expect(keyEvent(KEY_TABLE, 'Z', ['containers', 'dashboard', 'global'], dash)).toBeUndefined();
  });
});
