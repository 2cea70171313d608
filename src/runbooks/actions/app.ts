// Over 300 lines, knowingly: the application actions of the update runbooks (issue #17) — revision
// look, backup, checkout and build, migrate up or down, start, verify, roll back — share one app
// resolution and one way of running its commands, so they stay side by side.
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import type { AppConfig, Config, ServiceConfig } from '../../config/schema.js';
import { Failure } from '../../domain/errors.js';
import { startOrder, stopOrder } from '../../domain/service-order.js';
import { factsOf, remember, showArgv, type GenericDeps } from '../../engine/actions.js';
import type { Action, StepContext } from '../../engine/driver.js';
import { probeHttp } from '../../services/http.js';
import { backupDir, createBackup, listBackups, verifyBackup } from '../../services/backup.js';
import { backupConfigFiles } from '../../services/backup-config.js';
import { configOf, namedEntry } from './config.js';
import { putBackFromBackup } from './put-back.js';
import { act, startInOrder, waitServiceHealthy } from './service.js';
import { queueAppNotice } from './notify.js';

// The maintenance manual's update and migration (issue #17: app-update, db-migrate) as actions on
// a configured app (`apps:`). Its commands are argv lists run in the app's folder with no shell;
// `{{revision}}` in them is one argument. What the update must be able to undo is journaled as
// facts before it changes anything: the revision before the pull (`app.revision_before`), the
// migration before the migrate (`app.migration_before`), the backup taken with the services
// stopped (`app.backup_id`). Undo is what a rolled-back update needs: the pull's undo checks the
// old revision out and builds it again; the migrate's undo puts the pre-update backup back (the
// services are stopped, so nothing written since is lost) or, in db-migrate, downgrades; the
// stop's undo starts the services and waits for them to be healthy, so "rolled back" means the old
// revision serves again.

type X = StepContext<unknown, GenericDeps>;

const appOf = (x: X): AppConfig => namedEntry(x, configOf(x, '(apps)').apps, 'app', 'app');

/** The app's folder (made absolute from the configuration file's folder when it is loaded). */
const dirOf = (_x: X, a: AppConfig): string => a.dir;

/** The app's services, in the configuration. */
function servicesOf(x: X, a: AppConfig): ServiceConfig[] {
  const all = configOf(x, '(services)').services;
  return a.services.map((n) => all.find((s) => s.name === n)).filter((s): s is ServiceConfig => !!s);
}

const withRevision = (argv: readonly string[], revision: string): string[] => argv.map((v) => v.replace(/\{\{\s*revision\s*\}\}/g, revision));

/** How many output lines a command's note keeps. */
const TAIL = 3;

/** Runs one of the app's commands in its folder; the whole output on success, a failure with its last lines otherwise. */
function run(x: X, a: AppConfig, argv: readonly string[], what: string): Promise<string> {
  const [file, ...args] = argv as [string, ...string[]];
  const cwd = dirOf(x, a);
  return new Promise((res, rej) => {
    execFile(file, args, { cwd, timeout: a.timeout, signal: x.signal, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (!err) return res(stdout);
      const tail = `${stdout}${stderr}`.trim().split('\n').slice(-TAIL).join(' | ');
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      const why = e.code === 'ENOENT' ? `${file}: no such program, or no folder ${cwd}` : e.killed || e.name === 'AbortError' ? `timed out after ${Math.round(a.timeout / 1000)} s or cancelled` : `exit ${String(e.code)}`;
      rej(new Failure('exec', `${a.name}: ${what} failed (${why})${tail ? `: ${tail}` : ''}`));
    });
  });
}

const lastLine = (text: string): string => text.trim().split('\n').filter((l) => l.trim()).at(-1)?.trim() ?? '';
/** A revision as a command printed it: the first word of its last line (`git rev-parse HEAD`, `alembic current` → `ae1027a6acf (head)`). */
const revisionIn = (text: string): string => lastLine(text).split(/\s+/)[0] ?? '';
const short = (rev: string) => (/^[0-9a-f]{40}$/.test(rev) ? rev.slice(0, 12) : rev) || '(none)';

