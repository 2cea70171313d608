// One number of a kernel stat file (cgroup `memory.stat`, `cpu.stat`): from its text, or from the
// bytes just read into a buffer without making them a string (issue #27 point 2; see OpenFiles.field).

/** The regular expressions of statField's keys, made once (issue #27: not per container per refresh). */
const STAT_KEYS = new Map<string, RegExp>();

/** The number after `key ` at the start of a line of `text`; 0 when absent. */
export function statField(text: string, key: string): number {
  let re = STAT_KEYS.get(key);
  if (!re) STAT_KEYS.set(key, (re = new RegExp(`^${key} (\\d+)`, 'm')));
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
}

/** statField over the first `n` bytes of `buf` (ASCII digits after `key ` at a line's start; 0 when absent). */
export function bufferField(buf: Buffer, n: number, key: string): number {
  let at = 0;
  for (;;) {
    const i = buf.indexOf(key, at, 'latin1');
    if (i < 0 || i + key.length >= n) return 0;
    at = i + 1;
    if ((i === 0 || buf[i - 1] === 0x0a) && buf[i + key.length] === 0x20) {
      let v = 0;
      let j = i + key.length + 1;
      const start = j;
      for (; j < n; j++) {
        const c = buf[j]!;
        if (c < 0x30 || c > 0x39) break;
        v = v * 10 + (c - 0x30);
      }
      // As the regular expression does: a key without digits after it is passed over.
      if (j > start) return v;
    }
  }
}
