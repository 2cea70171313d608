import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { requireBinary } from './require.js';
import { LAUNCHER } from './cli.js';

/** A real terminal: opsdeck running in a detached tmux session of a given size. */
export class TmuxSession {
  private constructor(readonly name: string) {}

  /**
   * Starts `opsdeck ARGS` in a new tmux session, as an operator does: through the `opsdeck` command
   * (bin/opsdeck, which execs Node with its flags on dist/cli.js). The pane stays open after exit to read
   * the code. After exit the pane also says whether the terminal settings (`stty -g`: raw mode,
   * echo) are what they were before: "TTY=restored" or "TTY=changed".
   * NO_COLOR, FORCE_COLOR and CI are cleared unless `env` sets them (the tmux server's own
   * environment must not leak into a test).
   */
  static start(name: string, args: string[], opts: { columns: number; rows: number; env?: Record<string, string>; stdin?: string; stderr?: string }): TmuxSession {
    requireBinary('tmux');
    const env = Object.entries({ TERM: 'xterm-256color', ...opts.env }).map(([k, v]) => `${k}='${v}'`).join(' ');
    const unset = ['NO_COLOR', 'FORCE_COLOR', 'CI'].filter((k) => !opts.env?.[k]).map((k) => `-u ${k}`).join(' ');
    const redirect = `${opts.stdin ? ` < ${opts.stdin}` : ''}${opts.stderr ? ` 2> ${opts.stderr}` : ''}`;
    const cmd =
      `s0=$(stty -g); env ${unset} ${env} PATH='${dirname(process.execPath)}':"$PATH" ${LAUNCHER} ${args.map((a) => `'${a}'`).join(' ')}${redirect}; echo "EXIT=$?"; ` +
      `[ "$(stty -g)" = "$s0" ] && echo TTY=restored || echo TTY=changed; sleep 600`;
    execFileSync('tmux', ['new-session', '-d', '-s', name, '-x', String(opts.columns), '-y', String(opts.rows), cmd]);
    return new TmuxSession(name);
  }

  /** Lines the terminal wrapped are captured as one (tmux's -J): for a plain program's long lines, which wrap anywhere. */
  joinWrapped = false;

  /** The screen as text. */
  capture(): string {
    const text = execFileSync('tmux', ['capture-pane', '-p', ...(this.joinWrapped ? ['-J'] : []), '-t', this.name], { encoding: 'utf8' });
    // -J keeps each line's trailing spaces (without it tmux trims them): trimmed, so both read alike.
    return this.joinWrapped ? text.replace(/ +$/gm, '') : text;
  }

  /** A tmux format of the pane, e.g. '#{alternate_on}' or '#{cursor_flag}'. */
  info(format: string): string {
    return execFileSync('tmux', ['display-message', '-p', '-t', this.name, format], { encoding: 'utf8' }).trim();
  }

  /** Resizes the terminal, as a user dragging the window (or tmux re-attaching) does. */
  resize(columns: number, rows: number): void {
    execFileSync('tmux', ['resize-window', '-t', this.name, '-x', String(columns), '-y', String(rows)]);
  }

  /** The pid of the opsdeck process (the node child of the pane's shell). */
  opsdeckPid(): number | undefined {
    const shell = Number(this.info('#{pane_pid}'));
    for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === shell && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('/dist/cli.js')) return Number(p);
      } catch {
        // gone meanwhile
      }
    }
    return undefined;
  }

  /** Sends keys (tmux key names, e.g. 'Tab', 'Enter', 'Escape', 'C-c', or literal text with literal=true). */
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
