import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/domain/alerts.js';
import { fail, ok } from '../../src/domain/result.js';
import type { ContainerInfo } from '../../src/domain/observations.js';
import {
  initialConsoleState,
  listeningScopes,
  reduce,
  resolveCommand,
  SILENCES,
  type Command,
  type ConsoleState,
  type ConsoleWorld,
  type Dialog,
  type Effect,
} from '../../src/ui/console/reducer.js';
import type { RunbookEntry } from '../../src/ui/console/runbook-wizard.js';
import { buildKeyTable, COMMAND_IDS, DIALOG_SCOPES, KEY_TABLE, type CommandId } from '../../src/ui/keys.js';

// The console's input model (issue #15, part 3), key by key, without rendering: plain values in,
// the next state and the effects (as data) out.

const NOW = 1_700_000_000_000;

const container = (name: string, over: Partial<ContainerInfo> = {}): ContainerInfo => ({
  id: `${name}-id-0123456789`, name, image: 'busybox', state: 'running', health: 'healthy', restartCount: 0, exitCode: 0,
  startedAt: NOW - 3_600_000, pid: 1, tty: false, labels: {}, ...over,
});

const alert = (checkId: string): Alert => ({ checkId, state: 'firing', failStreak: 3, passStreak: 0, status: 'critical', message: 'x', since: NOW - 60_000, firedAt: NOW - 30_000 });

/** The runbook catalog the picker lists (a user runbook replacing a built-in among them). */
const entry = (name: string, target: RunbookEntry['target'], source: RunbookEntry['source'] = 'built-in', replaces = false): RunbookEntry => ({ name, title: `${name} title`, description: `${name} does things`, target, source, replaces });
const CATALOG: RunbookEntry[] = [entry('service-recovery', 'service'), entry('restore-database', 'database'), entry('redis-recovery', 'redis', 'user', true), entry('api-degraded', 'endpoint'), entry('recovery-verify', 'none'), entry('disk-pressure', 'host')];

/** Three containers in the table's order, two alerts in the pane's order. */
function world(over: Partial<ConsoleWorld> = {}): ConsoleWorld {
  return {
    keys: KEY_TABLE,
    readOnly: false,
    now: NOW,
    containers: [container('web', { health: 'unhealthy' }), container('worker', { state: 'exited', exitCode: 137 }), container('api')],
    alerts: [alert('redis:cache'), alert('container:worker')],
    checkTargets: { 'redis:cache': 'cache', 'container:worker': 'worker' },
    databases: 1,
    logFiles: [{ kind: 'file', id: '/var/log/app.log', name: 'app-log' }],
    historyCount: () => 5,
    runbooks: { entries: CATALOG },
    runbookFor: (id) => (id === 'redis:cache' ? { runbook: 'redis-recovery', target: { kind: 'redis', name: 'cache' }, check: id } : undefined),
    targets: (kind) => ({ service: ['api', 'web'], database: ['shop'], redis: ['cache'], endpoint: [], host: ['/', '/var'], app: [] })[kind],
    ...over,
  };
}

const start = (over: Partial<ConsoleState> = {}): ConsoleState => ({ ...initialConsoleState(true), ...over });
const cmd = (id: Exclude<CommandId, 'dialog.choose'>): { type: 'command'; command: Command } => ({ type: 'command', command: { id } });
const choose = (index: number): { type: 'command'; command: Command } => ({ type: 'command', command: { id: 'dialog.choose', index } });

/** Presses commands one after another; returns the last state and every effect. */
function run(s: ConsoleState, ids: (Exclude<CommandId, 'dialog.choose'> | number)[], w = world()): { state: ConsoleState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const id of ids) {
    const step = reduce(s, typeof id === 'number' ? choose(id) : cmd(id), w);
    s = step.state;
    effects.push(...step.effects);
  }
  return { state: s, effects };
}

describe('start', () => {
  it.each([
    [true, 'containers'],
    [false, 'alerts'],
  ] as const)('Docker configured %s: focus starts on %s', (docker, focus) => {
    expect(initialConsoleState(docker)).toEqual({ focus, selC: 0, selA: 0, view: { kind: 'dashboard' } });
  });
});

describe('focus', () => {
  it.each([
    ['containers', ['focus.next'], 'alerts'],
    ['alerts', ['focus.next'], 'containers'],
    ['containers', ['focus.next', 'focus.next'], 'containers'],
    ['containers', ['focus.alerts'], 'alerts'],
    ['alerts', ['focus.alerts'], 'alerts'],
  ] as const)('from %s, %j → %s', (from, ids, to) => {
    const r = run(start({ focus: from }), [...ids]);
    expect(r.state.focus).toBe(to);
    expect(r.effects).toEqual([]);
  });
});

