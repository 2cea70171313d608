// Over 300 lines, knowingly: one reader of container counters for cgroup v1 and v2 (the mounts, a
// process's directories, the limit and memory.stat kept between refreshes) — split, each half would
// need the other's caches.
import { readFileSync } from 'node:fs';
import { OpenFiles } from './kept-files.js';
import { statField } from './stat-field.js';

// Sync reads on purpose: these are tiny kernel pseudo-files; readFile's promise machinery (open,
// fstat, read, close as separate async steps) cost 10× more than the read itself (bench:check profile).
const readFile = (path: string, _enc: 'utf8'): Promise<string> => {
  try {
    return Promise.resolve(readFileSync(path, 'utf8'));
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
};

/** Raw counters read from a container's cgroup files. */
export interface CgroupCounters {
  /** Cumulative CPU time in nanoseconds. */
  cpuNs: number;
  /** Memory in use as the docker CLI counts it: usage − inactive file cache. */
  memUsedBytes: number;
  /** The cgroup's memory limit; undefined when unlimited. */
  memLimitBytes?: number;
}

interface Mount {
  root: string;
  point: string;
  type: 'cgroup' | 'cgroup2';
  controllers: string[];
}

// "No limit" sentinels: v1 reports PAGE_COUNTER_MAX rounded to pages, v2 writes "max".
const V1_UNLIMITED = 2n ** 62n;
const V1_LIMIT = 'memory.limit_in_bytes';
const V2_LIMIT = 'memory.max';
/** How long memory.stat's inactive file figure is used again while the memory usage stays the same (CgroupReader.inactive). */
const INACTIVE_TTL_MS = 10_000;

/**
 * Where a process's counters live: the v1 cpuacct and memory directories, or its v2 directory; with
 * the paths of its three counter files and its limit file, made once (issue #27: not per refresh).
 */
type Dirs = ({ v: 1; cpu: string; mem: string } | { v: 2; dir: string }) & { files: CounterFiles; limit: string };

/** A cgroup's three counter files: v1 cpuacct.usage, memory.usage_in_bytes, memory.stat; v2 cpu.stat, memory.current, memory.stat. */
type CounterFiles = readonly [string, string, string];

const v1Files = (cpu: string, mem: string): CounterFiles => [`${cpu}/cpuacct.usage`, `${mem}/memory.usage_in_bytes`, `${mem}/memory.stat`];
const v2Files = (dir: string): CounterFiles => [`${dir}/cpu.stat`, `${dir}/memory.current`, `${dir}/memory.stat`];

/**
 * Reads containers' CPU and memory straight from their cgroup files (Linux, local engine).
 * Reading 200 containers' files takes ~16 ms with no daemon cost, while every stats call through
 * the API on Docker 20.10 waits for the daemon's 1 s sampling cycle (issue #2, measured).
 * Works with cgroup v1 (cpuacct + memory controllers) and v2 (unified).
 *
 * The console reads every running container at each refresh, so two things are remembered
 * (issue #3, its own CPU: these reads were the largest cost left after the frame buffer):
 * - a process's cgroup directories, by pid: they do not change while it lives. A pid that is reused
 *   or gone fails the read, which then looks again once;
 * - the memory limit, for `limitTtlMs` (30 s): it changes only with `docker update`;
 * - (issue #27) the counter files themselves, open, read again with a positioned read (OpenFiles).
 * `retain` drops what belongs to containers no longer running.
 */
export class CgroupReader {
  private mounts?: Mount[];
  private readonly dirs = new Map<number, Dirs>();
  private readonly limits = new Map<string, { at: number; limit: number | undefined }>();
  /** memory.stat's inactive file cache by file, with the usage it was read at (see `inactive`). */
  private readonly inactives = new Map<string, { used: number; value: number; at: number }>();
  private readonly files = new OpenFiles();

  constructor(
    private readonly procRoot = '/proc',
    private readonly limitTtlMs = 30_000,
    private readonly inactiveTtlMs = INACTIVE_TTL_MS,
  ) {}

  /** True when cgroup mounts are visible from this process. */
  async available(): Promise<boolean> {
    return (await this.getMounts()).length > 0;
  }

  /** Counters for the process `pid` (a container's init process); undefined when not readable. */
  async read(pid: number): Promise<CgroupCounters | undefined> {
    if (!pid) return undefined;
    const cached = this.dirs.get(pid);
    if (cached) {
      const c = await this.readDirs(cached);
      if (c) return c;
      this.dirs.delete(pid);
    }
    const dirs = await this.findDirs(pid);
    if (!dirs) return undefined;
    const c = await this.readDirs(dirs);
    if (c) this.dirs.set(pid, dirs);
    return c;
  }

  /**
   * The counters of `pid` when its directories are known and its limit read within limitTtlMs: read
   * at once, without a promise (issue #27: the console reads every running container at each refresh,
   * and four awaits per container cost more than its three reads). Undefined when either is not known,
   * or the read failed (a removed cgroup): `read(pid)` then looks again, as before.
   */
  readKnown(pid: number, now = performance.now()): CgroupCounters | undefined {
    const d = this.dirs.get(pid);
    const limit = d && this.limits.get(d.limit);
    if (!d || !limit || now - limit.at >= this.limitTtlMs) return undefined;
    try {
      return this.counters(d, limit.limit, now);
    } catch {
      return undefined;
    }
  }

  /** Forgets the directories and limits of processes other than `pids` (the running containers). */
  retain(pids: ReadonlySet<number>): void {
    for (const pid of this.dirs.keys()) if (!pids.has(pid)) this.dirs.delete(pid);
    const kept = new Set([...this.dirs.values()].map((d) => d.limit));
    for (const file of this.limits.keys()) if (!kept.has(file)) this.limits.delete(file);
    const dirs = new Set([...this.dirs.values()].flatMap((d) => (d.v === 1 ? [d.cpu, d.mem] : [d.dir])));
    this.files.retain((file) => dirs.has(file.slice(0, file.lastIndexOf('/'))));
    for (const file of this.inactives.keys()) if (!dirs.has(file.slice(0, file.lastIndexOf('/')))) this.inactives.delete(file);
  }

  /** Closes every kept file (the reader is no longer used). */
  close(): void {
    this.files.close();
  }

  private async findDirs(pid: number): Promise<Dirs | undefined> {
    const mounts = await this.getMounts();
    if (mounts.length === 0) return undefined;
    let membership: string;
    try {
      membership = await readFile(`${this.procRoot}/${pid}/cgroup`, 'utf8');
    } catch {
      return undefined;
    }
    const paths = parseProcCgroup(membership);
    const v2 = mounts.find((m) => m.type === 'cgroup2');
    const cpuMount = mounts.find((m) => m.type === 'cgroup' && m.controllers.includes('cpuacct'));
    const memMount = mounts.find((m) => m.type === 'cgroup' && m.controllers.includes('memory'));
    if (cpuMount && memMount && paths.has('cpuacct') && paths.has('memory')) {
      const cpu = dirOf(cpuMount, paths.get('cpuacct') ?? '/');
      const mem = dirOf(memMount, paths.get('memory') ?? '/');
      return { v: 1, cpu, mem, files: v1Files(cpu, mem), limit: `${mem}/${V1_LIMIT}` };
    }
    if (v2 && paths.has('')) {
      const dir = dirOf(v2, paths.get('') ?? '/');
      return { v: 2, dir, files: v2Files(dir), limit: `${dir}/${V2_LIMIT}` };
    }
    return undefined;
  }

  private async readDirs(d: Dirs): Promise<CgroupCounters | undefined> {
    try {
      return this.counters(d, await this.limit(d), performance.now());
    } catch {
      return undefined;
    }
  }

  /** The counters through kept descriptors (OpenFiles); the limit, read rarely, the plain way. Throws as a read does. */
  private counters(d: Dirs, limit: number | undefined, now: number): CgroupCounters {
    this.at = now;
    return d.v === 1 ? countersV1(d.files, this.readFile, limit) : countersV2(d.files, this.readFile, limit);
  }

  /** The time of the read in progress (counters), for `inactive`. */
  private at = 0;

  private readonly readFile: FileReader = {
    number: (f) => this.files.number(f),
    field: (f, key) => this.files.field(f, key),
    inactive: (f, key, used) => this.inactive(f, key, used),
  };

  /**
   * memory.stat's inactive file cache, read again only when the cgroup's memory usage moved since the
   * last read of it or `inactiveTtlMs` (10 s) passed (issue #27 point 2: at idle nothing moves, and
   * memory.stat is the largest of the three files — the kernel writes ~40 lines of it per read, and it
   * was most of these reads' cost). The usage itself is read at every refresh, so memory that grows or
   * shrinks shows at the refresh that sees it; only a move of pages between the kernel's lists without
   * any change of the usage (reclaim ageing the page cache) shows up to 10 s late.
   */
  private inactive(file: string, key: string, used: number): number {
    const hit = this.inactives.get(file);
    if (hit && hit.used === used && this.at - hit.at < this.inactiveTtlMs && this.at >= hit.at) return hit.value;
    const value = this.files.field(file, key);
    this.inactives.set(file, { used, value, at: this.at });
    return value;
  }

  /** The memory limit in bytes (undefined: none), its file read again after limitTtlMs. */
  private async limit(d: Dirs): Promise<number | undefined> {
    const now = performance.now();
    const hit = this.limits.get(d.limit);
    if (hit && now - hit.at < this.limitTtlMs) return hit.limit;
    const limit = parseLimit(d.v, await readFile(d.limit, 'utf8'));
    this.limits.set(d.limit, { at: now, limit });
    return limit;
  }

  /**
   * Counters by container id, without knowing its pid: the paths dockerd uses with the cgroupfs
   * driver (`docker/<id>`) and the systemd driver (`system.slice/docker-<id>.scope`).
   */
  async readById(id: string): Promise<CgroupCounters | undefined> {
    const mounts = await this.getMounts();
    const rels = [`/docker/${id}`, `/system.slice/docker-${id}.scope`];
    const cpuMount = mounts.find((m) => m.type === 'cgroup' && m.controllers.includes('cpuacct'));
    const memMount = mounts.find((m) => m.type === 'cgroup' && m.controllers.includes('memory'));
    const v2 = mounts.find((m) => m.type === 'cgroup2');
    for (const rel of rels) {
      try {
        if (cpuMount && memMount) return await readV1(dirOf(cpuMount, rel), dirOf(memMount, rel), readLimit);
        if (v2) return await readV2(dirOf(v2, rel), readLimit);
      } catch {
        // try the next layout
      }
    }
    return undefined;
  }

  private async getMounts(): Promise<Mount[]> {
    if (!this.mounts) {
      try {
        this.mounts = parseMountinfo(await readFile(`${this.procRoot}/self/mountinfo`, 'utf8'));
      } catch {
        this.mounts = [];
      }
    }
    return this.mounts;
  }
}

/** Parses /proc/PID/cgroup into controller → path ('' is the v2 unified hierarchy). */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const controllers = m[1] ?? '';
    const path = m[2] ?? '/';
    if (controllers === '') out.set('', path);
    for (const c of controllers.split(',')) if (c) out.set(c, path);
  }
  return out;
}

