import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/ui/console/reducer.js';
import { initialWizardPhase, wantsText, wizardModes, wizardStep, wizardText, type WizardContext, type WizardPhase } from '../../src/ui/console/wizard.js';

// The restore wizard's keys as a pure step (issue #15, part 3). Esc never answers a question
// (issue #10: Esc bound to "no" skipped the critical-tables stage).

const ctx: WizardContext = { databases: ['trading', 'shop'], suggest: { shop: 'whole' } };
const c = (id: Exclude<Command['id'], 'dialog.choose'>): Command => ({ id });
const choose = (index: number): Command => ({ id: 'dialog.choose', index });
const asking = (choices: string): WizardPhase => ({ kind: 'running', title: 'restore shop', question: 'swap the file?', choices });

describe('the wizard opens', () => {
  it.each([
    ['two databases: choose one', ctx, { kind: 'pick-db', selected: 0 }],
    ['one: straight to the ways, merge first', { databases: ['trading'] }, { kind: 'pick-mode', db: 'trading', selected: 0 }],
    ['one with a broken file: the whole file first', { databases: ['shop'], suggest: { shop: 'whole' } }, { kind: 'pick-mode', db: 'shop', selected: 1 }],
    ['one with an unfinished restore: resume first (a new one would be refused)', { databases: ['shop'], suggest: { shop: 'merge' }, unfinished: { shop: true } }, { kind: 'pick-mode', db: 'shop', selected: 3 }],
  ] as const)('%s', (_n, context, phase) => {
    expect(initialWizardPhase(context)).toEqual(phase);
  });
});

describe('choosing', () => {
  it.each([
    ['↓ moves', { kind: 'pick-db', selected: 0 }, c('cursor.down'), { kind: 'pick-db', selected: 1 }],
    ['↓ stops at the last', { kind: 'pick-db', selected: 1 }, c('cursor.down'), { kind: 'pick-db', selected: 1 }],
    ['↑ stops at the first', { kind: 'pick-mode', db: 'a', selected: 0 }, c('cursor.up'), { kind: 'pick-mode', db: 'a', selected: 0 }],
    ['↓ stops at the sixth way (issue #27: whole file with a full re-check)', { kind: 'pick-mode', db: 'a', selected: 5 }, c('cursor.down'), { kind: 'pick-mode', db: 'a', selected: 5 }],
    ['2 chooses shop; the cursor starts on what fires suggests', { kind: 'pick-db', selected: 0 }, choose(1), { kind: 'pick-mode', db: 'shop', selected: 1 }],
    ['enter chooses the selected database', { kind: 'pick-db', selected: 0 }, c('dialog.pick'), { kind: 'pick-mode', db: 'trading', selected: 0 }],
    ['3 is past two databases', { kind: 'pick-db', selected: 0 }, choose(2), { kind: 'pick-db', selected: 0 }],
    ['y chooses nothing', { kind: 'pick-db', selected: 0 }, c('dialog.yes'), { kind: 'pick-db', selected: 0 }],
  ] as const)('%s', (_n, phase, command, next) => {
    const r = wizardStep(phase, command, ctx);
    expect(r.phase).toEqual(next);
    expect(r.effects).toEqual([]);
  });

  it.each([0, 1, 2, 3, 4])('way %i starts its run with its arguments', (i) => {
    const mode = wizardModes('shop')[i];
    const r = wizardStep({ kind: 'pick-mode', db: 'shop', selected: 0 }, choose(i), ctx);
    expect(r).toEqual({ phase: { kind: 'running', title: mode?.label }, effects: [{ effect: 'begin', mode }] });
  });

  it('every way that replaces rows names its backup and what it loses (operator trial: 3 and 6 named neither)', () => {
    const [merge, whole, tables, , , full] = wizardModes('shop');
    expect(merge?.label).toContain('from a backup taken before the loss');
    expect(whole?.label).toMatch(/newest verified backup.*rows written since are lost/);
    expect(tables?.label).toMatch(/from the same backup as 2.*rows written since to those tables are lost/);
    expect(full?.label).toMatch(/the same backup; rows written since are lost/);
  });

  it.each(['dialog.back', 'dialog.no'] as const)('%s goes back before anything started', (id) => {
    for (const phase of [{ kind: 'pick-db', selected: 0 }, { kind: 'pick-mode', db: 'a', selected: 2 }] as WizardPhase[]) {
      expect(wizardStep(phase, c(id), ctx).effects).toEqual([{ effect: 'back' }]);
    }
  });
});

