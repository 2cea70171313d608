// npm run bench:console — the console in tmux for 60 s (BENCH_SECONDS) against 50 idle containers
// at a 2 s refresh, next to `docker stats` (streaming), htop and btop, all in the same run:
// own CPU seconds and peak RSS of each tool's process tree, and the Docker daemon side's extra CPU
// seconds (dockerd + containerd + shims, by PID) against an idle baseline of the same length.
// Also the time to the console's first full frame: from the tmux session's start until the screen
// shows both `health N%` and `Containers (n/m running)`, polled every 10 ms; BENCH_FIRST_RUNS runs
// (default 7) on a state database already migrated (an operator's console opens an existing one; the
// first start on a new state folder also creates it), the median with the fastest and slowest.
// BENCH_BEFORE=<another build's dist/cli.js>: that build's console measured too, in the same run
// (issue #27's before/after), as the row `opsdeck before`; its first-frame runs alternate with
// this build's, so a change of load hits both alike.
// The first-frame runs take turns with a floor (Node printing the two texts through the same tmux
// start and polling) and, where NODE_EXTRA_CA_CERTS is set, with opsdeck and the floor without it.
// BENCH_ONLY_FIRST=1: the first-frame runs only (no idle baseline, no 60 s CPU rows), to iterate on
// the first frame (issue #27 point 4).
// BENCH_WARMUP (seconds, default 20): every tool — opsdeck, docker stats, htop, btop alike — runs this
// long after its start before its measured minute, so "idle" is each tool's steady state and no tool's
// start-up lands in it (issue #27 point 2: before, opsdeck's minute began at its first frame and so
// counted the work it defers until after that frame, while the other tools' minutes began at their
// start). What each tool used in those first seconds is printed too (the `start-up CPU s` column), and
// the first minute including the start-up (that plus the measured minute scaled to the rest).
// BENCH_ROUNDS=N (default 0): after the table, N more rounds of opsdeck and btop side by side — both
// started at once, each in its own tmux session (opsdeck first in odd rounds, btop first in even
// ones), each's own CPU over the same measured minute — with the ratio per round and the median
// ratio against the target (≤ 1). Runs one after the other on this shared machine differ by ±20 %;
// side by side, what the machine does meanwhile weighs on both alike.
// Every opsdeck build runs as the `opsdeck` command starts it (bin/opsdeck's Node flags, read from
// the launcher: bench/lib.mjs opsdeckNode); BENCH_PLAIN=1 runs `node <cli>` without them instead.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cpuSeconds, createIdle, daemonPids, median, opsdeckNode, startEngine } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20);
const ONLY_FIRST = !!process.env.BENCH_ONLY_FIRST;
// A tmux server of the bench's own: the shared default server may be ended by someone else's run.
const SOCKET = `opsdeck-bench-${process.pid}`;
// BENCH_CLI=<a copy of this build's dist/cli.js>: measured instead of dist/ (a test run rebuilding dist/ cannot pull it away mid-run).
const CLI = resolve(process.env.BENCH_CLI ?? 'dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bench-console-'));
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const has = (bin) => {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

function tree(root) {
  const kids = new Map();
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const t = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(t.slice(t.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(p));
    } catch {
      // gone
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(kids.get(out[i]) ?? []));
  return out;
}
function treeCpu(root) {
  return tree(root).reduce((a, p) => {
    try {
      const t = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
      return a + (Number(f[11]) + Number(f[12])) / TICK;
    } catch {
      return a;
    }
  }, 0);
}
function treeRss(root) {
  return tree(root).reduce((a, p) => {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return a + (m ? Number(m[1]) * 1024 : 0);
    } catch {
      return a;
    }
  }, 0);
}

