// npm run bench:check — `opsdeck check` against 50 and then 200 idle containers in a private engine,
// next to `docker stats --no-stream` over the same containers, measured in the same run:
// wall time and the Docker daemon side's CPU seconds (dockerd + containerd + shims, by PID).
// Also: start-up of `opsdeck --help` against a bare `node -e 0`.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cpuSeconds, createIdle, daemonPids, median, opsdeckCommand, startEngine, timeCommand } from './lib.mjs';

// Each build runs as the `opsdeck` command starts Node (bench/lib.mjs opsdeckCommand).

const CLI = resolve('dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bench-check-'));
const rows = [];
// Declared services are the only containers the API path reads (twice, for CPU %): one row with some.
const SERVICES = 10;
const fmt = (n, d = 2) => n.toFixed(d).padStart(7);

function measure(label, cmd, args, engine, env) {
  const pids = daemonPids(engine.pid, engine.execRoot);
  const before = cpuSeconds(pids);
  const t = timeCommand(cmd, args, env);
  const daemon = cpuSeconds(daemonPids(engine.pid, engine.execRoot)) - before;
  return { label, wall: t.wall, own: t.cpu, daemon };
}

/** The run of median wall time. */
const pickMedian = (runs) => [...runs].sort((a, b) => a.wall - b.wall)[Math.floor(runs.length / 2)];
// The machine is shared: its load beside the figures (issue #27: mark figures taken under load).
const load = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const loadBefore = load();

const engine = await startEngine();
try {
  let have = 0;
  for (const n of [50, 200]) {
    createIdle(engine.host, 'idle', have, n);
    have = n;
    // Settled containers, as an operator's are (issue #27's table): a container up for less than a
    // minute is inspected at every list ("Up 40 seconds": listSignature in src/services/docker/containers.ts),
    // a settled one is described from the list alone. So the newest must be a minute old; then the daemon settles.
    await new Promise((r) => setTimeout(r, 63_000));
    const cfg = (src, services = 0) => {
      const f = join(dir, `${src}-${services}.yaml`);
      const svc = Array.from({ length: services }, (_, i) => `  - name: s${i}\n    container: idle${i}\n`).join('');
      writeFileSync(f, `docker:\n  host: ${engine.host}\n  all_containers: true\n  stats_source: ${src}\nredis: []\n${services ? `services:\n${svc}` : ''}`);
      return f;
    };
    // Each measurement three times, median by wall time; the reference first.
    const pick = (runs) => runs.sort((a, b) => a.wall - b.wall)[1];
    const ref = pick([0, 1, 2].map(() => measure('docker stats --no-stream', 'docker', ['-H', engine.host, 'stats', '--no-stream'], engine)));
    // BENCH_BEFORE=<another build's dist/cli.js>: the same check by that build, in the same run (issue #27's
    // before/after), the two taken in turns (five each, median) so that a change of load on a shared
    // machine falls on both alike.
    const turns = process.env.BENCH_BEFORE ? 5 : 3;
    const localRuns = [];
    const beforeRuns = [];
    for (let i = 0; i < turns; i++) {
      localRuns.push(measure('opsdeck check (cgroup files)', ...opsdeckCommand(CLI, ['check', '--config', cfg('auto')]), engine));
      if (process.env.BENCH_BEFORE) beforeRuns.push(measure('  the same, BENCH_BEFORE build', ...opsdeckCommand(resolve(process.env.BENCH_BEFORE), ['check', '--config', cfg('auto')]), engine));
    }
    const local = pickMedian(localRuns);
    const before = process.env.BENCH_BEFORE ? pickMedian(beforeRuns) : undefined;
    const api = pick([0, 1, 2].map(() => measure('opsdeck check (API one-shot)', ...opsdeckCommand(CLI, ['check', '--config', cfg('api')]), engine)));
    const apiSvc = pick([0, 1, 2].map(() => measure(`  + ${SERVICES} declared services`, ...opsdeckCommand(CLI, ['check', '--config', cfg('api', SERVICES)]), engine)));
    rows.push({ n, ref, local, before, api, apiSvc });
  }
} finally {
  await engine.stop();
}

console.log(`\nopsdeck check vs docker stats --no-stream (median of 3; with BENCH_BEFORE, this build and that one median of 5 taken in turns; same engine, same run)`);
console.log(`load before: ${loadBefore}\nload after:  ${load()}\n`);
console.log('containers  command                         wall s   own CPU s  daemon CPU s   wall ratio  daemon ratio');
for (const { n, ref, local, before, api, apiSvc } of rows) {
  for (const r of [ref, local, ...(before ? [before] : []), api, apiSvc]) {
    const wr = r === ref ? '' : `${(r.wall / ref.wall).toFixed(2)}×`;
    const dr = r === ref ? '' : `${(r.daemon / Math.max(ref.daemon, 0.01)).toFixed(2)}×`;
    console.log(`${String(n).padStart(10)}  ${r.label.padEnd(30)} ${fmt(r.wall)}   ${fmt(r.own)}   ${fmt(r.daemon)}      ${wr.padStart(8)}    ${dr.padStart(8)}`);
  }
}
console.log('\nover the 0.5 s CPU-sampling window (issue #27, target ≤ +0.25 s at 200 containers):');
for (const { n, local, before } of rows) console.log(`${String(n).padStart(10)}  cgroup files +${(local.wall - 0.5).toFixed(2)} s${before ? `, BENCH_BEFORE build +${(before.wall - 0.5).toFixed(2)} s` : ''}`);
console.log('\ntargets (local engine): wall < 1 s at 200 containers, daemon CPU ≤ 0.1× the reference;');
console.log('         API path: wall < 2 s, daemon CPU ≤ 0.5× the reference.');
console.log('API path: only declared services are read (twice, one daemon sampling cycle apart: real CPU %); every other');
console.log('container is listed (state, health) but not read — "CPU and memory not measured", with why in the JSON `missing`.');
console.log('With ≥ 2 declared services the second read needs a second daemon cycle (Docker 20.10: ~1 s each).');

// Start-up: median of 15 runs each.
const node = median(Array.from({ length: 15 }, () => timeCommand(process.execPath, ['-e', '0']).wall));
const help = median(Array.from({ length: 15 }, () => timeCommand(...opsdeckCommand(CLI, ['--help'])).wall));
console.log(`\nstart-up: node -e 0 ${(node * 1000).toFixed(0)} ms, opsdeck --help ${(help * 1000).toFixed(0)} ms → ${(help / node).toFixed(2)}× (target < 3×)`);
