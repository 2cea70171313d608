import { statfs } from 'node:fs/promises';
import { OpenFiles } from './kept-files.js';
import { cpus, hostname, loadavg, totalmem, freemem, uptime } from 'node:os';
import { fail, ok, type Result } from '../domain/result.js';
import type { FilesystemUsage, HostSample } from '../domain/observations.js';

// Its observation types live in the domain (issue #15); re-exported for the callers of this service.
export type { FilesystemUsage, HostSample };

// Filesystems that are not disks an operator cares about (pseudo, in-memory, container layers).
const IGNORED_FS = new Set([
  'proc', 'sysfs', 'devtmpfs', 'devpts', 'tmpfs', 'cgroup', 'cgroup2', 'securityfs', 'pstore', 'debugfs',
  'tracefs', 'configfs', 'fusectl', 'mqueue', 'hugetlbfs', 'bpf', 'autofs', 'binfmt_misc', 'overlay',
  'squashfs', 'nsfs', 'ramfs', 'rpc_pipefs', 'efivarfs', 'fuse.lxcfs', 'fuse.gvfsd-fuse', 'nfsd', 'shm',
]);

/** Aggregate CPU jiffies from /proc/stat. */
export interface CpuTimes {
  total: number;
  idle: number;
}

/**
 * Samples CPU, memory, filesystems and network. On Linux it reads /proc directly (~0.1 ms a sample);
 * systeminformation spawns shell commands for the same figures (3.2 CPU-s a minute at 1 Hz, measured),
 * so it is used only where /proc is absent. Keeps the previous sample for rates.
 */
export class HostSampler {
  private prevCpu?: CpuTimes;
  private prevNet?: { at: number; rx: number; tx: number };
  // The four /proc files stay open and are read again from offset 0 (issue #27: fs/promises' readFile
  // is an open, an fstat, reads and a close, each a trip through the thread pool, every refresh).
  private readonly files = new OpenFiles(8);
  // (/proc/stat, meminfo, mounts, net/dev, loadavg, uptime: six of the eight.)
  // /proc/mounts parsed once per change of its text (issue #27 point 2: with 50 containers it holds a
  // few hundred overlay, shm and bind lines, and parsing them every refresh was ~1 % of the idle console).
  private mounts?: { text: string; parsed: ReturnType<typeof parseMounts> };

  constructor(
    private readonly procRoot = '/proc',
    private readonly now: () => number = Date.now,
  ) {}

  private parsedMounts(text: string): ReturnType<typeof parseMounts> {
    if (this.mounts?.text !== text) this.mounts = { text, parsed: parseMounts(text) };
    return this.mounts.parsed;
  }

  /** Takes one sample; never throws. */
  async sample(): Promise<Result<HostSample>> {
    try {
      const read = (name: string) => this.files.read(`${this.procRoot}/${name}`);
      let stat: string;
      try {
        stat = read('stat');
      } catch {
        return await this.sampleWithSysinfo();
      }
      const meminfo = read('meminfo');
      const mounts = read('mounts');
      let netdev = '';
      try {
        netdev = read('net/dev');
      } catch {
        // no network figures
      }
      const at = this.now();
      const cpu = parseProcStat(stat);
      const cpuPercent = this.prevCpu && cpu ? cpuPercentBetween(this.prevCpu, cpu) : undefined;
      if (cpu) this.prevCpu = cpu;
      const net = parseNetDev(netdev);
      const rates = this.netRates(at, net.rx, net.tx);
      return ok({
        hostname: hostname(),
        takenAt: at,
        // Counted in the /proc/stat text just read (its cpuN lines, as libuv counts them): os.cpus()
        // reads /proc/stat and /proc/cpuinfo again at every refresh (issue #27).
        cpuCount: cpuLines(stat) || cpus().length || 1,
        ...(cpuPercent !== undefined ? { cpuPercent } : {}),
        load: this.load(read),
        memory: parseMeminfo(meminfo),
        filesystems: await filesystemUsage(this.parsedMounts(mounts)),
        network: { rxBytes: net.rx, txBytes: net.tx, ...rates },
        uptimeSec: this.uptime(read),
        source: 'proc',
      });
    } catch (err) {
      return fail('unknown', 'host', `could not read host metrics: ${(err as Error).message}`);
    }
  }

  /**
   * The load averages from /proc/loadavg through the kept files, as os.loadavg() reads them (issue
   * #27 point 2: os.loadavg() and os.uptime() open, read and close their file at every refresh).
   */
  private load(read: (name: string) => string): [number, number, number] {
    try {
      const [a, b, c] = read('loadavg').split(' ', 3).map(Number);
      if (a !== undefined && b !== undefined && c !== undefined && !Number.isNaN(a + b + c)) return [a, b, c];
    } catch {
      // not there: as before
    }
    return loadavg() as [number, number, number];
  }

  /** Seconds since boot from /proc/uptime through the kept files, as os.uptime() reads it. */
  private uptime(read: (name: string) => string): number {
    try {
      const up = Number(read('uptime').split(' ', 1)[0]);
      if (!Number.isNaN(up)) return up;
    } catch {
      // not there: as before
    }
    return uptime();
  }

  /** Closes the /proc files kept open. */
  close(): void {
    this.files.close();
  }

