import type { Key } from 'ink';

/**
 * Ink hands over a burst of typed characters (a paste, tmux send-keys, fast typing over a slow SSH
 * link) as one input string. Key tables match single keys, so a handler is called once per
 * character; a carriage return inside the burst is an Enter.
 */
export function perKey(handler: (input: string, key: Key) => void): (input: string, key: Key) => void {
  return (input, key) => {
    if (input.length > 1 && !key.ctrl && !key.meta && !input.includes('\x1b')) {
      for (const ch of input) {
        const enter = ch === '\r' || ch === '\n';
        handler(enter ? '' : ch, { ...key, return: enter });
      }
      return;
    }
    handler(input, key);
  };
}
