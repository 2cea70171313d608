import { committedLogFor, countsAtNextDrill } from './committed.js';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ExitError } from '../domain/errors.js';
import { placeBallast, removeBallast, withDiskThreshold } from './disk.js';
import { controlApi, controlRedis, redisPid, writeControl } from './services.js';
import { alive, readDemoState, startContainer, writeDemoState, type ContainerStart, type DemoState } from './workspace.js';

/** A practice scenario: what it breaks, which alert should fire, how to recover. */
export interface Drill {
  name: string;
  breaks: string;
  /** Check id whose alert must fire. */
  alert: string;
  /** The runbook that recovers it from its alert (issue #16), and what it acts on. */
  runbook: { name: string; target: string };
  /** How to recover: the runbook path first (the console's F, or `opsdeck runbook run`), then the fallback. */
  recover: string;
  /** Needs a part of the demo that may be missing (Redis, Docker). */
  needs?: 'redis' | 'container';
  run(s: DemoState): Promise<void>;
  /** Undoes the fault, for faults opsdeck has no runbook for yet. */
  undo(s: DemoState): Promise<void>;
}

const control = writeControl;

/**
 * A drill's recovery text: the runbook path first (the console: F on the selected alert; or the
 * command line), then what the runbook does in the demo, then the fallback.
 */
function viaRunbook(alert: string, runbook: string, target: string, what: string, fallback: string): { runbook: { name: string; target: string }; recover: string } {
  return {
    runbook: { name: runbook, target },
    recover: `in the console: select the alert ${alert}, F runs ${runbook} for ${target} (or: opsdeck runbook run ${runbook} --target ${target})${what ? `: ${what}` : ''}; fallback: ${fallback}`,
  };
}

/** startContainer reports a container that did not start instead of throwing (the demo runs without one); a drill must not. */
function mustStart(r: ContainerStart): void {
  if (!r.started) throw new ExitError(1, 'drill', r.note);
}

function redisCli(s: DemoState, ...args: string[]): string {
  if (!s.redis) throw new ExitError(1, 'drill', 'the demo has no Redis (redis-server is not installed)');
  return execFileSync('redis-cli', ['-p', String(s.redis.port), ...args], { encoding: 'utf8' }).trim();
}

async function waitGone(pid: number | undefined): Promise<void> {
  while (alive(pid)) await new Promise((r) => setTimeout(r, 20));
}

