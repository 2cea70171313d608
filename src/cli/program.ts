// Every command and its flags in one table, so `opsdeck --help` and the
// README's command list are checked against one file; command bodies are imported lazily (src/cli/main.ts
// parses with it; a console started with its global options alone skips it: src/cli/start.ts).
import { earlyHead, startHostSample } from './check-start.js';
import { Command, Option } from 'commander';
import type { GlobalOptions } from './output.js';
import { run } from './finish.js';
import { trace } from './trace.js';

/** opsdeck's commands and their flags (commander), built afresh: main.ts parses with one, tests with theirs. */
export function buildProgram(): Command {
  const program = new Command('opsdeck')
    .description('Terminal incident console: what is broken, and a confirmed path to fix it')
    .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
    .option('-c, --config <file>', 'configuration file (default: $OPSDECK_CONFIG, ./opsdeck.yaml, $XDG_CONFIG_HOME/opsdeck/config.yaml)')
    .option('--read-only', 'refuse every action that changes anything')
    .option('--no-color', 'plain output without colours (NO_COLOR is honoured too)')
    .exitOverride()
    .configureOutput({ outputError: () => undefined });

  function globals(cmd: Command): GlobalOptions {
    return cmd.optsWithGlobals<GlobalOptions>();
  }

  // No subcommand: the live console (a plain snapshot when stdout is not a terminal).
  program.action(async (_opts: unknown, cmd: Command) => {
    const g = globals(cmd);
    await run(false, async () => (await import('./console.js')).consoleCommand(g));
  });

  program
    .command('check')
    .description('check the whole stack once; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
    .option('--json', 'print one JSON document')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      // Issue #27: the host's first CPU read went first (./check-start.ts), so loading the command and
      // everything up to the second read happen inside the 0.5 s sample instead of before it.
      const head = earlyHead ?? startHostSample();
      await run(!!g.json, async () => {
        const { checkCommand } = await import('./check.js');
        trace('check: imported');
        return checkCommand(g, head);
      });
    });

  program
    .command('backup')
    .description('SQLite backups and the files set: create | verify [ID] | list | prune (GFS retention) | extract ID --to FILE; off-host copies')
    .argument('<action>', 'create, verify, list, prune or extract')
    .argument('[id]', 'a backup id (verify, extract)')
    .option('--db <name|path>', 'a configured database, or the path of any SQLite file')
    .option('--dir <dir>', 'backup folder (default backup.dir/<db>, else $XDG_DATA_HOME/opsdeck/backups/<db>)')
    .option('--all', 'verify every backup, not only the newest')
    .option('--to <file>', 'extract: the new file the backup\'s database is written to (never overwritten)')
    .option('--dry-run', 'prune: show what would be deleted')
    .option('--yes', 'prune: do not ask (for cron)')
    .option('--verify', 'create: verify the new backup at once (exit 2 when it fails), then copy it off-host (backup.copy_command)')
    .option('--prune', 'create: after the new backup verified, prune (as backup prune --yes)')
    .option('--files', 'only the files set of backup.files (create, verify, list, prune); without it they go with the databases unless --db or --dir narrows')
    .addOption(new Option('--scheduled-by <who>', 'create: the monitor that scheduled it, for the audit log').hideHelp())
    .addOption(new Option('--scheduled-run <id>', 'create: the scheduler run whose outcome this records').hideHelp())
    .option('--json', 'print one JSON document')
    .action(async (action: string, id: string | undefined, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      await run(!!g.json, async () => (await import('./backup.js')).backupCommand(action, id, g));
    });

  program
    .command('restore')
    .description('guided SQLite restore: verify, stop writers, safety copy, merge missing rows / whole file / staged tables, check, restart; journaled')
    .option('--db <name|path>', 'a configured database, or the path of any SQLite file')
    .option('--dir <dir>', 'backup folder (default backup.dir/<db>, else $XDG_DATA_HOME/opsdeck/backups/<db>)')
    .option('--backup <id>', 'the backup to restore (default: the newest verified)')
    .option('--tables <which>', 'staged table restore: critical, all, or t1,t2 (default: the whole file; with --merge: critical)')
    .option('--merge', 'insert only the backup\'s rows that are missing now (matched on the primary key); never overwrite a live row')
    .option('--accept-loss', 'with --yes: give up rows still missing after the restore (without it, --yes leaves them missing and exits 3)')
    .option('--full-verify', 'check the backup with integrity_check and foreign_key_check even if it passed them when it was verified (default: its SHA-256 only)')
    .option('--dry-run', 'show the steps, change nothing')
    .option('--yes', 'do not ask before each step (unattended)')
    .option('--force', 'restore even while another process has the database open')
    .option('--resume', 'finish an interrupted restore')
    .option('--rollback', 'undo an interrupted restore: put the safety copy back')
    .addOption(new Option('--protocol', 'driven by the console: JSON lines out, y/n lines in').hideHelp())
    .option('--json', 'print one JSON document')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      await run(!!g.json, async () => {
        const { restoreCommand } = await import('./restore.js');
        trace('restore: imported');
        return restoreCommand(g);
      });
    });

  program
    .command('db')
    .description('data integrity: check (integrity, foreign keys, duplicates, rules, critical tables, loss against the newest verified backup) | repair (move bad rows into quarantine; --undo RUN)')
    .argument('<action>', 'check or repair')
    .option('--db <name|path>', 'a configured database, or the path of any SQLite file')
    .option('--dir <dir>', 'backup folder the loss is assessed against (default backup.dir/<db>)')
    .option('--undo <run>', 'repair: put the rows of this repair run back, with their rowids')
    .option('--dry-run', 'repair: show what would move, change nothing')
    .option('--yes', 'repair: do not ask (for scripts)')
    .option('--json', 'print one JSON document')
    .action(async (action: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      await run(!!g.json, async () => (await import('./db.js')).dbCommand(action, g));
    });

  program
    .command('runbook')
    .description('guided recovery procedures: list | show NAME | run NAME|FILE | status [RUN] | resume [RUN] | rollback [RUN]; journaled, resumable')
    .argument('<action>', 'list, show, run, status, resume or rollback')
    .argument('[name]', 'a runbook name or file (show, run), or a run id (status, resume, rollback)')
    .option('--target <name>', 'run: the configured service, database, Redis, endpoint or mount it acts on')
    .option('--check <id>', "run: the alert's check (http:api); without a name, runs the runbook that check maps to")
    .option('--param <name=value...>', 'run: a value for {{param.NAME}} in the runbook (resume, rollback: give again one that held a secret)')
    .option('--dry-run', 'run: show every step and exactly what it would do; run nothing')
    .option('--yes', 'do not ask before each step (unattended)')
    .addOption(new Option('--protocol', 'driven by the console: JSON lines out, y/n/s lines in').hideHelp())
    .option('--json', 'print one JSON document')
    .action(async (action: string, name: string | undefined, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      await run(!!g.json, async () => (await import('./runbook.js')).runbookCommand(action, name, g));
    });

  program
    .command('incident')
    .description('incidents P1–P4 with RTO/RPO clocks: declare TITLE | note ID TEXT | list | show ID | resolve ID | export ID (postmortem draft)')
    .argument('<action>', 'declare, note, list, show, resolve or export')
    .argument('[args...]', 'declare: the title; note: ID and the text; show, resolve, export: ID (INC-3 or 3)')
    .option('--severity <class>', 'declare: P1, P2, P3 or P4 (default P2)')
    .option('--format <format>', 'export: md (a Markdown postmortem draft, default) or json')
    .option('--json', 'print one JSON document')
    .action(async (action: string, args: string[], _opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & { severity?: string; format?: string }>();
      await run(!!g.json, async () => (await import('./incident.js')).incidentCommand(action, args, g));
    });

  program
    .command('notify')
    .description('notifications (Slack, webhooks, email, SMS): status (the outbox per channel; exit 1 when a message failed) | test CHANNEL (send a test message now)')
    .argument('<action>', 'status or test')
    .argument('[channel]', 'test: a channel of notify.channels')
    .option('--yes', 'test: do not ask (for scripts)')
    .option('--json', 'print one JSON document')
    .action(async (action: string, channel: string | undefined, _opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & { yes?: boolean }>();
      await run(!!g.json, async () => (await import('./notify.js')).notifyCommand(action, channel, g));
    });

  program
    .command('heal')
    .description('self-healing: status (who heals, each service, the latest actions) | enable SERVICE (after healing stopped)')
    .argument('<action>', 'status or enable')
    .argument('[subject]', 'enable: the service or Redis whose healing stopped')
    .option('--json', 'print one JSON document')
    .action(async (action: string, subject: string | undefined, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      await run(!!g.json, async () => (await import('./heal.js')).healCommand(action, subject, g));
    });

  program
    .command('logs')
    .description('maintenance of logs (issue #23): review (ERROR/WARN counts and top patterns per service and log file, new since the last review) | cleanup (delete, compress, archive old files; a dry run unless --yes)')
    .argument('<action>', 'review or cleanup')
    .option('--since <duration>', 'review: how far back (default 24h)')
    .option('--target <name>', 'only this service or logs[] entry')
    .option('--top <n>', 'review: groups shown per source (default 5)')
    .option('--dry-run', 'cleanup: show what would happen (the default without --yes)')
    .option('--yes', 'cleanup: act without asking (for cron)')
    .option('--json', 'print one JSON document')
    .action(async (action: string, _opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & { since?: string; target?: string; top?: string; dryRun?: boolean; yes?: boolean }>();
      await run(!!g.json, async () => (await import('./logs.js')).logsCommand(action, g));
    });

  program
    .command('capacity')
    .description('capacity planning (issue #23): database sizes, disk use and Redis memory, growth per day and "full in N days" from the samples; exit 1 when one is projected full within capacity.horizon')
    .option('--sample', 'take and record one sample now first')
    .option('--json', 'print one JSON document')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & { sample?: boolean }>();
      await run(!!g.json, async () => (await import('./capacity.js')).capacityCommand(g));
    });

  program
    .command('probes')
    .description('business and application metrics (issue #23): read every configured probe now, with its status and a sparkline of recorded values; exit 0 OK, 1 WARNING, 2 CRITICAL')
    .option('--json', 'print one JSON document')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      await run(!!g.json, async () => (await import('./probes.js')).probesCommand(g));
    });

  program
    .command('deps')
    .description('dependency and update checks (issue #23): outdated and vulnerable packages (npm, pip) of each app folder, counted by severity; offline says so; exit 1 on a critical or high vulnerability')
    .option('--app <name>', 'only this configured app')
    .option('--dir <dir>', 'scan this folder instead of the configured apps')
    .option('--json', 'print one JSON document')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & { app?: string; dir?: string }>();
      await run(!!g.json, async () => (await import('./deps.js')).depsCommand(g));
    });

  program
    .command('watch')
    .description('run the monitor loop without a screen; print alert transitions (fired, resolved)')
    .option('--json', 'one JSON document per line')
    .option('--metrics-addr <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (wins over metrics.addr; no authentication: keep it on loopback)')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions & { metricsAddr?: string }>();
      await run(!!g.json, async () => (await import('./watch.js')).watchCommand(g, g.metricsAddr !== undefined ? { metricsAddr: g.metricsAddr } : {}));
    });

  program
    .command('demo')
    .description('start a real demo stack (SQLite trading DB, API, Redis, a container) and open the console on it')
    .option('--dir <dir>', 'demo workspace (default $XDG_DATA_HOME/opsdeck/demo)')
    .option('--detach', 'leave the stack running in the background instead of opening the console')
    .option('--stop', 'stop the demo stack and remove its workspace')
    .option('--interval <duration>', 'health check interval of the demo config', '5s')
    .option('--json', 'print one JSON document')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      await run(!!g.json, async () => (await import('./demo.js')).demoCommand(g));
    });

  program
    .command('drill')
    .description('practise recovery on the demo stack: list | run SCENARIO | recover SCENARIO | score | stop-writer | start-writer')
    .argument('<action>', 'list, run, recover, score, or stop-writer / start-writer (the demo writer, as a restore stops it)')
    .argument('[scenario]', 'a scenario from drill list')
    .option('--dir <dir>', 'demo workspace (default $XDG_DATA_HOME/opsdeck/demo)')
    .option('--json', 'print one JSON document')
    .action(async (action: string, scenario: string | undefined, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      await run(!!g.json, async () => (await import('./demo.js')).drillCommand(action, scenario, g));
    });

  // The demo stack's own processes run from the same binary (hidden from help).
  program
    .command('__demo-api', { hidden: true })
    .requiredOption('--port <port>')
    .requiredOption('--db <file>')
    .requiredOption('--control <file>')
    .action(async (o: { port: string; db: string; control: string }) => {
      await (await import('../demo/api.js')).runDemoApi({ port: Number(o.port), db: o.db, control: o.control });
    });

  program
    .command('__demo-writer', { hidden: true })
    .requiredOption('--db <file>')
    .option('--api <url>')
    .action(async (o: { db: string; api?: string }) => {
      await (await import('../demo/writer.js')).runDemoWriter({ db: o.db, ...(o.api ? { api: o.api } : {}) });
    });
  return program;
}

/**
 * "unknown command 'bogus' (expected one of: …)" when the first word is no command (issue #11:
 * commander said "too many arguments. Expected 0 arguments but got 1").
 */
export function unknownCommand(program: Command, args: readonly string[]): string | undefined {
  const names = program.commands.filter((c) => !c.name().startsWith('__')).map((c) => c.name());
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-c' || a === '--config') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return names.includes(a) ? undefined : `unknown command '${a}' (expected one of: ${names.join(', ')}; no command opens the console; opsdeck --help)`;
  }
  return undefined;
}
