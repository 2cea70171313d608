import { Box, Text, type Key } from 'ink';
import Spinner from 'ink-spinner';
import { useEffect, useImperativeHandle, useRef, type Ref } from 'react';
import { fit, wrapColumns } from './format/cells.js';
import { choiceKey, choiceRange, DIALOG_SCOPES, firstKey, keyName, type KeyBinding } from './keys.js';
import { assertNever, resolveCommand } from './console/reducer.js';
import { initialWizardPhase, wantsText, wizardModes, wizardStep, wizardText, type WizardEffect, type WizardMode, type WizardPhase } from './console/wizard.js';
import { C } from './theme.js';
import { useRefState } from './useRefState.js';

/**
 * What the choice screen promises about confirmations — true to restoreSteps' flags (test/ui/restore-wizard.test.tsx
 * holds the two together): stopping the writers and each step that changes the database wait for y; the safety
 * copy (taken before any change) and restarting the writers the wizard stopped run without a question
 * (an operator's trial read "each step that changes something waits for y" and saw the writers start unasked).
 */
export const WIZARD_PROMISE =
  'Asks y before stopping the writers and before changing the database; the safety copy and restarting the writers it stopped run unasked.';

export { unfinishedMap, wizardModes, wizardSuggestions } from './console/wizard.js';

/** A running `opsdeck restore --protocol` child, as the console's actions start it. */
export interface RestoreRun {
  /** Answers the question the run is waiting on: y runs the step, n stops the run, s skips (where offered). */
  answer(a: 'y' | 'n' | 's'): void;
  /** Answers a question that wants a word typed (giving rows up) with the text typed; the run decides. */
  answerText?(text: string): void;
}

/** What the run reports: a message, a question (answer with y/n, or by typing a word), its end. */
export interface RestoreEvents {
  onSay(text: string): void;
  /** `choices`: 'yn', or 'yns' when the step may be skipped; `confirm`: the word the question wants typed (giving rows up). */
  onAsk(question: string, choices: string, confirm?: string): void;
  onExit(code: number, error?: string): void;
}

/** Starts a restore with these `opsdeck restore` arguments, e.g. ['--db', 'trading', '--tables', 'all']. */
export type StartRestore = (args: string[], events: RestoreEvents) => RestoreRun;

/** The wizard's key handler, called by the console's one input handler (as the logs view's). */
export interface WizardKeys {
  onKey(input: string, key: Key): void;
}

/**
 * The restore wizard inside the console. The restore itself runs in a child process (`opsdeck
 * restore --protocol`: the same journaled steps as in a terminal), so the console stays responsive
 * while it copies and checks a large database; each step's preview arrives here and waits for `y`.
 */
