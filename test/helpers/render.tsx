import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';

/** Strips ANSI escapes from a frame. */
export const plain = (s: string | undefined): string => (s ?? '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/**
 * Renders with ink-testing-library (whose fake stdout is pinned at 100 columns; the App takes its
 * size as a prop) and returns helpers that wait by polling frames, never by sleeping a fixed time.
 */
export function renderApp(el: ReactElement) {
  const r = render(el);
  const frame = () => plain(r.lastFrame());
  const waitFor = async (pred: (f: string) => boolean, timeoutMs = 5000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = frame();
      if (pred(f)) return f;
      if (Date.now() > deadline) throw new Error(`frame never matched; last frame:\n${f}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  };
  const press = async (keys: string) => {
    r.stdin.write(keys);
    await new Promise((res) => setTimeout(res, 30));
  };
  return { ...r, frame, waitFor, press };
}
