// npm run bench:console:ab — the idle console of several builds side by side (issue #27 point 2):
// one private engine with 50 idle containers left to settle (BENCH_SETTLE seconds, default 65: a
// container up for under a minute is inspected at every list, which no idle stack has), then
// BENCH_ROUNDS (3) alternating rounds of each build in BENCH_CLIS (comma-separated dist/cli.js paths,
// default this build's; `NAME=value|path` runs that build with an environment variable), each in tmux
// at 160×48, 20 s after its start for 60 s: its own CPU (user and system, per thread from /proc: the
// main thread and the others — V8's and libuv's — apart) and its peak RSS. One figure per build and
// round, printed as it comes: this machine's noise is as large as most single changes, so read the
// rounds, not one of them. `bench:console` compares with btop, htop and `docker stats`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createIdle, startEngine } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const builds = (process.env.BENCH_CLIS ?? 'dist/cli.js').split(',').map((c) => {
  const [env, cli] = c.includes('|') ? c.split('|') : ['', c];
  return { env, cli: resolve(cli) };
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
  const cfg = join(dir, 'opsdeck.yaml');
  writeFileSync(cfg, `name: bench\nrefresh: 2s\ndocker:\n  host: ${engine.host}\n  all_containers: true\nredis: []\nstate_dir: ${dir}/state\n`);
  const socket = `opsdeck-bench-ab-${process.pid}`;
  for (let round = 1; round <= Number(process.env.BENCH_ROUNDS ?? 3); round++) {
    for (const { env, cli } of builds) {
      execFileSync('tmux', ['-L', socket, 'new-session', '-d', '-s', 'ab', '-x', '160', '-y', '48', `exec env ${env || 'OPSDECK_BENCH=1'} ${process.execPath} ${cli} --config ${cfg}`]);
      await sleep(1000);
      const pid = Number(execFileSync('tmux', ['-L', socket, 'list-panes', '-F', '#{pane_pid}'], { encoding: 'utf8' }).trim());
      await sleep(19_000);
      const a = threads(pid);
      await sleep(60_000);
      const b = threads(pid);
      const rows = Object.keys(b).map((k) => [k, (b[k][0] - (a[k]?.[0] ?? 0)) / TICK, (b[k][1] - (a[k]?.[1] ?? 0)) / TICK]);
      const user = rows.reduce((n, r) => n + r[1], 0);
      const sys = rows.reduce((n, r) => n + r[2], 0);
      const main = rows.find((r) => r[0] === 'main') ?? ['main', 0, 0];
      const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      console.log(`round ${round} ${env ? `${env} ` : ''}${cli}: ${(user + sys).toFixed(2)} s/min (user ${user.toFixed(2)}, sys ${sys.toFixed(2)}; main thread ${(main[1] + main[2]).toFixed(2)}, others ${(user + sys - main[1] - main[2]).toFixed(2)}), peak RSS ${Math.round(hwm / 1024)} MB, load ${load}`);
      execFileSync('tmux', ['-L', socket, 'send-keys', '-t', 'ab', 'q']);
      await sleep(2000);
      try {
        execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
      } catch {
        // ended with the console
      }
    }
  }
} finally {
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
}
