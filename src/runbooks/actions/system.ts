import { existsSync } from 'node:fs';
import type { Config, DatabaseConfig, ServiceConfig } from '../../config/schema.js';
import { Failure } from '../../domain/errors.js';
import { startOrder, stopOrder } from '../../domain/service-order.js';
import { factsOf, num, remember, type GenericDeps } from '../../engine/actions.js';
import type { Action, StepContext } from '../../engine/driver.js';
import { inspectDatabase } from '../../services/backup-restore.js';
import { backupDir, listBackups } from '../../services/backup.js';
import { configOf } from './config.js';
import { filesSurvey, goneFiles, SYSTEM_FILE_ACTIONS } from './system-files.js';
import { putBackFromBackup } from './put-back.js';
import { act, how, startInOrder } from './service.js';
import { VERIFY_ACTIONS } from './verify.js';

// The DR plan's full-system recovery (issue #17: full-system-recovery) over everything configured:
// services stopped (dependents first), each database that is GONE put back from its newest verified
// backup, configuration and data files that are gone put back from theirs (src/runbooks/actions/
// system-files.ts), services started in dependency order (each healthy before the next), then the
// recovery-verify checks. What is still there is never overwritten with an older copy: a database
// that exists but is damaged is the restore wizard's (`restore-database` merges what can still be
// read), and a file that exists but differs from its backup is left and listed — a full-system
// recovery must not lose a row or an edit that survived.

type X = StepContext<unknown, GenericDeps>;

/** What one database looks like to the recovery. */
export interface DbState {
  db: DatabaseConfig;
  state: 'ok' | 'missing' | 'damaged';
  detail: string;
}

/** Each configured database: there and readable, gone, or damaged. */
export async function databaseStates(config: Config): Promise<DbState[]> {
  const out: DbState[] = [];
  for (const db of config.databases) {
    if (!existsSync(db.path)) {
      out.push({ db, state: 'missing', detail: `${db.name}: ${db.path} is gone` });
      continue;
    }
    try {
      const r = await inspectDatabase(db.path, [], 'quick');
      out.push(r.integrity.length === 1 && r.integrity[0] === 'ok' ? { db, state: 'ok', detail: `${db.name}: there and readable (quick_check ok)` } : { db, state: 'damaged', detail: `${db.name}: quick_check failed: ${r.integrity.slice(0, 2).join('; ')}` });
    } catch (e) {
      out.push({ db, state: 'damaged', detail: `${db.name}: cannot be read: ${(e as Error).message}` });
    }
  }
  return out;
}

const newestVerified = (config: Config, db: DatabaseConfig) => {
  const dir = backupDir(db.name, config.backup.dir);
  return { dir, m: listBackups(dir).find((b) => b.verify?.ok) };
};

/** The services opsdeck can stop and start (a container or commands); the others are named as left alone. */
function manageable(config: Config): { list: ServiceConfig[]; skipped: string[] } {
  const list: ServiceConfig[] = [];
  const skipped: string[] = [];
  for (const s of config.services) {
    try {
      how(s, 'stop');
      list.push(s);
    } catch {
      skipped.push(s.name);
    }
  }
  return { list, skipped };
}

function ordered(config: Config, which: 'start' | 'stop'): ServiceConfig[] {
  const { list } = manageable(config);
  const names = (which === 'start' ? startOrder : stopOrder)(config.services, list.map((s) => s.name));
  return names.map((n) => list.find((s) => s.name === n) as ServiceConfig);
}

const leftAlone = (config: Config) => {
  const { skipped } = manageable(config);
  return skipped.length ? ` (left alone, no way to stop or start them configured: ${skipped.join(', ')})` : '';
};

async function startAll(x: X, ms: number): Promise<string> {
  const config = configOf(x, '(services)');
  return (await startInOrder(x, ordered(config, 'start'), ms)).join('; ') || 'no services to start';
}

async function stopAll(x: X): Promise<string> {
  const config = configOf(x, '(services)');
  const notes: string[] = [];
  for (const s of ordered(config, 'stop')) notes.push(await act(x, s, 'stop'));
  return (notes.join('; ') || 'no services to stop') + leftAlone(config);
}

/** One verification action run with other parameters (the recovery-verify steps, for every service). */
async function verifyWith(x: X, id: keyof typeof VERIFY_ACTIONS, params: Record<string, string | number>): Promise<string> {
  const a = VERIFY_ACTIONS[id];
  const y: X = { get record() { return x.record; }, step: { ...x.step, action: id, params }, deps: x.deps, signal: x.signal, persist: (c) => x.persist(c), say: (t) => x.say(t) };
  return a.execute(y);
}

/** When the survey found nothing gone, the services are left as they are (a recovery with nothing to put back stops nothing). */
const nothingGone = (x: X, what: string): string | undefined => (factsOf(x)['system.gone'] === 0 ? `nothing is gone: no service ${what}` : undefined);

