// The `opsdeck` command's entry (dist/main.js). A console started with its global options alone
// (`opsdeck`, `opsdeck --config FILE`, `--read-only`, `--no-color`: consoleArgv) goes straight to the
// console without loading commander (issue #27 point 4: its first frame); every other command line
// — subcommands, --help, --version, anything unusual — is parsed by commander in ./main.ts as before.
import { consoleArgv } from './console-argv.js';
import { finish, run } from './finish.js';
import { trace } from './trace.js';

const g = consoleArgv(process.argv.slice(2));
if (g) {
  trace('main: modules loaded');
  await run(false, async () => (await import('./console.js')).consoleCommand(g));
  finish();
} else {
  await import('./main.js');
}
