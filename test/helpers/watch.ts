import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './cli.js';

/** One line of `opsdeck watch --json`. */
export interface WatchEvent {
  at: string;
  event: 'fired' | 'resolved';
  check: string;
  status: string;
  message: string;
}

/** Runs `opsdeck watch --json` as a real child process and collects its alert events. */
export class Watcher {
  readonly events: WatchEvent[] = [];
  /** Every stdout line (a refused reload is a JSON `{"error"}` line, not an event). */
  readonly lines: string[] = [];
  private readonly child: ChildProcess;
  private stderr = '';

  /** `bin`: another copy of the built CLI (a test file's private copy, see restore-fixture's runCli). */
  constructor(config: string, env: NodeJS.ProcessEnv = {}, bin: string = CLI) {
    this.child = spawn(process.execPath, [bin, 'watch', '--json', '--config', config], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    this.child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.lines.push(line);
        try {
          const e = JSON.parse(line) as WatchEvent;
          if (e.event) this.events.push(e);
        } catch {
          // not an event line
        }
      }
    });
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  /** Waits until an event for `check` of kind `event` arrives after index `from`. */
  async waitFor(event: 'fired' | 'resolved', check: string, timeoutMs = 60_000, from = 0): Promise<WatchEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.slice(from).find((e) => e.event === event && e.check === check);
      if (hit) return hit;
      if (Date.now() > deadline) {
        throw new Error(`no "${event}" for ${check} within ${timeoutMs} ms; events: ${JSON.stringify(this.events)}; stderr: ${this.stderr}`);
      }
      if (this.child.exitCode !== null) throw new Error(`opsdeck watch exited with ${this.child.exitCode}: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The watch process's pid. */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Sends a signal (SIGKILL: a crash) and waits for the exit. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill(signal);
    await done;
  }

  /** Whether the watch process is still running. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Its stderr so far (for failure messages). */
  get errors(): string {
    return this.stderr;
  }

  /** Stops the watcher (SIGTERM) and waits for its exit. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const done = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)));
    this.child.kill('SIGTERM');
    return done;
  }
}
