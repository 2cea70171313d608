import { render } from 'ink';
import type { ComponentProps } from 'react';
import { App } from './App.js';
import { ColorContext } from './theme.js';

/** Renders the console until the operator quits; frame rate capped, incremental redraws (less flicker in tmux). */
export async function runConsole(props: ComponentProps<typeof App>, color: boolean): Promise<void> {
  const instance = render(
    <ColorContext.Provider value={color}>
      <App {...props} />
    </ColorContext.Provider>,
    { exitOnCtrlC: true, patchConsole: false, maxFps: 10 },
  );
  await instance.waitUntilExit();
  instance.cleanup();
}
