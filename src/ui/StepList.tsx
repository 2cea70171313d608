import type { ProgressStep } from '../engine/protocol.js';
import { terminalSafe } from '../domain/printable.js';
import { stepState } from './console/runbook-wizard.js';
import { fit, windowRows } from './format/cells.js';
import { C } from './theme.js';

/**
 * A run's steps, one line each (issue #16, the recovery progress tracker): a mark, the number, the
 * title, and its state with times (running 12s, done in 4s, failed (attempt 3): why, skipped),
 * windowed around the step the run stands at to `rows` lines (a "+N" line says what is hidden).
 * Shared by every wizard that receives a run's `progress`.
 */
export function StepList(props: { steps: readonly ProgressStep[]; cursor: number; now: number; width: number; rows: number; stoppedAt?: number | undefined }) {
  const { steps, width } = props;
  const room = Math.max(1, props.rows);
  // One step past the cursor stays in view: what comes next matters as much as what ran.
  const win = windowRows(steps, Math.min(props.cursor + 1, steps.length - 1), room);
  const numW = String(steps.length).length;
  const below = steps.length - win.offset - win.rows.length;
  // Titles take what they need, up to 40 columns or half a wide terminal (a fixed 40 cut
  // "Restart the payments API and wait for its he…" at every width); the state takes the rest.
  const head = 5 + numW;
  const titleW = Math.max(8, Math.min(Math.max(40, Math.floor(width / 2)), Math.max(...steps.map((st) => terminalSafe(st.title).length)), width - head - 24));
  return (
    <>
      {win.rows.map((st, i) => {
        const n = win.offset + i;
        const { mark, text, color } = stepState(st, props.now, n === props.stoppedAt);
        const here = n === props.cursor;
        const lead = `${here ? '▶' : ' '} ${mark} ${String(n + 1).padStart(numW)}. `;
        return (
          <C key={st.id} color={color} bold={here}>
            {fit(`${lead}${fit(terminalSafe(st.title), titleW)}  ${text}`, width)}
          </C>
        );
      })}
      {win.hidden > 0 ? <C dim>{fit(`  ${[win.offset ? `${win.offset} step${win.offset === 1 ? '' : 's'} above` : '', below ? `+${below} more below` : ''].filter(Boolean).join(' · ')}`, width)}</C> : null}
    </>
  );
}
