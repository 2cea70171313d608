// Ink 6.8's sanitize-ansi.js as opsdeck needs it; scripts/build.mjs points Ink's import here. Ink
// runs every text of the frame through it (squash-text-nodes.js) before measuring, wrapping and
// writing it, so this is the one place where everything the console shows passes (issue #12):
// - secrets are redacted: a value from `${VAR}` reached the console's alert details, panes and
//   header through config values, probe messages and container data;
// - escape sequences other than colours are removed — Ink's own version keeps OSC (for hyperlinks),
//   which let a stack `name` holding OSC 0 retitle the tmux pane — and the control characters left
//   are shown escaped (`\x07`), as `check` shows them.
// Measuring and writing both see the sanitized text, so the layout stays right. Results are kept in
// a bounded cache (most texts repeat from frame to frame): ~0.45 ms a frame of 200 texts with five
// secrets without it, which the console's CPU budget (issue #3) would notice at 10 frames a second.
import { redactSecrets, secretsGeneration } from '../../config/secrets.js';
import { terminalSafe } from '../../domain/printable.js';
import { BoundedCache } from './bounded-cache.js';

let generation = -1;
let cache = new BoundedCache<string>(2000);

/** A text of the frame, safe to show: secrets redacted, no escape sequence but colours. */
export default function sanitizeAnsi(text: string): string {
  // A new secret (a configuration reload) makes every cached text suspect.
  if (generation !== secretsGeneration()) {
    generation = secretsGeneration();
    cache = new BoundedCache<string>(2000);
  }
  return cache.get(text, () => terminalSafe(redactSecrets(text)));
}
