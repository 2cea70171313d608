// Capacity samples in the state database (issue #23, table `capacity_samples`) and the monitor
// source that takes them: while this process holds the `capacity-sampler` lease it samples every
// `capacity.sample_every`; every monitor (lease or not) turns the stored samples into the
// `capacity:disk:<mount>` / `capacity:redis:<name>` checks, so a second console warns too.

import type BetterSqlite3 from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import { capacityCheck, project, stepSeries, type CapacitySample, type Projection } from '../domain/capacity.js';
import type { CheckResult } from '../domain/check.js';
import type { LeaseOwnerKind } from '../domain/lease.js';
import { sampleCapacity, sampleHost, type SubjectSample } from '../services/capacity.js';
import type { CpuTimes } from '../services/host.js';
import { Lease, processIdentity } from './lease.js';
import type { Source } from './sources.js';

/** The lease whose holder samples capacity: one sampler per state folder. */
export const CAPACITY_LEASE = 'capacity-sampler';

/** Reads and writes capacity samples. */
export class CapacityStore {
  constructor(private readonly db: BetterSqlite3.Database) {}

  /** Records samples taken at `at` (a second sample of one subject at the same ms is ignored). */
  add(samples: readonly SubjectSample[], at: number): void {
    const ins = this.db.prepare('INSERT OR IGNORE INTO capacity_samples (subject, at, used, total) VALUES (?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const s of samples) ins.run(s.subject, at, s.used, s.total ?? null);
    })();
  }

  /** Deletes samples older than `before`, and the host's (`host:*`, only the console's last hour reads them) older than `hostBefore`. */
  prune(before: number, hostBefore = before): number {
    return this.db.prepare("DELETE FROM capacity_samples WHERE at < ? OR (subject LIKE 'host:%' AND at < ?)").run(before, hostBefore).changes;
  }

  /** When the newest sample was taken, or undefined. */
  newest(): number | undefined {
    return (this.db.prepare('SELECT MAX(at) AS at FROM capacity_samples').get() as { at: number | null }).at ?? undefined;
  }

  /** Every subject's samples since `since`, oldest first. */
  since(since: number): Map<string, CapacitySample[]> {
    const rows = this.db.prepare('SELECT subject, at, used, total FROM capacity_samples WHERE at >= ? ORDER BY subject, at').all(since) as { subject: string; at: number; used: number; total: number | null }[];
    const out = new Map<string, CapacitySample[]>();
    for (const r of rows) {
      let list = out.get(r.subject);
      if (!list) out.set(r.subject, (list = []));
      list.push({ at: r.at, used: r.used, ...(r.total !== null ? { total: r.total } : {}) });
    }
    return out;
  }
}

/** Each subject's projection from the stored samples of the configured window. */
export function projections(db: BetterSqlite3.Database, config: Config, now: number): Map<string, Projection> {
  const out = new Map<string, Projection>();
  for (const [subject, samples] of new CapacityStore(db).since(now - config.capacity.window)) {
    if (!subject.startsWith('host:')) out.set(subject, project(samples, now, config.capacity.min_samples)); // CPU and memory are history, not capacity
  }
  return out;
}

/** The checks of the limited subjects (disks, Redis) from the stored samples. */
export function capacityChecks(db: BetterSqlite3.Database, config: Config, now: number): CheckResult[] {
  const out: CheckResult[] = [];
  for (const [subject, p] of projections(db, config, now)) {
    if (subject.startsWith('db:')) continue; // a database has no limit of its own: its disk has
    if (subject.startsWith('redis:') && !config.redis.some((r) => `redis:${r.name}` === subject)) continue; // no longer configured
    out.push(capacityCheck(subject, subject.slice(subject.indexOf(':') + 1), p, config.capacity.horizon, now));
  }
  return out;
}

/** What the sampler did, for `watch`. */
export type CapacityEvent = { kind: 'sampled'; at: number; count: number; errors: string[] } | { kind: 'error'; at: number; message: string };

/**
 * The capacity source of one monitor: takes or renews the `capacity-sampler` lease every interval;
 * while held, samples when `sample_every` has passed since the newest stored sample (so a restart or
 * a hand-over does not sample twice) and prunes old ones; always returns the capacity checks.
 */
export function capacitySource(opts: { config: Config; stateDb: BetterSqlite3.Database; stateDir: string; owner: LeaseOwnerKind; readOnly?: boolean; now?: () => number; onEvent?: (e: CapacityEvent) => void }): Source {
  const now = opts.now ?? Date.now;
  const { config } = opts;
  const lease = opts.readOnly ? undefined : new Lease(opts.stateDb, CAPACITY_LEASE, processIdentity(opts.owner), config.interval);
  const store = new CapacityStore(opts.stateDb);
  let cpu: CpuTimes | undefined;
  return {
    id: 'capacity',
    refreshMs: config.interval,
    checkMs: config.interval,
    run: async () => {
      const at = now();
      try {
        if (lease?.acquire(at).held) {
          const newest = store.newest();
          if (newest === undefined || at - newest >= config.capacity.sample_every) {
            const { samples, errors } = await sampleCapacity(config, opts.stateDir);
            const host = sampleHost(cpu);
            cpu = host.cpu;
            store.add([...samples, ...host.samples], at);
            store.prune(at - config.capacity.keep, at - 86_400_000);
            opts.onEvent?.({ kind: 'sampled', at, count: samples.length, errors: errors.map((e) => `${e.subject}: ${e.message}`) });
          }
        }
        return capacityChecks(opts.stateDb, config, now());
      } catch (e) {
        opts.onEvent?.({ kind: 'error', at, message: `capacity: ${(e as Error).message}` });
        return [];
      }
    },
    close: () => lease?.release(),
  };
}

/** What the console's host history starts from after a restart: each disk's use, CPU and memory (%). */
export interface HostSeed {
  disks: Map<string, number[]>;
  cpu: number[];
  mem: number[];
}

/**
 * The last hour of each disk's use, the host's CPU and memory (%), one value per `refreshMs`, from
 * the capacity samples: the console's host history after a restart (issue #23), a step series of
 * `capacity.sample_every` resolution. Empty when the state database has none.
 */
export function hostHistorySeed(db: BetterSqlite3.Database, now: number, refreshMs: number): HostSeed {
  const out: HostSeed = { disks: new Map(), cpu: [], mem: [] };
  const hour = 3_600_000;
  // One sample before the hour too, so the series starts at the hour's beginning.
  for (const [subject, samples] of new CapacityStore(db).since(now - hour - 7 * 86_400_000)) {
    const series = stepSeries(samples, now - hour, now, Math.max(250, refreshMs), (s) => (s.total ? (s.used / s.total) * 100 : 0));
    if (!series.length) continue;
    if (subject.startsWith('disk:')) out.disks.set(subject.slice('disk:'.length), series);
    else if (subject === 'host:cpu') out.cpu = series;
    else if (subject === 'host:mem') out.mem = series;
  }
  return out;
}

/** Each disk's part of `hostHistorySeed`. */
export function diskHistorySeed(db: BetterSqlite3.Database, now: number, refreshMs: number): Map<string, number[]> {
  return hostHistorySeed(db, now, refreshMs).disks;
}
