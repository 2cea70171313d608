import { render } from 'ink';
import { useSyncExternalStore, type ComponentProps } from 'react';
import { App } from './App.js';
import { ColorContext } from './theme.js';

/** Props that change while the console runs (a configuration reload): read through a tiny external store. */
export interface LiveProps {
  get: () => Pick<ComponentProps<typeof App>, 'config' | 'keys' | 'notice' | 'runbooks'>;
  subscribe: (onChange: () => void) => () => void;
}

function Live(p: { props: ComponentProps<typeof App>; live: LiveProps }) {
  const current = useSyncExternalStore(p.live.subscribe, p.live.get);
  return <App {...p.props} {...current} />;
}

/** Why the console ended: the operator quit (q, ctrl-c), or a signal (SSH hang-up, kill). */
export type ConsoleEnd = { by: 'operator' } | { by: 'signal'; signal: 'SIGTERM' | 'SIGHUP' };

/**
 * Renders the console until the operator quits or a signal ends it.
 * - maxFps 10: frame writes are throttled, so a burst of store updates is one redraw (tmux flicker).
 * - incrementalRendering stays off: under Ink 6.8 it left a stale copy of the first lines above
 *   a frame that grew (the whole frame one line too low, the old header still on top), seen
 *   in tmux at 120×40. The frame is kept shorter than the terminal instead, so Ink erases and
 *   rewrites only its own lines, never the whole screen (FACTS §5).
 * - SIGTERM / SIGHUP (an SSH link dropping) and SIGINT unmount Ink like `q`, so raw mode and the cursor
 *   are restored and the caller leaves the alternate screen; the default action would kill the
 *   process without running any of that.
 */
export async function runConsole(props: ComponentProps<typeof App>, color: boolean, live?: LiveProps): Promise<ConsoleEnd> {
  let end: ConsoleEnd = { by: 'operator' };
  terminalMayVanish();
  const instance = render(
    <ColorContext.Provider value={color}>{live ? <Live props={props} live={live} /> : <App {...props} />}</ColorContext.Provider>,
    { exitOnCtrlC: true, patchConsole: false, maxFps: 10 },
  );
  const onSignal = (signal: 'SIGTERM' | 'SIGHUP' | 'SIGINT') => () => {
    // SIGINT only arrives when stdin is not a terminal (no raw mode): then ctrl-c is the operator's quit.
    if (signal !== 'SIGINT') end = { by: 'signal', signal };
    instance.unmount();
  };
  const handlers = { SIGTERM: onSignal('SIGTERM'), SIGHUP: onSignal('SIGHUP'), SIGINT: onSignal('SIGINT') };
  for (const [sig, h] of Object.entries(handlers)) process.once(sig, h);
  try {
    await instance.waitUntilExit();
  } finally {
    for (const [sig, h] of Object.entries(handlers)) process.removeListener(sig, h);
    instance.cleanup();
  }
  return end;
}

let guarded = false;

/**
 * A terminal that went away (tmux kill-session, an SSH link dropped: SIGHUP) makes every later write
 * fail with EIO or EPIPE — Ink's unmount showing the cursor again was the first, an unhandled 'error'
 * event that crashed the console before it paused a wizard's run and closed the state database.
 * Those two are dropped (there is nobody to show anything to); any other write error still throws.
 */
export function terminalMayVanish(): void {
  if (guarded) return;
  guarded = true;
  const gone = (e: NodeJS.ErrnoException): void => {
    if (e.code !== 'EIO' && e.code !== 'EPIPE') throw e;
  };
  process.stdout.on('error', gone);
  process.stderr.on('error', gone);
}

