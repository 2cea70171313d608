// OPSDECK_TRACE_TIMING=1: where a command's wall time goes (issue #27, `check` with nothing but its
// sample). One line per mark on stderr, milliseconds since the process started (performance.now()
// counts from Node's time origin), so start-up and module loading show as the first mark's time.

const on = !!process.env.OPSDECK_TRACE_TIMING;

/** Writes `[ms] label` to stderr under OPSDECK_TRACE_TIMING; nothing otherwise. */
export function trace(label: string): void {
  if (on) process.stderr.write(`[${performance.now().toFixed(1).padStart(7)} ms] ${label}\n`);
}