describe('selection stays inside the list', () => {
  it.each([
    ['up from the top', 0, ['cursor.up'], 3, 0],
    ['down', 0, ['cursor.down'], 3, 1],
    ['down past the end', 2, ['cursor.down', 'cursor.down'], 3, 2],
    ['down in an empty table', 0, ['cursor.down'], 0, 0],
    ['up in an empty table', 0, ['cursor.up'], 0, 0],
  ] as const)('containers: %s', (_n, selC, ids, count, want) => {
    const w = world({ containers: world().containers.slice(0, count) });
    expect(run(start({ selC }), [...ids], w).state.selC).toBe(want);
  });

  it.each([
    ['down', ['cursor.down'], 1, 'container:worker'],
    ['down past the end', ['cursor.down', 'cursor.down', 'cursor.down'], 1, 'container:worker'],
    ['up from the top', ['cursor.up'], 0, 'redis:cache'],
  ] as const)('alerts: %s', (_n, ids, selA, selAId) => {
    const r = run(start({ focus: 'alerts' }), [...ids]);
    expect(r.state).toMatchObject({ selA, selAId });
  });

  it('the selected alert is followed by its check when the list re-sorts', () => {
    const s = start({ focus: 'alerts', selA: 1, selAId: 'container:worker' });
    // A new alert sorts first: the selected check is now row 2, and a acknowledges it, not row 1.
    const w = world({ alerts: [alert('http:older'), alert('redis:cache'), alert('container:worker')] });
    expect(reduce(s, cmd('alert.ack'), w).effects).toEqual([{ effect: 'ack', alert: alert('container:worker') }]);
    expect(reduce(s, cmd('cursor.up'), w).state).toMatchObject({ selA: 1, selAId: 'redis:cache' });
  });
});

describe('dialogs open and close', () => {
  const confirm = (action: 'restart' | 'stop' | 'start'): unknown => expect.objectContaining({ kind: 'confirm', action, container: expect.objectContaining({ name: 'web' }) as unknown });
  it.each([
    ['container.restart', 'containers', confirm('restart')],
    ['container.stop', 'containers', confirm('stop')],
    ['container.start', 'containers', confirm('start')],
    ['alert.silence', 'alerts', { kind: 'silence', alert: alert('redis:cache') }],
    ['alert.details', 'alerts', { kind: 'details', alert: alert('redis:cache'), back: 0 }],
    ['app.help', 'containers', { kind: 'help', view: 'dashboard' }],
    ['logs.open', 'containers', expect.objectContaining({ kind: 'pick-log', selected: 0 }) as unknown],
  ] as const)('%s (focus %s) opens its dialog, with no effect', (id, focus, dialog) => {
    const r = reduce(start({ focus }), cmd(id), world());
    expect(r.state.dialog).toEqual(dialog);
    expect(r.effects).toEqual([]);
  });

  it('the restart preview says exactly what will happen', () => {
    const d = reduce(start(), cmd('container.restart'), world()).state.dialog;
    expect(d?.kind === 'confirm' && d.preview).toEqual([
      'Restart container web (web-id-01234, image busybox)',
      'Docker sends SIGTERM, waits up to 10 s, then SIGKILL, then starts it again (docker restart -t 10).',
      'It is running, up 1h; clients lose their connections meanwhile.',
    ]);
  });

  it('the log picker offers the containers in the table’s order, then the files', () => {
    const d = reduce(start(), cmd('logs.open'), world()).state.dialog;
    expect(d?.kind === 'pick-log' && d.targets.map((t) => t.name)).toEqual(['web', 'worker', 'api', 'app-log']);
  });

  it('y runs the action: busy, the status line cleared, one container effect', () => {
    const r = run(start({ flash: { text: 'old', color: 'green', at: 0 } }), ['container.restart', 'dialog.yes']);
    expect(r.state).toMatchObject({ dialog: undefined, busy: 'restart web…', flash: undefined });
    expect(r.effects).toEqual([{ effect: 'container', verb: 'restart', container: world().containers[0] }]);
  });

  it('n cancels, audited, and says so', () => {
    const r = run(start(), ['container.stop', 'dialog.no']);
    expect(r.state.dialog).toBeUndefined();
    expect(r.state.flash).toEqual({ text: 'stop web: cancelled', color: 'yellow', at: NOW });
    expect(r.effects).toEqual([{ effect: 'audit', action: 'container.stop', target: 'web', outcome: 'cancelled' }]);
  });

  it('a second action waits while one is under way', () => {
    const r = run(start({ busy: 'restart web…' }), ['container.stop']);
    expect(r.state.dialog).toBeUndefined();
    expect(r.state.flash?.text).toBe('wait: restart web…');
  });

  it.each([
    ['silence: 2 is 1h', { kind: 'silence', alert: alert('redis:cache') }, [1], [{ effect: 'silence', alert: alert('redis:cache'), ms: SILENCES[1]?.[1] }], undefined],
    ['silence: 5 is no choice', { kind: 'silence', alert: alert('redis:cache') }, [4], [], 'silence'],
    ['pick-log: 2 follows worker', { kind: 'pick-log', targets: [{ kind: 'container', id: 'w', name: 'web' }, { kind: 'container', id: 'k', name: 'worker' }], selected: 0 }, [1], [], undefined],
    ['pick-log: 3 is past the list', { kind: 'pick-log', targets: [{ kind: 'container', id: 'w', name: 'web' }], selected: 0 }, [2], [], 'pick-log'],
  ] as const)('choices by number — %s', (_n, dialog, picks, effects, stays) => {
    const r = run(start({ dialog: dialog as Dialog }), [...picks]);
    expect(r.effects).toEqual(effects);
    expect(r.state.dialog?.kind).toBe(stays);
  });

  it('pick-log: the cursor stays in the list and enter follows the selected target', () => {
    const targets = world().containers.map((c) => ({ kind: 'container' as const, id: c.id, name: c.name }));
    const s = start({ dialog: { kind: 'pick-log', targets, selected: 0 } });
    expect(run(s, ['cursor.up']).state.dialog).toMatchObject({ selected: 0 });
    expect(run(s, ['cursor.down', 'cursor.down', 'cursor.down', 'cursor.down']).state.dialog).toMatchObject({ selected: 2 });
    expect(run(s, ['cursor.down', 'dialog.pick']).state).toMatchObject({ dialog: undefined, view: { kind: 'logs', target: targets[1] } });
  });

  it('details: ↑ scrolls back to the oldest probe, ↓ to the newest, no further', () => {
    const s = start({ dialog: { kind: 'details', alert: alert('redis:cache'), back: 0 } });
    expect(run(s, Array<'cursor.up'>(10).fill('cursor.up')).state.dialog).toMatchObject({ back: 4 });
    expect(run(s, ['cursor.up', 'cursor.down', 'cursor.down']).state.dialog).toMatchObject({ back: 0 });
  });

  it.each(['dialog.back', 'app.quit', 'dialog.pick', 'app.help'] as const)('%s closes help and details, and quits nothing', (id) => {
    for (const dialog of [{ kind: 'help', view: 'dashboard' }, { kind: 'details', alert: alert('x'), back: 2 }] as Dialog[]) {
      const r = reduce(start({ dialog }), cmd(id), world());
      expect(r.state.dialog).toBeUndefined();
      expect(r.effects).toEqual([]);
    }
  });

  it.each(['dialog.skip', 'dialog.pick', 'cursor.up', 'container.restart', 'app.quit', 'app.help'] as const)('%s does nothing in a confirmation (only y runs it)', (id) => {
    const s = start({ dialog: { kind: 'confirm', action: 'restart', container: container('web'), preview: [] } });
    expect(reduce(s, cmd(id), world())).toEqual({ state: s, effects: [] });
  });
});