/** Parses /proc/self/mountinfo for cgroup v1 and v2 mounts. */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const lf = left.split(' ');
    const [fstype, , superOpts = ''] = right.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    out.push({
      root: lf[3] ?? '/',
      point: lf[4] ?? '',
      type: fstype,
      controllers: fstype === 'cgroup' ? superOpts.split(',') : [],
    });
  }
  return out;
}

function dirOf(mount: Mount, path: string): string {
  // The mount may expose a sub-tree (cgroup namespaces, nested containers): strip its root.
  const rel = mount.root !== '/' && path.startsWith(mount.root) ? path.slice(mount.root.length) : path;
  return `${mount.point}${rel === '/' ? '' : rel}`;
}

const readLimit = (file: string): Promise<string> => readFile(file, 'utf8');

async function readV1(cpuDir: string, memDir: string, limitOf: (file: string) => Promise<string>): Promise<CgroupCounters> {
  const limit = parseLimit(1, await limitOf(`${memDir}/${V1_LIMIT}`));
  return countersV1(v1Files(cpuDir, memDir), plainReader, limit);
}

async function readV2(dir: string, limitOf: (file: string) => Promise<string>): Promise<CgroupCounters> {
  const limit = parseLimit(2, await limitOf(`${dir}/${V2_LIMIT}`));
  return countersV2(v2Files(dir), plainReader, limit);
}

