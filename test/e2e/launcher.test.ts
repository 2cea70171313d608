import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAUNCHER } from '../helpers/cli.js';

// The `opsdeck` command (bin/opsdeck, package.json "bin"): a shell launcher that execs Node with
// --predictable (issue #27 point 2: V8 otherwise gives the young generation back to the kernel after
// every minor GC at an idle console's allocation rate) and a random seed (--predictable alone fixes
// V8's seed: Math.random and the string-hash seed would be the same in every run). Found through a
// symlink, as npm installs it; the same process (exec), so its exit code and signals are Node's (every
// tmux test starts its console through it: console-terminal.test.ts's SIGTERM case sees EXIT=143).

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-launcher-'));
const env = { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? dir };
const children: ReturnType<typeof spawn>[] = [];

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** `opsdeck watch` through `bin`, until the process spawned is Node itself: its pid and command line. */
async function watching(bin: string): Promise<{ pid: number; argv: string[] }> {
  const config = join(dir, 'watch.yaml');
  writeFileSync(config, `name: launcher\ninterval: 30s\nthresholds: {cpu: 100, memory: 100, disk: 100}\nstate_dir: ${join(dir, 'state')}\n`);
  const child = spawn(bin, ['watch', '--config', config], { env, stdio: 'ignore' });
  children.push(child);
  const pid = child.pid as number;
  for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    // The launcher's own process becomes Node (exec): what signals it gets, Node gets; its exit code is Node's.
    if (argv.some((a) => a.endsWith('/dist/cli.js'))) return { pid, argv };
  }
  throw new Error(`bin/opsdeck did not exec Node within 10 s (pid ${pid})`);
}

describe('the opsdeck command (bin/opsdeck)', () => {
  it('found through a symlink, as npm installs it: runs dist/cli.js and passes its exit code and message through', () => {
    const link = join(dir, 'opsdeck');
    symlinkSync(LAUNCHER, link);
    const version = spawnSync(link, ['--version'], { env, encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(dirname(LAUNCHER), '../package.json'), 'utf8')) as { version: string }).version);
    const bad = spawnSync(link, ['check', '--bogus'], { env, encoding: 'utf8' });
    expect(bad.status).toBe(64);
    expect(bad.stderr.trim()).toBe("opsdeck: unknown option '--bogus'");
  });

  it('execs Node with --predictable and a random seed of its own at each start', async () => {
    const a = await watching(LAUNCHER);
    const b = await watching(LAUNCHER);
    for (const { argv } of [a, b]) {
      expect(argv[0]).toMatch(/node/);
      expect(argv).toContain('--predictable');
      expect(argv.find((x) => x.startsWith('--random-seed='))).toMatch(/^--random-seed=-?[1-9]\d*$/);
    }
    // Each start draws its own seed.
    expect(a.argv.find((x) => x.startsWith('--random-seed='))).not.toBe(b.argv.find((x) => x.startsWith('--random-seed=')));
  });

  it('a watch stopped (SIGTERM) as soon as it says it is watching ends cleanly: exit 0, not death by the signal', async () => {
    // The process spawned is Node itself (exec), so the signal is Node's to handle. watch used to set
    // its handlers after its first cycle: a SIGTERM meanwhile (a service manager stopping a watch it
    // just started) killed it (seen while writing this test).
    const config = join(dir, 'early.yaml');
    writeFileSync(config, `name: early\ninterval: 30s\nthresholds: {cpu: 100, memory: 100, disk: 100}\nstate_dir: ${join(dir, 'state-early')}\n`);
    const child = spawn(LAUNCHER, ['watch', '--config', config], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(child);
    const exited = new Promise<[number | null, string | null]>((r) => child.on('exit', (code, signal) => r([code, signal])));
    let out = '';
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('watching ')) resolve();
      }),
    );
    process.kill(child.pid as number, 'SIGTERM');
    expect(await exited).toEqual([0, null]);
  });
});
