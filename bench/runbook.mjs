// npm run bench:runbook — opsdeck's own overhead per runbook step (issue #16): a 50-step runbook of
// no-op commands (/bin/true) run by `opsdeck runbook run` unattended (--yes: journal writes,
// preview, audit) and driven over the console's protocol (every step asked and answered y: the
// console's round trip), next to the same 50 commands in a shell script, in the same run. The
// per-step figure is (50-step run − 1-step run) / 49 − the shell's time per command, so process
// start-up and the configuration load are not counted. Target: < 20 ms per step. Absolute times
// wander on a shared 2-core machine: each figure is the median of REPEAT runs.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const CLI = resolve('dist/cli.js');
const STEPS = 50;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const TARGET_MS = 20;
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bench-runbook-'));
const rb = join(dir, 'rb');
mkdirSync(rb, { mode: 0o700 });
chmodSync(rb, 0o700);
const config = join(dir, 'opsdeck.yaml');
writeFileSync(config, 'name: bench\nstate_dir: state\nrunbooks:\n  dir: rb\n');

function runbook(name, n) {
  const steps = Array.from({ length: n }, (_, i) => `  - id: s${i}\n    title: no-op ${i}\n    why: measures the engine.\n    exec: ["/bin/true"]\n    confirm: true\n`).join('');
  const file = join(rb, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ntitle: ${name}\ntarget: none\nsteps:\n${steps}`, { mode: 0o600 });
  chmodSync(file, 0o600);
}
runbook('one', 1);
runbook('fifty', STEPS);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function timeYes(name) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, '--config', config, 'runbook', 'run', name, '--yes'], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`runbook run ${name} failed: ${r.stderr}`);
  return performance.now() - t0;
}

/** The console's round trip: the child asks each step over the protocol, this process answers y. */
function timeProtocol(name) {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, '--config', config, 'runbook', 'run', name, '--protocol'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{"ask"')) child.stdin.write('y\n');
    });
    child.on('close', (code) => (code === 0 ? res(performance.now() - t0) : rej(new Error(`protocol run failed (${code}): ${err}`))));
  });
}

function timeShell() {
  const script = join(dir, 'fifty.sh');
  writeFileSync(script, `#!/bin/sh\nset -e\n${'/bin/true\n'.repeat(STEPS)}`);
  chmodSync(script, 0o755);
  const t0 = performance.now();
  spawnSync(script, [], { stdio: 'ignore' });
  const fifty = performance.now() - t0;
  const t1 = performance.now();
  spawnSync('/bin/sh', ['-c', '/bin/true'], { stdio: 'ignore' });
  return { fifty, perCommand: (fifty - (performance.now() - t1)) / (STEPS - 1) };
}

/** The same command started by Node (execFile, as the exec action does): the spawn cost opsdeck cannot avoid. */
async function timeNodeSpawn() {
  const { execFile } = await import('node:child_process');
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) await new Promise((r) => execFile('/bin/true', [], { maxBuffer: 1 << 20 }, r));
  return (performance.now() - t0) / STEPS;
}

const yes1 = [], yes50 = [], p1 = [], p50 = [], shell = [], perCmd = [], nodeCmd = [];
for (let i = 0; i < REPEAT; i++) {
  nodeCmd.push(await timeNodeSpawn());
  const s = timeShell();
  shell.push(s.fifty);
  perCmd.push(s.perCommand);
  yes1.push(timeYes('one'));
  yes50.push(timeYes('fifty'));
  p1.push(await timeProtocol('one'));
  p50.push(await timeProtocol('fifty'));
}
const cmd = Math.max(0, median(perCmd));
const perStep = (a, b) => (median(b) - median(a)) / (STEPS - 1) - cmd;
const fmt = (ms) => `${ms.toFixed(1)} ms`;
console.log(`runbook of ${STEPS} no-op steps, median of ${REPEAT} runs (same machine, same run):`);
console.log(`  shell script, ${STEPS} × /bin/true          ${fmt(median(shell))}  (${fmt(cmd)} per command)`);
console.log(`  opsdeck runbook run --yes, 1 step        ${fmt(median(yes1))}`);
console.log(`  opsdeck runbook run --yes, ${STEPS} steps      ${fmt(median(yes50))}`);
console.log(`  over the console protocol, 1 step        ${fmt(median(p1))}`);
console.log(`  over the console protocol, ${STEPS} steps      ${fmt(median(p50))}`);
console.log(`  Node's execFile of /bin/true              ${fmt(median(nodeCmd))} per command (what the exec action pays to start a program)`);
const yes = perStep(yes1, yes50);
const proto = perStep(p1, p50);
const spawnExtra = Math.max(0, median(nodeCmd) - cmd);
console.log(`opsdeck's overhead per step over the shell: unattended ${fmt(yes)}, asked and answered over the protocol ${fmt(proto)} (target < ${TARGET_MS} ms): ${Math.max(yes, proto) < TARGET_MS ? 'MET' : 'NOT MET'}`);
console.log(`  of which starting a program from Node rather than from sh: ${fmt(spawnExtra)}; the engine's own (journal, preview, round trip): unattended ${fmt(yes - spawnExtra)}, protocol ${fmt(proto - spawnExtra)}`);
rmSync(dir, { recursive: true, force: true });
