import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { formatDuration } from '../config/duration.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { redactSecrets } from '../config/secrets.js';
import { sameMachine, type LeaseIdentity, type LeaseOwnerKind, type LeaseRecord, type TakeReason } from '../domain/lease.js';
import { describeRun, nextDue, scheduleFor, type LastRuns } from '../domain/schedule.js';
import { backupDir, FILES_TARGET, listBackups, listFilesBackups } from '../services/backup-list.js';
import { Lease, pidAlive, processIdentity } from './lease.js';
import type { Source } from './sources.js';

/** The lease whose holder runs the scheduled backups (issue #10). */
export const SCHEDULER_LEASE = 'backup-scheduler';

/** What the scheduler did, for `watch`'s output. */
export type SchedulerEvent =
  | { kind: 'lease-taken'; at: number; reason: TakeReason }
  | { kind: 'lease-lost'; at: number; holder?: LeaseRecord; error?: string }
  | { kind: 'backup'; at: number; database: string; outcome: 'started' | 'ok' | 'failed' | 'postponed'; backupId?: string; message: string };

interface RunRow {
  id: number;
  database: string;
  started_at: number;
  finished_at: number | null;
  outcome: string | null;
  detail: string | null;
  pid: number;
  child_pid: number | null;
  host: string;
  boot_id: string;
  pid_ns: string;
}

/** Whether `pid` is a live `opsdeck backup` process (its command line names `backup`; a reused pid does not). */
function backupProcessAlive(pid: number): boolean {
  if (existsSync('/proc')) {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('backup');
    } catch {
      return false;
    }
  }
  return pidAlive(pid);
}

/**
 * Whether an unfinished run may still be running: on this machine, its backup process (or, before
 * that started, its monitor) is alive; elsewhere we cannot look, so for `staleMs` after it started.
 */
function runInFlight(r: RunRow, me: LeaseIdentity, now: number, staleMs: number): boolean {
  if (sameMachine({ host: r.host, bootId: r.boot_id, pidNs: r.pid_ns }, me)) return r.child_pid !== null ? backupProcessAlive(r.child_pid) : pidAlive(r.pid);
  return now - r.started_at < staleMs;
}

/** The latest scheduled runs of one database: in flight, and failures in a row since the last good one. */
export function lastRuns(db: BetterSqlite3.Database, database: string, me: LeaseIdentity, now: number, staleMs: number): LastRuns {
  const rows = db.prepare('SELECT * FROM backup_runs WHERE database = ? ORDER BY id DESC LIMIT 50').all(database) as RunRow[];
  const out: LastRuns = { failures: 0 };
  const head = rows[0];
  if (head && head.outcome === null && runInFlight(head, me, now, staleMs)) out.running = { since: head.started_at };
  for (const r of rows) {
    if (r.outcome === 'ok') break;
    if (r.outcome !== 'failed') continue; // in flight or abandoned: neither good nor bad
    out.failures += 1;
    out.lastFailure ??= { at: r.finished_at ?? r.started_at, message: r.detail ?? 'failed' };
  }
  return out;
}

/**
 * The schedule's runs of one database as the RPO check of any monitor (or `check`) sees them: the
 * state database in `dir` opened read-only for one look; undefined when it has none yet or cannot
 * be read (the RPO check then says only when the next backup is due).
 */
