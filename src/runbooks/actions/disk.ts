// Disk actions for the disk-pressure runbook (issue #16): how full a mount is and what fills it (a
// bounded walk that stays on the mount's device and never follows a symlink), removing the rotated
// copies of the configured logs (never a live log), and pruning the backups the configured
// retention lets go (the plan of `opsdeck backup prune`, services/backup.ts planPrune). Every
// removal is idempotent: a file already gone is fine, so a killed run runs the step again.

import { existsSync, lstatSync, readdirSync, rmSync, statfsSync, statSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Config } from '../../config/schema.js';
import { Failure } from '../../domain/errors.js';
import { formatBytes, formatPercent } from '../../domain/format.js';
import type { RetentionHold } from '../../domain/retention.js';
import { str, type GenericDeps } from '../../engine/actions.js';
import type { Action, StepContext } from '../../engine/driver.js';
import { backupDir, planPrune, prunePlanned, type PrunePlanned } from '../../services/backup.js';
import { sqliteAlertHolds } from '../../state/alert-history.js';
import { stateDir } from '../../state/statedb.js';
import { configOf as configFrom } from './config.js';

type X = StepContext<unknown, GenericDeps>;

/** The typed ids of the disk actions. */
export type DiskActionId = 'disk.usage' | 'disk.rotated-logs' | 'disk.prune-backups';

const configOf = (x: X): Config => configFrom(x, '(logs, databases, backups)');

/** The mount (param `mount`) and its device; a missing path is `not-found`. */
function mountOf(x: X): { mount: string; dev: number } {
  const mount = resolve(str(x.step.params, 'mount', x.step));
  try {
    return { mount, dev: statSync(mount).dev };
  } catch {
    throw new Failure('not-found', `step ${x.step.id}: mount ${mount} does not exist (expected a mount point such as /)`);
  }
}

const num = (x: X, k: string, dflt: number): number => {
  const v = x.step.params?.[k];
  return typeof v === 'number' && v > 0 ? v : dflt;
};

/** A mount's use, as `df` counts it: used over used + available to unprivileged users. */
export function mountUse(mount: string): { used: number; avail: number; total: number; percent: number } {
  const s = statfsSync(mount);
  const used = (s.blocks - s.bfree) * s.bsize;
  const avail = s.bavail * s.bsize;
  return { used, avail, total: s.blocks * s.bsize, percent: used + avail ? (used / (used + avail)) * 100 : 0 };
}

/** What a bounded walk found: the bytes under each directory (its whole subtree), and whether it was cut. */
export interface Walk {
  sizes: Map<string, number>;
  entries: number;
  cut?: string;
}

/**
 * Walks `root` depth first on its own device (a directory of another device, a mount below, is not
 * entered; a symlink is never followed), counting allocated bytes like `du`, at most `maxEntries`
 * entries and `maxMs` milliseconds; an unreadable directory is passed over.
 */
export function walk(root: string, dev: number, maxEntries: number, maxMs: number, now: () => number = Date.now): Walk {
  const own = new Map<string, number>();
  const stack = [root];
  const until = now() + maxMs;
  let entries = 0;
  let cut: string | undefined;
  outer: while (stack.length) {
    const dir = stack.pop() as string;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    let bytes = 0;
    for (const name of names) {
      if (++entries > maxEntries) cut = `stopped after max_entries ${maxEntries}`;
      else if (entries % 256 === 0 && now() > until) cut = `stopped after max_ms ${maxMs}`;
      if (cut) {
        own.set(dir, (own.get(dir) ?? 0) + bytes);
        break outer;
      }
      const p = join(dir, name);
      let st: Stats;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.dev !== dev) continue;
      if (st.isDirectory()) stack.push(p);
      else bytes += st.blocks * 512;
    }
    own.set(dir, (own.get(dir) ?? 0) + bytes);
  }
  // Each directory's bytes count for it and every directory above it, up to the root.
  const sizes = new Map<string, number>();
  for (const [dir, bytes] of own) {
    for (let d = dir; ; d = dirname(d)) {
      sizes.set(d, (sizes.get(d) ?? 0) + bytes);
      if (d === root || d === dirname(d)) break;
    }
  }
  return { sizes, entries: Math.min(entries, maxEntries), ...(cut ? { cut } : {}) };
}

const usage: Action<unknown, GenericDeps> = {
  dangerous: false,
  preview: (x) => `read the use of ${mountOf(x).mount} and walk it (this device only, no symlinks, at most ${num(x, 'max_entries', 200_000)} entries and ${num(x, 'max_ms', 10_000) / 1000} s) for its 10 biggest directories`,
  async execute(x) {
    const { mount, dev } = mountOf(x);
    const u = mountUse(mount);
    const w = walk(mount, dev, num(x, 'max_entries', 200_000), num(x, 'max_ms', 10_000));
    const top = [...w.sizes].filter(([d]) => d !== mount).sort((a, b) => b[1] - a[1]).slice(0, 10);
    return [
      `${mount}: ${formatPercent(u.percent)} used (${formatBytes(u.used)} used, ${formatBytes(u.avail)} free of ${formatBytes(u.total)})`,
      `biggest directories (${w.entries} entries walked${w.cut ? `; the walk was cut: ${w.cut}, sizes are lower bounds` : ''}):`,
      ...(top.length ? top.map(([d, b]) => `  ${formatBytes(b).padStart(9)}  ${d}`) : ['  none']),
    ].join('\n');
  },
};