  private netRates(at: number, rx: number, tx: number): { rxBytesPerSec?: number; txBytesPerSec?: number } {
    const prev = this.prevNet;
    this.prevNet = { at, rx, tx };
    if (!prev || at <= prev.at) return {};
    const secs = (at - prev.at) / 1000;
    return { rxBytesPerSec: Math.max(0, (rx - prev.rx) / secs), txBytesPerSec: Math.max(0, (tx - prev.tx) / secs) };
  }

  // Fallback for systems without /proc (macOS); loaded lazily because the library is large.
  private async sampleWithSysinfo(): Promise<Result<HostSample>> {
    const si = (await import('systeminformation')).default;
    const [load, fsList, nets] = await Promise.all([si.currentLoad(), si.fsSize(), si.networkStats()]);
    const total = totalmem();
    const used = total - freemem();
    return ok({
      hostname: hostname(),
      takenAt: this.now(),
      cpuCount: cpus().length || 1,
      cpuPercent: load.currentLoad,
      load: loadavg() as [number, number, number],
      memory: { totalBytes: total, usedBytes: used, percent: (used / total) * 100 },
      filesystems: fsList.map((f) => ({
        mount: f.mount,
        device: f.fs,
        type: f.type,
        sizeBytes: f.size,
        usedBytes: f.used,
        percent: f.use,
      })),
      network: {
        rxBytes: nets.reduce((a, n) => a + n.rx_bytes, 0),
        txBytes: nets.reduce((a, n) => a + n.tx_bytes, 0),
        rxBytesPerSec: nets.reduce((a, n) => a + (n.rx_sec ?? 0), 0),
        txBytesPerSec: nets.reduce((a, n) => a + (n.tx_sec ?? 0), 0),
      },
      uptimeSec: uptime(),
      source: 'systeminformation',
    });
  }
}

/** Parses the aggregate `cpu` line of /proc/stat. */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n', 1)[0];
  if (!line?.startsWith('cpu ')) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest fields are already in user/nice).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  return { total: user + nice + system + idle + iowait + irq + softirq + steal, idle: idle + iowait };
}

/** CPU busy % between two /proc/stat samples. */
export function cpuPercentBetween(a: CpuTimes, b: CpuTimes): number {
  const dTotal = b.total - a.total;
  if (dTotal <= 0) return 0;
  return Math.min(100, Math.max(0, (1 - (b.idle - a.idle) / dTotal) * 100));
}

/** The number of `cpuN` lines of a /proc/stat text (online CPUs); 0 when there are none. */
export function cpuLines(stat: string): number {
  let n = 0;
  for (let i = stat.indexOf('\ncpu'); i !== -1; i = stat.indexOf('\ncpu', i + 4)) {
    const c = stat.charCodeAt(i + 4);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** The regular expressions of parseMeminfo's keys, made once (issue #27: not at every refresh). */
const MEMINFO_KEYS = new Map<string, RegExp>();

/** Memory use from /proc/meminfo: total − MemAvailable, as `free` reports "used". */
export function parseMeminfo(text: string): { totalBytes: number; usedBytes: number; percent: number } {
  const kb = (key: string): number | undefined => {
    let re = MEMINFO_KEYS.get(key);
    if (!re) MEMINFO_KEYS.set(key, (re = new RegExp(`^${key}:\\s+(\\d+)`, 'm')));
    const m = re.exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal') ?? totalmem();
  const available = kb('MemAvailable') ?? (kb('MemFree') ?? 0) + (kb('Cached') ?? 0) + (kb('Buffers') ?? 0);
  const used = Math.max(0, total - available);
  return { totalBytes: total, usedBytes: used, percent: total > 0 ? (used / total) * 100 : 0 };
}

/** Mounted filesystems worth showing: real disks, one entry per device. */
export function parseMounts(text: string): { device: string; mount: string; type: string }[] {
  const seen = new Set<string>();
  const out: { device: string; mount: string; type: string }[] = [];
  for (const line of text.split('\n')) {
    const [device, mountRaw, type] = line.split(' ');
    if (!device || !mountRaw || !type || IGNORED_FS.has(type)) continue;
    const mount = mountRaw.replace(/\\040/g, ' ');
    if (seen.has(device) || mount.startsWith('/proc') || mount.startsWith('/sys') || mount.startsWith('/snap/')) continue;
    seen.add(device);
    out.push({ device, mount, type });
  }
  return out;
}

async function filesystemUsage(mounts: { device: string; mount: string; type: string }[]): Promise<FilesystemUsage[]> {
  const out: FilesystemUsage[] = [];
  for (const m of mounts) {
    try {
      const s = await statfs(m.mount);
      if (s.blocks === 0) continue;
      const used = (s.blocks - s.bfree) * s.bsize;
      const avail = s.bavail * s.bsize;
      const percent = used + avail > 0 ? (used / (used + avail)) * 100 : 0;
      out.push({ ...m, sizeBytes: s.blocks * s.bsize, usedBytes: used, percent });
    } catch {
      // A mount that vanished or is not accessible (stale NFS) is skipped, not fatal.
    }
  }
  return out;
}

/** Sums received and transmitted bytes of all interfaces except loopback from /proc/net/dev. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const [ifaceRaw, rest] = line.split(':');
    if (!ifaceRaw || rest === undefined) continue;
    const iface = ifaceRaw.trim();
    if (iface === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}