describe('Esc (dialog.back) never confirms, skips or saves anything', () => {
  const dialogs: Dialog[] = [
    { kind: 'confirm', action: 'restart', container: container('web'), preview: [] },
    { kind: 'silence', alert: alert('redis:cache') },
    { kind: 'details', alert: alert('redis:cache'), back: 0 },
    { kind: 'pick-log', targets: [{ kind: 'container', id: 'w', name: 'web' }], selected: 0 },
    { kind: 'pick-runbook', entries: CATALOG, selected: 1 },
    { kind: 'pick-target', entry: CATALOG[0] as RunbookEntry, targets: ['api', 'web'], selected: 1 },
    { kind: 'help', view: 'dashboard' },
    { kind: 'help', view: 'logs' },
  ];
  it.each(dialogs.map((d) => [d.kind, d] as const))('%s: closes; at most the cancellation is audited', (_kind, dialog) => {
    const r = reduce(start({ dialog }), cmd('dialog.back'), world());
    expect(r.state.dialog).toBeUndefined();
    expect(r.state.view).toEqual({ kind: 'dashboard' });
    expect(r.state.busy).toBeUndefined();
    expect(r.effects.filter((e) => !(e.effect === 'audit' && e.outcome === 'cancelled'))).toEqual([]);
  });
});

