import { EventEmitter } from 'node:events';
import { reduceAnsiCodesIncremental, tokenize, type AnsiCode } from '@alcalzone/ansi-tokenize';
import { render } from 'ink';
import type { ReactElement } from 'react';

/** Strips ANSI escapes from a frame. */
export const plain = (s: string | undefined): string => (s ?? '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/** A frame as a terminal shows it: per row, each cell's character and its active styles. */
export function cells(frame: string): string[][] {
  return frame.split('\n').map((row) => {
    const out: string[] = [];
    let codes: AnsiCode[] = [];
    for (const token of tokenize(row)) {
      if (token.type === 'ansi') codes = reduceAnsiCodesIncremental(codes, [token]);
      else out.push(`${token.value}|${codes.map((c) => c.code).sort().join('')}`);
    }
    // Blank unstyled cells at the end of a row look the same as none.
    while (out.length && out.at(-1) === ' |') out.pop();
    return out;
  });
}

/**
 * A fake terminal for Ink: a stdout of a given size that records frames and can be resized, and a
 * stdin that delivers key sequences. ink-testing-library pins its stdout at 100 columns with no
 * rows (FACTS §5), so this helper renders through Ink itself with the same debug options.
 */
class FakeStdout extends EventEmitter {
  readonly frames: string[] = [];
  isTTY = true;
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (frame: string): boolean => {
    this.frames.push(frame);
    return true;
  };
}

class FakeStdin extends EventEmitter {
  private data: string | null = null;
  constructor(readonly isTTY: boolean) {
    super();
  }
  write(data: string): void {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

/**
 * Renders at `columns`×`rows` (default 100×30) and returns helpers that wait by polling frames,
 * never by sleeping a fixed time. `resize` changes the size and emits 'resize' as a terminal does.
 */
export function renderApp(el: ReactElement, opts: { columns?: number; rows?: number; stdinIsTTY?: boolean } = {}) {
  const stdout = new FakeStdout(opts.columns ?? 100, opts.rows ?? 30);
  const stdin = new FakeStdin(opts.stdinIsTTY ?? true);
  const instance = render(el, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: new FakeStdout(100, 30) as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const frame = () => plain(stdout.frames.at(-1));
  const waitFor = async (pred: (f: string) => boolean, timeoutMs = 5000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = frame();
      if (pred(f)) return f;
      if (Date.now() > deadline) throw new Error(`frame never matched; last frame:\n${f}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  };
  // Input listeners attach in effects and state settles after a render: give each write a tick.
  const press = async (keys: string) => {
    stdin.write(keys);
    await new Promise((res) => setTimeout(res, 30));
  };
  const resize = (columns: number, rows: number) => {
    stdout.columns = columns;
    stdout.rows = rows;
    stdout.emit('resize');
  };
  return { frames: stdout.frames, stdin, frame, waitFor, press, resize, unmount: () => instance.unmount(), instance };
}
