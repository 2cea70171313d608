import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { bufferField, statField } from './stat-field.js';

// Sync reads on purpose: these are tiny kernel pseudo-files; readFile's promise machinery (open,
// fstat, read, close as separate async steps) cost 10× more than the read itself (bench:check profile).
const readFile = (path: string, _enc: 'utf8'): Promise<string> => {
  try {
    return Promise.resolve(readFileSync(path, 'utf8'));
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
};

/**
 * Kernel pseudo-files kept open and read again from offset 0 (issue #27: the console reads three
 * files per running container every refresh; open + read + close was three syscalls and a path walk
 * per file, a positioned read on a kept descriptor is one). A seq_file (cgroup and /proc files) is
 * generated afresh by a read at offset 0. A read that fails (the cgroup was removed: ENODEV, or the
 * descriptor went stale) closes the file and fails, so the caller looks again. At most `max` files
 * are kept; beyond that, out of descriptors, or once closed, a file is read the old way.
 */
export class OpenFiles {
  private readonly fds = new Map<string, number>();
  private buf = Buffer.allocUnsafe(16 * 1024);
  private shut = false;

  constructor(private readonly max = 1024) {}

  /** The whole text of `path`, read from offset 0 of its kept descriptor. Throws as readFileSync does. */
  read(path: string): string {
    const n = this.fill(path);
    return typeof n === 'string' ? n : this.buf.toString('utf8', 0, n);
  }

  /**
   * The number after `key ` at the start of a line of `path` (a stat file: `memory.stat`,
   * `cpu.stat`), 0 when absent — found in the bytes read, without making the file's text a string
   * (issue #27 point 2: memory.stat is ~1 KB per container per refresh, most of what these reads allocated).
   */
  field(path: string, key: string): number {
    const n = this.fill(path);
    if (typeof n === 'string') return statField(n, key);
    return bufferField(this.buf, n, key);
  }

  /** Reads `path` into this.buf and says how many bytes; the text itself when read the plain way. */
  private fill(path: string): number | string {
    let fd = this.fds.get(path);
    if (fd === undefined) {
      if (this.shut || this.fds.size >= this.max) return readFileSync(path, 'utf8');
      try {
        fd = openSync(path, 'r');
      } catch (e) {
        // Out of descriptors (EMFILE): the figures still come, the old way.
        if ((e as NodeJS.ErrnoException).code === 'EMFILE' || (e as NodeJS.ErrnoException).code === 'ENFILE') return readFileSync(path, 'utf8');
        throw e;
      }
      this.fds.set(path, fd);
    }
    try {
      let n = 0;
      for (;;) {
        const got = readSync(fd, this.buf, n, this.buf.length - n, n);
        n += got;
        if (got === 0 || n < this.buf.length) break;
        const bigger = Buffer.allocUnsafe(this.buf.length * 2);
        this.buf.copy(bigger, 0, 0, n);
        this.buf = bigger;
      }
      return n;
    } catch (e) {
      this.close(path);
      throw e;
    }
  }

  /** Closes the files for which `keep` says no. */
  retain(keep: (path: string) => boolean): void {
    for (const path of [...this.fds.keys()]) if (!keep(path)) this.close(path);
  }

  /** How many files are open (tests). */
  get size(): number {
    return this.fds.size;
  }

  /** Closes one file, or (no path) every file for good: later reads open, read and close as before. */
  close(path?: string): void {
    if (path === undefined) this.shut = true;
    for (const p of path === undefined ? [...this.fds.keys()] : [path]) {
      const fd = this.fds.get(p);
      if (fd === undefined) continue;
      this.fds.delete(p);
      try {
        closeSync(fd);
      } catch {
        // already gone
      }
    }
  }
}

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
  private readonly limits = new Map<string, { at: number; text: string }>();
  private readonly files = new OpenFiles();

  constructor(
    private readonly procRoot = '/proc',
    private readonly limitTtlMs = 30_000,
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
  readKnown(pid: number): CgroupCounters | undefined {
    const d = this.dirs.get(pid);
    const limit = d && this.limits.get(d.limit);
    if (!d || !limit || performance.now() - limit.at >= this.limitTtlMs) return undefined;
    try {
      return this.counters(d, limit.text);
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
      return this.counters(d, await this.limit(d.limit));
    } catch {
      return undefined;
    }
  }

  /** The counters through kept descriptors (OpenFiles); the limit, read rarely, the plain way. Throws as a read does. */
  private counters(d: Dirs, limit: string): CgroupCounters {
    return d.v === 1 ? countersV1(d.files, this.readFile, limit) : countersV2(d.files, this.readFile, limit);
  }

  private readonly readFile: FileReader = { text: (f) => this.files.read(f), field: (f, key) => this.files.field(f, key) };

  /** The memory limit file's text, read again after limitTtlMs. */
  private async limit(file: string): Promise<string> {
    const now = performance.now();
    const hit = this.limits.get(file);
    if (hit && now - hit.at < this.limitTtlMs) return hit.text;
    const text = await readFile(file, 'utf8');
    this.limits.set(file, { at: now, text });
    return text;
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
  const limit = await limitOf(`${memDir}/${V1_LIMIT}`);
  return countersV1(v1Files(cpuDir, memDir), plainReader, limit);
}

async function readV2(dir: string, limitOf: (file: string) => Promise<string>): Promise<CgroupCounters> {
  const max = await limitOf(`${dir}/${V2_LIMIT}`);
  return countersV2(v2Files(dir), plainReader, max);
}

/** How the counters are read: a file's text, or one number of a stat file. */
interface FileReader {
  text(file: string): string;
  field(file: string, key: string): number;
}

const plainReader: FileReader = { text: (f) => readFileSync(f, 'latin1'), field: (f, key) => statField(readFileSync(f, 'latin1'), key) };

function countersV1(files: CounterFiles, read: FileReader, limit: string): CgroupCounters {
  const usage = read.text(files[0]);
  const memUsage = read.text(files[1]);
  const inactive = read.field(files[2], 'total_inactive_file');
  const used = Number(memUsage.trim());
  const lim = BigInt(limit.trim());
  return {
    cpuNs: Number(usage.trim()),
    memUsedBytes: inactive < used ? used - inactive : used,
    ...(lim < V1_UNLIMITED ? { memLimitBytes: Number(lim) } : {}),
  };
}

function countersV2(files: CounterFiles, read: FileReader, max: string): CgroupCounters {
  const usageUsec = read.field(files[0], 'usage_usec');
  const current = read.text(files[1]);
  const used = Number(current.trim());
  const inactive = read.field(files[2], 'inactive_file');
  const maxText = max.trim();
  return {
    cpuNs: usageUsec * 1000,
    memUsedBytes: inactive < used ? used - inactive : used,
    ...(maxText !== 'max' ? { memLimitBytes: Number(maxText) } : {}),
  };
}
