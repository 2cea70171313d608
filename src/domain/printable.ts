/**
 * Terminal safety for values opsdeck prints (issue #12 point 8): a configuration value, a container
 * name or a path holding an escape sequence must not act on the operator's terminal (OSC 0 retitled
 * the tmux pane, OSC 52 wrote the clipboard) nor split a table row (a newline).
 *
 * Control characters are shown, not obeyed: `\n`, `\r`, `\t`, and `\xHH` for the rest of C0, DEL
 * and C1 (U+0080–U+009F: 8-bit CSI, OSC, … which some terminals obey too). A backslash is left as it
 * is: the escapes are for a person to read, not for a program to undo.
 */

// C0, DEL, C1; and the same without newline.
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;
const CONTROL_BUT_NEWLINE = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/g;
const HAS_CONTROL = /[\x00-\x1f\x7f-\x9f]/;
// SGR: ESC [ parameters m (colours, bold): what opsdeck itself writes, and what log lines keep.
const SGR_AT = /(?:\x1b\[|\x9b)[\d;:]*m/y;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  return NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/**
 * A value as one printable line: every control character escaped (newlines too, so a value never
 * splits a row of a table). `keepNewlines` keeps `\n` for a text of several lines; `keepSgr` keeps
 * colour codes (for a text whose values were escaped already, coloured by opsdeck itself).
 */
export function printable(text: string, opts: { keepNewlines?: boolean; keepSgr?: boolean } = {}): string {
  if (!HAS_CONTROL.test(text)) return text;
  return text.replace(opts.keepNewlines ? CONTROL_BUT_NEWLINE : CONTROL, (c, at: number) => {
    if (opts.keepSgr && (c === '\x1b' || c === '\x9b')) {
      SGR_AT.lastIndex = at;
      if (SGR_AT.test(text)) return c;
    }
    return escapeChar(c);
  });
}

// Escape sequences a terminal acts on: CSI (7-bit and 8-bit), control strings (OSC, DCS, SOS, PM,
// APC: ESC ] P X ^ _ or their C1 forms) up to BEL or ST, and two-character ESC sequences.
const SEQUENCE = /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)|\x1b[\x20-\x2f]*[\x30-\x7e]/g;
const SGR = /^(?:\x1b\[|\x9b)[\d;:]*m$/;

/**
 * A text of the console's frame (Ink): SGR sequences (colours) stay, every other escape sequence is
 * removed whole (as Ink removes cursor movements; OSC too, which Ink keeps for hyperlinks: that let
 * a stack name retitle the pane), and the control characters left over (an unterminated sequence's
 * ESC, a bell, a tab, a newline) are shown escaped. A newline too: no component of the console puts
 * one inside a text (each line is its own), so one there comes from a value, and would split a row.
 */
export function terminalSafe(text: string): string {
  if (!HAS_CONTROL.test(text)) return text;
  return printable(text.replace(SEQUENCE, (s) => (SGR.test(s) ? s : '')), { keepSgr: true });
}
