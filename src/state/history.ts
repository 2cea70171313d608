/** A fixed-size ring buffer of numbers (the sparklines' last hour). */
export class Ring {
  private readonly buf: number[] = [];
  private start = 0;

  constructor(readonly capacity: number) {}

  /** Appends a value, dropping the oldest when full. */
  push(v: number): void {
    if (this.buf.length < this.capacity) this.buf.push(v);
    else {
      this.buf[this.start] = v;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /**
   * The newest `n` values, oldest first. Copies only those (issue #27 point 2: the host pane asks for
   * each sparkline's tail every frame; copying the whole hour of a full ring three times was ~3 % of
   * the idle console's main thread, and more for its garbage collector).
   */
  last(n: number): number[] {
    const len = this.buf.length;
    // NaN asks for all of it, as slice() took it before.
    const k = Number.isNaN(n) ? len : Math.max(0, Math.min(Math.floor(n), len));
    const out = new Array<number>(k);
    // The oldest value sits at `start` once the ring is full (at 0 before): the tail starts k before the end.
    for (let i = 0; i < k; i++) out[i] = this.buf[(this.start + len - k + i) % len]!;
    return out;
  }

  get size(): number {
    return this.buf.length;
  }
}