describe('a run’s question', () => {
  it.each([
    ['y runs it', 'yn', c('dialog.yes'), { effect: 'answer', answer: 'y', line: 'swap the file? → yes' }],
    ['n stops here', 'yn', c('dialog.no'), { effect: 'answer', answer: 'n', line: 'swap the file? → no, stop here' }],
    ['s skips where offered', 'yns', c('dialog.skip'), { effect: 'answer', answer: 's', line: 'swap the file? → SKIP' }],
  ] as const)('%s', (_n, choices, command, effect) => {
    const r = wizardStep(asking(choices), command, ctx);
    expect(r).toEqual({ phase: { kind: 'running', title: 'restore shop' }, effects: [effect] });
  });

  it.each([
    ['esc', 'yns', c('dialog.back')],
    ['esc', 'yn', c('dialog.back')],
    ['s where no skip is offered', 'yn', c('dialog.skip')],
  ] as const)('%s (choices %s) answers nothing: the question stays and says why', (_n, choices, command) => {
    expect(wizardStep(asking(choices), command, ctx)).toEqual({ phase: { ...asking(choices), nudge: true }, effects: [] });
  });

  it.each([c('app.quit'), c('dialog.pick'), c('cursor.down'), choose(0), undefined])('%j answers nothing and leaves nothing', (command) => {
    expect(wizardStep(asking('yns'), command, ctx)).toEqual({ phase: asking('yns'), effects: [] });
  });

  it('while no question is asked, every key waits', () => {
    const working: WizardPhase = { kind: 'running', title: 'restore shop' };
    for (const id of ['dialog.yes', 'dialog.no', 'dialog.back', 'app.quit'] as const) expect(wizardStep(working, c(id), ctx)).toEqual({ phase: working, effects: [] });
  });
});

describe('the run’s end', () => {
  const done: WizardPhase = { kind: 'done', title: 'restore shop', code: 0 };
  it.each(['dialog.back', 'dialog.no', 'dialog.pick', 'app.quit'] as const)('%s goes back to the dashboard', (id) => {
    expect(wizardStep(done, c(id), ctx).effects).toEqual([{ effect: 'back' }]);
  });
  it.each(['dialog.yes', 'dialog.skip', 'cursor.up'] as const)('%s does nothing', (id) => {
    expect(wizardStep(done, c(id), ctx)).toEqual({ phase: done, effects: [] });
  });
});

describe('giving rows up: the question wants the database name typed (raw keys, a text field)', () => {
  const giveUp = (typed: string, nudge?: boolean): WizardPhase => ({ kind: 'running', title: 'restore shop', question: 'give up 3 rows of orders (id 4–6)?', choices: 'yns', confirm: 'shop', typed, ...(nudge ? { nudge } : {}) });
  const typeAll = (text: string) => [...text].reduce((p, ch) => wizardText(p, { name: ch, input: ch }).phase, giveUp(''));

  it('only such a question takes text; a y/n question and a finished run do not', () => {
    expect([wantsText(giveUp('')), wantsText(asking('yns')), wantsText({ kind: 'done', title: 't', code: 0 })]).toEqual([true, false, false]);
  });

  it.each([
    ['y and n are letters here: they type, they answer nothing', giveUp(''), { name: 'y', input: 'y' }, giveUp('y'), []],
    ['s types too', giveUp('y'), { name: 's', input: 's' }, giveUp('ys'), []],
    ['backspace deletes', giveUp('sho'), { name: 'backspace', input: '' }, giveUp('sh'), []],
    ['esc clears what was typed', giveUp('sh'), { name: 'escape', input: '' }, giveUp(''), []],
    ['esc with nothing typed answers nothing and says why', giveUp(''), { name: 'escape', input: '' }, giveUp('', true), []],
    ['a control key types nothing', giveUp('s'), { name: 'ctrl+u', input: 'u' }, giveUp('s'), []],
    ['an arrow types nothing', giveUp('s'), { name: 'up', input: '' }, giveUp('s'), []],
    ['enter sends the name: the transcript says it gives them up', giveUp('shop'), { name: 'enter', input: '\r' }, { kind: 'running', title: 'restore shop' }, [{ effect: 'answer-text', text: 'shop', line: 'give up 3 rows of orders (id 4–6)? → typed shop: give them up' }]],
    ['enter sends y as typed: the run keeps them missing', giveUp('y'), { name: 'enter', input: '\r' }, { kind: 'running', title: 'restore shop' }, [{ effect: 'answer-text', text: 'y', line: 'give up 3 rows of orders (id 4–6)? → typed y, not shop: keep them missing' }]],
    ['enter with nothing typed keeps them missing', giveUp(''), { name: 'enter', input: '\r' }, { kind: 'running', title: 'restore shop' }, [{ effect: 'answer-text', text: '', line: 'give up 3 rows of orders (id 4–6)? → nothing typed: keep them missing' }]],
  ] as const)('%s', (_n, phase, key, next, effects) => {
    expect(wizardText(phase, key)).toEqual({ phase: next, effects });
  });

  it('typing the name letter by letter fills the field; a key after a nudge clears the nudge', () => {
    expect(typeAll('shop')).toEqual(giveUp('shop'));
    expect(wizardText(giveUp('', true), { name: 's', input: 's' }).phase).toEqual(giveUp('s'));
  });
});