/** Opens the demo database for a drill's own edits. */
async function openDb(s: DemoState) {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(s.db, { timeout: 10_000 });
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * Takes a verified backup of the demo database and does `fault` while holding the write lock from
 * the backup on: no trade is committed between the backup and the fault, so every trade committed
 * before the drill is in the backup (the drill measures the recovery, not the RPO). The drill's
 * record starts then, with the trades counted under the lock.
 */
async function underFreshBackup(s: DemoState, fault: (db: Awaited<ReturnType<typeof openDb>>, maxTradeId: number) => void): Promise<void> {
  const { loadConfig } = await import('../config/load.js');
  const { backupDir, createBackup, verifyBackup } = await import('../services/backup.js');
  const { config } = loadConfig({ file: s.config });
  const cfg = config.databases[0];
  if (!cfg) throw new ExitError(1, 'drill', 'the demo config has no database');
  const dir = backupDir(cfg.name, config.backup.dir);
  const db = await openDb(s);
  db.exec('BEGIN IMMEDIATE');
  let m;
  try {
    m = await createBackup({ db: s.db, name: cfg.name, dir, tables: [...cfg.critical_tables, ...cfg.normal_tables] });
    const hi = (db.prepare('SELECT coalesce(max(id), 0) AS hi FROM trades').get() as { hi: number }).hi;
    const n = (db.prepare('SELECT count(*) AS n FROM trades').get() as { n: number }).n;
    fault(db, hi);
    db.exec('COMMIT');
    const rec = s.drills.at(-1);
    if (rec) Object.assign(rec, { startedAt: Date.now(), maxTradeId: hi, tradeCount: n, backupMaxTradeId: hi, backupTradeCount: n });
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  } finally {
    db.close();
  }
  await verifyBackup(dir, m);
}

/** Every drill, in the order `drill list` shows them. */
export const DRILLS: Drill[] = [
  {
    name: 'api-down',
    breaks: 'kills the demo API process (SIGKILL)',
    alert: 'http:api',
    ...viaRunbook('http:api', 'service-recovery', 'api', "the api service's stop_command and start_command start it again (the demo's drill stop-api and start-api, standing in for systemctl)", 'opsdeck drill recover api-down'),
    async run(s) {
      if (s.apiPid) process.kill(s.apiPid, 'SIGKILL');
      await waitGone(s.apiPid);
    },
    async undo(s) {
      await controlApi(s, 'start');
    },
  },
  {
    name: 'api-slow',
    breaks: 'makes every API answer take 2.5 s (threshold 2 s)',
    alert: 'http:api',
    ...viaRunbook('http:api', 'api-degraded', 'api', 'diagnostics, then a restart of the API by its stop_command and start_command; in the demo, starting the API clears the injected fault (the stand-in for a restart that clears a leak or a stuck pool)', 'opsdeck drill recover api-slow'),
    async run(s) {
      control(s, { mode: 'slow', delayMs: 2500 });
    },
    async undo(s) {
      control(s, { mode: 'normal' });
    },
  },
  {
    name: 'api-errors',
    breaks: 'makes one API answer in three an HTTP 500 (error rate threshold 5 %)',
    alert: 'http:api',
    ...viaRunbook('http:api', 'api-degraded', 'api', 'diagnostics, then a restart of the API by its stop_command and start_command; in the demo, starting the API clears the injected fault (the stand-in for a restart that clears a leak or a stuck pool)', 'opsdeck drill recover api-errors'),
    async run(s) {
      control(s, { mode: 'errors', errorShare: 0.34 });
    },
    async undo(s) {
      control(s, { mode: 'normal' });
    },
  },
  {
    name: 'redis-down',
    breaks: 'kills redis-server (SIGKILL)',
    alert: 'redis:cache',
    needs: 'redis',
    ...viaRunbook('redis:cache', 'redis-recovery', 'cache', "the cache entry's stop_command and start_command start redis-server again (the demo's drill stop-redis and start-redis)", 'opsdeck drill recover redis-down'),
    async run(s) {
      const pid = redisPid(s);
      if (pid) process.kill(pid, 'SIGKILL');
      await waitGone(pid);
    },
    async undo(s) {
      await controlRedis(s, 'start');
    },
  },
  {
    name: 'redis-oom',
    breaks: 'lowers maxmemory just above what Redis uses, with eviction off (memory ≥ 90 % of maxmemory; writes soon fail with OOM)',
    alert: 'redis:cache',
    needs: 'redis',
    ...viaRunbook('redis:cache', 'redis-recovery', 'cache', 'shows used and max memory and the biggest key prefixes, then raises maxmemory (CONFIG SET, 2× or more) and offers to flush the biggest prefix (drill:filler)', 'opsdeck drill recover redis-oom (raises maxmemory back to 64mb with allkeys-lru)'),
    async run(s) {
      // One call (not 40 redis-cli processes): the drill's own time counts in its detection time.
      redisCli(s, 'EVAL', "for i = 0, 39 do redis.call('SET', 'drill:filler:' .. i, string.rep('x', 20000)) end", '0');
      const used = Number(/used_memory:(\d+)/.exec(redisCli(s, 'INFO', 'memory'))?.[1] ?? 0);
      redisCli(s, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      redisCli(s, 'CONFIG', 'SET', 'maxmemory', String(Math.ceil(used / 0.95)));
    },
    async undo(s) {
      redisCli(s, 'CONFIG', 'SET', 'maxmemory', '64mb');
      redisCli(s, 'CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    },
  },
  {
    name: 'db-corrupt',
    breaks: 'a backup runs (as the schedule would), then part of the trading database file is overwritten with garbage (as a bad disk would)',
    alert: 'sqlite:trading',
    ...viaRunbook('sqlite:trading', 'restore-database', 'trading', 'the restore wizard, from the last verified backup', 'opsdeck restore --db trading'),
    async run(s) {
      const db = await openDb(s);
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      // A backup runs first, as the schedule would: the drill measures the recovery, not the RPO
      // (a whole-file restore cannot bring back what no backup holds; the schedule bounds that).
      await underFreshBackup(s, () => {
        const size = statSync(s.db).size;
        const fd = openSync(s.db, 'r+');
        // Pages 2.. of the file (past the header page): the b-trees break, the header stays valid.
        const garbage = Buffer.alloc(Math.min(16 * 4096, size - 4096), 0x5a);
        writeSync(fd, garbage, 0, garbage.length, 4096);
        closeSync(fd);
      });
    },
    async undo() {
      throw new ExitError(1, 'drill', 'db-corrupt has no shortcut: recover with opsdeck restore --db trading');
    },
  },
  {
    name: 'rows-deleted',
    breaks: 'deletes a range of 100 committed trades (an operator\'s bad DELETE)',
    alert: 'sqlite:trading:rows',
    ...viaRunbook('sqlite:trading:rows', 'restore-database', 'trading', 'the restore wizard, merge (which the console suggests; W opens it too): brings the deleted trades back, overwrites nothing', 'opsdeck restore --db trading --merge'),
    async run(s) {
      const db = await openDb(s);
      const { lo } = db.prepare('SELECT min(id) AS lo FROM trades').get() as { lo: number };
      db.prepare('DELETE FROM trades WHERE id BETWEEN ? AND ?').run(lo + 100, lo + 199);
      db.close();
    },
    async undo() {
      throw new ExitError(1, 'drill', 'rows-deleted has no shortcut: recover with opsdeck restore --db trading');
    },
  },
  {
    name: 'rows-deleted-newest',
    breaks: 'a backup runs (as the schedule would), then at once the newest 100 trades are deleted while the writer keeps writing: new trades reuse their ids',
    alert: 'sqlite:trading:rows',
    ...viaRunbook('sqlite:trading:rows', 'restore-database', 'trading', 'the restore wizard, merge (which the console suggests; W opens it too); a trade whose id a new one took is kept in _opsdeck_conflicts_trades', 'opsdeck restore --db trading --merge'),
    async run(s) {
      await underFreshBackup(s, (db, hi) => {
        db.prepare('DELETE FROM trades WHERE id > ?').run(hi - 100);
      });
    },
    async undo() {
      throw new ExitError(1, 'drill', 'rows-deleted-newest has no shortcut: recover with the restore wizard (W → merge) or opsdeck restore --db trading --merge');
    },
  },
  {
    name: 'container-crashloop',
    breaks: 'replaces the worker container by one that exits at once, with restart policy "always"',
    alert: 'container:worker',
    needs: 'container',
    ...viaRunbook('container:worker', 'service-recovery', 'worker', "the worker service's stop_command and start_command recreate it from its healthy definition (the demo's drill stop-worker and start-worker, standing in for docker compose stop worker and docker compose up -d --force-recreate worker; in real life: fix the image first)", 'opsdeck drill recover container-crashloop'),
    async run(s) {
      mustStart(await startContainer(s, process.env, ['sh', '-c', 'echo "worker: fatal: cannot reach broker" >&2; exit 1'], 'always'));
    },
    async undo(s) {
      mustStart(await startContainer(s, process.env));
    },
  },
  {
    name: 'disk-pressure',
    breaks: 'writes a ballast rotated log beside the API log (logs/api.log.1: 1 GiB, or a tenth of the free space when less) and sets the disk threshold between the use of / with and without it (the monitor reloads the config)',
    alert: 'host:disk:/',
    ...viaRunbook('host:disk:/', 'disk-pressure', '/', 'shows the biggest folders, then removes rotated logs of the configured logs (the ballast api.log.1 among them), each previewed and confirmed', 'opsdeck drill recover disk-pressure (removes the ballast and puts the threshold back)'),
    async run(s) {
      const b = await placeBallast(s);
      // The fault begins when the threshold is set, after the ballast is in place (as rows-deleted-newest).
      const rec = s.drills.at(-1);
      if (rec?.scenario === 'disk-pressure') rec.startedAt = Date.now();
      writeFileSync(s.config, withDiskThreshold(readFileSync(s.config, 'utf8'), b.threshold));
    },
    async undo(s) {
      removeBallast(s);
      writeFileSync(s.config, withDiskThreshold(readFileSync(s.config, 'utf8'), undefined));
    },
  },
];

/** Finds a drill by name; a usage error lists the names. */
export function findDrill(name: string): Drill {
  const d = DRILLS.find((x) => x.name === name);
  if (!d) throw new ExitError(64, 'usage', `unknown drill "${name}" (expected one of: ${DRILLS.map((x) => x.name).join(', ')})`);
  return d;
}

/** Loads the demo state behind a config; drills refuse any config that is not a demo workspace. */
export function demoForConfig(configFile: string | undefined, demo: boolean): DemoState {
  const dir = configFile ? join(configFile, '..') : undefined;
  const s = dir ? readDemoState(dir) : undefined;
  if (!demo || !s || !configFile || s.config !== configFile) {
    throw new ExitError(1, 'drill', `drills act only on the demo workspace made by \`opsdeck demo\`; ${configFile ?? 'this config'} is not one (start one with: opsdeck demo --detach)`);
  }
  return s;
}

/** Runs a drill: records the trades before, breaks the stack, returns what to tell the operator. */
export async function runDrill(s: DemoState, d: Drill, backupMaxTradeId: number | undefined): Promise<void> {
  if (d.needs === 'redis' && !s.redis) throw new ExitError(1, 'drill', `${d.name} needs Redis, and this demo runs without it (redis-server is not installed)`);
  if (d.needs === 'container' && !s.container) throw new ExitError(1, 'drill', `${d.name} needs a container, and this demo runs without one (no Docker engine or local image)`);
  const db = await openDb(s);
  const t = db.prepare('SELECT coalesce(max(id), 0) AS maxId, count(*) AS n FROM trades').get() as { maxId: number; n: number };
  const upToBackup = backupMaxTradeId !== undefined ? (db.prepare('SELECT count(*) AS n FROM trades WHERE id <= ?').get(backupMaxTradeId) as { n: number }).n : undefined;
  // The drill before this one: its figures stay as they are now (this drill counts its own from here on).
  const prev = s.drills.at(-1);
  if (prev && !prev.during) prev.during = await countsAtNextDrill(db, committedLogFor(s.db), prev);
  db.close();
  s.drills.push({
    scenario: d.name,
    startedAt: Date.now(),
    maxTradeId: t.maxId,
    tradeCount: t.n,
    ...(backupMaxTradeId !== undefined && upToBackup !== undefined ? { backupMaxTradeId, backupTradeCount: upToBackup } : {}),
  });
  writeDemoState(s);
  await d.run(s);
  writeDemoState(s);
}

/** Undoes a drill's fault (for faults without a runbook). */
export async function recoverDrill(s: DemoState, d: Drill): Promise<void> {
  await d.undo(s);
  writeDemoState(s);
}
