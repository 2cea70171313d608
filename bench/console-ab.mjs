// npm run bench:console:ab — the idle console of several builds side by side (issue #27 point 2):
// one private engine with 50 idle containers left to settle (BENCH_SETTLE seconds, default 65: a
// container up for under a minute is inspected at every list, which no idle stack has), then
// BENCH_ROUNDS (3) alternating rounds of each build in BENCH_CLIS (comma-separated dist/cli.js paths,
// default this build's; `NAME=value|path` runs that build with an environment variable), each in tmux
// at 160×48, 20 s after its start for 60 s: its own CPU (user and system, per thread from /proc: the
// main thread and the others — V8's and libuv's — apart) and its peak RSS. One figure per build and
// round, printed as it comes: this machine's noise is as large as most single changes, so read the
// rounds, not one of them. `bench:console` compares with btop, htop and `docker stats`.
// BENCH_TOGETHER=1: each round runs every build at once instead (each in its own tmux and state
// directory, started in a rotating order) and measures them over the same 60 s, so what the machine
// does meanwhile weighs on all alike; with two builds each round also prints the second's difference
// from the first, and the last line their mean. A console's own CPU is ~1 % of one core, so two side
// by side barely meet; alternating runs a minute apart differed by ±20 % here (2026-12-04).
// Each build runs as the `opsdeck` command starts it (bin/opsdeck's Node flags); a path written
// `plain:<path>` runs as `node <path>` without them (e.g. BENCH_CLIS=dist/cli.js,plain:dist/cli.js).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createIdle, opsdeckNode, startEngine } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const builds = (process.env.BENCH_CLIS ?? 'dist/cli.js').split(',').map((c) => {
  const [env, path] = c.includes('|') ? c.split('|') : ['', c];
  const plain = path.startsWith('plain:');
  const cli = `${plain ? 'plain:' : ''}${resolve(plain ? path.slice('plain:'.length) : path)}`;
  return { env, cli };
});

/** CPU ticks (user, system) of each thread of `pid`, the main thread as `main`, the others summed by name. */
function threads(pid) {
  const m = {};
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const name = t === String(pid) ? 'main' : s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      m[name] ??= [0, 0];
      m[name][0] += Number(f[11]);
      m[name][1] += Number(f[12]);
    } catch {
      // a thread that ended
    }
  }
  return m;
}

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bench-ab-'));
const engine = await startEngine();
try {
  createIdle(engine.host, 'idle', 0, 50);
  await sleep(Number(process.env.BENCH_SETTLE ?? 65) * 1000);
  const socket = `opsdeck-bench-ab-${process.pid}`;
  const together = process.env.BENCH_TOGETHER === '1';
  const diffs = [];
  for (let round = 1; round <= Number(process.env.BENCH_ROUNDS ?? 3); round++) {
    // Together: all builds in one window, the first started first in round 1, the second in round 2, …
    const groups = together ? [builds.map((_, i) => (i + round - 1) % builds.length)] : builds.map((_, i) => [i]);
    for (const group of groups) {
      const runs = group.map((i) => {
        const { env, cli } = builds[i];
        const cfg = join(dir, `opsdeck-${i}.yaml`);
        writeFileSync(cfg, `name: bench\nrefresh: 2s\ndocker:\n  host: ${engine.host}\n  all_containers: true\nredis: []\nstate_dir: ${dir}/state-${i}\n`);
        const sock = `${socket}-${i}`;
        execFileSync('tmux', ['-L', sock, 'new-session', '-d', '-s', 'ab', '-x', '160', '-y', '48', `exec env ${env || 'OPSDECK_BENCH=1'} ${opsdeckNode(cli)} --config ${cfg}`]);
        return { i, env, cli, sock };
      });
      await sleep(1000);
      for (const r of runs) r.pid = Number(execFileSync('tmux', ['-L', r.sock, 'list-panes', '-F', '#{pane_pid}'], { encoding: 'utf8' }).trim());
      await sleep(19_000);
      for (const r of runs) r.a = threads(r.pid);
      await sleep(60_000);
      for (const r of runs) r.b = threads(r.pid);
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      const figures = new Map();
      for (const { i, env, cli, pid, a, b } of runs.sort((x, y) => x.i - y.i)) {
        const rows = Object.keys(b).map((k) => [k, (b[k][0] - (a[k]?.[0] ?? 0)) / TICK, (b[k][1] - (a[k]?.[1] ?? 0)) / TICK]);
        const user = rows.reduce((n, r) => n + r[1], 0);
        const sys = rows.reduce((n, r) => n + r[2], 0);
        const main = rows.find((r) => r[0] === 'main') ?? ['main', 0, 0];
        const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
        figures.set(i, { total: user + sys, main: main[1] + main[2] });
        console.log(`round ${round} ${env ? `${env} ` : ''}${cli}: ${(user + sys).toFixed(2)} s/min (user ${user.toFixed(2)}, sys ${sys.toFixed(2)}; main thread ${(main[1] + main[2]).toFixed(2)}, others ${(user + sys - main[1] - main[2]).toFixed(2)}), peak RSS ${Math.round(hwm / 1024)} MB, load ${load}`);
      }
      if (together && builds.length === 2) {
        const [x, y] = [figures.get(0), figures.get(1)];
        diffs.push({ total: y.total - x.total, main: y.main - x.main });
        console.log(`round ${round}: second − first ${(y.total - x.total).toFixed(2)} s/min (main thread ${(y.main - x.main).toFixed(2)})`);
      }
      for (const r of runs) {
        execFileSync('tmux', ['-L', r.sock, 'send-keys', '-t', 'ab', 'q']);
      }
      await sleep(2000);
      for (const r of runs) {
        try {
          execFileSync('tmux', ['-L', r.sock, 'kill-server'], { stdio: 'ignore' });
        } catch {
          // ended with the console
        }
      }
    }
  }
  if (diffs.length > 0) {
    const mean = (k) => diffs.reduce((n, d) => n + d[k], 0) / diffs.length;
    console.log(`mean of ${diffs.length} rounds: second − first ${mean('total').toFixed(3)} s/min (main thread ${mean('main').toFixed(3)}); each: ${diffs.map((d) => d.total.toFixed(2)).join(' ')}`);
  }
} finally {
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
}
