import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneScenario, integrityOf, makeTemplate, removePrivateCli, rowsOf, type Scenario } from '../helpers/restore-fixture.js';
import { TmuxSession } from '../helpers/tmux.js';

// The restore wizard's line prompts in a real terminal (tmux): each step is shown with exactly
// what it will do and waits for y; a declined stage is skipped, a declined step stops the run.

let template: Scenario;
const sessions: TmuxSession[] = [];

beforeAll(async () => {
  template = await makeTemplate();
});
afterAll(async () => {
  for (const s of sessions) s.kill();
  await removePrivateCli();
});

function wizard(s: Scenario, tag: string, args: string[]): TmuxSession {
  const t = TmuxSession.start(`opsdeck-wizard-${tag}-${process.pid}`, ['--config', s.config, 'restore', '--db', 'trading', ...args], {
    columns: 220,
    rows: 50,
    env: Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, String(v)])),
  });
  sessions.push(t);
  return t;
}

const prompts = (screen: string) => (screen.match(/\[y\/N\]/g) ?? []).length; // capture-pane trims trailing spaces

/** Waits for the n-th prompt, checks the step shown above it, answers. */
async function answer(t: TmuxSession, n: number, step: RegExp, yes: boolean): Promise<void> {
  const screen = await t.waitFor((sc) => prompts(sc) >= n);
  expect(screen).toMatch(step);
  t.send(yes ? 'y' : 'n');
  t.send('Enter', false);
}

describe.concurrent('restore wizard in a terminal', () => {
  it('asks before each step it changes something with; a declined stage is skipped', async () => {
    const s = cloneScenario(template);
    const t = wizard(s, 'stages', ['--tables', 'all']);
    await answer(t, 1, /\[1\/9\] choose the backup: trading-\S+ \(\S+ old, daily\+weekly\+monthly, verified, within the RPO of 1d\)\nrun this step\? \[y\/N\]$/m, true);
    await answer(t, 2, /\[3\/9\] stop the writers: stop none configured; refuse while another process has .*trading\.db open\nrun this step\? \[y\/N\]$/m, true);
    await answer(t, 3, /\[5\/9\] restore critical tables: one transaction: replace the rows of strategies, trades in .*trading\.db with the backup's\nrun this stage\? \(no skips it\) \[y\/N\]$/m, true);
    await answer(t, 4, /\[6\/9\] restore normal tables: .*market_data.*\nrun this stage\? \(no skips it\) \[y\/N\]$/m, false);
    const end = await t.waitFor(/EXIT=\d+/);
    expect(end).toMatch(/\[6\/9\] restore normal tables: skipped/);
    expect(end).toMatch(/restore trading-\S+ completed; the previous database is kept at .*state\/safety\/trading-\S+/);
    expect(end).toContain('EXIT=0');
    const now = rowsOf(s.db);
    expect(now.trades).toEqual(s.backupSet.trades);
    expect(now.market_data).toEqual(s.oldSet.market_data);
    expect(integrityOf(s.db)).toBe('ok');
  });

  it('declining the first step cancels with nothing changed', async () => {
    const s = cloneScenario(template);
    const t = wizard(s, 'cancel', []);
    await answer(t, 1, /choose the backup/, false);
    const end = await t.waitFor(/EXIT=\d+/);
    expect(end).toMatch(/opsdeck: restore of trading cancelled \(declined "choose the backup"\); nothing was changed/);
    expect(end).toContain('EXIT=1');
    expect(rowsOf(s.db)).toEqual(s.oldSet);
  });
});