/** Runs a command in a detached tmux session for SECONDS; measures its tree and the daemon side. */
async function measure(label, cmd, engine) {
  const name = `bench-${process.pid}-${label.replace(/\W/g, '')}`;
  const t0 = performance.now();
  execFileSync('tmux', ['-L', SOCKET, 'new-session', '-d', '-s', name, '-x', '160', '-y', '48', cmd]);
  const panePid = Number(execFileSync('tmux', ['-L', SOCKET, 'display-message', '-p', '-t', name, '#{pane_pid}'], { encoding: 'utf8' }).trim());
  let firstFrame;
  if (label.startsWith('opsdeck')) {
    while (performance.now() - t0 < 10_000) {
      const screen = execFileSync('tmux', ['-L', SOCKET, 'capture-pane', '-p', '-t', name], { encoding: 'utf8' });
      if (/health \d+%/.test(screen) && /Containers \(\d+\/\d+ running\)/.test(screen)) {
        firstFrame = (performance.now() - t0) / 1000;
        break;
      }
      await sleep(20);
    }
  }
  // The same settle time for every tool, counted from its start (opsdeck's first frame falls inside it).
  let peak = 0;
  while (performance.now() - t0 < WARMUP * 1000) {
    peak = Math.max(peak, treeRss(panePid));
    await sleep(Math.min(500, Math.max(1, WARMUP * 1000 - (performance.now() - t0))));
  }
  const c0 = treeCpu(panePid);
  const d0 = cpuSeconds(daemonPids(engine.pid, engine.execRoot));
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) {
    peak = Math.max(peak, treeRss(panePid));
    await sleep(500);
  }
  const own = treeCpu(panePid) - c0;
  const daemon = cpuSeconds(daemonPids(engine.pid, engine.execRoot)) - d0;
  execFileSync('tmux', ['-L', SOCKET, 'kill-session', '-t', name]);
  return { label, own, daemon, peak, firstFrame, startup: c0 };
}

/** The commands started together (the order rotated by `round`), each one's own CPU over the same SECONDS after WARMUP. */
async function together(cmds, round) {
  const order = cmds.map((_, i) => (i + round - 1) % cmds.length);
  const runs = order.map((i) => {
    const name = `bench-together-${process.pid}-${i}-${round}`;
    execFileSync('tmux', ['-L', SOCKET, 'new-session', '-d', '-s', name, '-x', '160', '-y', '48', cmds[i][1]]);
    const pid = Number(execFileSync('tmux', ['-L', SOCKET, 'display-message', '-p', '-t', name, '#{pane_pid}'], { encoding: 'utf8' }).trim());
    return { i, name, pid };
  });
  await sleep(WARMUP * 1000);
  for (const r of runs) r.c0 = treeCpu(r.pid);
  await sleep(SECONDS * 1000);
  for (const r of runs) r.own = treeCpu(r.pid) - r.c0;
  for (const r of runs) execFileSync('tmux', ['-L', SOCKET, 'kill-session', '-t', r.name]);
  await sleep(1000);
  return cmds.map((_, i) => runs.find((r) => r.i === i).own);
}

