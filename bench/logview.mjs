// npm run bench:logview — the full console (built CLI, in tmux) following a container's log at ~1k,
// ~10k lines/s and as fast as the container can print, unfiltered and filtered (`/level=ERROR`, one
// line in ten), next to `docker logs -f -t C | grep --line-buffered PATTERN > FILE` in the same run
// (grep writing to /dev/null stops reading after the first match: a file it is). Each run lasts
// BENCH_SECONDS (20). Printed per run: own CPU s/min (the process tree), the daemon side's CPU s/min
// (dockerd + containerd + shims: it includes writing the container's log, the same for both), the
// lag (the newest line on screen or in FILE against now: each line carries the container's
// /proc/uptime, the host's clock), peak RSS, and for the console whether its header said "BEHIND"
// while it was more than 1 s behind (and how soon). The console's TurboFan question: the 10k and
// fastest unfiltered runs again with OPSDECK_BENCH_TURBOFAN=off (TurboFan kept off as before #26).
// Absolute figures wander on a shared 2-core machine (the container printing competes too): the
// reference of the same run is the yardstick.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { IMAGE, cpuSeconds, daemonPids, startEngine } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CLI = resolve('dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bench-logview-'));
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const uptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

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
const stat = (p, f) => {
  try {
    const t = readFileSync(`/proc/${p}/stat`, 'utf8');
    return f(t.slice(t.lastIndexOf(')') + 2).split(' '));
  } catch {
    return 0;
  }
};
const treeCpu = (root) => tree(root).reduce((a, p) => a + stat(p, (f) => (Number(f[11]) + Number(f[12])) / TICK), 0);
const treeRss = (root) =>
  tree(root).reduce((a, p) => {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return a + (m ? Number(m[1]) * 1024 : 0);
    } catch {
      return a;
    }
  }, 0);

/** The newest `u=<uptime>` in a text (the last one). */
const newestU = (text) => {
  const all = [...text.matchAll(/u=(\d+\.\d+) seq=\d+/g)];
  return all.length ? Number(all[all.length - 1][1]) : undefined;
};
function tailOf(file, bytes = 8192) {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    const b = Buffer.alloc(Math.min(bytes, size));
    readSync(fd, b, 0, b.length, size - b.length);
    closeSync(fd);
    return b.toString('utf8');
  } catch {
    return '';
  }
}

/** A container printing `u=<its /proc/uptime> seq=N level=…` lines, B per batch, `pause` between batches. */
function generator(host, name, project, batch, pause) {
  const body = `i=0; while true; do read u _ < /proc/uptime; j=0; while [ $j -lt ${batch} ]; do j=$((j+1)); i=$((i+1)); if [ $((i % 10)) -eq 0 ]; then echo "u=$u seq=$i level=ERROR payment failed for order $i"; else echo "u=$u seq=$i level=INFO GET /api/orders/$i 200 12ms"; fi; done; ${pause ? `sleep ${pause};` : ''} done`;
  execFileSync('docker', ['-H', host, 'run', '-d', '--network', 'none', '--log-opt', 'max-size=64m', '--log-opt', 'max-file=2', '--label', `com.docker.compose.project=${project}`, '--name', name, IMAGE, 'sh', '-c', body], { stdio: ['ignore', 'ignore', 'inherit'] });
}
function lastSeq(host, name) {
  const out = execFileSync('docker', ['-H', host, 'logs', '--tail', '1', name], { encoding: 'utf8' });
  return Number(/seq=(\d+)/.exec(out)?.[1] ?? 0);
}

