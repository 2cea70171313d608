import { Box, Text, type Key } from 'ink';
import Spinner from 'ink-spinner';
import { useEffect, useImperativeHandle, useRef, type Ref } from 'react';
import type { DrivenRun, RunListener } from '../engine/protocol.js';
import { terminalSafe } from '../domain/printable.js';
import { fit, wrapColumns } from './format/cells.js';
import { DIALOG_SCOPES, firstKey, keyName, type KeyBinding } from './keys.js';
import { assertNever, resolveCommand } from './console/reducer.js';
import { atFailure, currentStep, initialRunbookState, outcomeLine, runbookHeard, runbookKey, shownSteps, startLabel, stoppedAt, type RunbookEffect, type RunbookStart, type RunbookWizardState } from './console/runbook-wizard.js';
import type { WizardKeys } from './RestoreWizard.js';
import { StepList } from './StepList.js';
import { C } from './theme.js';
import { useRefState } from './useRefState.js';

/** Starts `opsdeck runbook run …` in a child process (cli/console.ts), speaking src/engine/protocol.ts. */
export type StartRunbook = (start: RunbookStart, events: RunListener) => DrivenRun;

/** What the keys answer: "y yes, run it · n no, stop the runbook here · s skip this step"; at a failure y retries. */
export function runbookAnswerHint(keys: readonly KeyBinding[], choices: string, failing: boolean): string {
  const parts = failing
    ? [`${firstKey(keys, 'dialog.yes')} try it again`, `${firstKey(keys, 'dialog.no')} stop the runbook here`]
    : [`${firstKey(keys, 'dialog.yes')} yes, run it`, `${firstKey(keys, 'dialog.no')} no, stop the runbook here`];
  if (choices.includes('s')) parts.push(failing ? `${firstKey(keys, 'dialog.skip')} skip it and go on` : `${firstKey(keys, 'dialog.skip')} skip this step`);
  return parts.join(' · ');
}

/**
 * Rows of each part at this height: the title, the step list, the current step's why, the output
 * (at least one line), and the question, "working" or the outcome at the bottom. Pure, so the 80×24
 * budget is arithmetic (the frame stays one row shorter than the terminal, see layout.ts).
 */
export function runbookRows(height: number, parts: { steps: number; why: number; bottom: number }): { steps: number; output: number } {
  const free = Math.max(2, height - 1 - parts.why - parts.bottom - 1);
  // The steps take up to 60 % of what is free (at least 3 lines), the output the rest.
  const steps = Math.min(parts.steps, Math.max(Math.min(parts.steps, 3), Math.min(free - 3, Math.ceil(free * 0.6))));
  return { steps, output: Math.max(1, free - steps) };
}

/**
 * A runbook's wizard inside the console (issue #16). The run is a child process (`opsdeck runbook run
 * … --protocol`, started as this view opens): its step list from the latest `progress` with each
 * step's state and times, the current step's why, what it said (the last lines that fit), and its
 * question word for word, answered with y (run it; at a failure: try it again), s (skip, where
 * offered) or n (stop). Esc never answers. When the child ends, the outcome and the key back.
 */
