import { describe, expect, it } from 'vitest';
import { LogDemuxer } from '../../src/services/log-demux.js';
import type { LogLine } from '../../src/services/logs.js';

// Issue #26: Docker's log stream taken apart on Buffers. Crafted streams are fed whole, cut at every
// byte boundary into two chunks, and one byte at a time: frame headers, frames and lines spanning
// chunks, a line spanning frames, stdout and stderr interleaved, TTY mode (no headers).

/** A multiplexed frame: stream type, 3 zero bytes, uint32 BE length, payload (docs/FACTS.md §1.6). */
function frame(stream: 1 | 2, payload: string | Buffer): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(p.length, 4);
  return Buffer.concat([h, p]);
}

function run(chunks: Buffer[], tty: boolean, timestamps: boolean, end = false): LogLine[] {
  const out: LogLine[] = [];
  const d = new LogDemuxer(tty, timestamps, (l) => out.push(l));
  for (const c of chunks) d.push(c);
  if (end) d.end();
  return out;
}

/** Every way of cutting `all` once, and byte by byte: each must give `expected`. */
function everyCut(all: Buffer, tty: boolean, timestamps: boolean, expected: LogLine[]): void {
  expect(run([all], tty, timestamps)).toEqual(expected);
  for (let i = 0; i <= all.length; i++) expect(run([all.subarray(0, i), all.subarray(i)], tty, timestamps), `cut at ${i}`).toEqual(expected);
  for (let i = 0; i + 3 <= all.length; i += 7) expect(run([all.subarray(0, i), all.subarray(i, i + 3), all.subarray(i + 3)], tty, timestamps), `cuts at ${i}, ${i + 3}`).toEqual(expected);
  expect(run([...all].map((b) => Buffer.from([b])), tty, timestamps)).toEqual(expected);
}

const T1 = '2026-11-23T03:33:32.146123456Z';
const T2 = '2026-11-23T03:33:33.000000001Z';

describe('LogDemuxer', () => {
  it('multiplexed: stdout and stderr lines with timestamps, whatever the chunk boundaries', () => {
    const all = Buffer.concat([
      frame(1, `${T1} out one\n`),
      frame(2, `${T1} err one\r\n`),
      // A line written in two frames (a long write), and two lines in one frame.
      frame(1, `${T2} out tw`),
      frame(2, `${T2} err two\n`),
      frame(1, `o é\n${T2} out three\n`),
      // A payload of length 10: the header's length byte is a newline.
      frame(1, 'x'.repeat(9) + '\n'),
      frame(2, ''),
    ]);
    everyCut(all, false, true, [
      { stream: 'stdout', text: 'out one', at: Date.parse(T1.slice(0, 23) + 'Z') },
      { stream: 'stderr', text: 'err one', at: Date.parse(T1.slice(0, 23) + 'Z') },
      { stream: 'stderr', text: 'err two', at: Date.parse('2026-11-23T03:33:33Z') },
      { stream: 'stdout', text: 'out two é', at: Date.parse('2026-11-23T03:33:33Z') },
      { stream: 'stdout', text: 'out three', at: Date.parse('2026-11-23T03:33:33Z') },
      { stream: 'stdout', text: 'xxxxxxxxx' },
    ]);
  });

  it('a multi-byte character cut between frames and chunks is decoded whole', () => {
    const euro = Buffer.from('€', 'utf8'); // 3 bytes
    const all = Buffer.concat([frame(1, Buffer.concat([Buffer.from('a'), euro.subarray(0, 1)])), frame(1, Buffer.concat([euro.subarray(1), Buffer.from('b\n')]))]);
    everyCut(all, false, false, [{ stream: 'stdout', text: 'a€b' }]);
  });

  it('TTY: no headers, everything stdout; CRLF cut; a timestamp in another zone goes through Date.parse', () => {
    const all = Buffer.from(`${T1} tty one\r\n${T2} tty two\n2026-11-23T04:33:32+01:00 zoned\nno-timestamp\n`);
    everyCut(all, true, true, [
      { stream: 'stdout', text: 'tty one', at: Date.parse('2026-11-23T03:33:32.146Z') },
      { stream: 'stdout', text: 'tty two', at: Date.parse('2026-11-23T03:33:33Z') },
      { stream: 'stdout', text: 'zoned', at: Date.parse('2026-11-23T03:33:32Z') },
      { stream: 'stdout', text: 'no-timestamp' },
    ]);
  });

  it('an unfinished last line waits for its newline and comes out at the end of the stream', () => {
    const all = Buffer.concat([frame(1, 'done\npart'), frame(2, 'ial err')]);
    expect(run([all], false, false)).toEqual([{ stream: 'stdout', text: 'done' }]);
    expect(run([all], false, false, true)).toEqual([
      { stream: 'stdout', text: 'done' },
      { stream: 'stdout', text: 'part' },
      { stream: 'stderr', text: 'ial err' },
    ]);
  });

  it('counts the bytes it was given', () => {
    const d = new LogDemuxer(false, false, () => undefined);
    d.push(frame(1, 'abc\n'));
    d.push(Buffer.alloc(3));
    expect(d.bytes).toBe(15);
  });
});
