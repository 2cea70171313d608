// How every command ends (src/cli/main.ts after commander, src/cli/start.ts for a console started with
// its global options alone): errors as one line and an exit code, and the process's exit.
import { reportError } from './output.js';
import { trace } from './trace.js';

/** Runs a command body; maps errors to one line (or one JSON document) and the right exit code. */
export async function run(json: boolean, body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (e) {
    process.exitCode = reportError(e, json);
  }
}

/**
 * Ends the process once the command's action resolved. A lingering socket timer (an ioredis connect
 * timeout, an idle keep-alive) must not hold the exit for seconds; stdout/stderr to pipes and files are
 * synchronous on Linux, so nothing written is lost.
 */
export function finish(): never {
  trace('main: exit');
  if (process.exitCode === 129) {
    // A hang-up ended the command (the console's terminal went away: tmux kill-session, SSH dropped),
    // and every cleanup above has run (runs paused, state database closed, the demo stopped): end by
    // the signal itself, its default action. Node's own exit would first restore the modes of a
    // terminal that no longer exists and abort on that (a `ResetStdio` assertion and native stack).
    process.removeAllListeners('SIGHUP'); // others' handlers (signal-exit, which Ink loads) would catch it
    process.kill(process.pid, 'SIGHUP');
  }
  process.exit(process.exitCode ?? 0);
}