export function RunbookWizard(props: { start: RunbookStart; run: StartRunbook; keys: readonly KeyBinding[]; width: number; height: number; now: number; onBack: () => void; keysRef: Ref<WizardKeys> }) {
  const [getState, setState] = useRefState(() => initialRunbookState(props.start));
  const run = useRef<DrivenRun | undefined>(undefined);
  useEffect(() => {
    let mounted = true;
    const heard = (m: Parameters<typeof runbookHeard>[1]) => mounted && setState(runbookHeard(getState(), m));
    run.current = props.run(props.start, {
      onSay: (say) => heard({ say }),
      onAsk: (ask, choices) => heard({ ask, choices }),
      onProgress: (progress) => heard({ progress }),
      onExit: (exit, error) => {
        run.current = undefined;
        heard({ exit, ...(error ? { error } : {}) });
      },
    });
    return () => {
      mounted = false;
    };
    // Started once, as the view opens: a new start is a new view (App mounts it afresh).
  }, []);

  const perform = (fx: RunbookEffect): void => {
    switch (fx.effect) {
      case 'back':
        props.onBack();
        return;
      case 'answer':
        run.current?.answer(fx.answer);
        return;
      default:
        assertNever(fx);
    }
  };

  useImperativeHandle(props.keysRef, () => ({
    onKey: (input: string, key: Key) => {
      const step = runbookKey(getState(), resolveCommand(props.keys, keyName(input, key), DIALOG_SCOPES));
      if (step.state !== getState()) setState(step.state);
      for (const fx of step.effects) perform(fx);
    },
  }));

  return <RunbookView state={getState()} keys={props.keys} width={props.width} height={props.height} now={props.now} />;
}

/** The wizard's frame for a state: pure of the run, so a test draws it from a sequence of messages. */
export function RunbookView(props: { state: RunbookWizardState; keys: readonly KeyBinding[]; width: number; height: number; now: number }) {
  const { state: s, keys } = props;
  const w = props.width;
  const back = firstKey(keys, 'dialog.back');
  const p = s.progress;
  const cur = currentStep(s);
  const why = cur?.why && !s.end ? wrapColumns(`why: ${terminalSafe(cur.why)}`, w).slice(0, 2) : [];
  const outcome = outcomeLine(s);
  const question = s.question ? wrapColumns(terminalSafe(s.question.text), w).slice(-6) : [];
  const bottomLines = s.question ? question.length + 1 + (s.question.nudge ? 1 : 0) : outcome ? Math.min(3, wrapColumns(outcome.text, w).length) + 1 : 1;
  const rows = runbookRows(props.height, { steps: p ? p.steps.length : 1, why: why.length, bottom: bottomLines });
  const output = s.output.flatMap((l) => wrapColumns(l, w));
  const shown = output.slice(-rows.output);
  const title = `Runbook ${startLabel(s.start)}${s.start.check ? ` (alert ${s.start.check})` : ''}${p ? ` · run ${p.run}` : ''}`;
  return (
    <Box flexDirection="column" width={w}>
      <C bold>{fit(terminalSafe(title), w)}</C>
      {p ? <StepList steps={shownSteps(s)} stoppedAt={stoppedAt(s)} cursor={p.cursor} now={props.now} width={w} rows={rows.steps} /> : <C dim>{fit('starting the runbook…', w)}</C>}
      {why.map((l, i) => (
        <C key={`w${i}`} dim>
          {l}
        </C>
      ))}
      <C dim>{fit(`── output${output.length > shown.length ? ` (last ${shown.length} of ${output.length} lines)` : ''} ${'─'.repeat(w)}`, w)}</C>
      {shown.map((l, i) => (
        <C key={`o${output.length - shown.length + i}`}>{l}</C>
      ))}
      {s.question ? (
        <>
          {question.map((l, i) => (
            <C key={`q${i}`} bold color="yellow">
              {l}
            </C>
          ))}
          <C bold>{fit(runbookAnswerHint(keys, s.question.choices, atFailure(s)), w)}</C>
          {s.question.nudge ? <C color="yellow">{fit(`${back} does not answer: press one of the keys above`, w)}</C> : null}
        </>
      ) : outcome ? (
        <>
          {wrapColumns(outcome.text, w)
            .slice(0, 3)
            .map((l, i) => (
              <C key={`e${i}`} bold color={outcome.color}>
                {l}
              </C>
            ))}
          <C dim>{fit(`${back} back to the dashboard`, w)}</C>
        </>
      ) : (
        <Text>
          <Spinner type="dots" /> {fit('working (the runbook runs in its own process; every step is journaled)', Math.max(1, w - 2))}
        </Text>
      )}
    </Box>
  );
}