async function sampleRun(rootPid, engine, lagOf, headerOf) {
  const c0 = treeCpu(rootPid);
  const d0 = cpuSeconds(daemonPids(engine.pid, engine.execRoot));
  const t0 = Date.now();
  let peak = 0;
  const lags = [];
  let behindSince;
  let saidBehindAt;
  let saidFollowingWhileBehind = 0;
  while (Date.now() - t0 < SECONDS * 1000) {
    peak = Math.max(peak, treeRss(rootPid));
    const lag = lagOf();
    const header = headerOf?.();
    if (lag !== undefined) {
      lags.push(lag);
      if (lag > 1) behindSince ??= Date.now();
      else behindSince = undefined;
      if (header !== undefined) {
        if (/BEHIND/.test(header)) saidBehindAt ??= Date.now();
        if (lag > 2 && /following/.test(header)) saidFollowingWhileBehind++;
      }
    }
    await sleep(500);
  }
  const own = treeCpu(rootPid) - c0;
  const daemon = cpuSeconds(daemonPids(engine.pid, engine.execRoot)) - d0;
  const tail = lags.slice(Math.floor(lags.length / 2));
  return {
    own: (own * 60) / SECONDS,
    daemon: (daemon * 60) / SECONDS,
    peak,
    lagMax: Math.max(0, ...lags),
    lagEnd: lags.length ? lags[lags.length - 1] : undefined,
    lagMedian: tail.length ? [...tail].sort((a, b) => a - b)[Math.floor(tail.length / 2)] : undefined,
    indicator: headerOf ? (behindSince === undefined && saidBehindAt === undefined ? 'kept up' : saidBehindAt ? `BEHIND shown${behindSince ? ` ${((saidBehindAt - behindSince) / 1000).toFixed(1)} s after lag > 1 s` : ''}` : 'never said BEHIND') + (saidFollowingWhileBehind ? `; "following" while > 2 s behind ×${saidFollowingWhileBehind}` : '') : '',
  };
}