describe('read-only mode: dangerous commands are refused, said and audited', () => {
  const dangerous = KEY_TABLE.filter((b) => b.dangerous);
  it.each(dangerous.map((b) => [b.id, b.scope] as const))('%s', (id, scope) => {
    const s = start({ focus: scope === 'alerts' ? 'alerts' : 'containers' });
    const r = reduce(s, { type: 'command', command: { id } as Command }, world({ readOnly: true }));
    expect(r.state.dialog).toBeUndefined();
    expect(r.state.view).toEqual({ kind: 'dashboard' });
    expect(r.state.flash?.text).toMatch(/: refused — opsdeck runs in --read-only mode$/);
    expect(r.effects).toEqual([{ effect: 'audit', action: id, target: scope === 'alerts' ? 'redis:cache' : scope === 'containers' ? 'web' : id === 'runbook.pick' ? 'runbooks' : id.startsWith('incident.') ? 'incident' : id === 'heal.enable' ? '-' : 'databases', outcome: 'refused', detail: 'read-only mode' }]);
  });

  it('with nothing selected the refusal names no target', () => {
    const r = reduce(start(), cmd('container.restart'), world({ readOnly: true, containers: [] }));
    expect(r.effects).toEqual([{ effect: 'audit', action: 'container.restart', target: '-', outcome: 'refused', detail: 'read-only mode' }]);
  });

  it('what changes nothing still works', () => {
    expect(reduce(start(), cmd('app.refresh'), world({ readOnly: true })).effects).toEqual([{ effect: 'refresh' }]);
    expect(reduce(start({ focus: 'alerts' }), cmd('alert.details'), world({ readOnly: true })).state.dialog?.kind).toBe('details');
  });
});

describe('the rest of the dashboard', () => {
  it.each([
    ['app.quit', [{ effect: 'quit' }]],
    ['app.refresh', [{ effect: 'refresh' }]],
  ] as const)('%s → %j', (id, effects) => {
    expect(reduce(start(), cmd(id), world()).effects).toEqual(effects);
  });

  it('r on a container alert confirms a restart of that container; on another alert it says why not', () => {
    const onWorker = reduce(start({ focus: 'alerts', selA: 1, selAId: 'container:worker' }), cmd('alert.restart'), world());
    expect(onWorker.state.dialog).toMatchObject({ kind: 'confirm', action: 'restart', container: { name: 'worker' } });
    const onRedis = reduce(start({ focus: 'alerts' }), cmd('alert.restart'), world());
    expect(onRedis.state.dialog).toBeUndefined();
    expect(onRedis.state.flash?.text).toBe("r: the selected alert is not a container's (tab to Containers to restart one)");
    const remapped = world({ keys: buildKeyTable({ 'alert.restart': ['T'], 'focus.next': ['G'] }) });
    expect(reduce(start({ focus: 'alerts' }), cmd('alert.restart'), remapped).state.flash?.text).toBe("T: the selected alert is not a container's (G to Containers to restart one)");
  });

  it.each([
    ['the selected container', world(), { kind: 'container', id: 'web-id-0123456789', name: 'web' }],
    ['the first log file without containers', world({ containers: [] }), { kind: 'file', id: '/var/log/app.log', name: 'app-log' }],
  ] as const)('l follows %s', (_n, w, target) => {
    expect(reduce(start(), cmd('container.logs'), w).state.view).toEqual({ kind: 'logs', target });
  });

  it('o with nothing to follow says so', () => {
    const r = reduce(start(), cmd('logs.open'), world({ containers: [], logFiles: [] }));
    expect(r.state.dialog).toBeUndefined();
    expect(r.state.flash?.text).toBe('no log to follow: no container seen and no `logs:` files in the config');
  });

  it('W opens the wizard (and asks App to read the unfinished restores); without a database it says so', () => {
    expect(reduce(start(), cmd('restore.wizard'), world())).toEqual({ state: start({ view: { kind: 'wizard' } }), effects: [{ effect: 'wizard.opened' }] });
    expect(reduce(start(), cmd('restore.wizard'), world({ databases: 0 })).state.flash?.text).toBe('restore wizard: no database in the config (`databases:`)');
  });

  it.each(['logs.filter', 'logs.pause', 'logs.jump', 'logs.back', 'dialog.yes', 'dialog.no', 'dialog.back', 'dialog.skip', 'dialog.pick'] as const)('%s does nothing on the dashboard', (id) => {
    const s = start();
    expect(reduce(s, cmd(id), world())).toEqual({ state: s, effects: [] });
  });
});

