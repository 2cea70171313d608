import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fillCopyArgv, type CopyValue, type OffHostCopy } from '../domain/copy-template.js';

// Off-host copies of verified backups (issue #17). `backup.copy_command` runs without a shell, its
// `{{backup.…}}` values filled per element; then the copy is checked: by `copy_verify_command`,
// whose stdout must contain the backup's sha256, else by re-reading the path the copy command
// printed last (when it is an absolute path that exists here), else it stays "copied, not verified".
// A failed copy never makes the backup itself bad: the result goes into the manifest's `offHost`.

/** How much of a command's stdout and stderr is kept (the end of each). */
const TAIL_BYTES = 64 * 1024;

/** What a command did: its exit, whether it ran out of time, the tails of its output. */
export interface CommandRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  spawnError?: string;
}

const keepTail = (s: string) => (s.length > TAIL_BYTES ? s.slice(-TAIL_BYTES) : s);

/**
 * Runs an argv (no shell) in its own process group; past `timeoutMs` the whole group gets SIGTERM,
 * then SIGKILL 2 s later (a `sh -c` wrapper's children too). stdin is closed; at most the last
 * 64 KiB of stdout and stderr are kept.
 */
export function runArgv(argv: readonly string[], timeoutMs: number): Promise<CommandRun> {
  return new Promise((done) => {
    const [cmd, ...args] = argv;
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const child = spawn(cmd ?? '', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const group = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      group('SIGTERM');
      killTimer = setTimeout(() => group('SIGKILL'), 2000);
    }, timeoutMs);
    // Decoded as UTF-8 by the streams, so a character split across two chunks stays whole.
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout = keepTail(stdout + d)));
    child.stderr.on('data', (d: string) => (stderr = keepTail(stderr + d)));
    let settled = false;
    const end = (r: Omit<CommandRun, 'stdout' | 'stderr' | 'timedOut'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      // Whatever the command left running in its group goes with it.
      if (timedOut) group('SIGKILL');
      done({ ...r, timedOut, stdout, stderr });
    };
    child.on('error', (e) => end({ code: null, signal: null, spawnError: e.message }));
    child.on('close', (code, signal) => end({ code, signal }));
  });
}

/** A command's failure in one line: how it ended and its last line of stderr. */
function failureText(what: string, argv0: string, r: CommandRun, timeoutMs: number): string | undefined {
  if (r.spawnError) return `${what} ${argv0} could not start: ${r.spawnError}`;
  const last = r.stderr.trim().split('\n').at(-1)?.trim();
  const said = last ? `: ${last.slice(0, 200)}` : '';
  if (r.timedOut) return `${what} ${argv0} ran out of time after ${Math.round(timeoutMs / 1000)}s${said}`;
  if (r.code !== 0) return `${what} ${argv0} ${r.code === null ? `was killed (${r.signal ?? 'signal'})` : `exited ${r.code}`}${said}`;
  return undefined;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The backup a copy is made of: the template values, and the sha256 a copy must have. */
export type CopySubject = Readonly<Record<CopyValue, string>>;

/**
 * Copies a verified backup off-host with `command` and checks the copy (see the file's comment).
 * Never throws: every outcome is an `OffHostCopy` (`ok` false: the copy failed or differs).
 */
export async function copyOffHost(opts: { command: readonly string[]; verifyCommand?: readonly string[] | undefined; timeoutMs: number; subject: CopySubject; now?: () => Date }): Promise<OffHostCopy> {
  const at = () => (opts.now ? opts.now() : new Date()).toISOString();
  const sha = opts.subject['backup.sha256'];
  const argv = fillCopyArgv(opts.command, opts.subject);
  const copied = await runArgv(argv, opts.timeoutMs);
  const failed = failureText('copy_command', argv[0] ?? '', copied, opts.timeoutMs);
  if (failed) return { at: at(), ok: false, verified: false, message: failed };
  if (opts.verifyCommand?.length) {
    const vargv = fillCopyArgv(opts.verifyCommand, opts.subject);
    const checked = await runArgv(vargv, opts.timeoutMs);
    const vfailed = failureText('copy_verify_command', vargv[0] ?? '', checked, opts.timeoutMs);
    if (vfailed) return { at: at(), ok: false, verified: false, message: vfailed };
    if (checked.stdout.toLowerCase().includes(sha)) return { at: at(), ok: true, verified: true, message: `copied; copy_verify_command found sha256 ${sha.slice(0, 12)}…` };
    const printed = checked.stdout.trim().split('\n').at(-1)?.trim().slice(0, 120) ?? '';
    return { at: at(), ok: false, verified: false, message: `the copy differs: copy_verify_command's output has no sha256 ${sha.slice(0, 12)}… (it printed ${printed ? JSON.stringify(printed) : 'nothing'})` };
  }
  const where = copied.stdout.trim().split('\n').at(-1)?.trim() ?? '';
  let isFile = false;
  try {
    isFile = isAbsolute(where) && statSync(where).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) return { at: at(), ok: true, verified: false, message: 'copied; not verified (no copy_verify_command, and the copy command printed no local file path last)' };
  let got: string;
  try {
    got = await sha256File(where);
  } catch (e) {
    return { at: at(), ok: false, verified: false, where, message: `the copy at ${where} could not be read back: ${(e as Error).message}` };
  }
  if (got !== sha) return { at: at(), ok: false, verified: false, where, message: `the copy at ${where} differs: sha256 ${got.slice(0, 12)}…, the backup's ${sha.slice(0, 12)}…` };
  return { at: at(), ok: true, verified: true, where, message: `copied to ${where}; sha256 read back matches` };
}
