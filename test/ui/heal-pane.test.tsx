import { describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import { createAppStore } from '../../src/state/store.js';
import { App, type ConsoleActions } from '../../src/ui/App.js';
import type { HealView } from '../../src/ui/dialogs/HealingDialog.js';
import { KEY_TABLE } from '../../src/ui/keys.js';
import { createHostHistory } from '../../src/ui/useHostHistory.js';
import { renderApp } from '../helpers/render.js';

// Issue #20 in the console: H shows the healing pane (who heals, each service, what was done and
// when, what is next and when), E on a heal: alert enables healing again — rendered through Ink,
// the pane's contents as cli/console-heal.ts reads them from the state database.

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);

const VIEW: HealView = {
  on: true,
  holder: 'watch (pid 812 on db1) since 02:58:00Z',
  subjects: [
    { subject: 'api', stopped: true, text: 'STOPPED at 03:00:00Z: budget spent: 3 restarts in 30 min' },
    { subject: 'worker', stopped: false, text: 'next: backoff before attempt 2 of 3 at 03:00:20Z; attempts 1, last down restart 02:59:10Z' },
  ],
  recent: [
    { at: T0, text: 'api escalate: budget spent: 3 restarts in 30 min', failed: false },
    { at: T0 - 30_000, text: 'api restart service-recovery #3 failed at 02:59:40Z: api did not stay up', failed: true },
  ],
};

function setup(size = { columns: 120, rows: 40 }) {
  const config = validate({ name: 'trading' }, 'test');
  const store = createAppStore();
  store.getState().actions.setChecks([{ id: 'heal:api', kind: 'heal', target: 'api', status: 'critical', critical: true, message: 'healing stopped: budget spent' }]);
  const calls: string[] = [];
  const actions: ConsoleActions = {
    containerAction: () => Promise.reject(new Error('unused')),
    follow: () => Promise.resolve({ stop: () => undefined }),
    refresh: () => undefined,
    ack: () => undefined,
    silence: () => undefined,
    acks: () => ({ acknowledged: false }),
    audit: (action, target, outcome) => calls.push(`audit:${action}:${target}:${outcome}`),
    history: () => [],
    restore: () => ({ answer: () => undefined }),
    runbook: () => ({ answer: () => undefined }),
    healing: () => VIEW,
    enableHeal: (subject) => (calls.push(`enable:${subject}`), { ok: true, text: `healing of ${subject} enabled again` }),
  };
  const { history } = createHostHistory(store, 2000);
  const r = renderApp(<App store={store} config={config} keys={KEY_TABLE} readOnly={false} history={history} actions={actions} hostname="box" now={() => T0} />, { columns: size.columns, rows: size.rows });
  return { ...r, calls };
}

describe('the healing pane (H) and E (issue #20)', () => {
  it.each([{ columns: 120, rows: 40 }, { columns: 80, rows: 24 }])('H shows who heals, each service and the latest actions at $columns×$rows; esc closes it', async (size) => {
    const ui = setup(size);
    await ui.waitFor((x) => x.includes('CRITICAL'));
    await ui.press('H');
    const f = await ui.waitFor((x) => x.includes('Healing on'));
    expect(f).toContain('healer: watch (pid 812 on db1)');
    expect(f).toContain('api: STOPPED at 03:00:00Z: budget spent');
    expect(f).toContain('worker: next: backoff before attempt 2 of 3 at 03:00:20Z');
    expect(f).toContain('03:00:00Z api escalate');
    for (const line of f.split('\n')) expect(line.length).toBeLessThanOrEqual(size.columns);
    await ui.press('\x1b');
    await ui.waitFor((x) => !x.includes('Healing on'));
  });

  it('E enables healing of the only stopped service and says so', async () => {
    const ui = setup();
    await ui.waitFor((x) => x.includes('CRITICAL'));
    await ui.press('E');
    await ui.waitFor((x) => x.includes('healing of api enabled again'));
    expect(ui.calls).toEqual(['enable:api']);
  });
});
