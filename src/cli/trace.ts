// OPSDECK_TRACE_TIMING=1: where a command's wall time goes (issue #27, `check` with nothing but its
// sample). One line per mark on stderr, milliseconds since the process started (performance.now()
// counts from Node's time origin), so start-up and module loading show as the first mark's time.
// OPSDECK_TRACE_TIMING=cpu adds the process's CPU time so far (user + system, all threads) after
// the label, `(cpu N ms)`: a loaded machine disturbs it less than the wall time (issue #27 point 4).

const on = !!process.env.OPSDECK_TRACE_TIMING;
const cpu = process.env.OPSDECK_TRACE_TIMING === 'cpu';

/** Writes `[ms] label` to stderr under OPSDECK_TRACE_TIMING; nothing otherwise. */
export function trace(label: string): void {
  if (!on) return;
  const used = cpu ? process.cpuUsage() : undefined;
  const suffix = used ? ` (cpu ${((used.user + used.system) / 1000).toFixed(0)} ms)` : '';
  process.stderr.write(`[${performance.now().toFixed(1).padStart(7)} ms] ${label}${suffix}\n`);
}