/** First full frames of each command, `runs` times, the commands taking turns; the first start of each is a warm-up (not counted). */
async function firstFrames(cmds, runs) {
  const times = cmds.map(() => []);
  // The CPU seconds the console's process tree had used when the frame was seen: a loaded machine
  // stretches the wall time far more than this (issue #27 point 4).
  const cpus = cmds.map(() => []);
  for (let i = -1; i < runs; i++) {
    for (const [j, cmd] of cmds.entries()) {
      const name = `bench-first-${process.pid}-${j}-${i + 1}`;
      const t0 = performance.now();
      execFileSync('tmux', ['-L', SOCKET, 'new-session', '-d', '-s', name, '-x', '160', '-y', '48', cmd]);
      const panePid = Number(execFileSync('tmux', ['-L', SOCKET, 'display-message', '-p', '-t', name, '#{pane_pid}'], { encoding: 'utf8' }).trim());
      let t;
      let cpu;
      while (performance.now() - t0 < 10_000) {
        const screen = execFileSync('tmux', ['-L', SOCKET, 'capture-pane', '-p', '-t', name], { encoding: 'utf8' });
        if (/health \d+%/.test(screen) && /Containers \(\d+\/\d+ running\)/.test(screen)) {
          t = (performance.now() - t0) / 1000;
          cpu = treeCpu(panePid);
          break;
        }
        await sleep(10);
      }
      execFileSync('tmux', ['-L', SOCKET, 'kill-session', '-t', name]);
      await sleep(500);
      if (i >= 0) times[j].push(t ?? Infinity);
      if (i >= 0) cpus[j].push(cpu ?? Infinity);
    }
  }
  return times.map((xs, j) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1), runs: xs.length, cpu: median(cpus[j]) };
  });
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();
const engine = await startEngine();
const rows = [];
try {
  createIdle(engine.host, 'idle', 0, 50);
  await sleep(5000);
  const d0 = cpuSeconds(daemonPids(engine.pid, engine.execRoot));
  if (!ONLY_FIRST) await sleep(SECONDS * 1000);
  const idle = cpuSeconds(daemonPids(engine.pid, engine.execRoot)) - d0;
  const cfg = join(dir, 'opsdeck.yaml');
  writeFileSync(cfg, `name: bench\nrefresh: 2s\ndocker:\n  host: ${engine.host}\n  all_containers: true\nredis: []\nstate_dir: ${dir}/state\n`);
  const cmds = [...(process.env.BENCH_BEFORE ? [['opsdeck before', `${opsdeckNode(resolve(process.env.BENCH_BEFORE))} --config ${cfg}`]] : []), ['opsdeck', `${opsdeckNode(CLI)} --config ${cfg}`]];
  // The floor of the first frame, in the same runs (taking turns with opsdeck): the same tmux start and
  // screen polling, a Node that prints the two texts the polling waits for as soon as it runs. What
  // opsdeck adds is its row minus this one. With NODE_EXTRA_CA_CERTS set (these machines set it), Node
  // builds its whole root certificate store before any JavaScript runs (~40 ms here): the floor is
  // also measured without it, so the machine's share is seen apart from Node's.
  const floorFile = join(dir, 'floor.cjs');
  writeFileSync(floorFile, "process.stdout.write('\\x1b[?1049h\\x1b[Hopsdeck  health 100%\\r\\nContainers (1/1 running)\\r\\n'); setInterval(() => {}, 1e6);\n");
  const floors = [['node alone', `${process.execPath} ${floorFile}`], ...(process.env.NODE_EXTRA_CA_CERTS ? [['node, no CA env', `env -u NODE_EXTRA_CA_CERTS ${process.execPath} ${floorFile}`]] : [])];
  // And opsdeck itself without that variable: what an operator whose environment does not set it sees.
  const noCa = process.env.NODE_EXTRA_CA_CERTS ? [['opsdeck, no CA env', `env -u NODE_EXTRA_CA_CERTS ${opsdeckNode(CLI)} --config ${cfg}`]] : [];
  const frameCmds = [...cmds, ...noCa, ...floors];
  const loadFirst = load();
  const uptimeFirst = execFileSync('uptime', { encoding: 'utf8' }).trim();
  const frames = await firstFrames(frameCmds.map(([, c]) => c), Number(process.env.BENCH_FIRST_RUNS ?? 7));
  const uptimeFirstEnd = execFileSync('uptime', { encoding: 'utf8' }).trim();
  if (ONLY_FIRST) {
    printFrames(frames, frameCmds, loadFirst, uptimeFirst, uptimeFirstEnd, []);
  } else {
  if (process.env.BENCH_BEFORE) rows.push(await measure('opsdeck before', `${opsdeckNode(resolve(process.env.BENCH_BEFORE))} --config ${cfg}`, engine));
  rows.push(await measure('opsdeck', `${opsdeckNode(CLI)} --config ${cfg}`, engine));
  rows.push(await measure('docker stats', `docker -H ${engine.host} stats`, engine));
  for (const tool of ['htop', 'btop']) {
    if (has(tool)) rows.push(await measure(tool, tool, engine));
    else rows.push({ label: tool, missing: true });
  }
  console.log(`\nconsole benchmark: ${SECONDS} s measured after ${WARMUP} s of settling (BENCH_WARMUP, the same for every tool), 50 idle containers, refresh 2 s; daemon idle baseline ${idle.toFixed(2)} CPU-s`);
  console.log(`load average before the run ${loadBefore}, after ${load()} (> 2: measured under load)\n`);
  console.log(`tool           own CPU s/min   start-up CPU s (first ${WARMUP} s)   first minute incl. start-up s   peak RSS MB   daemon extra CPU s/min`);
  const perMin = (x) => ((x * 60) / SECONDS).toFixed(2).padStart(8);
  for (const r of rows) {
    if (r.missing) {
      console.log(`${r.label.padEnd(14)} not installed (apt-get install ${r.label})`);
      continue;
    }
    // The first minute from the tool's start: its start-up seconds, then the steady rate for the rest.
    const firstMinute = r.startup + (r.own / SECONDS) * Math.max(0, 60 - WARMUP);
    console.log(`${r.label.padEnd(14)} ${perMin(r.own)}        ${r.startup.toFixed(2).padStart(8)}                       ${firstMinute.toFixed(2).padStart(8)}                   ${(r.peak / 1048576).toFixed(0).padStart(6)}        ${perMin(Math.max(0, r.daemon - idle))}`);
  }
  console.log('');
  printFrames(frames, frameCmds, loadFirst, uptimeFirst, uptimeFirstEnd, rows);
  console.log('targets: own CPU ≤ btop (issue #27); daemon extra ≤ 1/10 of docker stats; RSS ≤ 150 MB');
  const rounds = Number(process.env.BENCH_ROUNDS ?? 0);
  if (rounds > 0 && has('btop')) {
    console.log(`\nopsdeck and btop side by side, ${rounds} rounds (own CPU s/min over the same ${SECONDS} s, after ${WARMUP} s):`);
    const ratios = [];
    for (let round = 1; round <= rounds; round++) {
      const [o, b] = await together([['opsdeck', `${opsdeckNode(CLI)} --config ${cfg}`], ['btop', 'btop']], round);
      ratios.push(o / b);
      console.log(`  round ${round}: opsdeck ${perMin(o).trim()}, btop ${perMin(b).trim()}, ratio ${(o / b).toFixed(2)} (load ${load()})`);
    }
    const m = median(ratios);
    console.log(`  median ratio ${m.toFixed(2)} (${ratios.filter((r) => r <= 1).length} of ${rounds} rounds ≤ 1): target own CPU ≤ btop ${m <= 1 ? 'met' : 'not met'}`);
  } else if (rounds > 0) console.log('BENCH_ROUNDS: btop is not installed (apt-get install btop)');
  }
} finally {
  await engine.stop();
}

function printFrames(frames, cmds, loadFirst, uptimeFirst, uptimeFirstEnd, rows) {
  const s = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} s` : 'not seen within 10 s');
  console.log(`first full frame, ${frames[0]?.runs} runs each, taking turns (load average ${loadFirst} before them):`);
  console.log(`  ${uptimeFirst}\n  ${uptimeFirstEnd}`);
  for (const [j, [label]] of cmds.entries()) {
    const f = frames[j];
    const floor = !label.startsWith('opsdeck');
    console.log(`  ${label.padEnd(19)} median ${s(f.median)} (fastest ${s(f.min)}, slowest ${s(f.max)})${floor ? ' (the floor: tmux, the polling, Node printing the texts)' : ' (target ≤ 0.5 s)'}; CPU used by then, median ${s(f.cpu)}`);
  }
  for (const o of rows.filter((r) => r.label.startsWith('opsdeck'))) {
    console.log(`  ${o.label.padEnd(14)} in the CPU run: ${o.firstFrame !== undefined ? `${o.firstFrame.toFixed(2)} s` : 'not seen within 10 s'} (one start)`);
  }
}
