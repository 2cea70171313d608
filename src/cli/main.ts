// The `opsdeck` command line parsed by commander (every command and flag: src/cli/program.ts). A console
// started with its global options alone does not come here (src/cli/start.ts, issue #27 point 4).
// First: `opsdeck check` starts its host CPU sample as this module loads (issue #27).
import './check-start.js';
import { CommanderError } from 'commander';
import { UsageError } from '../domain/errors.js';
import { finish } from './finish.js';
import { reportError } from './output.js';
import { buildProgram, unknownCommand } from './program.js';
import { trace } from './trace.js';

trace('main: modules loaded');

// Command implementations are imported lazily inside their actions, so `opsdeck --help` loads only
// this file (start-up target: under 3× a bare `node -e 0`, issue #2).
const program = buildProgram();
const argv = process.argv.slice(2);
const wantsJson = argv.includes('--json');
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
      process.exitCode = 0;
    } else {
      process.exitCode = reportError(new UsageError(unknownCommand(program, argv) ?? e.message.replace(/^error: /, '')), wantsJson);
    }
  } else {
    process.exitCode = reportError(e, wantsJson);
  }
}
finish();