export async function readLastRuns(dir: string, database: string, staleMs: number, now = Date.now()): Promise<LastRuns | undefined> {
  const file = join(dir, 'state.db');
  if (!existsSync(file)) return undefined;
  try {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 2000 });
    try {
      if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'backup_runs'").get()) return undefined;
      const open = !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").get() && !!db.prepare("SELECT 1 FROM runs WHERE kind = 'restore' AND subject = ? AND status = 'open'").get(database);
      return { ...lastRuns(db, database, processIdentity('console'), now, staleMs), ...(open ? { restoreOpen: true } : {}) };
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

/** How long a run on another machine counts as in flight: a backup that takes longer is doubled, not lost. */
export function staleAfter(scheduleMs: number): number {
  return Math.max(3_600_000, 2 * scheduleMs);
}

/** Options of the scheduler source. */
export interface SchedulerOptions {
  config: Config;
  /** The configuration file the child `backup create` reads (the same the monitor runs on). */
  configFile: string;
  stateDb: BetterSqlite3.Database;
  owner: LeaseOwnerKind;
  /** The CLI entry the child runs: the one this process runs (`process.argv[1]`). */
  cli?: string;
  now?: () => number;
  onEvent?: (e: SchedulerEvent) => void;
}

/**
 * Scheduled backups (issue #10) as a monitor source: every interval it takes or renews the
 * `backup-scheduler` lease and, while it holds it, starts `opsdeck backup create --db X --verify
 * --prune` as a child process for each database whose backup is due — the backup API, count(*) and
 * foreign_key_check are synchronous and would freeze the console. Due = the newest verified
 * backup's time + the schedule. Claiming a run is one BEGIN IMMEDIATE transaction that reads the
 * backup folder and the latest run after taking the write lock, so even two monitors that both
 * believed they held the lease (a hand-over) could not start one slot twice, nor two backups of one
 * database at once. A failure is recorded in `backup_runs` and shown by the RPO check of every
 * monitor; nothing here throws. Returns no check results of its own. The files set of
 * `backup.files` (issue #17) is scheduled the same way as the pseudo-target `_files` (`backup create
 * --files --verify --prune`, every `backup.files_schedule`).
 * Undefined when nothing has a schedule.
 */
export function backupSchedulerSource(opts: SchedulerOptions): Source | undefined {
  const { config, stateDb } = opts;
  const now = opts.now ?? Date.now;
  // Each database on its schedule, and the files set of `backup.files` (issue #17) as the
  // pseudo-target `_files` on `backup.files_schedule`: its runs, retries and lease are the same.
  const newestAt = (m: { createdAt: string } | undefined) => (m ? Date.parse(m.createdAt) : undefined);
  const filesEvery = config.backup.files.length && config.backup.files_schedule !== 'off' ? config.backup.files_schedule : undefined;
  const scheduled: { name: string; every: number; newestVerifiedAt: () => number | undefined; args: string[] }[] = [
    ...config.databases.flatMap((d) => {
      const every = scheduleFor(d, config.backup);
      const dir = backupDir(d.name, config.backup.dir);
      return every === undefined ? [] : [{ name: d.name, every, newestVerifiedAt: () => newestAt(listBackups(dir).find((m) => m.verify?.ok)), args: ['--db', d.name] }];
    }),
    ...(filesEvery === undefined ? [] : [{ name: FILES_TARGET, every: filesEvery, newestVerifiedAt: () => newestAt(listFilesBackups(backupDir(FILES_TARGET, config.backup.dir)).find((m) => m.verify?.ok)), args: ['--files'] }]),
  ];
  if (scheduled.length === 0) return undefined;
  const me = processIdentity(opts.owner);
  const lease = new Lease(stateDb, SCHEDULER_LEASE, me, config.interval);
  const inFlight = new Set<string>();
  const emit = (e: SchedulerEvent) => opts.onEvent?.(e);

  const claim = (s: (typeof scheduled)[number], at: number): { id: number; dueAt: number } | undefined =>
    stateDb
      .transaction(() => {
        const runs = lastRuns(stateDb, s.name, me, at, staleAfter(s.every));
        if (runs.running) return undefined;
        // Never while a restore of this database is open: it would copy a half-restored file and
        // become the newest verified backup; the writers are stopped anyway (issue #10).
        if (stateDb.prepare("SELECT 1 FROM runs WHERE kind = 'restore' AND subject = ? AND status = 'open'").get(s.name)) return undefined;
        stateDb
          .prepare("UPDATE backup_runs SET outcome = 'abandoned', finished_at = ?, detail = ? WHERE database = ? AND outcome IS NULL")
          .run(at, 'its monitor or backup process ended before it recorded an outcome', s.name);
        const dueAt = nextDue(s.every, s.newestVerifiedAt(), runs, at);
        if (dueAt > at) return undefined;
        const r = stateDb
          .prepare('INSERT INTO backup_runs (database, due_at, started_at, owner, pid, host, boot_id, pid_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(s.name, dueAt, at, me.owner, me.pid, me.host, me.bootId, me.pidNs);
        return { id: Number(r.lastInsertRowid), dueAt };
      })
      .immediate();

  const finish = (id: number, outcome: 'ok' | 'failed', backupId: string | undefined, detail: string) => {
    try {
      recordRun(stateDb, id, outcome, backupId, detail, now(), true);
    } catch {
      // The state database was closed (the monitor stopped): the next claimant marks the run abandoned.
    }
  };

  // The child reads the configuration file again: while it does not load (an edit half-way, a typo),
  // the run is given back, not failed — the monitor keeps its last good configuration, and a failed
  // scheduled backup stayed on screen for a schedule's length after the file was fixed (operator trial).
  const postponed = new Map<string, string>();
  const start = (s: (typeof scheduled)[number], runId: number) => {
    const started = now();
    const bad = loadError(opts.configFile);
    if (bad !== undefined) {
      try {
        stateDb.prepare('DELETE FROM backup_runs WHERE id = ? AND outcome IS NULL').run(runId);
      } catch {
        // see finish
      }
      if (postponed.get(s.name) !== bad) emit({ kind: 'backup', at: started, database: s.name, outcome: 'postponed', message: `scheduled backup of ${s.name} postponed: the configuration file does not load now (${bad}); it starts once the file loads` });
      postponed.set(s.name, bad);
      return;
    }
    postponed.delete(s.name);
    inFlight.add(s.name);
    const args = [opts.cli ?? process.argv[1] ?? 'opsdeck', '--config', opts.configFile, 'backup', 'create', ...s.args, '--verify', '--prune', '--json', '--scheduled-run', String(runId), '--scheduled-by', `${me.owner} pid ${me.pid} (every ${formatDuration(s.every)})`];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (child.pid !== undefined) {
      try {
        stateDb.prepare('UPDATE backup_runs SET child_pid = ? WHERE id = ?').run(child.pid, runId);
      } catch {
        // see finish
      }
    }
    emit({ kind: 'backup', at: started, database: s.name, outcome: 'started', message: `scheduled backup of ${s.name} started (pid ${child.pid ?? '?'})` });
    let done = false;
    const end = (code: number | null, spawnError?: string) => {
      if (done) return;
      done = true;
      inFlight.delete(s.name);
      const r = childOutcome(code, stdout, stderr, spawnError);
      finish(runId, r.ok ? 'ok' : 'failed', r.backupId, r.message);
      emit({ kind: 'backup', at: now(), database: s.name, outcome: r.ok ? 'ok' : 'failed', ...(r.backupId ? { backupId: r.backupId } : {}), message: r.message });
    };
    child.on('error', (e) => end(null, `could not start opsdeck backup create: ${e.message}`));
    child.on('close', (code) => end(code));
  };

  return {
    id: 'scheduler:backup',
    refreshMs: config.interval,
    checkMs: config.interval,
    run: async () => {
      const at = now();
      const st = lease.acquire(at);
      if (st.taken) emit({ kind: 'lease-taken', at, reason: st.taken });
      if (st.lost) emit({ kind: 'lease-lost', at, ...(st.holder ? { holder: st.holder } : {}), ...(st.error ? { error: st.error } : {}) });
      if (!st.held) return [];
      for (const s of scheduled) {
        if (inFlight.has(s.name)) continue; // never two backups of one database at once
        let c;
        try {
          c = claim(s, at);
        } catch {
          continue; // state database busy or unreadable: try again next interval
        }
        if (c) start(s, c.id);
      }
      return Promise.resolve([]);
    },
    close: () => lease.release(),
  };
}

/** Reads the child's `--json` answer when it did not record its run itself: the new backup's id, or its one-line error. */
export function childOutcome(code: number | null, stdout: string, stderr: string, spawnError?: string): { ok: boolean; backupId?: string; message: string } {
  if (spawnError) return { ok: false, message: spawnError };
  let doc: { created?: { id: string }[]; filesBackup?: { id: string }; verified?: { id: string; ok: boolean; message: string }[]; pruned?: string[]; pruneError?: string; error?: { message: string } } | undefined;
  try {
    doc = JSON.parse(stdout) as typeof doc;
  } catch {
    doc = undefined;
  }
  const backupId = doc?.created?.[0]?.id ?? doc?.filesBackup?.id;
  const error = code === 0 ? undefined : (doc?.error?.message ?? stderr.trim().split('\n').at(-1)?.replace(/^opsdeck: /, '')) || `opsdeck backup create ended with ${code === null ? 'a signal' : `exit code ${code}`}`;
  const r = describeRun({ ...(backupId ? { created: backupId } : {}), ...(doc?.verified ? { verified: doc.verified } : {}), pruned: doc?.pruned?.length ?? 0, ...(doc?.pruneError ? { pruneError: doc.pruneError } : {}), ...(error ? { error } : {}) });
  return { ...r, ...(backupId ? { backupId } : {}) };
}

/**
 * Records how a scheduled run ended. The child `backup create --scheduled-run ID` records its own
 * outcome (so it is kept when its monitor stopped or crashed meanwhile); the monitor records one
 * only when the child did not (killed, or could not start): `onlyIfOpen`.
 */
export function recordRun(db: BetterSqlite3.Database, id: number, outcome: 'ok' | 'failed', backupId: string | undefined, detail: string, now = Date.now(), onlyIfOpen = false): void {
  db.prepare(`UPDATE backup_runs SET finished_at = ?, outcome = ?, backup_id = ?, detail = ? WHERE id = ?${onlyIfOpen ? ' AND outcome IS NULL' : ''}`).run(now, outcome, backupId ?? null, redactSecrets(detail), id);
}

/** Why `file` does not load as a configuration now (one line), or undefined when it does. */
function loadError(file: string): string | undefined {
  try {
    loadConfig({ file });
    return undefined;
  } catch (e) {
    return redactSecrets((e as Error).message.split('\n')[0] ?? '');
  }
}
