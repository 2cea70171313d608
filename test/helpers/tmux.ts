import { execFileSync } from 'node:child_process';
import { requireBinary } from './require.js';
import { CLI } from './cli.js';

/** A real terminal: opsdeck running in a detached tmux session of a given size. */
export class TmuxSession {
  private constructor(readonly name: string) {}

  /** Starts `node dist/cli.js ARGS` in a new tmux session; the pane stays open after exit to read the code. */
  static start(name: string, args: string[], opts: { columns: number; rows: number; env?: Record<string, string> }): TmuxSession {
    requireBinary('tmux');
    const env = Object.entries({ TERM: 'xterm-256color', ...opts.env }).map(([k, v]) => `${k}='${v}'`).join(' ');
    const cmd = `env ${env} ${process.execPath} ${CLI} ${args.map((a) => `'${a}'`).join(' ')}; echo "EXIT=$?"; sleep 600`;
    execFileSync('tmux', ['new-session', '-d', '-s', name, '-x', String(opts.columns), '-y', String(opts.rows), cmd]);
    return new TmuxSession(name);
  }

  /** The screen as text. */
  capture(): string {
    return execFileSync('tmux', ['capture-pane', '-p', '-t', this.name], { encoding: 'utf8' });
  }

  /** Sends keys (tmux key names, e.g. 'Tab', 'Enter', 'Escape', or literal text with literal=true). */
  send(keys: string, literal = true): void {
    execFileSync('tmux', ['send-keys', '-t', this.name, ...(literal ? ['-l'] : []), keys]);
  }

  /** Polls the screen until it matches. */
  async waitFor(pred: RegExp | ((screen: string) => boolean), timeoutMs = 30_000): Promise<string> {
    const test = typeof pred === 'function' ? pred : (s: string) => pred.test(s);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.capture();
      if (test(s)) return s;
      if (Date.now() > deadline) throw new Error(`screen never matched ${String(pred)}; screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(): void {
    try {
      execFileSync('tmux', ['kill-session', '-t', this.name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