async function consoleRun(engine, project, container, filter, env = {}) {
  const name = `bench-lv-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
  const cfg = join(dir, `${name}.yaml`);
  writeFileSync(cfg, `name: bench\nrefresh: 2s\ndocker:\n  host: ${engine.host}\n  compose_project: ${project}\n  all_containers: true\nredis: []\nstate_dir: ${dir}/state-${name}\n`);
  const envs = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ');
  execFileSync('tmux', ['new-session', '-d', '-s', name, '-x', '160', '-y', '48', `env ${envs} ${process.execPath} ${CLI} --config ${cfg}`]);
  const pane = Number(execFileSync('tmux', ['display-message', '-p', '-t', name, '#{pane_pid}'], { encoding: 'utf8' }).trim());
  const screen = () => execFileSync('tmux', ['capture-pane', '-p', '-t', name], { encoding: 'utf8' });
  const waitFor = async (re, ms = 20_000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (re.test(screen())) return;
      await sleep(100);
    }
    throw new Error(`console never showed ${re}:\n${screen()}`);
  };
  const key = (k, literal = true) => execFileSync('tmux', ['send-keys', '-t', name, ...(literal ? ['-l'] : []), k]);
  try {
    await waitFor(new RegExp(`${container}\\s+running`));
    if (!/^▶ Containers/m.test(screen())) key('Tab', false);
    await waitFor(/^▶ Containers/m);
    key('l');
    await waitFor(new RegExp(`Logs: ${container}`));
    if (filter) {
      key(`/${filter}`);
      key('Enter', false);
      await waitFor(/filter \//);
    }
    return await sampleRun(
      pane,
      engine,
      () => {
        const u = newestU(screen());
        return u === undefined ? undefined : Math.max(0, uptime() - u);
      },
      () => screen().split('\n').find((l) => l.includes('Logs: ')) ?? '',
    );
  } finally {
    execFileSync('tmux', ['kill-session', '-t', name]);
  }
}

async function referenceRun(engine, container, pattern) {
  const file = join(dir, `ref-${container}-${Date.now()}.txt`);
  const child = spawn('sh', ['-c', `docker -H ${engine.host} logs -f -t --tail 0 ${container} | grep --line-buffered '${pattern}' > ${file}`], { stdio: 'ignore', detached: true });
  try {
    await sleep(300);
    return await sampleRun(child.pid, engine, () => {
      const u = newestU(tailOf(file));
      return u === undefined ? undefined : Math.max(0, uptime() - u);
    });
  } finally {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // ended
    }
  }
}

const RATES = [
  { label: '~1k', batch: 25, pause: '0.01' },
  { label: '~10k', batch: 250, pause: '0.01' },
  { label: 'fastest', batch: 1000, pause: '' },
].filter((r) => !process.env.BENCH_RATES || process.env.BENCH_RATES.split(',').includes(r.label));
// The pipeline alone, TurboFan on and off (the best of 5 passes over 1M lines each: the least disturbed by other work on the machine).
const { build } = await import('esbuild');
await build({ entryPoints: ['bench/logpipe.ts'], bundle: true, platform: 'node', format: 'esm', outfile: join(dir, 'logpipe.mjs'), logLevel: 'error' });
const pipe = (flags) => JSON.parse(execFileSync(process.execPath, [...flags, join(dir, 'logpipe.mjs')], { encoding: 'utf8' }));
const pipeOn = pipe([]);
const pipeOff = pipe(['--no-turbofan']);
const k = (x) => `${Math.round(x / 1000)}k`;
console.log(`log pipeline alone (LogDemuxer → 32 MB LogBuffer, 1M lines in 64 KB chunks, best of 5), lines/s: TurboFan on ${k(pipeOn.unfiltered)} unfiltered, ${k(pipeOn['level=ERROR'])} filtered; --no-turbofan ${k(pipeOff.unfiltered)}, ${k(pipeOff['level=ERROR'])}`);

const engine = await startEngine();
const rows = [];
try {
  for (const r of RATES) {
    const project = `lv${r.label.replace(/\W/g, '')}`;
    const container = `lv-${project}`;
    generator(engine.host, container, project, r.batch, r.pause);
    await sleep(3000);
    const seq0 = lastSeq(engine.host, container);
    const t0 = Date.now();
    const runs = [
      ['opsdeck', '', () => consoleRun(engine, project, container, '')],
      ['opsdeck /level=ERROR', 'f', () => consoleRun(engine, project, container, 'level=ERROR')],
      ['docker logs | grep seq=', '', () => referenceRun(engine, container, 'seq=')],
      ['docker logs | grep level=ERROR', 'f', () => referenceRun(engine, container, 'level=ERROR')],
    ];
    if (r.label !== '~1k') runs.push(['opsdeck, TurboFan kept off', '', () => consoleRun(engine, project, container, '', { OPSDECK_BENCH_TURBOFAN: 'off' })]);
    for (const [label, , run] of runs) {
      const m = await run();
      rows.push({ rate: r.label, label, ...m });
      console.error(`${r.label} ${label}: ${JSON.stringify({ own: m.own.toFixed(2), daemon: m.daemon.toFixed(2), lagMax: m.lagMax.toFixed(2), indicator: m.indicator })}`);
    }
    const produced = (lastSeq(engine.host, container) - seq0) / ((Date.now() - t0) / 1000);
    for (const row of rows) if (row.rate === r.label) row.produced = produced;
    execFileSync('docker', ['-H', engine.host, 'rm', '-f', container], { stdio: 'ignore' });
  }
  console.log(`\nlog view benchmark: ${SECONDS} s per run, the console at 160×48 following one container (tail 200, then live)\n`);
  console.log('rate (lines/s produced)   tool                              own CPU s/min  daemon CPU s/min  lag max / median / end s   peak RSS MB  indicator');
  for (const r of rows) {
    const lag = `${r.lagMax.toFixed(2)} / ${r.lagMedian?.toFixed(2) ?? '-'} / ${r.lagEnd?.toFixed(2) ?? '-'}`;
    console.log(`${`${r.rate} (${Math.round(r.produced).toLocaleString('en-US')})`.padEnd(26)}${r.label.padEnd(34)}${r.own.toFixed(2).padStart(13)}${r.daemon.toFixed(2).padStart(18)}   ${lag.padEnd(24)}${(r.peak / 1048576).toFixed(0).padStart(11)}  ${r.indicator}`);
  }
  console.log('\ntargets: at ~1k and ~10k at most 2× the reference CPU and under 1 s of lag; at the fastest rate an honest BEHIND within 2 s of falling behind');
} finally {
  await engine.stop();
}
