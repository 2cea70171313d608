/**
 * A cache that forgets: a key seen in the current or the previous generation is a hit; a new
 * generation starts every `limit` distinct keys, so at most 2 × limit entries are kept, and keys
 * unused for a generation go. For text keyed caches whose keys change forever (a clock, uptimes).
 */
export class BoundedCache<V> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();

  constructor(private readonly limit: number) {}

  /** The cached value of `key`, made (and kept) on a miss. */
  get(key: string, make: () => V): V {
    let v = this.current.get(key);
    if (v !== undefined) return v;
    v = this.previous.get(key) ?? make();
    if (this.current.size >= this.limit) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, v);
    return v;
  }

  /** How many entries are kept now (for tests). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}
