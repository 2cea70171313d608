import { createContext, useContext, type ReactNode } from 'react';
import { Text } from 'ink';
import type { Color } from './format/cells.js';

/** Whether colours are on (off with NO_COLOR, --no-color or FORCE_COLOR=0: chalk does not read NO_COLOR). */
export const ColorContext = createContext(true);

/** Text in a colour when colours are on; `bold`/`dim`/`inverse` still apply without colour. */
export function C(props: { color?: Color | undefined; bold?: boolean; dim?: boolean; inverse?: boolean; children: ReactNode; wrap?: 'truncate' | 'wrap' }) {
  const on = useContext(ColorContext);
  return (
    <Text
      {...(on && props.color ? { color: props.color } : {})}
      {...(props.bold ? { bold: true } : {})}
      {...(props.dim ? { dimColor: true } : {})}
      {...(props.inverse ? { inverse: true } : {})}
      wrap={props.wrap ?? 'truncate'}
    >
      {props.children}
    </Text>
  );
}

/**
 * A pane's title. The focused pane's is unmistakable with or without colour (issue #11): a marker,
 * bold and inverse; the others plain bold.
 */
export function PaneTitle(props: { focused: boolean; color?: Color | undefined; children: string }) {
  return props.focused ? (
    <C bold inverse color="cyan">{`▶ ${props.children} `}</C>
  ) : (
    <C bold color={props.color}>{`  ${props.children}`}</C>
  );
}
