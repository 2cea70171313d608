import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliPath, cloneScenario, makeTemplate, removePrivateCli, type Scenario } from '../helpers/restore-fixture.js';

// Operator trial: a CLI restore interrupted by Ctrl+C left the writers stopped and only said
// "Aborted with Ctrl+C (state database in …)". Now it stops after the step under way, journaled,
// and says the run is unfinished, which writers are still stopped, and the exact resume / rollback
// commands. The writer is a command writer whose stop_command takes a while (a real shell), so the
// SIGINT lands inside the stop-writers step.

let template: Scenario;
const marks = mkdtempSync(join(tmpdir(), 'opsdeck-restore-int-'));
const stopping = join(marks, 'stopping');

beforeAll(async () => {
  template = await makeTemplate();
}, 60_000);

afterAll(removePrivateCli);

describe('restore interrupted with Ctrl+C (SIGINT)', () => {
  it('stops between steps and names the stopped writer and the resume / rollback commands; the rollback command works', { timeout: 60_000 }, async () => {
    const s = cloneScenario(template, `services:\n  - name: feeder\n    stop_command: "touch ${stopping}; sleep 2"\n    start_command: "rm -f ${stopping}"\n`, ['feeder']);
    const bin = await cliPath();
    const child = spawn(process.execPath, [bin, '--config', s.config, 'restore', '--db', 'trading', '--yes', '--accept-loss'], {
      cwd: s.dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...s.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 30_000;
    while (!existsSync(stopping)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the stop_command never ran: ${stderr}${stdout}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(1);
    expect(stderr).toContain('Ctrl+C: the restore stops after the step under way');
    expect(stderr).not.toContain('Aborted with Ctrl+C');
    expect(stderr).toMatch(/restore trading-\S+ of trading is unfinished \(paused: interrupted with Ctrl\+C before "safety copy of the current database"\)/);
    expect(stderr).toContain('writers still stopped: feeder (its stop_command)');
    expect(stderr).toContain(`resume: opsdeck --config ${s.config} restore --db trading --resume; or roll back: opsdeck --config ${s.config} restore --db trading --rollback`);
    expect(stderr.trim().split('\n').at(-1)).toMatch(/unfinished/);
    // The writer is still stopped (its start_command removes the marker), as the message says.
    expect(existsSync(stopping)).toBe(true);

    // The rollback command it names starts the writer again and closes the run.
    const rb = await cli(s, ['restore', '--db', 'trading', '--rollback', '--yes']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(existsSync(stopping)).toBe(false);
  });

  it('an unknown --db is reported before "asks before each step" (no --yes, no terminal)', async () => {
    const r = await cli(template, ['restore', '--db', 'nosuch']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--db nosuch: no configured database of that name and no such file \(expected one of: trading/);
    expect(r.stderr).not.toContain('asks before each step');
  });
});