export function RestoreWizard(props: {
  databases: readonly string[];
  /** The suggested way per database (what fires): the cursor starts on it. */
  suggest?: Record<string, 'merge' | 'whole'>;
  /** Per database, whether the journal holds an unfinished restore (absent: not known yet). */
  unfinished?: Record<string, boolean>;
  keys: readonly KeyBinding[];
  start: StartRestore;
  width: number;
  height: number;
  onBack: () => void;
  keysRef: Ref<WizardKeys>;
}) {
  const [getPhase, setPhase] = useRefState<WizardPhase>(initialWizardPhase(props));
  const [getLines, setLines] = useRefState<string[]>([]);
  const run = useRef<RestoreRun | undefined>(undefined);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const phase = getPhase();
  const lines = getLines();

  const begin = (m: WizardMode) => {
    setLines([]);
    run.current = props.start(m.args, {
      onSay: (text) => mounted.current && setLines([...getLines(), text]),
      onAsk: (question, choices, confirm) => {
        const p = getPhase();
        if (mounted.current && p.kind === 'running') setPhase({ kind: 'running', title: p.title, question, choices, ...(confirm !== undefined ? { confirm, typed: '' } : {}) });
      },
      onExit: (code, error) => {
        run.current = undefined;
        if (mounted.current) setPhase({ kind: 'done', title: m.label, code, ...(error ? { error } : {}) });
      },
    });
  };

  const perform = (fx: WizardEffect): void => {
    switch (fx.effect) {
      case 'back':
        props.onBack();
        return;
      case 'begin':
        begin(fx.mode);
        return;
      case 'answer':
        setLines([...getLines(), fx.line]);
        run.current?.answer(fx.answer);
        return;
      case 'answer-text':
        setLines([...getLines(), fx.line]);
        run.current?.answerText?.(fx.text);
        return;
      default:
        assertNever(fx);
    }
  };

  useImperativeHandle(props.keysRef, () => ({
    onKey: (input: string, key: Key) => {
      // A question that wants a word typed (giving rows up) takes raw keys, as the incident dialogs do;
      // otherwise the console's one key table (remappable): dialog keys first, then the cursor keys, then the global ones.
      const p = getPhase();
      const step = wantsText(p) ? wizardText(p, { name: key.backspace || key.delete ? 'backspace' : keyName(input, key), input }) : wizardStep(p, resolveCommand(props.keys, keyName(input, key), DIALOG_SCOPES), props);
      if (step.phase !== getPhase()) setPhase(step.phase);
      for (const fx of step.effects) perform(fx);
    },
  }));

  const w = props.width;
  if (phase.kind === 'pick-db' || phase.kind === 'pick-mode') {
    const items = phase.kind === 'pick-db' ? props.databases.map((d) => `restore ${d}`) : wizardModes(phase.db, props.unfinished?.[phase.db]).map((m) => m.label);
    return (
      <Box flexDirection="column" borderStyle="round" width={Math.min(w, 90)} paddingX={1}>
        <C bold>{phase.kind === 'pick-db' ? 'Restore which database?' : `Restore wizard: ${phase.db}`}</C>
        {/* Labels wrap (the warning at their end must stay readable); the choice is marked ▸ as well as inverse. */}
        {items.flatMap((label, i) =>
          wrapColumns(`${i === phase.selected ? '▸' : ' '} ${choiceKey(props.keys, i) ?? i + 1}) ${label}`, Math.min(w, 90) - 9).map((line, k) => (
            <C key={`${label}:${k}`} inverse={i === phase.selected}>
              {k === 0 ? line : `     ${line}`}
            </C>
          )),
        )}
        {wrapColumns(WIZARD_PROMISE, Math.min(w, 90) - 4).map((l, i) => (
          <C key={`f${i}`} dim>
            {l}
          </C>
        ))}
        <C dim>{`${firstKey(props.keys, 'cursor.up')}${firstKey(props.keys, 'cursor.down')} choose · ${firstKey(props.keys, 'dialog.pick')} or ${choiceRange(props.keys, items.length)} start · ${firstKey(props.keys, 'dialog.back')} back`}</C>
      </Box>
    );
  }
  // Lines wrap (hard, at the width, by columns: a path may hold Chinese) rather than truncate: the
  // safety copy's path must stay readable. The step lines get the rows the title and the question
  // block leave (at 80×24 the give-up question takes ten: counted, or the frame outgrew the screen
  // and the terminal scrolled the header and the wizard's title away).
  const back = firstKey(props.keys, 'dialog.back');
  const question = phase.kind === 'running' && phase.question ? wrapColumns(phase.question, w) : [];
  const typedHint = phase.kind === 'running' && phase.confirm !== undefined ? wrapColumns(`type ${phase.confirm} and enter to give them up · enter with anything else keeps them missing · ${back} clears`, w) : [];
  const nudge =
    phase.kind === 'running' && phase.nudge
      ? wrapColumns(`${phase.confirm !== undefined ? `${back} does not answer: type ${phase.confirm} and enter to give them up, or enter to keep them missing` : `${back} does not answer: press one of the keys above`} (ctrl-c quits opsdeck: the run pauses, journaled, to resume later)`, w)
      : [];
  const footer = question.length ? question.length + (typedHint.length ? typedHint.length + 1 : 1) + nudge.length : 1;
  const room = Math.max(3, props.height - 4 - footer);
  const rows = lines.flatMap((l) => wrapColumns(l, w));
  const shown = rows.slice(-room);
  return (
    <Box flexDirection="column" width={w}>
      <C bold>{fit(`Restore wizard — ${phase.title}`, w)}</C>
      {shown.map((l, i) => (
        <C key={`${rows.length - shown.length + i}`} color={/failed|refused|error/i.test(l) ? 'red' : undefined}>
          {l}
        </C>
      ))}
      {phase.kind === 'running' ? (
        phase.question ? (
          <Box flexDirection="column">
            {question.map((l, i) => (
              <C key={`q${i}`} bold color="yellow">
                {l}
              </C>
            ))}
            {phase.confirm !== undefined ? (
              <>
                {/* Wrapped, not cut: at 80 columns the way to keep the rows must stay readable. */}
                {typedHint.map((l, i) => (
                  <C key={`h${i}`} bold>
                    {l}
                  </C>
                ))}
                <C bold inverse>{fit(`> ${phase.typed ?? ''}▏`, w)}</C>
                {nudge.map((l, i) => (
                  <C key={`n${i}`} color="yellow">
                    {l}
                  </C>
                ))}
              </>
            ) : (
              <>
                <C bold>{fit(answerHint(props.keys, phase.choices ?? 'yn'), w)}</C>
                {nudge.map((l, i) => (
                  <C key={`n${i}`} color="yellow">
                    {l}
                  </C>
                ))}
              </>
            )}
          </Box>
        ) : (
          <Text>
            <Spinner type="dots" /> working (the restore runs in its own process; every step is journaled)
          </Text>
        )
      ) : phase.code === 0 ? (
        <C bold color="green">{fit(`restore wizard finished · ${firstKey(props.keys, 'dialog.back')} back to the dashboard`, w)}</C>
      ) : phase.code === 3 ? (
        <Box flexDirection="column">
          <C bold color="yellow" wrap="wrap">
            restore finished with skipped steps (named above) — NOT complete
          </C>
          <C dim>{`${firstKey(props.keys, 'dialog.back')} back to the dashboard`}</C>
        </Box>
      ) : (
        <Box flexDirection="column">
          <C color="red" wrap="wrap">{phase.error ?? `the restore ended with exit code ${phase.code}`}</C>
          <C dim>{`${firstKey(props.keys, 'dialog.back')} back to the dashboard`}</C>
        </Box>
      )}
    </Box>
  );
}

/** What the keys answer: "y run · n stop here · s skip". (Giving rows up is typed, never a key: the text field above.) */
function answerHint(keys: readonly KeyBinding[], choices: string): string {
  const parts = [`${firstKey(keys, 'dialog.yes')} yes, run it`, `${firstKey(keys, 'dialog.no')} no, stop the restore here`];
  if (choices.includes('s')) parts.push(`${firstKey(keys, 'dialog.skip')} skip this step`);
  parts.push('ctrl-c quits');
  return parts.join(' · ');
}