async function currentRevision(x: X, a: AppConfig): Promise<string> {
  return revisionIn(await run(x, a, a.revision, `${showArgv(a.revision)}`));
}

async function currentMigration(x: X, a: AppConfig): Promise<string | undefined> {
  return a.migrate ? revisionIn(await run(x, a, a.migrate.current, showArgv(a.migrate.current))) : undefined;
}

/** Records what the update must be able to go back to, once (a second look after a resume must not record the new revision). */
async function recordBefore(x: X, a: AppConfig): Promise<{ revision: string; migration?: string }> {
  const f = factsOf(x);
  let revision = f['app.revision_before'];
  if (revision === undefined) {
    revision = await currentRevision(x, a);
    remember(x, 'app.revision_before', revision);
  }
  let migration = f['app.migration_before'];
  if (migration === undefined && a.migrate) {
    migration = (await currentMigration(x, a)) ?? '';
    remember(x, 'app.migration_before', migration);
  }
  return { revision: String(revision), ...(migration !== undefined ? { migration: String(migration) } : {}) };
}

/** Starts the app's services in dependency order, each healthy before the next. */
async function startAll(x: X, a: AppConfig, healthyMs: number): Promise<string> {
  const list = servicesOf(x, a);
  const ordered = startOrder(configOf(x, '(services)').services, a.services).map((n) => list.find((e) => e.name === n) as ServiceConfig);
  return (await startInOrder(x, ordered, healthyMs)).join('; ') || `${a.name}: no services to start (apps[].services is empty)`;
}

async function stopAll(x: X, a: AppConfig): Promise<string> {
  const notes: string[] = [];
  const list = servicesOf(x, a);
  for (const n of stopOrder(configOf(x, '(services)').services, a.services)) notes.push(await act(x, list.find((e) => e.name === n) as ServiceConfig, 'stop'));
  return notes.join('; ') || `${a.name}: no services to stop (apps[].services is empty)`;
}

const order = (x: X, a: AppConfig, which: 'start' | 'stop') => (which === 'start' ? startOrder : stopOrder)(configOf(x, '(services)').services, a.services).join(', ') || 'none';

function databaseOf(config: Config, a: AppConfig) {
  const d = config.databases.find((e) => e.name === a.database);
  if (!d) throw new Failure('params', `${a.name}: no database configured for it (apps[].database)`);
  return d;
}

/** Puts the backup taken before the update back (the migrate's undo in app-update). */
async function putBackPreUpdate(x: X, a: AppConfig): Promise<string> {
  const config = configOf(x, '(databases)');
  const d = databaseOf(config, a);
  const id = factsOf(x)['app.backup_id'];
  if (id === undefined) throw new Failure('not-found', `${a.name}: no backup was taken before the update (its backup step did not finish); ${d.path} is left as it is`);
  const dir = backupDir(d.name, config.backup.dir);
  const m = listBackups(dir).find((b) => b.id === id);
  if (!m) throw new Failure('not-found', `${a.name}: backup ${String(id)} is no longer in ${dir}; ${d.path} is left as it is`);
  return (await putBackFromBackup({ dbPath: d.path, dir, m, runId: x.record.id, stateDir: x.deps.stateDir, label: `${a.name}: database ${d.name}` })).note;
}

/** Migrates back to the revision before the run, through the tool (db-migrate's undo): rows written meanwhile stay. */
async function migrateBack(x: X, a: AppConfig): Promise<string> {
  const before = factsOf(x)['app.migration_before'];
  const back = x.step.params?.direction === 'downgrade' ? 'upgrade' : 'downgrade';
  const argv = back === 'upgrade' ? a.migrate?.upgrade : a.migrate?.downgrade;
  if (!argv) throw new Failure('params', `${a.name}: no ${back} command configured (apps[].migrate.${back}); ${back} by hand to ${String(before ?? 'the revision before')}`);
  if (before === undefined || before === '') throw new Failure('params', `${a.name}: the migration before this run is not known (none was recorded); ${back} by hand`);
  await run(x, a, withRevision(argv, String(before)), back);
  return `${a.name}: database ${back}d back to ${String(before)} (now ${(await currentMigration(x, a)) ?? '?'})`;
}

