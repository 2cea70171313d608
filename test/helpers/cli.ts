import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** Path of the built CLI (global setup builds it before any test runs). */
export const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

/** The `opsdeck` command as installed (package.json "bin"): Node with its start-up flags, then dist/cli.js. */
export const LAUNCHER = resolve(import.meta.dirname, '../../bin/opsdeck');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `opsdeck` (or another copy of it, `bin`) with arguments and environment; resolves
 * once it exited and its output was read to the end ('close', not 'exit': at 'exit' the last
 * lines may still sit in the pipe — seen as truncated output on a loaded machine).
 */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number; bin?: string } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? CLI, ...args], {
      cwd: opts.cwd ?? process.cwd(),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`opsdeck ${args.join(' ')} did not exit within ${opts.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
