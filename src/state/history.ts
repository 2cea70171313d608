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

  /** The newest `n` values, oldest first. */
  last(n: number): number[] {
    const all = [...this.buf.slice(this.start), ...this.buf.slice(0, this.start)];
    return all.slice(Math.max(0, all.length - n));
  }

  get size(): number {
    return this.buf.length;
  }
}
