import { describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import type { Alert } from '../../src/domain/alerts.js';
import { ok, type Result } from '../../src/domain/result.js';
import type { ContainerInfo, ContainerOutcome } from '../../src/domain/observations.js';
import { createAppStore } from '../../src/state/store.js';
import { App, type ConsoleActions } from '../../src/ui/App.js';
import { buildKeyTable, type KeyBinding } from '../../src/ui/keys.js';
import { createHostHistory } from '../../src/ui/useHostHistory.js';
import { renderApp } from '../helpers/render.js';

// Every key goes through the key table (issue #15, part 3): remapped dialog keys act, and the
// dialogs' hints say the remapped keys, not the built-in ones.

const container = (name: string): ContainerInfo => ({
  id: `${name}-id-0123456789`, name, image: 'busybox', state: 'running', health: 'unhealthy', restartCount: 0, exitCode: 0,
  startedAt: Date.now() - 3_600_000, pid: 1, tty: false, labels: {},
});

function setup(keys: readonly KeyBinding[]) {
  const config = validate({ name: 'trading', docker: { all_containers: true }, databases: [{ name: 'trading', path: '/tmp/none.db' }] }, 'test');
  const store = createAppStore();
  const { actions } = store.getState();
  actions.setEnvelope('docker', { data: { endpoint: 'unix:///x', containers: [container('web')], stats: {} } }, 1);
  const alert: Alert = { checkId: 'redis:cache', state: 'firing', failStreak: 3, passStreak: 0, status: 'critical', message: 'refused', since: Date.now() - 60_000, firedAt: Date.now() - 30_000 };
  actions.setAlerts([alert]);
  const calls: string[] = [];
  const consoleActions: ConsoleActions = {
    containerAction: (kind, c): Promise<Result<ContainerOutcome>> => {
      calls.push(`${kind}:${c.name}`);
      return Promise.resolve(ok({ note: 'done', exitedAgain: false }));
    },
    follow: () => Promise.resolve({ stop: () => undefined }),
    refresh: () => calls.push('refresh'),
    ack: (a) => calls.push(`ack:${a.checkId}`),
    silence: (a, ms) => calls.push(`silence:${a.checkId}:${ms}`),
    acks: () => ({ acknowledged: false }),
    audit: (action, target, outcome) => calls.push(`audit:${action}:${target}:${outcome}`),
    history: () => [],
    restore: (args) => {
      calls.push(`restore:${args.join(' ')}`);
      return { answer: (a) => calls.push(`answer:${a}`) };
    },
    runbook: (start) => {
      calls.push(`runbook:${start.runbook}:${start.target.name}:${start.check ?? '-'}`);
      return { answer: (a) => calls.push(`answer:${a}`) };
    },
  };
  const { history } = createHostHistory(store, 2000);
  const r = renderApp(<App store={store} config={config} keys={keys} readOnly={false} history={history} actions={consoleActions} hostname="box" />, { columns: 120, rows: 40 });
  return { ...r, calls };
}

describe('remapped keys, in dialogs and their hints', () => {
  it('a confirmation says and takes the remapped yes and no', async () => {
    const { press, waitFor, calls } = setup(buildKeyTable({ 'dialog.yes': ['Y'], 'dialog.no': ['N'] }));
    await waitFor((f) => f.includes('Containers'));
    await press('r');
    await waitFor((f) => f.includes('Y restart now · N cancel'));
    await press('y'); // the built-in key no longer confirms
    await press('Y');
    await waitFor(() => calls.includes('restart:web'));
    expect(calls.filter((c) => c !== 'refresh')).toEqual(['restart:web']); // once, on Y (the refresh follows the action)
  });

  it('the silence dialog numbers its choices with the remapped choice keys', async () => {
    const { press, waitFor, calls } = setup(buildKeyTable({ 'dialog.choose': ['e', 'f', 'g', 'h'], 'dialog.back': ['escape', 'z'] }));
    await waitFor((f) => f.includes('Alerts'));
    await press('A');
    await press('s');
    await waitFor((f) => f.includes('e) 15m   f) 1h   g) 4h   h) 24h   esc cancel'));
    await press('2'); // not a choice key any more
    await press('f');
    await waitFor((f) => f.includes('silenced for 1h'));
    expect(calls).toEqual(['silence:redis:cache:3600000']);
  });

  it('the log picker and help say the remapped keys', async () => {
    const { press, waitFor } = setup(buildKeyTable({ 'dialog.back': ['z'], 'dialog.pick': ['space'] }));
    await waitFor((f) => f.includes('Containers'));
    await press('o');
    await waitFor((f) => f.includes('↑↓ choose · space follow · z cancel'));
    await press('z');
    await waitFor((f) => !f.includes('Follow which log?'));
    await press('?');
    await waitFor((f) => f.includes('Keys of the dashboard') && f.includes('z close'));
    await press('q'); // q (app.quit) closes help, as before
    await waitFor((f) => !f.includes('Keys of the dashboard'));
  });

  it('the restore wizard says the remapped keys and takes them', async () => {
    const { press, waitFor, calls } = setup(buildKeyTable({ 'dialog.back': ['z'], 'dialog.choose': ['v', 'w', 'x', 'b', 'u'] }));
    await waitFor((f) => f.includes('Containers'));
    await press('W');
    await waitFor((f) => f.includes('Restore wizard: trading') && f.includes('w) restore trading: the whole file') && f.includes('enter or v-u start · z back'));
    await press('w');
    await waitFor(() => calls.includes('restore:--db trading'));
  });
});
