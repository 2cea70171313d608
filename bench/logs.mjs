// npm run bench:logs — the daily log review (issue #23) over a log file of 1 million lines (BENCH_LINES
// to change; about 10 % ERROR and 10 % WARN lines of a dozen patterns with varying numbers, ids, hex
// and timestamps), through the built CLI (`opsdeck logs review --json`: start-up, reading, counting,
// grouping, recording), next to `grep -c` over the same file in the same run. Target: ≥ 500k lines/s
// grouped. Absolute times wander on a shared 2-core machine: the grep figure is the reference.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve('dist/cli.js');
const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bench-logs-'));
const file = join(dir, 'app.log');

const t0 = Date.now() - 3_600_000;
const parts = [];
for (let i = 0; i < LINES; i++) {
  const ts = new Date(t0 + i).toISOString();
  const k = i % 20;
  let line;
  if (k === 0) line = `${ts} ERROR order ${i} failed for account acct-${(i * 7919) % 100000}x`;
  else if (k === 1) line = `${ts} ERROR upstream 10.0.${i % 255}.${(i >> 8) % 255}:8080 timed out after ${i % 5000} ms`;
  else if (k === 2) line = `${ts} WARN slow query took ${(i % 3000) / 10} ms (req ${(i * 2654435761 % 2 ** 32).toString(16).padStart(8, '0')})`;
  else if (k === 3) line = `${ts} WARN retry ${i % 5} of 5 for job 123e4567-e89b-12d3-a456-${String(i).padStart(12, '0')}`;
  else line = `${ts} INFO GET /api/v1/orders/${i} 200 ${i % 500}ms`;
  parts.push(line);
}
writeFileSync(file, `${parts.join('\n')}\n`);
writeFileSync(join(dir, 'opsdeck.yaml'), `state_dir: ${join(dir, 'state')}\nlogs:\n  - {name: app, path: app.log}\n`);
const env = { ...process.env, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir };

function time(cmd, args, ok = [0]) {
  const start = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const s = (performance.now() - start) / 1000;
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { s, stdout: r.stdout.toString() };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const grep = [];
const review = [];
let result;
for (let i = 0; i < RUNS; i++) {
  grep.push(time('grep', ['-c', '-E', 'ERROR|WARN', file], [0, 1]).s);
  const r = time(process.execPath, [CLI, '--config', join(dir, 'opsdeck.yaml'), 'logs', 'review', '--json']);
  review.push(r.s);
  result = JSON.parse(r.stdout).sources[0];
}
const mb = statSync(file).size / (1 << 20);
const rate = LINES / median(review);
console.log(`log file: ${LINES} lines, ${mb.toFixed(0)} MB; ${result.errors} ERROR, ${result.warnings} WARN in ${result.groupCount} patterns`);
console.log(`grep -c -E 'ERROR|WARN'          median ${median(grep).toFixed(2)} s  (${Math.round(LINES / median(grep) / 1000)}k lines/s)`);
console.log(`opsdeck logs review --json       median ${median(review).toFixed(2)} s  (${Math.round(rate / 1000)}k lines/s, ${(median(review) / median(grep)).toFixed(1)}× grep)`);
console.log(`target ≥ 500k lines/s grouped: ${rate >= 500_000 ? 'met' : 'NOT met'}`);
rmSync(dir, { recursive: true, force: true });
