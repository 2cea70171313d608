import type { Key } from 'ink';

/**
 * Ink hands over a burst of typed characters (a paste, tmux send-keys, fast typing over a slow SSH
 * link) as one input string. Key tables match single keys, so a handler is called once per
 * character; a carriage return inside the burst is an Enter, a tab a Tab, DEL a Backspace.
 */
export function perKey(handler: (input: string, key: Key) => void): (input: string, key: Key) => void {
  return (input, key) => {
    if (input.length > 1 && !key.ctrl && !key.meta && !input.includes('\x1b')) {
      for (const ch of input) {
        // Control characters inside a burst keep their meaning (tmux send-keys "Tab" then "s"
        // arrives as "\ts"); Ink only names them when they come alone.
        const enter = ch === '\r' || ch === '\n';
        const tab = ch === '\t';
        const backspace = ch === '\x7f' || ch === '\b';
        handler(enter || tab || backspace ? '' : ch, { ...key, return: enter, tab, backspace, delete: false });
      }
      return;
    }
    handler(input, key);
  };
}
