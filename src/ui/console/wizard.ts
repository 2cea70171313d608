// The restore wizard's keys as a pure step (issue #15, part 3), as the console's reducer: the
// wizard component resolves a key through the key table, calls `wizardStep`, keeps the phase and
// performs the effects (go back, start the run, answer its question).

import type { Alert } from '../../domain/alerts.js';
import type { TextKey } from './incident-dialog.js';
import { assertNever, type Command } from './reducer.js';

/** One way into a restore: what the wizard says, and the `opsdeck restore` arguments it runs. */
export interface WizardMode {
  label: string;
  args: string[];
}

/**
 * The ways in: a merge (brings back missing rows, overwrites nothing: the choice for lost rows), a
 * whole-file restore (for a corrupt file), a staged one, or finishing / undoing an interrupted one.
 */
export function wizardModes(db: string, unfinished?: boolean): WizardMode[] {
  // Numbers stay the same either way (muscle memory); with no interrupted run, 4 and 5 say so.
  const none = unfinished === false ? ' — none is unfinished now' : '';
  // With one unfinished, a new restore is refused: the new ways say so and where to go (an operator's trial chose 1 and read CLI flags).
  const busy = unfinished === true ? ' — refused while a restore is unfinished: 4 resumes it, 5 rolls it back' : '';
  return [
    { label: `merge ${db}: bring back the rows missing now from a backup taken before the loss; no live row is overwritten${busy}`, args: ['--db', db, '--merge'] },
    { label: `restore ${db}: the whole file, from the newest verified backup taken before any rows went missing (step 1 names it and its age; rows written since are lost)${busy}`, args: ['--db', db] },
    { label: `restore ${db} table by table, from the same backup as 2: critical tables first, then the others (rows written since to those tables are lost)${busy}`, args: ['--db', db, '--tables', 'all'] },
    { label: `resume an interrupted restore of ${db}${none}`, args: ['--db', db, '--resume'] },
    { label: `roll back an interrupted restore of ${db} (put the safety copy back)${none}`, args: ['--db', db, '--rollback'] },
    // Issue #27: 2 checks a verified backup by its SHA-256 only (its full check passed when it was verified); this one runs it again.
    { label: `restore ${db}: the whole file as 2 (the same backup; rows written since are lost), re-checking the backup in full first (integrity_check again: slower)${busy}`, args: ['--db', db, '--full-verify'] },
  ];
}

/** Per database: whether the journal holds an unfinished restore of it. */
export function unfinishedMap(databases: readonly string[], open: ReadonlySet<string>): Record<string, boolean> {
  return Object.fromEntries(databases.map((d) => [d, open.has(d)]));
}

/**
 * The restore wizard's suggested way per database, from what fires (issue #10): rows lost → merge
 * (nothing live is overwritten); a corrupt or unreadable file → the whole file.
 */
export function wizardSuggestions(databases: readonly string[], alerts: readonly Alert[]): Record<string, 'merge' | 'whole'> {
  const out: Record<string, 'merge' | 'whole'> = {};
  const firing = (id: string) => alerts.some((a) => a.checkId === id && (a.state === 'firing' || a.state === 'pending'));
  for (const db of databases) {
    if (firing(`sqlite:${db}`)) out[db] = 'whole';
    else if (firing(`sqlite:${db}:rows`)) out[db] = 'merge';
  }
  return out;
}

/** Where the wizard is: choosing a database, choosing a way, a run under way (maybe asking), the run's end. */
export type WizardPhase =
  | { kind: 'pick-db'; selected: number }
  | { kind: 'pick-mode'; db: string; selected: number }
  /** `confirm`: the question wants that word typed (giving rows up); `typed` is the text field so far. */
  | { kind: 'running'; title: string; question?: string; choices?: string; nudge?: boolean; confirm?: string; typed?: string }
  | { kind: 'done'; title: string; code: number; error?: string };

/** What the wizard component does for a step. */
export type WizardEffect =
  | { effect: 'back' }
  | { effect: 'begin'; mode: WizardMode }
  /** Answers the run's question; `line` is what the wizard's transcript says was answered. */
  | { effect: 'answer'; answer: 'y' | 'n' | 's'; line: string }
  /** Answers a question that wants a confirmation word with what was typed (the run decides whether it is the word). */
  | { effect: 'answer-text'; text: string; line: string };

/** The databases to choose from, and the way the cursor starts on for each (what fires suggests). */
export interface WizardContext {
  databases: readonly string[];
  suggest?: Record<string, 'merge' | 'whole'> | undefined;
  /** Per database, whether the journal holds an unfinished restore. */
  unfinished?: Record<string, boolean> | undefined;
}

/**
 * The first way the cursor sits on for a database: resume when a restore of it is unfinished (a new
 * one is refused until it is finished or rolled back), the whole file when its file is broken, else merge.
 */
function suggestedMode(ctx: WizardContext, db: string): number {
  if (ctx.unfinished?.[db]) return 3;
  return ctx.suggest?.[db] === 'whole' ? 1 : 0;
}