describe('runbooks (issue #16): F on an alert, : the picker', () => {
  const onAlerts = start({ focus: 'alerts' });
  const runbookView = (runbook: string, kind: RunbookEntry['target'], name: string, check?: string) => ({ kind: 'runbook', start: { runbook, target: { kind, name }, ...(check ? { check } : {}) } });

  it("F starts the selected alert's runbook on its target, for its check", () => {
    const r = reduce(onAlerts, cmd('alert.runbook'), world());
    expect(r.state.view).toEqual(runbookView('redis-recovery', 'redis', 'cache', 'redis:cache'));
    expect(r.effects).toEqual([]);
  });

  it.each([
    ['no runbook fits: it says so, and that : picks one', world(), 'no runbook fits container:worker (map one under runbooks.map in the config) — : picks one by hand'],
    ['remapped, it names the remapped key', world({ keys: buildKeyTable({ 'runbook.pick': ['P'] }) }), 'no runbook fits container:worker (map one under runbooks.map in the config) — P picks one by hand'],
  ] as const)('%s', (_n, w, text) => {
    const r = reduce(start({ focus: 'alerts', selA: 1, selAId: 'container:worker' }), cmd('alert.runbook'), w);
    expect(r.state.view).toEqual({ kind: 'dashboard' });
    expect(r.state.flash).toEqual({ text, color: 'yellow', at: NOW });
    expect(r.effects).toEqual([]);
  });

  it('F on a database alert whose runbook is restore-database opens the restore wizard, as W does', () => {
    const w = world({ runbookFor: (id) => ({ runbook: 'restore-database', target: { kind: 'database', name: 'shop' }, check: id }) });
    expect(reduce(onAlerts, cmd('alert.runbook'), w)).toEqual({ state: { ...onAlerts, view: { kind: 'wizard' } }, effects: [{ effect: 'wizard.opened' }] });
  });

  it('a user runbook replacing restore-database runs as any other runbook', () => {
    const w = world({ runbooks: { entries: [entry('restore-database', 'database', 'user', true)] }, runbookFor: (id) => ({ runbook: 'restore-database', target: { kind: 'database', name: 'shop' }, check: id }) });
    expect(reduce(onAlerts, cmd('alert.runbook'), w).state.view).toEqual(runbookView('restore-database', 'database', 'shop', 'redis:cache'));
  });

  it("F on an unfinished run's finding resumes that run (a restore's: the restore wizard, with resume and rollback)", () => {
    const w = world({ alerts: [alert('journal:redis-recovery:cache'), alert('journal:restore:shop')] });
    const open = start({ focus: 'alerts', selA: 0, selAId: 'journal:redis-recovery:cache' });
    expect(reduce(open, cmd('alert.runbook'), w).state.view).toEqual({ kind: 'runbook', start: { runbook: 'redis-recovery', target: { kind: 'none', name: 'cache' }, check: 'journal:redis-recovery:cache', resume: true } });
    const restore = start({ focus: 'alerts', selA: 1, selAId: 'journal:restore:shop' });
    expect(reduce(restore, cmd('alert.runbook'), w)).toEqual({ state: { ...restore, view: { kind: 'wizard' } }, effects: [{ effect: 'wizard.opened' }] });
  });

  it('a mapped runbook missing from the catalog is named, not started', () => {
    const w = world({ runbookFor: (id) => ({ runbook: 'typo-runbook', target: { kind: 'redis', name: 'cache' }, check: id }) });
    const r = reduce(onAlerts, cmd('alert.runbook'), w);
    expect(r.state.view).toEqual({ kind: 'dashboard' });
    expect(r.state.flash?.text).toBe('redis:cache maps to runbook typo-runbook, which is not in the catalog — : picks one by hand');
  });

  it(': opens the picker on the catalog; without one it says why', () => {
    expect(reduce(start(), cmd('runbook.pick'), world()).state.dialog).toEqual({ kind: 'pick-runbook', entries: CATALOG, selected: 0 });
    expect(reduce(start(), cmd('runbook.pick'), world({ runbooks: { entries: [], error: 'runbooks/x.yaml: steps: expected a list' } })).state.flash?.text).toBe('runbooks: runbooks/x.yaml: steps: expected a list');
    expect(reduce(start(), cmd('runbook.pick'), world({ runbooks: { entries: [] } })).state.flash?.text).toBe('no runbook to pick');
  });

  const picker = (selected = 0): ConsoleState => start({ dialog: { kind: 'pick-runbook', entries: CATALOG, selected } });
  it.each([
    ['↓ ↓ moves the cursor', picker(), ['cursor.down', 'cursor.down'], { dialog: { kind: 'pick-runbook', entries: CATALOG, selected: 2 } }],
    ['↑ stops at the top', picker(), ['cursor.up'], { dialog: { kind: 'pick-runbook', entries: CATALOG, selected: 0 } }],
    ['↓ stops at the bottom', picker(5), ['cursor.down'], { dialog: { kind: 'pick-runbook', entries: CATALOG, selected: 5 } }],
    ['esc closes, starting nothing', picker(), ['dialog.back'], { dialog: undefined, view: { kind: 'dashboard' } }],
    ['n closes', picker(), ['dialog.no'], { dialog: undefined, view: { kind: 'dashboard' } }],
    ['y takes nothing', picker(), ['dialog.yes'], { dialog: { kind: 'pick-runbook', entries: CATALOG, selected: 0 } }],
    ['a runbook with no target starts at once', picker(), [4], { dialog: undefined, view: runbookView('recovery-verify', 'none', '') }],
    ['one entry of its kind: starts on it', picker(2), ['dialog.pick'], { dialog: undefined, view: runbookView('redis-recovery', 'redis', 'cache') }],
    ['two services: which one', picker(), [0], { dialog: { kind: 'pick-target', entry: CATALOG[0], targets: ['api', 'web'], selected: 0 } }],
    ['then 2 starts it on web', picker(), [0, 1], { dialog: undefined, view: runbookView('service-recovery', 'service', 'web') }],
    ['then ↓ enter starts it on web', picker(), [0, 'cursor.down', 'dialog.pick'], { dialog: undefined, view: runbookView('service-recovery', 'service', 'web') }],
    ['then esc closes it', picker(), [0, 'dialog.back'], { dialog: undefined, view: { kind: 'dashboard' } }],
    ['host: the filesystems', picker(5), ['dialog.pick', 1], { view: runbookView('disk-pressure', 'host', '/var') }],
    ['restore-database: the restore wizard', picker(1), ['dialog.pick'], { dialog: undefined, view: { kind: 'wizard' } }],
  ] as const)('picker: %s', (_n, s, ids, want) => {
    expect(run(s, [...ids]).state).toMatchObject(want);
  });

  it('a kind with no configured entry says which config key adds one', () => {
    const r = run(picker(3), ['dialog.pick']);
    expect(r.state.dialog).toBeUndefined();
    expect(r.state.flash?.text).toBe('api-degraded acts on an endpoint, and none is configured (endpoints:)');
  });

  it("picked on the selected alert's target, the run answers that alert (its check goes along)", () => {
    const s = start({ focus: 'alerts', dialog: { kind: 'pick-runbook', entries: CATALOG, selected: 2 } });
    expect(run(s, ['dialog.pick']).state.view).toEqual(runbookView('redis-recovery', 'redis', 'cache', 'redis:cache'));
  });

  it("the target list starts on the selected alert's target", () => {
    const w = world({ runbookFor: (id) => ({ runbook: 'service-recovery', target: { kind: 'service', name: 'web' }, check: id }) });
    const r = run(start({ focus: 'alerts', dialog: { kind: 'pick-runbook', entries: CATALOG, selected: 0 } }), ['dialog.pick'], w);
    expect(r.state.dialog).toMatchObject({ kind: 'pick-target', selected: 1 });
    expect(run(r.state, ['dialog.pick'], w).state.view).toEqual(runbookView('service-recovery', 'service', 'web', 'redis:cache'));
  });

  it('the runbook view takes its own keys; it says when it goes back', () => {
    const s = start({ view: runbookView('redis-recovery', 'redis', 'cache') as ConsoleState['view'] });
    expect(listeningScopes(s)).toEqual(DIALOG_SCOPES);
    for (const id of ['app.quit', 'dialog.back', 'alert.runbook', 'runbook.pick'] as const) expect(reduce(s, cmd(id), world())).toEqual({ state: s, effects: [] });
    expect(reduce(s, { type: 'wizard.closed' }, world()).state.view).toEqual({ kind: 'dashboard' });
  });
});