const migrateArgv = (x: X, a: AppConfig): { argv: string[]; direction: string; revision: string } => {
  const m = a.migrate;
  if (!m) throw new Failure('params', `${a.name}: no migrate commands configured (apps[].migrate)`);
  const direction = String(x.step.params?.direction ?? 'upgrade');
  if (direction !== 'upgrade' && direction !== 'downgrade') throw new Failure('params', `step ${x.step.id}: direction ${JSON.stringify(direction)}: expected upgrade or downgrade`);
  const revision = String(x.step.params?.revision ?? (direction === 'upgrade' ? 'head' : ''));
  if (!revision || (direction === 'downgrade' && revision === 'head')) throw new Failure('params', `step ${x.step.id}: a downgrade needs the revision to go to (--param revision=REV)`);
  if (direction === 'downgrade' && !m.downgrade) throw new Failure('params', `${a.name}: no downgrade command configured (apps[].migrate.downgrade)`);
  return { argv: withRevision(direction === 'upgrade' ? m.upgrade : (m.downgrade as string[]), revision), direction, revision };
};

/** The app actions by id. */
export const APP_ACTIONS: Record<string, Action<unknown, GenericDeps>> = {
  'app.status': {
    dangerous: false,
    preview: (x) => `check ${appOf(x).dir} has no local changes (${showArgv(appOf(x).changes)}), read ${appOf(x).name}'s revision (${showArgv(appOf(x).revision)})${appOf(x).migrate ? ` and migration (${showArgv(appOf(x).migrate?.current ?? [])})` : ''} in ${dirOf(x, appOf(x))}, and remember them for a rollback`,
    async execute(x) {
      const a = appOf(x);
      // Local edits in the checkout would make the pull fail and a rollback serve them: stop before anything changes.
      const changes = (await run(x, a, a.changes, showArgv(a.changes))).trim();
      if (changes) throw new Failure('params', `${a.name}: the checkout ${a.dir} has local changes (${changes.split('\n').slice(0, 3).map((l) => l.trim()).join(', ')}${changes.split('\n').length > 3 ? ', …' : ''}): commit or stash them first; nothing was changed`);
      const b = await recordBefore(x, a);
      return `${a.name} at revision ${short(b.revision)}${b.migration !== undefined ? `, database migration ${b.migration || '(none)'}` : ''}; services ${order(x, a, 'start')}; database ${a.database ?? 'none'}`;
    },
  },
  'app.notify': {
    dangerous: false,
    settled: (x) => (appOf(x).notify ? undefined : `${appOf(x).name}: no message to send (apps[].notify is not set)`),
    preview: (x) => {
      const a = appOf(x);
      return a.notify_channels?.length
        ? `queue "${a.notify ?? ''}" for ${a.notify_channels.join(', ')} (the notification outbox; the watch or console holding the notifier lease delivers it: opsdeck notify status)`
        : `tell the users: "${a.notify ?? ''}" (apps[].notify_channels is not set: you send it, then answer y)`;
    },
    // With channels configured the outbox tells the users; without, only a person can.
    personOnly: (x) => (appOf(x).notify_channels?.length ? undefined : 'telling the users needs a person (apps[].notify_channels is not set)'),
    execute: async (x) => {
      const a = appOf(x);
      if (!a.notify_channels?.length) return 'users told by the operator';
      return queueAppNotice(x, a);
    },
  },
  'app.stop': {
    dangerous: true,
    preview: (x) => `stop ${appOf(x).name}'s services in this order: ${order(x, appOf(x), 'stop')}`,
    execute: (x) => stopAll(x, appOf(x)),
    undo: (x) => startAll(x, appOf(x), appOf(x).healthy_within),
  },
  'app.start': {
    dangerous: true,
    preview: (x) => `start ${appOf(x).name}'s services in this order, each healthy before the next (at most ${appOf(x).healthy_within / 1000} s each): ${order(x, appOf(x), 'start')}`,
    execute: (x) => startAll(x, appOf(x), appOf(x).healthy_within),
    undo: (x) => stopAll(x, appOf(x)),
  },
  'app.backup': {
    // Writes new files beside the others and changes nothing else: safe to take again.
    dangerous: false,
    preview(x) {
      const a = appOf(x);
      const files = configOf(x, '').backup.config_files;
      return [a.database ? `back up database ${a.database} and verify the backup` : `no database (apps[].database not set)`, files.length ? `copy the configuration files that changed (${files.join(', ')})` : 'no configuration files listed (backup.config_files)'].join('; ');
    },
    async execute(x) {
      const a = appOf(x);
      const config = configOf(x, '');
      const notes: string[] = [];
      if (a.database) {
        const d = databaseOf(config, a);
        const dir = backupDir(d.name, config.backup.dir);
        const m = await createBackup({ db: d.path, name: d.name, dir, tables: [...d.critical_tables, ...d.normal_tables] });
        const v = await verifyBackup(dir, m);
        if (!v.verify?.ok) throw new Failure('corrupt', `backup ${m.id}: verification failed (${v.verify?.message ?? 'no result'}); nothing of ${a.name} was changed`);
        remember(x, 'app.backup_id', m.id);
        notes.push(`backup ${m.id} taken and verified`);
      }
      const base = x.deps.configFile ? dirname(x.deps.configFile) : process.cwd();
      const copies = backupConfigFiles(config.backup.config_files.map((f) => resolve(base, f)), backupDir('_config', config.backup.dir));
      if (config.backup.config_files.length) notes.push(copies.length ? `configuration files copied: ${copies.map((c) => c.source).join(', ')}` : 'configuration files unchanged since their last copy');
      return notes.join('; ') || 'nothing to back up (no apps[].database, no backup.config_files)';
    },
  },
  'app.pull': {
    dangerous: true,
    preview: (x) => `in ${dirOf(x, appOf(x))}: ${showArgv(appOf(x).pull)} (at most ${appOf(x).timeout / 1000} s); undone by ${showArgv(withRevision(appOf(x).checkout, String(factsOf(x)['app.revision_before'] ?? 'REVISION-BEFORE')))}${appOf(x).build ? ` and ${showArgv(appOf(x).build ?? [])}` : ''}`,
    async execute(x) {
      const a = appOf(x);
      const { revision } = await recordBefore(x, a);
      await run(x, a, a.pull, showArgv(a.pull));
      const now = await currentRevision(x, a);
      remember(x, 'app.revision_after', now);
      return now === revision ? `${a.name}: already at the newest revision ${short(now)}` : `${a.name}: ${short(revision)} → ${short(now)}`;
    },
    async undo(x) {
      const a = appOf(x);
      const before = factsOf(x)['app.revision_before'];
      if (before === undefined || before === '') throw new Failure('params', `${a.name}: the revision before the update is not known; check it out by hand`);
      await run(x, a, withRevision(a.checkout, String(before)), 'checkout of the revision before');
      if (a.build) await run(x, a, a.build, `build of ${short(String(before))}`);
      return `${a.name}: back at ${short(String(before))}${a.build ? ', built again' : ''}`;
    },
  },
  'app.build': {
    dangerous: true,
    settled: (x) => (appOf(x).build ? undefined : `${appOf(x).name}: no build command (apps[].build): nothing to build`),
    preview: (x) => `in ${dirOf(x, appOf(x))}: ${showArgv(appOf(x).build ?? [])} (at most ${appOf(x).timeout / 1000} s)`,
    async execute(x) {
      const a = appOf(x);
      const outText = await run(x, a, a.build ?? [], 'build');
      return `${a.name} built${lastLine(outText) ? `: ${lastLine(outText)}` : ''}`;
    },
  },
  'app.migrate-info': {
    dangerous: false,
    settled: (x) => (appOf(x).migrate?.[which(x)] ? undefined : `${appOf(x).name}: no ${which(x)} command (apps[].migrate.${which(x)})`),
    preview: (x) => `in ${dirOf(x, appOf(x))}: ${showArgv(appOf(x).migrate?.[which(x)] ?? [])}`,
    async execute(x) {
      const a = appOf(x);
      const lines = (await run(x, a, a.migrate?.[which(x)] ?? [], which(x))).trim().split('\n').filter((l) => l.trim());
      for (const l of lines.slice(0, 20)) x.say(l);
      if (which(x) === 'current' && a.migrate) await recordBefore(x, a);
      return `${which(x)}: ${lines.slice(-TAIL).join(' | ') || '(nothing printed)'}`;
    },
  },
  'app.migrate': {
    dangerous: true,
    settled: (x) => (appOf(x).migrate ? undefined : `${appOf(x).name}: no migrate commands (apps[].migrate): nothing to migrate`),
    preview(x) {
      const a = appOf(x);
      const m = migrateArgv(x, a);
      const back = m.direction === 'downgrade' ? a.migrate?.upgrade : a.migrate?.downgrade;
      const undo = x.step.params?.undo === 'restore' ? `put back the backup taken before the update (database ${a.database ?? '?'})` : showArgv(withRevision(back ?? ['(no command to migrate back)'], String(factsOf(x)['app.migration_before'] ?? 'REVISION-BEFORE')));
      const loss = m.direction === 'downgrade' ? '; a DOWNGRADE can drop columns and tables with the data in them (the backup step holds it), and services still running may fail against the older schema' : '';
      return `in ${dirOf(x, a)}: ${showArgv(m.argv)} (${m.direction} to ${m.revision})${loss}; undone by: ${undo}`;
    },
    async execute(x) {
      const a = appOf(x);
      const before = await recordBefore(x, a);
      const m = migrateArgv(x, a);
      await run(x, a, m.argv, m.direction);
      return `${a.name}: database migration ${before.migration || '(none)'} → ${(await currentMigration(x, a)) || '(none)'}`;
    },
    undo: (x) => (x.step.params?.undo === 'restore' ? putBackPreUpdate(x, appOf(x)) : migrateBack(x, appOf(x))),
  },
  'app.verify': {
    dangerous: false,
    preview: (x) => (appOf(x).health_url ? `GET ${appOf(x).health_url ?? ''} until it answers 2xx/3xx (at most ${appOf(x).healthy_within / 1000} s)` : `wait for each of ${appOf(x).name}'s services to be healthy`),
    async execute(x) {
      const a = appOf(x);
      const ms = appOf(x).healthy_within;
      if (!a.health_url) return (await Promise.all(servicesOf(x, a).map((s) => waitServiceHealthy(x, s, ms)))).join('; ');
      const deadline = Date.now() + ms;
      for (;;) {
        const p = await probeHttp({ url: a.health_url, timeoutMs: Math.min(5000, Math.max(500, deadline - Date.now())) });
        if (p.ok) return `${a.name} healthy: ${p.target} answered HTTP ${p.status ?? ''} in ${Math.round(p.latencyMs)} ms${lastRev(x)}`;
        if (Date.now() > deadline || x.signal.aborted) throw new Failure('unhealthy', `${a.name} not healthy after ${Math.round(ms / 1000)} s: ${p.failure?.message ?? 'no answer'}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    },
  },
};

function which(x: X): 'current' | 'history' | 'heads' {
  const w = x.step.params?.which;
  if (w === 'current' || w === 'history' || w === 'heads') return w;
  throw new Failure('params', `step ${x.step.id}: parameter which: expected current, history or heads`);
}

const lastRev = (x: X): string => {
  const r = factsOf(x)['app.revision_after'];
  return r ? ` (revision ${short(String(r))})` : '';
};
