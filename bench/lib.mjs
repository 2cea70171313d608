// Shared benchmark plumbing: a private Docker engine, CPU accounting of process trees by PID.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const IMAGE = 'opsdeck-test/busybox:1';
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const ping = (socket) =>
  new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });

/** Starts a private dockerd (docs/TESTING.md recipe) with the busybox image imported; `extraHosts`: more -H addresses (tcp://…). */
export async function startEngine(extraHosts = []) {
  const d = mkdtempSync(join(tmpdir(), 'opsdeck-bench-'));
  const e = mkdtempSync('/tmp/obe-');
  const socket = join(d, 'docker.sock');
  const pidFile = join(d, 'dockerd.pid');
  const child = spawn('dockerd', ['--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=vfs', '--data-root', join(d, 'data'),
    '--exec-root', e, '--pidfile', pidFile, '-H', `unix://${socket}`, ...extraHosts.flatMap((h) => ['-H', h])], { stdio: 'ignore', detached: true });
  child.unref();
  const deadline = Date.now() + 30_000;
  while (!(await ping(socket))) {
    if (Date.now() > deadline) throw new Error('dockerd did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  const host = `unix://${socket}`;
  const root = mkdtempSync(join(tmpdir(), 'opsdeck-bb-'));
  mkdirSync(join(root, 'bin'));
  copyFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), join(root, 'bin/busybox'));
  for (const app of ['sh', 'sleep', 'yes', 'echo']) if (!existsSync(join(root, 'bin', app))) symlinkSync('busybox', join(root, 'bin', app));
  execFileSync('sh', ['-c', `tar -C ${root} -c . | docker -H ${host} import - ${IMAGE} >/dev/null`]);
  rmSync(root, { recursive: true, force: true });
  const pid = Number(readFileSync(pidFile, 'utf8'));
  return {
    host,
    socket,
    pid,
    execRoot: e,
    async stop() {
      try {
        execFileSync('sh', ['-c', `docker -H ${host} ps -aq | xargs -r docker -H ${host} rm -f`], { stdio: 'ignore' });
      } catch {
        // best effort: the engine is stopped next anyway
      }
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      for (let i = 0; i < 200; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      try {
        rmSync(d, { recursive: true, force: true });
      } catch {
        // a mount left behind by the engine; it lives in the temp folder
      }
    },
  };
}

/** Runs idle containers (sleep) named prefix<from>…prefix<to-1>. */
export function createIdle(host, prefix, from, to) {
  for (let i = from; i < to; i++) {
    execFileSync('docker', ['-H', host, 'run', '-d', '--network', 'none', '--name', `${prefix}${i}`, IMAGE, 'sleep', '86400'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICK, comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')) };
  } catch {
    return undefined;
  }
}

/**
 * The daemon side of an engine, matched by PID: dockerd, its containerd, and every containerd-shim
 * whose command line names this engine's exec root (shims re-parent to init when they daemonize).
 */
export function daemonPids(dockerdPid, execRoot) {
  const out = [dockerdPid];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x)).map(Number)) {
    const s = procStat(p);
    if (!s || p === dockerdPid) continue;
    if (!(s.comm === 'containerd' || s.comm.startsWith('containerd-shim'))) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(execRoot)) out.push(p);
    } catch {
      // ended
    }
  }
  return out;
}

/** Total CPU seconds (user + system) of some PIDs right now. */
export function cpuSeconds(pids) {
  return pids.reduce((a, p) => a + (procStat(p)?.cpu ?? 0), 0);
}

/** CPU seconds of a finished child (children's rusage is not available per-child; time it with /usr/bin/time -f). */
export function timeCommand(cmd, args, env = {}) {
  const t0 = performance.now();
  const r = execFileSync('/usr/bin/env', ['bash', '-c', `TIMEFORMAT='%U %S'; { time ${[cmd, ...args].map((a) => `'${a}'`).join(' ')} >/dev/null 2>&1; } 2>&1; true`], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  const wall = (performance.now() - t0) / 1000;
  const [u, s] = r.trim().split(/\s+/).map(Number);
  return { wall, cpu: (u ?? 0) + (s ?? 0) };
}

/** Median of numbers. */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * How the `opsdeck` command starts Node (bin/opsdeck): its flags, read from the launcher, and a fresh
 * random seed — so the benches measure any build (a copy of dist/cli.js, another build's) the way
 * the command runs it. Without them (what `node dist/cli.js` costs): `plain` true, a path written
 * `plain:<path>`, or BENCH_PLAIN=1. The argument list, Node first.
 */
export function opsdeckArgv(cli, plain = !!process.env.BENCH_PLAIN) {
  if (cli.startsWith('plain:')) return [process.execPath, cli.slice('plain:'.length)];
  if (plain) return [process.execPath, cli];
  const text = readFileSync(new URL('../bin/opsdeck', import.meta.url), 'utf8');
  const flags = /^flags="([^"]*)"$/m.exec(text)?.[1];
  if (flags === undefined) throw new Error('bench: bin/opsdeck has no flags="…" line to start Node as the command does');
  return [process.execPath, ...flags.split(' ').filter(Boolean), `--random-seed=${1 + Math.floor(Math.random() * 2 ** 30)}`, cli];
}

/** `opsdeck ARGS` of build `cli`, as [command, arguments] for spawn / timeCommand. */
export function opsdeckCommand(cli, args = []) {
  const [cmd, ...pre] = opsdeckArgv(cli);
  return [cmd, [...pre, ...args]];
}

/** The same as one shell command line (for tmux). */
export const opsdeckNode = (cli, plain) => opsdeckArgv(cli, plain).join(' ');