describe('views in front', () => {
  const logs = start({ view: { kind: 'logs', target: { kind: 'container', id: 'w', name: 'web' } } });
  it.each([
    ['logs.back', { view: { kind: 'dashboard' } }, []],
    ['app.help', { dialog: { kind: 'help', view: 'logs' } }, []],
    ['app.quit', {}, [{ effect: 'quit' }]],
  ] as const)('logs view: %s', (id, state, effects) => {
    const r = reduce(logs, cmd(id), world());
    expect(r.state).toEqual({ ...logs, ...state });
    expect(r.effects).toEqual(effects);
  });

  it('help over the logs view closes back to the logs view', () => {
    expect(run(logs, ['app.help', 'dialog.back']).state).toEqual(logs);
  });

  it('the wizard takes its own keys; it says when it goes back', () => {
    const wizard = start({ view: { kind: 'wizard' } });
    for (const id of ['app.quit', 'dialog.back', 'container.restart'] as const) expect(reduce(wizard, cmd(id), world())).toEqual({ state: wizard, effects: [] });
    expect(reduce(wizard, { type: 'wizard.closed' }, world()).state.view).toEqual({ kind: 'dashboard' });
  });
});

describe('a container action ends', () => {
  it.each([
    ['done', ok({ note: 'done', exitedAgain: false }), { text: 'restart web: done', color: 'green' }],
    ['exited again', ok({ note: 'restarted, but it exited again (code 1)', exitedAgain: true }), { text: 'restart web: restarted, but it exited again (code 1)', color: 'red' }],
    ['failed', fail('unavailable', 'docker', 'Docker refused'), { text: 'restart web failed: Docker refused', color: 'red' }],
  ] as const)('%s', (_n, result, flash) => {
    const r = reduce(start({ busy: 'restart web…' }), { type: 'task.ended', verb: 'restart', name: 'web', result }, world());
    expect(r.state.busy).toBeUndefined();
    expect(r.state.flash).toEqual({ ...flash, at: NOW });
    expect(r.effects).toEqual([{ effect: 'refresh' }]);
  });
});

