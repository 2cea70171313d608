// Capacity samples (issue #23): each database's size (file + WAL), the used bytes of the file
// systems that hold the databases, the backups, the state folder and `capacity.paths`, and each
// Redis's used memory against its maxmemory (else the host's memory). Nothing throws: a subject that
// cannot be read is reported with why and left out of the samples.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { backupDir } from './backup-list.js';
import { cpuPercentBetween, parseMeminfo, parseProcStat, type CpuTimes } from './host.js';
import { RedisProbe } from './redis.js';

/** One sampled subject: `db:<name>`, `disk:<mount>`, `redis:<name>`; the sampler's `host:cpu`, `host:mem` (not projected). */
export interface SubjectSample {
  subject: string;
  /** For people: the file, the mount, the Redis URL without its password. */
  target: string;
  used: number;
  total?: number;
}

/** The mount points of /proc/mounts (octal escapes undone), longest first. */
function mounts(): string[] {
  try {
    return readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1])
      .filter((m): m is string => !!m)
      .map((m) => m.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
      .sort((a, b) => b.length - a.length);
  } catch {
    return ['/'];
  }
}

/** The mount point a path lives on (its nearest existing folder's). */
export function mountOf(path: string, all: readonly string[] = mounts()): string {
  let p = resolve(path);
  while (!existsSync(p) && p !== '/') p = dirname(p);
  return all.find((m) => m === '/' || p === m || p.startsWith(`${m}/`)) ?? '/';
}

/** The folders whose file systems are watched. */
export function watchedPaths(config: Config, stateDir: string): string[] {
  return [...config.databases.map((d) => dirname(d.path)), ...config.databases.map((d) => backupDir(d.name, config.backup.dir)), stateDir, ...config.capacity.paths];
}

/** One sample of every subject, and the subjects that could not be read with why. */
export async function sampleCapacity(config: Config, stateDir: string): Promise<{ samples: SubjectSample[]; errors: { subject: string; message: string }[] }> {
  const samples: SubjectSample[] = [];
  const errors: { subject: string; message: string }[] = [];
  for (const d of config.databases) {
    try {
      const size = statSync(d.path).size + (existsSync(`${d.path}-wal`) ? statSync(`${d.path}-wal`).size : 0);
      samples.push({ subject: `db:${d.name}`, target: d.path, used: size });
    } catch (e) {
      errors.push({ subject: `db:${d.name}`, message: `${d.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
    }
  }
  const all = mounts();
  const seen = new Set<string>();
  for (const p of watchedPaths(config, stateDir)) {
    const m = mountOf(p, all);
    if (seen.has(m)) continue;
    seen.add(m);
    try {
      const s = await statfs(m);
      if (s.blocks === 0) continue;
      const used = (s.blocks - s.bfree) * s.bsize;
      samples.push({ subject: `disk:${m}`, target: m, used, total: used + s.bavail * s.bsize });
    } catch (e) {
      errors.push({ subject: `disk:${m}`, message: `${m}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
    }
  }
  for (const r of config.redis) {
    const probe = new RedisProbe(r.url, r.timeout);
    try {
      const h = await probe.probe();
      if (!h.ok) errors.push({ subject: `redis:${r.name}`, message: h.error.message });
      else samples.push({ subject: `redis:${r.name}`, target: probe.target, used: h.value.usedMemoryBytes, total: h.value.maxMemoryBytes ?? totalmem() });
    } finally {
      probe.close();
    }
  }
  return { samples, errors };
}

/**
 * The host's CPU (busy % since `prev`, the sampler's previous /proc/stat reading: the average over
 * the sampling period, none on the first sample) and memory in use (as the host gauge counts it),
 * `host:cpu` (used = %, total 100) and `host:mem` (bytes): kept so the console's CPU and memory
 * history survives a restart (issue #23). Nothing when /proc cannot be read.
 */
export function sampleHost(prev: CpuTimes | undefined): { samples: SubjectSample[]; cpu?: CpuTimes } {
  const samples: SubjectSample[] = [];
  let cpu: CpuTimes | undefined;
  try {
    cpu = parseProcStat(readFileSync('/proc/stat', 'utf8'));
    if (cpu && prev) samples.push({ subject: 'host:cpu', target: 'cpu', used: cpuPercentBetween(prev, cpu), total: 100 });
    const m = parseMeminfo(readFileSync('/proc/meminfo', 'utf8'));
    samples.push({ subject: 'host:mem', target: 'memory', used: m.usedBytes, total: m.totalBytes });
  } catch {
    // not Linux, or /proc hidden: the history then starts empty after a restart, as the network's does
  }
  return { samples, ...(cpu ? { cpu } : {}) };
}
