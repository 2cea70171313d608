import { describe, expect, it } from 'vitest';
import { Ring } from '../../src/state/history.js';

describe('Ring (the sparklines’ last hour)', () => {
  it('last(n) gives the newest n values, oldest first, before and after it wraps', () => {
    const ring = new Ring(5);
    expect(ring.last(3)).toEqual([]);
    const pushed: number[] = [];
    for (let v = 1; v <= 13; v++) {
      ring.push(v);
      pushed.push(v);
      const kept = pushed.slice(-5);
      for (const n of [0, 1, 2, 4, 5, 9]) expect(ring.last(n), `after ${v}, last(${n})`).toEqual(kept.slice(Math.max(0, kept.length - n)));
    }
    expect(ring.size).toBe(5);
  });

  it('last(n) copies only the tail it returns (a new array, the ring unchanged)', () => {
    const ring = new Ring(4);
    for (const v of [1, 2, 3, 4, 5, 6]) ring.push(v);
    const tail = ring.last(2);
    tail[0] = 99;
    expect(ring.last(4)).toEqual([3, 4, 5, 6]);
    expect(ring.last(2.7)).toEqual([5, 6]);
    // A width computed as NaN never throws (new Array(NaN) would): the whole ring, as before.
    expect(ring.last(Number.NaN)).toEqual([3, 4, 5, 6]);
    expect(ring.last(-1)).toEqual([]);
  });
});