/** Whether `name` is a rotated copy of the log file `base`: `.N`, `.N.gz`, `.gz`, `.old`, `-YYYYMMDD…`. */
export function isRotated(base: string, name: string): boolean {
  if (!name.startsWith(base) || name === base) return false;
  return /^(?:\.\d+|\.\d+\.gz|\.gz|\.old|-\d{8}.*)$/.test(name.slice(base.length));
}

/** The rotated copies of the configured logs on the mount's device: regular files only, never a configured live log. */
export function rotatedLogs(config: Config, dev: number): { path: string; size: number }[] {
  const live = new Set(config.logs.map((l) => resolve(l.path)));
  const found = new Map<string, number>();
  for (const l of config.logs) {
    const dir = dirname(resolve(l.path));
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const p = join(dir, name);
      if (!isRotated(basename(l.path), name) || live.has(p)) continue;
      try {
        const st = lstatSync(p);
        if (st.isFile() && st.dev === dev) found.set(p, st.size);
      } catch {
        // gone meanwhile
      }
    }
  }
  return [...found].map(([path, size]) => ({ path, size })).sort((a, b) => a.path.localeCompare(b.path));
}

const total = (xs: readonly { size?: number; sizeBytes?: number }[]) => formatBytes(xs.reduce((a, f) => a + (f.size ?? f.sizeBytes ?? 0), 0));

const rotated: Action<unknown, GenericDeps> = {
  dangerous: true,
  settled(x) {
    const { mount, dev } = mountOf(x);
    return rotatedLogs(configOf(x), dev).length ? undefined : `no rotated copies of the configured logs on ${mount}: nothing to remove`;
  },
  preview(x) {
    const { mount, dev } = mountOf(x);
    const files = rotatedLogs(configOf(x), dev);
    return [`remove ${files.length} rotated log files on ${mount} (${total(files)}; the live logs stay):`, ...files.map((f) => `  ${formatBytes(f.size).padStart(9)}  ${f.path}`)].join('\n');
  },
  async execute(x) {
    const { mount, dev } = mountOf(x);
    const files = rotatedLogs(configOf(x), dev);
    for (const f of files) rmSync(f.path, { force: true });
    return `removed ${files.length} rotated log files on ${mount} (${total(files)})`;
  },
};

/** The open-alert holds of the state database (none when it does not exist yet); throws when it cannot be read. */
function holdsReader(x: X): (database: string) => RetentionHold[] {
  const file = join(x.deps.stateDir ?? stateDir(configOf(x).state_dir), 'state.db');
  if (!existsSync(file)) return () => [];
  // better-sqlite3 is synchronous; loaded when needed, as elsewhere (a native module costs start-up time).
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 2000 });
  const held = new Map<string, RetentionHold[]>();
  try {
    for (const d of configOf(x).databases) held.set(d.name, sqliteAlertHolds(db, d.name));
  } finally {
    db.close();
  }
  return (name) => held.get(name) ?? [];
}

/** The backups retention lets go, of every configured database whose backup folder is on the mount. */
function prunePlan(x: X): { mount: string; plan: PrunePlanned[] } {
  const { mount, dev } = mountOf(x);
  const c = configOf(x);
  const dirs = c.databases.map((d) => ({ name: d.name, dir: backupDir(d.name, c.backup.dir) })).filter((t) => {
    try {
      return statSync(t.dir).dev === dev;
    } catch {
      return false;
    }
  });
  return { mount, plan: planPrune(dirs, c.backup, holdsReader(x)) };
}

const prune: Action<unknown, GenericDeps> = {
  dangerous: true,
  settled(x) {
    try {
      const { mount, plan } = prunePlan(x);
      return plan.length ? undefined : `no backups on ${mount} that retention lets go: nothing to prune`;
    } catch {
      return undefined; // said by the preview, refused by execute
    }
  },
  preview(x) {
    let p: { mount: string; plan: PrunePlanned[] };
    try {
      p = prunePlan(x);
    } catch (e) {
      return `prune backups: cannot plan it now (${(e as Error).message})`;
    }
    return [`delete ${p.plan.length} backups on ${p.mount} that the retention (backup.keep_*) lets go (${total(p.plan)}):`, ...p.plan.map((b) => `  ${formatBytes(b.sizeBytes).padStart(9)}  ${b.database}: ${b.id}`)].join('\n');
  },
  async execute(x) {
    const { mount, plan } = prunePlan(x);
    const ids = prunePlanned(plan, (id) => x.say(`deleted backup ${id}`));
    return `deleted ${ids.length} backups on ${mount} (${total(plan)})`;
  },
};

/** The disk actions by id. */
export const DISK_ACTIONS: Record<DiskActionId, Action<unknown, GenericDeps>> = {
  'disk.usage': usage,
  'disk.rotated-logs': rotated,
  'disk.prune-backups': prune,
};
