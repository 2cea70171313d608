import { z } from 'zod';
import { duration, httpUrl, name } from './fields.js';

// The applications of issue #17 (app-update, db-migrate) and the service start order
// (`depends_on`, used by full-system-recovery and the app's start): their schema and the checks
// across sections (an app's services and database are declared; no dependency cycle).

/** A command of an application as an argv list (no shell): `[git, pull, --ff-only]`; `{{revision}}` is filled where a revision is needed. */
const argv = z.array(z.string().min(1, 'expected a non-empty argument'), { error: 'expected a command as a list of arguments, such as [git, pull, --ff-only]' }).min(1, 'expected the program and its arguments');

/** How an application's database migrations are run (issue #17; alembic as the example). */
const migrateSchema = z.strictObject({
  current: argv,
  history: argv.optional(),
  heads: argv.optional(),
  /** `{{revision}}`: the target revision (default `head`). */
  upgrade: argv,
  /** `{{revision}}`: the target revision (the one before an upgrade, when a rollback downgrades). */
  downgrade: argv.optional(),
});

/**
 * An application that opsdeck updates (issue #17: app-update, db-migrate): where its code is, the
 * services that run it, its database, and the commands of the maintenance manual's update.
 */
export const appSchema = z.strictObject({
  name,
  /** The working folder of every command (the git checkout). */
  dir: z.string().min(1, 'expected the folder of the application (its git checkout)'),
  /** Declared services (by name) that run it: stopped before the update, started after (in depends_on order). */
  services: z.array(z.string().min(1)).default([]),
  /** The database (by name) backed up before the update and put back if it is rolled back. */
  database: z.string().min(1).optional(),
  /** Checked after the start (`http://127.0.0.1:8000/api/v1/health`); default: each service's own health. */
  health_url: httpUrl.optional(),
  /** Told to users before the update (through the notification channels once they exist; until then a step a person does). */
  notify: z.string().min(1).optional(),
  /** The notification channels (by name, in notify.channels) app-update sends `notify` on (issue #19); unset: a person tells the users. */
  notify_channels: z.array(z.string().min(1)).optional(),
  revision: argv.default(['git', 'rev-parse', 'HEAD']),
  pull: argv.default(['git', 'pull', '--ff-only']),
  /**
   * Puts a revision back in a rollback (`{{revision}}`: the one before the update). `git reset --keep`
   * moves the branch back (the next pull fast-forwards again) and refuses rather than drop a local edit.
   */
  checkout: argv.default(['git', 'reset', '--keep', '{{revision}}']),
  /** Prints the checkout's local changes; anything printed stops app-update before it changes anything (a rollback would serve them). */
  changes: argv.default(['git', 'status', '--porcelain', '--untracked-files=no']),
  build: argv.optional(),
  migrate: migrateSchema.optional(),
  /** How long each service may take to be healthy after a start (and the health_url to answer). */
  healthy_within: duration(60_000, { min: 1000, max: 3_600_000, why: 'how long a started service may take to be healthy' }),
  /** At most this long per command. */
  timeout: duration(10 * 60_000, { min: 1000, max: 2 * 3_600_000, why: 'how long one update command (pull, build, migrate) may take' }),
});

type Ctx = z.core.$RefinementCtx;

/** Each app's services and database are declared; its database's writers are among its services (a rollback restores it with them stopped). */
export function checkApps(c: { apps: { name: string; services: string[]; database?: string | undefined }[]; databases: { name: string; writers: string[] }[] }, services: string[], ctx: Ctx): void {
  c.apps.forEach((a, i) => {
    a.services.forEach((s, j) => {
      if (!services.includes(s)) ctx.addIssue({ code: 'custom', path: ['apps', i, 'services', j], message: `service ${JSON.stringify(s)} is not in services (expected one of: ${services.join(', ') || 'none declared'})` });
    });
    if (a.database === undefined) return;
    const db = c.databases.find((d) => d.name === a.database);
    if (!db) {
      ctx.addIssue({ code: 'custom', path: ['apps', i, 'database'], message: `database ${JSON.stringify(a.database)} is not in databases (expected one of: ${c.databases.map((d) => d.name).join(', ') || 'none declared'})` });
      return;
    }
    const outside = db.writers.filter((w) => !a.services.includes(w));
    if (outside.length) ctx.addIssue({ code: 'custom', path: ['apps', i, 'services'], message: `expected ${outside.join(', ')} (writers of database ${db.name}) among the app's services: a rolled-back update puts the database back, which is safe only with every writer stopped` });
  });
}

/** depends_on names declared services and has no cycle (the start order must exist). */
export function checkDependencies(list: readonly { name: string; depends_on: string[] }[], ctx: Ctx): void {
  const names = list.map((s) => s.name);
  list.forEach((s, i) =>
    s.depends_on.forEach((d, j) => {
      if (!names.includes(d)) ctx.addIssue({ code: 'custom', path: ['services', i, 'depends_on', j], message: `service ${JSON.stringify(d)} is not in services (expected one of: ${names.join(', ')})` });
    }),
  );
  const cycle = findCycle(list);
  if (cycle) ctx.addIssue({ code: 'custom', path: ['services', names.indexOf(cycle[0] as string), 'depends_on'], message: `expected no cycle in depends_on, found ${cycle.join(' → ')}` });
}

/** A dependency cycle among services, as the names along it (first repeated at the end), or undefined. */
export function findCycle(list: readonly { name: string; depends_on: readonly string[] }[]): string[] | undefined {
  const deps = new Map(list.map((s) => [s.name, s.depends_on]));
  const state = new Map<string, 'open' | 'done'>();
  const walk = (n: string, path: string[]): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'open') return [...path.slice(path.indexOf(n)), n];
    state.set(n, 'open');
    for (const d of deps.get(n) ?? []) {
      const c = walk(d, [...path, n]);
      if (c) return c;
    }
    state.set(n, 'done');
    return undefined;
  };
  for (const s of list) {
    const c = walk(s.name, []);
    if (c) return c;
  }
  return undefined;
}