/** The wizard as it opens: with one database it goes straight to choosing the way. */
export function initialWizardPhase(ctx: WizardContext): WizardPhase {
  const only = ctx.databases.length === 1 ? ctx.databases[0] : undefined;
  return only !== undefined ? { kind: 'pick-mode', db: only, selected: suggestedMode(ctx, only) } : { kind: 'pick-db', selected: 0 };
}

/**
 * One key's step. Esc (dialog.back) never answers a run's question (issue #10: Esc bound to "no"
 * skipped the critical-tables stage): the question stays and says why; s skips only where offered.
 */
export function wizardStep(p: WizardPhase, c: Command | undefined, ctx: WizardContext): { phase: WizardPhase; effects: WizardEffect[] } {
  const stay = { phase: p, effects: [] };
  const id = c?.id;
  switch (p.kind) {
    case 'pick-db':
    case 'pick-mode': {
      const count = p.kind === 'pick-db' ? ctx.databases.length : wizardModes('').length;
      if (id === 'dialog.back' || id === 'dialog.no') return { phase: p, effects: [{ effect: 'back' }] };
      if (id === 'cursor.up') return { phase: { ...p, selected: Math.max(0, p.selected - 1) }, effects: [] };
      if (id === 'cursor.down') return { phase: { ...p, selected: Math.min(count - 1, p.selected + 1) }, effects: [] };
      const chosen = c?.id === 'dialog.choose' ? (c.index < count ? c.index : undefined) : id === 'dialog.pick' ? p.selected : undefined;
      if (chosen === undefined) return stay;
      if (p.kind === 'pick-db') {
        const db = ctx.databases[chosen] ?? '';
        return { phase: { kind: 'pick-mode', db, selected: suggestedMode(ctx, db) }, effects: [] };
      }
      const mode = wizardModes(p.db)[chosen];
      return mode ? { phase: { kind: 'running', title: mode.label }, effects: [{ effect: 'begin', mode }] } : stay;
    }
    case 'running': {
      if (!p.question) return stay;
      const skip = id === 'dialog.skip' && !!p.choices?.includes('s');
      if (id === 'dialog.yes' || id === 'dialog.no' || skip) {
        const answer = id === 'dialog.yes' ? 'y' : skip ? 's' : 'n';
        const line = `${p.question} → ${answer === 'y' ? 'yes' : answer === 's' ? 'SKIP' : 'no, stop here'}`;
        return { phase: { kind: 'running', title: p.title }, effects: [{ effect: 'answer', answer, line }] };
      }
      // Esc (or s where no skip is offered) answers nothing: the question stays and says why.
      if (id === 'dialog.back' || id === 'dialog.skip') return { phase: { ...p, nudge: true }, effects: [] };
      return stay;
    }
    case 'done':
      // The run has ended: esc, n, enter or q go back to the dashboard.
      return id === 'dialog.back' || id === 'dialog.no' || id === 'dialog.pick' || id === 'app.quit' ? { phase: p, effects: [{ effect: 'back' }] } : stay;
    default:
      return assertNever(p);
  }
}

/** Longest text the confirmation field takes (a database's name is far shorter). */
export const MAX_TYPED = 100;

/** Whether the wizard is asking a question that wants a word typed: its keys are then raw text (`wizardText`). */
export function wantsText(p: WizardPhase): p is Extract<WizardPhase, { kind: 'running' }> & { question: string; confirm: string } {
  return p.kind === 'running' && p.question !== undefined && p.confirm !== undefined;
}

/**
 * One raw key at a question that wants a word typed (giving rows up), as the incident dialogs take
 * text: printable keys type (y and n included: they are letters here), backspace deletes, enter
 * sends what was typed — the run gives the rows up only if it is the word, anything else keeps them
 * missing — and esc clears the field; with nothing typed it answers nothing and says why (esc never
 * answers a question).
 */
export function wizardText(p: WizardPhase, k: TextKey): { phase: WizardPhase; effects: WizardEffect[] } {
  if (!wantsText(p)) return { phase: p, effects: [] };
  const typed = p.typed ?? '';
  const { nudge: _nudge, ...rest } = p;
  switch (k.name) {
    case 'enter': {
      const t = typed.trim();
      const line = `${p.question} → ${t === p.confirm ? `typed ${t}: give them up` : `${t ? `typed ${t}, not ${p.confirm}` : 'nothing typed'}: keep them missing`}`;
      return { phase: { kind: 'running', title: p.title }, effects: [{ effect: 'answer-text', text: typed, line }] };
    }
    case 'escape':
      return typed ? { phase: { ...rest, typed: '' }, effects: [] } : { phase: { ...p, nudge: true }, effects: [] };
    case 'backspace':
      return { phase: { ...rest, typed: [...typed].slice(0, -1).join('') }, effects: [] };
    default: {
      // Printable text only: a control key or an escape sequence types nothing.
      const add = k.name === 'space' ? ' ' : [...k.input].filter((c) => c >= ' ' && c !== '\x7f').join('');
      if (!add || /^ctrl\+/.test(k.name)) return { phase: p, effects: [] };
      return { phase: { ...rest, typed: [...(typed + add)].slice(0, MAX_TYPED).join('') }, effects: [] };
    }
  }
}
