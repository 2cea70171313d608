// A console started with its global options alone, read without commander (issue #27 point 4: commander
// is ~0.12 MB of the bundle parsed and run before the console's first frame, for a plain `opsdeck`).
import type { GlobalOptions } from './output.js';

/**
 * The global options of a command line that only opens the console — nothing, `-c FILE` / `--config
 * FILE` / `--config=FILE`, `--read-only`, `--no-color`, in any order (a repeated `--config`: the last
 * wins) — exactly as commander gives them to the console (`optsWithGlobals()`: `color` true unless
 * `--no-color`, `readOnly` only when given). Anything else — a subcommand, `--help`, `--version`, an
 * unknown or unusual flag, a file name that is empty or starts with `-` — is undefined: the command
 * line goes to commander (src/cli/main.ts) as before, with its help, errors and exit codes.
 * test/unit/console-argv.test.ts holds it against commander's own parse of the same lines.
 */
export function consoleArgv(args: readonly string[]): GlobalOptions | undefined {
  const g: GlobalOptions = { color: true };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    let file: string | undefined;
    if (a === '--read-only') g.readOnly = true;
    else if (a === '--no-color') g.color = false;
    else if (a === '-c' || a === '--config') file = args[++i];
    else if (a.startsWith('--config=')) file = a.slice('--config='.length);
    else return undefined;
    if (file !== undefined) g.config = file;
    if (file !== undefined ? file === '' || file.startsWith('-') : a === '-c' || a === '--config') return undefined;
  }
  return g;
}
