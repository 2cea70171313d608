// The log pipeline alone (issue #26), in-process: 1 million multiplexed Docker log frames with
// timestamps (64 KB chunks, as a socket delivers them) through LogDemuxer into a 32 MB LogBuffer,
// unfiltered and with the `level=ERROR` filter tested as lines arrive. Run by bench/logview.mjs
// (bundled with esbuild) with TurboFan on and with --no-turbofan: the console's TurboFan question.
// Prints the best of 5 passes (the one least disturbed by other work on a shared machine).
import { LogBuffer } from '../src/domain/log-buffer.js';
import { LogDemuxer } from '../src/services/log-demux.js';
import type { LogLine } from '../src/services/logs.js';
import { compileFilter } from '../src/ui/format/logs.js';

const N = 1_000_000;
const frames: Buffer[] = [];
for (let i = 0; i < N; i++) {
  const ts = `2026-12-03T03:${String(10 + ((i / 100_000) | 0)).padStart(2, '0')}:${String(((i / 2000) | 0) % 60).padStart(2, '0')}.${String(i % 1000).padStart(9, '0')}Z`;
  const p = Buffer.from(`${ts} u=123.45 seq=${i} level=${i % 10 ? `INFO GET /api/orders/${i} 200 12ms` : `ERROR payment failed for order ${i}`}\n`);
  const h = Buffer.alloc(8);
  h[0] = 1;
  h.writeUInt32BE(p.length, 4);
  frames.push(h, p);
}
const all = Buffer.concat(frames);
const chunks: Buffer[] = [];
for (let i = 0; i < all.length; i += 65536) chunks.push(all.subarray(i, i + 65536));
const out: Record<string, number> = {};
for (const filter of ['', 'level=ERROR']) {
  const rates: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    const buf = new LogBuffer<LogLine>(32 * 1048576);
    const f = compileFilter(filter).filter;
    if (f) buf.setFilter((t) => f.test(t));
    const d = new LogDemuxer(false, true, (l) => buf.push(l));
    const t0 = performance.now();
    for (const c of chunks) d.push(c);
    rates.push(N / ((performance.now() - t0) / 1000));
  }
  out[filter || 'unfiltered'] = Math.max(...rates);
}
console.log(JSON.stringify(out));