/** The full-system-recovery actions by id (files: system-files.ts). */
export const SYSTEM_ACTIONS: Record<string, Action<unknown, GenericDeps>> = {
  'system.survey': {
    dangerous: false,
    preview: (x) => `look at every configured database (${configOf(x, '').databases.map((d) => d.name).join(', ') || 'none'}): there, gone, or damaged, and its newest verified backup; and the configuration and data files against their copies`,
    async execute(x) {
      const config = configOf(x, '(databases)');
      const states = await databaseStates(config);
      const dbs = states.map((s) => `${s.detail}${s.state === 'ok' ? '' : `; newest verified backup ${newestVerified(config, s.db).m?.id ?? 'NONE'}`}`);
      const text = [...dbs, ...filesSurvey(config)].join('; ') || 'no databases or files configured';
      // What would stop the recovery half-way is said now, before any service is stopped.
      const damaged = states.filter((s) => s.state === 'damaged').map((s) => s.db.name);
      if (damaged.length) throw new Failure('integrity', `${damaged.join(', ')} ${damaged.length > 1 ? 'are' : 'is'} damaged, not gone: run restore-database for ${damaged.length > 1 ? 'each' : 'it'} first (opsdeck runbook run restore-database --target ${damaged[0] ?? ''}; it keeps what can still be read), then run full-system-recovery again; nothing was stopped (${text})`);
      const lost = states.filter((s) => s.state === 'missing' && !newestVerified(config, s.db).m).map((s) => s.db.name);
      if (lost.length) throw new Failure('not-found', `${lost.join(', ')}: gone, and no verified backup to put back (${lost.map((n) => backupDir(n, config.backup.dir)).join(', ')}): bring a copy there (from the off-host copies), then run full-system-recovery again; nothing was stopped`);
      remember(x, 'system.gone', states.filter((s) => s.state === 'missing').length + goneFiles(config));
      return text;
    },
  },
  'system.stop-services': {
    dangerous: true,
    settled: (x) => nothingGone(x, 'stopped'),
    preview: (x) => `stop, dependents first: ${ordered(configOf(x, ''), 'stop').map((s) => s.name).join(', ') || 'none'}${leftAlone(configOf(x, ''))}`,
    execute: (x) => stopAll(x),
    undo: (x) => startAll(x, num(x.step.params, 'healthy_within_ms', 60_000)),
  },
  'system.restore-databases': {
    dangerous: true,
    async preview(x) {
      const config = configOf(x, '');
      const states = await databaseStates(config);
      const lines = states.map((s) => (s.state === 'missing' ? `put ${s.db.name} back from ${newestVerified(config, s.db).m?.id ?? '(no verified backup!)'}` : s.state === 'damaged' ? `${s.db.name} is damaged, not gone: left for restore-database (it keeps what can be read)` : `${s.db.name} is there: left alone`));
      return lines.join('; ') || 'no databases configured';
    },
    async execute(x) {
      const config = configOf(x, '(databases)');
      const notes: string[] = [];
      const damaged: string[] = [];
      for (const s of await databaseStates(config)) {
        if (s.state === 'ok') notes.push(`${s.db.name} there: left alone`);
        else if (s.state === 'damaged') damaged.push(s.db.name);
        else {
          const { dir, m } = newestVerified(config, s.db);
          if (!m) throw new Failure('not-found', `${s.db.name}: ${s.db.path} is gone and ${dir} holds no verified backup; nothing to put back`);
          x.say(`${s.db.name}: putting back ${m.id}`);
          notes.push((await putBackFromBackup({ dbPath: s.db.path, dir, m, runId: x.record.id, stateDir: x.deps.stateDir, label: `database ${s.db.name}` })).note);
        }
      }
      if (damaged.length) throw new Failure('integrity', `${damaged.join(', ')} ${damaged.length > 1 ? 'are' : 'is'} damaged, not gone: run restore-database for ${damaged.length > 1 ? 'each' : 'it'} (opsdeck runbook run restore-database --target ${damaged[0] ?? ''}), then resume this run${notes.length ? ` (${notes.join('; ')})` : ''}`);
      return notes.join('; ') || 'no databases configured';
    },
  },
  'system.start-services': {
    dangerous: true,
    settled: (x) => nothingGone(x, 'started'),
    preview: (x) => `start in dependency order, each healthy before the next (at most ${num(x.step.params, 'healthy_within_ms', 60_000) / 1000} s each): ${ordered(configOf(x, ''), 'start').map((s) => s.name).join(', ') || 'none'}`,
    execute: (x) => startAll(x, num(x.step.params, 'healthy_within_ms', 60_000)),
    undo: (x) => stopAll(x),
  },
  'system.verify': {
    dangerous: false,
    preview: (x) => {
      const withUrl = configOf(x, '').services.filter((s) => s.health_url).map((s) => s.name);
      return `recovery-verify for ${withUrl.join(', ') || 'no service with a health_url'}: health, function (every endpoint), performance (${num(x.step.params, 'count', 20)} requests, p95 under thresholds.response_time)`;
    },
    async execute(x) {
      const services = configOf(x, '(services)').services.filter((s) => s.health_url);
      const notes: string[] = [];
      for (const s of services) notes.push(await verifyWith(x, 'verify.health', { service: s.name }));
      notes.push(await verifyWith(x, 'verify.function', {}));
      for (const s of services) notes.push(await verifyWith(x, 'verify.performance', { service: s.name, count: num(x.step.params, 'count', 20) }));
      return notes.join('; ');
    },
  },
  ...SYSTEM_FILE_ACTIONS,
};
