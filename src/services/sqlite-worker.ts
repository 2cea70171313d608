import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Failure } from '../domain/errors.js';

// One long read-only PRAGMA (`quick_check`, `integrity_check`) on a thread of its own (issue #22):
// better-sqlite3 is synchronous, so `db check` runs the live file's quick_check beside the snapshot
// copy, and the snapshot's integrity_check beside its foreign_key_check and rules — on two cores
// the live file is read for the longer of the two instead of their sum (a shorter read transaction,
// a WAL held back for less time), and the check ends sooner.

// The worker is plain script text (the CLI is one bundle; a worker file would be a second entry):
// it imports the same better-sqlite3 the CLI resolved.
const CODE = `(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  try {
    const { default: Database } = await import(workerData.mod);
    const db = new Database(workerData.file, { readonly: true, fileMustExist: true, timeout: 10000 });
    try { parentPort.postMessage({ ok: true, rows: db.pragma(workerData.pragma).map((r) => String(r[workerData.pragma])) }); }
    finally { db.close(); }
  } catch (e) { parentPort.postMessage({ ok: false, message: String((e && e.message) || e) }); }
})();`;



/** Runs `PRAGMA <pragma>` on `file` (read-only) in a worker thread; its result lines. */
export function pragmaInWorker(file: string, pragma: 'quick_check' | 'integrity_check'): Promise<string[]> {
  const mod = pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href;
  return new Promise((resolve, reject) => {
    const w = new Worker(CODE, { eval: true, workerData: { mod, file, pragma } });
    let settled = false;
    w.once('message', (m: { ok: true; rows: string[] } | { ok: false; message: string }) => {
      settled = true;
      if (m.ok) resolve(m.rows);
      else reject(new Failure('integrity', `${pragma} of ${file}: ${m.message}`));
      void w.terminate();
    });
    w.once('error', (e) => {
      if (!settled) reject(new Failure('integrity', `${pragma} of ${file}: ${e.message}`));
    });
    w.once('exit', (code) => {
      if (!settled) reject(new Failure('integrity', `${pragma} of ${file}: its thread ended (exit ${code}) without an answer`));
    });
  });
}

// Issue #27: the post-swap `quick_check` of a whole-file restore, in a process of its own with the
// file memory-mapped. Mapped reads skip a copy per page (927 MiB: 0.83 s against 1.23 s warm, the
// lead's measure), but an I/O error on a mapped page is a SIGBUS that kills the process that reads
// it: here that is the child, and the restore gets a one-line failure (the run stays resumable and
// rolls back) instead of dying. It runs beside the row counts and foreign_key_check of the caller.
// Started ahead (`startQuickCheck`, issue #27's third part): the child boots and loads SQLite while
// the copy is still being written, then waits for the file's path on its stdin — only the check's
// own reads remain after the last write. Its stdin ending without a path ends it.
const CHILD = `const [mod] = process.argv.slice(1);
const Database = require(mod);
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  input += d;
  const nl = input.indexOf('\\n');
  if (nl < 0) return;
  process.stdin.destroy();
  const file = input.slice(0, nl);
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 10000 });
    try {
      db.pragma('mmap_size = ' + (require('node:fs').statSync(file).size + (1 << 20)));
      process.stdout.write(JSON.stringify({ rows: db.pragma('quick_check').map((r) => String(r.quick_check)) }));
    } finally { db.close(); }
  } catch (e) {
    // Pages too damaged for quick_check to finish are its finding, not a failure to run it.
    const damaged = e && (e.code === 'SQLITE_CORRUPT' || e.code === 'SQLITE_NOTADB');
    process.stdout.write(JSON.stringify(damaged ? { rows: [String(e.message)] } : { error: String((e && e.message) || e) }));
  }
});`;

/** A `quick_check` child started ahead of its file (`startQuickCheck`). */
export interface QuickCheck {
  /** Runs the check on `file` (once); its result lines (see `quickCheckInChild`). */
  run(file: string): Promise<string[]>;
  /** Ends the child when it was never given a file, or kills it mid-check (a failed restore). */
  cancel(): void;
}

/** Starts a `quick_check` child that waits for its file (`QuickCheck.run`). */
export function startQuickCheck(): QuickCheck {
  const mod = createRequire(import.meta.url).resolve('better-sqlite3');
  const child = spawn(process.execPath, ['-e', CHILD, mod], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // A child that could not start (or was cancelled) is said when run() is called, never thrown here.
  let spawnError: Error | undefined;
  child.on('error', (e) => (spawnError ??= e));
  child.stdin.on('error', () => undefined);
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('close', (code, signal) => res({ code, signal })));
  let used = false;
  return {
    async run(file) {
      if (used) throw new Error('startQuickCheck: one file per child');
      used = true;
      child.stdin.end(`${file}\n`);
      const { code, signal } = await ended;
      if (spawnError || signal || code !== 0) {
        const why = signal ? `its process was killed by ${signal}${signal === 'SIGBUS' ? ' (an I/O error reading the mapped file)' : ''}` : `its process failed (${stderr.trim().split('\n').pop() || spawnError?.message || `exit ${code}`})`;
        throw new Failure('integrity', `quick_check of ${file}: ${why}`);
      }
      let answer: { rows?: string[]; error?: string } = {};
      try {
        answer = JSON.parse(stdout) as typeof answer;
      } catch {
        // no answer: said below
      }
      if (answer.rows) return answer.rows;
      throw new Failure('integrity', `quick_check of ${file}: ${answer.error ?? 'no answer from its process'}`);
    },
    cancel() {
      if (!used) child.stdin.end();
      else if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * `PRAGMA quick_check` of `file` (read-only, memory-mapped) in a child process; its result lines (a
 * file too damaged for the check to finish: SQLite's error, as the one line).
 */
export function quickCheckInChild(file: string): Promise<string[]> {
  return startQuickCheck().run(file);
}
