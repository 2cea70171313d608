import { createRef } from 'react';
import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { RestoreWizard, WIZARD_PROMISE, type RestoreEvents, type WizardKeys } from '../../src/ui/RestoreWizard.js';
import { changesDatabase, restoreSteps, type RestorePlanInput } from '../../src/domain/restore-plan.js';
import { KEY_TABLE } from '../../src/ui/keys.js';
import { viewHeights } from '../../src/ui/console/layout.js';
import { renderApp } from '../helpers/render.js';

// The restore wizard's give-up question at 80×24 (operator trial): the question, the typed-name hint
// and the Esc nudge took more rows than the wizard had, the frame outgrew the screen, and the terminal
// scrolled the header and the wizard's title away; the nudge was cut with "…". The restore child is
// replaced by scripted protocol events here (what `opsdeck restore --protocol` says at step 7), to
// reach that question on demand.

const key = (k: Partial<Key>): Key => ({ upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, home: false, end: false, super: false, hyper: false, capsLock: false, numLock: false, ...k });

describe('the restore wizard’s promise about confirmations', () => {
  it('its choice screen says which steps wait for y, and restoreSteps agrees for every kind of restore', async () => {
    const r = renderApp(<RestoreWizard databases={['trading']} keys={KEY_TABLE} start={() => ({ answer: () => undefined, answerText: () => undefined })} width={100} height={30} onBack={() => undefined} keysRef={createRef<WizardKeys>()} />, { columns: 100, rows: 30 });
    try {
      const f = await r.waitFor((f) => /Restore wizard: trading/.test(f));
      // The text of the screen, wrapped lines joined: colours and the box's border out.
      const text = f.replace(/\u001B\[[0-9;]*m/g, '').replace(/[│╭╮╰╯─]/g, ' ').replace(/\s+/g, ' ');
      expect(text).toContain(WIZARD_PROMISE);
    } finally {
      r.unmount();
    }
    const base: Omit<RestorePlanInput, 'mode'> = { database: 'trading', dbPath: '/d/trading.db', backupId: 'b1', backupSummary: 'now', writers: ['writer'], safetyDir: '/s' };
    for (const mode of [{ kind: 'whole' }, { kind: 'merge', tables: ['trades'] }, { kind: 'tables', stages: [{ name: 'critical', tables: ['trades'] }] }] as RestorePlanInput['mode'][]) {
      const steps = restoreSteps({ ...base, mode });
      // Asked: stopping the writers and every step that changes the database file.
      for (const s of steps.filter((s) => s.id === 'stop-writers' || changesDatabase(s.id))) expect(s.confirm, s.id).toBe(true);
      expect(steps.some((s) => changesDatabase(s.id))).toBe(true);
      // Not asked, of what changes the world: the safety copy and the writers started again — as the screen says.
      expect(steps.filter((s) => s.mutating && !s.confirm).map((s) => s.id)).toEqual(['safety-copy', 'start-writers']);
    }
  });
});

describe('the restore wizard at 80×24', () => {
  it('the give-up question, its hint and the Esc nudge fit under the title: nothing scrolls, nothing is cut', async () => {
    const columns = 80;
    const height = viewHeights(24).wizard;
    const keysRef = createRef<WizardKeys>();
    let events: RestoreEvents | undefined;
    const start = (_args: string[], ev: RestoreEvents) => {
      events = ev;
      return { answer: () => undefined, answerText: () => undefined };
    };
    const r = renderApp(<RestoreWizard databases={['trading']} keys={KEY_TABLE} start={start} width={columns} height={height} onBack={() => undefined} keysRef={keysRef} />, { columns, rows: 24 });
    try {
      await r.waitFor((f) => /Restore wizard: trading/.test(f));
      keysRef.current?.onKey('', key({ return: true }));
      await r.waitFor(() => events !== undefined);
      for (let i = 1; i <= 20; i++) events?.onSay(`step ${i}: did what it said it would do, with the safety copy at /var/lib/opsdeck/safety/trading-${i}.db kept`);
      const question =
        '7/7 rows still missing: 1,204 rows of trades (id 88,113–89,316) are missing, no backup holds them, and the safety copy /var/lib/opsdeck/safety/trading-20261203T031500Z.db holds 1,204 of them (giving them up does not delete it). Record them as given up?';
      events?.onAsk(question, 'yn', 'trading');
      await r.waitFor((f) => /type trading and enter/.test(f));
      keysRef.current?.onKey('', key({ escape: true }));
      const f = await r.waitFor((f) => /does not answer/.test(f));
      const rows = f.split('\n');
      expect(rows.length).toBeLessThanOrEqual(height);
      expect(rows[0]).toMatch(/^Restore wizard — /);
      // The whole question, the hint and the nudge, wrapped — not cut.
      expect(f.replace(/\s+/g, ' ')).toContain(question.replace(/\s+/g, ' ').slice(-60));
      expect(f.replace(/\s+/g, ' ')).toMatch(/does not answer: type trading and enter to give them up, or enter to keep them missing/);
      expect(rows.slice(1).join("\n")).not.toMatch(/…/); // (the title is one row, cut at the width)
      // The newest step lines are kept above the question.
      expect(f).toMatch(/step 20: did/);
    } finally {
      r.unmount();
    }
  });
});
