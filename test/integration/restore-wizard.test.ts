import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { cli, cloneScenario, integrityOf, makeTemplate, removePrivateCli, rowsOf, type Scenario } from '../helpers/restore-fixture.js';
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
  t.joinWrapped = true; // the restore's long questions wrap anywhere at the terminal's width
  return t;
}

const prompts = (screen: string) => (screen.match(/\[y\/(s\/)?N\]|\[type \S+ to confirm, anything else (skips|is N)\]/g) ?? []).length; // capture-pane trims trailing spaces

/** Waits for the n-th prompt, checks the step shown above it, answers (y, n, s, or typed text). */
async function answer(t: TmuxSession, n: number, step: RegExp, yes: boolean | 's' | { type: string }): Promise<void> {
  const screen = await t.waitFor((sc) => prompts(sc) >= n);
  expect(screen).toMatch(step);
  t.send(typeof yes === 'object' ? yes.type : yes === 's' ? 's' : yes ? 'y' : 'n');
  t.send('Enter', false);
}

describe.concurrent('restore wizard in a terminal', () => {
  it('asks before each step it changes something with; a stage is skipped only by s, and then the run is not "completed" (exit 3)', async () => {
    const s = cloneScenario(template);
    const t = wizard(s, 'stages', ['--tables', 'all']);
    await answer(t, 1, /\[1\/11\] choose the backup: trading-\S+ \(\S+ old, last\+hourly\+daily\+weekly\+monthly, verified, within the RPO of 1d\)\nrun this step\? \[y\/N\]$/m, true);
    await answer(t, 2, /\[3\/11\] stop the writers: stop none configured; refuse while another process has .*trading\.db open\nrun this step\? \[y\/N\]$/m, true);
    // The question names what replacing loses (measured after the safety copy, writers stopped).
    await answer(t, 3, /\[5\/11\] restore critical tables: one transaction: replace the rows of strategies, trades in .*trading\.db with the backup's[^]*?replacing loses [^]*?run this stage\? y runs it · s skips it [^]*?n stops the restore here \[y\/s\/N\]$/m, true);
    await answer(t, 4, /\[6\/11\] restore normal tables: .*market_data[^]*?run this stage\? .*\[y\/s\/N\]$/m, 's');
    // The rows written after the backup that the critical stage replaced away are named, and giving
    // them up is a question of its own, answered by typing the database's name: a reflex y keeps them.
    // The changed trade is not among them: it holds the backup's version.
    await answer(t, 5, /give up 1 rows of strategies \(id 6\)\?[^]*?Type\s+trading\s+to\s+record\s+them\s+as\s+given\s+up[^]*?\[type trading to confirm, anything else skips\]$/m, true);
    const end = await t.waitFor(/EXIT=\d+/);
    expect(end).toMatch(/rows still missing: SKIPPED — not given up \(only typing trading gives them up\)/);
    expect(end).toMatch(/\[6\/11\] restore normal tables: SKIPPED — its tables stay as they are/);
    expect(end).toMatch(/restore trading-\S+ finished, NOT complete — skipped: restore normal tables \(skipped by the operator/);
    expect(end).toContain('EXIT=3');
    const now = rowsOf(s.db);
    expect(now.trades).toEqual(s.backupSet.trades);
    expect(now.market_data).toEqual(s.oldSet.market_data);
    expect(integrityOf(s.db)).toBe('ok');
  });

  it('the give-up question takes the database name typed at the terminal: the rows are given up, exit 0', async () => {
    const s = cloneScenario(template);
    const t = wizard(s, 'give-up', []);
    await answer(t, 1, /choose the backup/, true);
    await answer(t, 2, /stop the writers/, true);
    await answer(t, 3, /restore the whole file/, true);
    await answer(t, 4, /give up 1 rows of strategies \(id 6\)\?/, { type: 'trading' });
    const end = await t.waitFor(/EXIT=\d+/);
    expect(end.replace(/\s/g, '')).toContain('rowsstillmissing:givenup,recordedinthestatedatabase:strategies:1rowsgivenup(ids6)(theoperatortyped"trading"toconfirm)');
    expect(end).toContain('EXIT=0');
    // The last line says rows were given up: "completed" alone read as nothing lost (an operator's trial).
    expect(end.replace(/\s/g, '')).toMatch(/completed—rowswereGIVENUP:givenup,recordedinthestatedatabase:strategies:1rowsgivenup\(ids6\)/);
    const state = new Database(join(s.env.OPSDECK_STATE_DIR as string, 'state.db'), { readonly: true });
    const line = state.prepare("SELECT detail FROM run_events WHERE event = 'confirm' AND step = 'accept-loss'").get() as { detail: string } | undefined;
    state.close();
    expect(line?.detail).toBe('confirmed by typing "trading"');
  });

  it('Ctrl+C at a question stops the run there and names the writer still stopped and the resume / rollback commands', async () => {
    const s = cloneScenario(template, `services:\n  - name: feeder\n    stop_command: "true"\n    start_command: "true"\n`, ['feeder']);
    const t = wizard(s, 'ctrl-c', ['--tables', 'all']);
    await answer(t, 1, /choose the backup/, true);
    await answer(t, 2, /stop the writers/, true);
    await t.waitFor((sc) => prompts(sc) >= 3 && /\[5\/11\] restore critical tables/.test(sc));
    t.send('C-c', false);
    // Long lines wrap in the terminal (a space at the edge is trimmed): compared without white space.
    const end = (await t.waitFor(/EXIT=\d+/)).replace(/\s/g, '');
    expect(end).not.toContain('AbortedwithCtrl+C');
    expect(end).toMatch(/isunfinished\(paused:interruptedwithCtrl\+Cbefore"restorecriticaltables"\);writersstillstopped:feeder\(itsstop_command\)/);
    expect(end).toMatch(/resume:opsdeck--config\S+restore--dbtrading--resume;orrollback:opsdeck--config\S+restore--dbtrading--rollback/);
    expect(end).toContain('EXIT=1');
    expect(rowsOf(s.db)).toEqual(s.oldSet);
  });

  it('n at a stage stops the run there (resume or roll back later); it never skips', async () => {
    const s = cloneScenario(template);
    const t = wizard(s, 'stage-n', ['--tables', 'all']);
    await answer(t, 1, /choose the backup/, true);
    await answer(t, 2, /stop the writers/, true);
    await answer(t, 3, /\[5\/11\] restore critical tables/, false);
    const end = await t.waitFor(/EXIT=\d+/);
    expect(end.replace(/\s/g, '')).toMatch(/isunfinished\(paused:declined"restorecriticaltables"\);.*resume:opsdeck--config\S+restore--dbtrading--resume;orrollback:opsdeck--config\S+restore--dbtrading--rollback/);
    expect(end).toContain('EXIT=1');
    expect(rowsOf(s.db)).toEqual(s.oldSet);
  });

  it('rows missing and no --merge: it asks before replacing the whole file, and Enter takes the merge', async () => {
    const s = cloneScenario(template);
    await cli(s, ['check', '--json']); // the monitor's first look: the ids it knows
    const db = new Database(s.db);
    db.exec('DELETE FROM trades WHERE id BETWEEN 10 AND 12');
    db.close();
    await cli(s, ['check', '--json']); // … and the loss it records
    const t = wizard(s, 'ask-merge', []);
    const q = await t.waitFor(/Replace the whole file anyway\?[^]*\[y\/N\]$/m);
    expect(q).toMatch(/2 rows of trades \(id 10–11\) of trading are missing/); // 12 was never there (the fixture deleted every third)
    t.send('Enter', false);
    expect(await t.waitFor((sc) => prompts(sc) >= 2)).toContain('merging the missing rows back (opsdeck restore --db trading --merge)');
    // y to every step of the merge: the two trades come back, nothing written since is touched.
    let screen = '';
    for (let n = 2; !/EXIT=\d+/.test(screen) && n < 20; n++) {
      t.send('y');
      t.send('Enter', false);
      screen = await t.waitFor((sc) => prompts(sc) > n || /EXIT=\d+/.test(sc));
    }
    expect(screen).toMatch(/merge the missing rows[^]*EXIT=0/);
    const ids = (rowsOf(s.db).trades as { id: number }[]).map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining([10, 11]));
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
