import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runWriterCommand } from '../../src/services/writers.js';

// A service's start_command that leaves a process running (`server &`) — the operator's trial
// (issue #17): a service started from the console died when the console quit, because the
// command's children stayed in opsdeck's session. They now get a session of their own, and the
// command returns as soon as it exits even when what it started keeps stderr open.

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-writers-'));
const pidFile = join(dir, 'pid');
const sessionOf = (pid: number | 'self'): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[3]);
let started: number | undefined;

afterAll(() => {
  if (started) process.kill(started, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('runWriterCommand', () => {
  it('what a start_command leaves running is in its own session, not opsdeck’s; the command returns when it exits', async () => {
    const t0 = Date.now();
    await runWriterCommand({ service: 'api', startCommand: `sleep 30 & echo $! > ${pidFile}` }, 'start', 'api');
    expect(Date.now() - t0).toBeLessThan(10_000);
    started = Number(readFileSync(pidFile, 'utf8'));
    expect(sessionOf(started)).not.toBe(sessionOf('self'));
  });

  it('a failing command is a writer failure with its last stderr line', async () => {
    await expect(runWriterCommand({ service: 'api', stopCommand: 'echo nope >&2; exit 4' }, 'stop', 'api')).rejects.toThrow(/writer api: stop_command failed \(exit 4\): nope/);
  });
});