describe('keys to commands', () => {
  it.each([
    ['dashboard, containers focused', start(), ['containers', 'dashboard', 'global']],
    ['dashboard, alerts focused', start({ focus: 'alerts' }), ['alerts', 'dashboard', 'global']],
    ['a dialog', start({ dialog: { kind: 'help', view: 'dashboard' } }), DIALOG_SCOPES],
    ['the wizard', start({ view: { kind: 'wizard' } }), DIALOG_SCOPES],
    ['the logs view (takes raw keys)', start({ view: { kind: 'logs', target: { kind: 'file', id: 'f', name: 'f' } } }), undefined],
  ] as const)('%s listens to %j', (_n, s, scopes) => {
    expect(listeningScopes(s)).toEqual(scopes);
  });

  it.each([
    ['3', DIALOG_SCOPES, { id: 'dialog.choose', index: 2 }],
    ['q', DIALOG_SCOPES, { id: 'app.quit' }],
    ['escape', DIALOG_SCOPES, { id: 'dialog.back' }],
    ['k', DIALOG_SCOPES, { id: 'cursor.up' }],
    ['enter', ['alerts', 'dashboard', 'global'], { id: 'alert.details' }],
    ['enter', ['containers', 'dashboard', 'global'], { id: 'container.logs' }],
    ['3', ['containers', 'dashboard', 'global'], undefined],
  ] as const)('%j in %j → %j', (name, scopes, want) => {
    expect(resolveCommand(KEY_TABLE, name, scopes)).toEqual(want);
  });

  it('a remapped choice key takes its place in the list', () => {
    const keys = buildKeyTable({ 'dialog.choose': ['a', 'b', 'c'] });
    expect(resolveCommand(keys, 'b', DIALOG_SCOPES)).toEqual({ id: 'dialog.choose', index: 1 });
    expect(resolveCommand(keys, '2', DIALOG_SCOPES)).toBeUndefined();
  });

  it('every command id has exactly one row in the key table', () => {
    expect(KEY_TABLE.map((b) => b.id).sort()).toEqual([...COMMAND_IDS].sort());
  });

  it('remaps are checked for clashes after they are applied: a choice key onto the cursor is refused', () => {
    expect(() => buildKeyTable({ 'dialog.choose': ['j'] })).toThrow(/keys\.dialog\.choose: j is also bound to cursor\.down/);
  });

  it('a dialog key remapped onto a global one is the dialog’s inside a dialog (its own keys come first)', () => {
    const keys = buildKeyTable({ 'dialog.yes': ['q'] });
    expect(resolveCommand(keys, 'q', DIALOG_SCOPES)).toEqual({ id: 'dialog.yes' });
    expect(resolveCommand(keys, 'q', ['containers', 'dashboard', 'global'])).toEqual({ id: 'app.quit' });
  });
});

describe('incidents (issue #18): I declares, N notes the open incident', () => {
  const text = (name: string, input = name.length === 1 ? name : '') => ({ type: 'text' as const, name, input });
  /** Types a text into a text dialog, key by key. */
  const type = (s: ConsoleState, chars: string, w = world()) => [...chars].reduce((x, c) => reduce(x, text(c === ' ' ? 'space' : c, c), w).state, s);

  it('I opens the declare dialog (P2 preselected); ↑/↓ change the severity; typed text is the title; enter declares', () => {
    let s = reduce(start(), cmd('incident.declare'), world()).state;
    expect(s.dialog).toEqual({ kind: 'incident-declare', severity: 'P2', title: '' });
    s = reduce(s, text('up'), world()).state;
    expect(s.dialog).toMatchObject({ severity: 'P1' });
    s = reduce(s, text('up'), world()).state;
    expect(s.dialog).toMatchObject({ severity: 'P1' }); // ↑ stops at P1
    s = reduce(s, text('tab'), world()).state;
    expect(s.dialog).toMatchObject({ severity: 'P2' });
    s = reduce(reduce(reduce(s, text('tab'), world()).state, text('tab'), world()).state, text('tab'), world()).state;
    expect(s.dialog).toMatchObject({ severity: 'P1' }); // tab goes round: P3, P4, P1
    s = type(s, 'api dowm');
    s = reduce(s, text('backspace'), world()).state;
    s = type(s, 'n q'); // q is text here, not quit
    expect(s.dialog).toEqual({ kind: 'incident-declare', severity: 'P1', title: 'api down q' });
    const r = reduce(s, text('enter'), world());
    expect(r.state.dialog).toBeUndefined();
    expect(r.effects).toEqual([{ effect: 'incident.declare', severity: 'P1', title: 'api down q' }]);
  });

  it('enter on an empty title declares nothing and says why; esc closes without an effect', () => {
    const s = reduce(start(), cmd('incident.declare'), world()).state;
    const empty = reduce(s, text('enter'), world());
    expect(empty.effects).toEqual([]);
    expect(empty.state.dialog?.kind).toBe('incident-declare');
    expect(empty.state.flash?.text).toMatch(/type a title first/);
    const esc = reduce(type(s, 'x'), text('escape'), world());
    expect(esc.state.dialog).toBeUndefined();
    expect(esc.effects).toEqual([]);
  });

  it('N without an open incident says how to declare one; with one it notes that incident', () => {
    const none = reduce(start(), cmd('incident.note'), world());
    expect(none.state.dialog).toBeUndefined();
    expect(none.state.flash?.text).toBe('no open incident to note: I declares one');
    const w = world({ incident: { id: 'INC-4', severity: 'P1' } });
    let s = reduce(start(), cmd('incident.note'), w).state;
    expect(s.dialog).toEqual({ kind: 'incident-note', id: 'INC-4', severity: 'P1', text: '' });
    s = type(s, 'restarted api', w);
    const r = reduce(s, text('enter'), w);
    expect(r.effects).toEqual([{ effect: 'incident.note', id: 'INC-4', text: 'restarted api' }]);
    expect(r.state.flash?.text).toBe('note added to INC-4');
  });

  it('control characters and escape sequences type nothing', () => {
    const s = reduce(start(), cmd('incident.declare'), world()).state;
    const after = reduce(reduce(s, text('x', '\x1b[31m'.slice(0, 1)), world()).state, text('ctrl+u', 'u'), world()).state;
    expect(after.dialog).toMatchObject({ title: '' });
  });

  it('what the action answered is said in the status line', () => {
    const r = reduce(start(), { type: 'said', text: 'INC-1 declared (P1): its RTO clock runs', color: 'green' }, world());
    expect(r.state.flash).toEqual({ text: 'INC-1 declared (P1): its RTO clock runs', color: 'green', at: NOW });
  });

  it('in read-only mode I and N are refused, said and audited with the open incident', () => {
    const r = reduce(start(), cmd('incident.note'), world({ readOnly: true, incident: { id: 'INC-2', severity: 'P2' } }));
    expect(r.effects).toEqual([{ effect: 'audit', action: 'incident.note', target: 'INC-2', outcome: 'refused', detail: 'read-only mode' }]);
  });
});