/**
 * How the counters are read: a file's one number, or one number of a stat file. `inactive`: memory.stat's
 * inactive file cache for a cgroup whose memory usage now reads `used` (the console's reader keeps it
 * while the usage stays the same, CgroupReader).
 */
interface FileReader {
  number(file: string): number;
  field(file: string, key: string): number;
  inactive?(file: string, key: string, used: number): number;
}

const plainReader: FileReader = { number: (f) => Number(readFileSync(f, 'latin1').trim()), field: (f, key) => statField(readFileSync(f, 'latin1'), key) };

/** A memory limit file's text as bytes; undefined for no limit (v1's PAGE_COUNTER_MAX, v2's "max"). */
function parseLimit(v: 1 | 2, text: string): number | undefined {
  const t = text.trim();
  if (v === 1) return BigInt(t) < V1_UNLIMITED ? Number(t) : undefined;
  return t !== 'max' ? Number(t) : undefined;
}

/** The counters, the object made in one go (issue #27: a spread of a conditional object per container per refresh). */
function countersOf(cpuNs: number, used: number, inactive: number, limit: number | undefined): CgroupCounters {
  const memUsedBytes = inactive < used ? used - inactive : used;
  return limit === undefined ? { cpuNs, memUsedBytes } : { cpuNs, memUsedBytes, memLimitBytes: limit };
}

function countersV1(files: CounterFiles, read: FileReader, limit: number | undefined): CgroupCounters {
  const cpuNs = read.number(files[0]);
  const used = read.number(files[1]);
  const inactive = read.inactive ? read.inactive(files[2], 'total_inactive_file', used) : read.field(files[2], 'total_inactive_file');
  return countersOf(cpuNs, used, inactive, limit);
}

function countersV2(files: CounterFiles, read: FileReader, limit: number | undefined): CgroupCounters {
  const usageUsec = read.field(files[0], 'usage_usec');
  const used = read.number(files[1]);
  const inactive = read.inactive ? read.inactive(files[2], 'inactive_file', used) : read.field(files[2], 'inactive_file');
  return countersOf(usageUsec * 1000, used, inactive, limit);
}