describe('self-healing (issue #20): H the healing pane, E enables healing again', () => {
  it('H opens the healing pane; esc, q, enter or ? close it', () => {
    const s = reduce(start(), cmd('heal.pane'), world()).state;
    expect(s.dialog).toEqual({ kind: 'healing' });
    for (const id of ['dialog.back', 'app.quit', 'dialog.pick', 'app.help'] as const) expect(reduce(s, cmd(id), world()).state.dialog).toBeUndefined();
  });

  it("E on a selected heal: alert enables that subject's healing", () => {
    const w = world({ alerts: [alert('heal:api'), alert('redis:cache')], healStopped: ['api', 'cache'] });
    const s = run(start({ focus: 'alerts' }), [], w).state;
    expect(reduce(s, cmd('heal.enable'), w).effects).toEqual([{ effect: 'heal.enable', subject: 'api' }]);
  });

  it('E with another alert selected: the only stopped subject, else it says which to select', () => {
    const one = reduce(start({ focus: 'alerts' }), cmd('heal.enable'), world({ healStopped: ['worker'] }));
    expect(one.effects).toEqual([{ effect: 'heal.enable', subject: 'worker' }]);
    const two = reduce(start({ focus: 'alerts' }), cmd('heal.enable'), world({ healStopped: ['worker', 'api'] }));
    expect(two.effects).toEqual([]);
    expect(two.state.flash?.text).toBe('E: select the heal: alert of the service to enable (worker, api)');
    expect(reduce(start(), cmd('heal.enable'), world()).state.flash?.text).toBe('E: healing is not stopped for any service');
  });

  it('in read-only mode E is refused, said and audited with its subject; H still opens (it only shows)', () => {
    const r = reduce(start(), cmd('heal.enable'), world({ readOnly: true, healStopped: ['worker'] }));
    expect(r.effects).toEqual([{ effect: 'audit', action: 'heal.enable', target: 'worker', outcome: 'refused', detail: 'read-only mode' }]);
    expect(reduce(start(), cmd('heal.pane'), world({ readOnly: true })).state.dialog).toEqual({ kind: 'healing' });
  });
});

describe('maintenance (issue #23): M the log review and the probes', () => {
  it('M opens the maintenance view, in read-only mode too (it only shows); R in it reviews again; esc, q, enter or ? close it', () => {
    const s = reduce(start(), cmd('maint.pane'), world()).state;
    expect(s.dialog).toEqual({ kind: 'maintenance' });
    expect(reduce(start(), cmd('maint.pane'), world({ readOnly: true })).state.dialog).toEqual({ kind: 'maintenance' });
    const again = reduce(s, cmd('app.refresh'), world());
    expect(again.effects).toEqual([{ effect: 'maint.review' }]);
    expect(again.state.dialog).toEqual({ kind: 'maintenance' });
    for (const id of ['dialog.back', 'app.quit', 'dialog.pick', 'app.help'] as const) expect(reduce(s, cmd(id), world()).state.dialog).toBeUndefined();
  });
});
