// The logs view's memory (issue #26): the last lines of a followed log, bounded by bytes (and
// optionally by a number of lines), with the filter's matches kept as lines arrive. The view used to
// keep 5,000 lines: at 8k lines/s a filter searched 0.6 s of history.

/** What the buffer needs of a line. */
export interface BufferedLine {
  text: string;
  at?: number;
}

/** A line's cost in the bound: its text (UTF-16 at worst: 2 bytes a character) and ~64 bytes of object and slot. */
export function lineBytes(l: BufferedLine): number {
  return l.text.length * 2 + 64;
}

/**
 * The last lines of a log, oldest dropped first once `maxBytes` (estimated by `lineBytes`) or
 * `maxLines` is passed. Each line has a sequence number (the count of lines pushed before it). A
 * filter (`setFilter`) is tested on each line as it arrives; the lines already held when it is set
 * are tested in `scan` passes of bounded time, oldest first, so keys are read in between. Appending
 * and dropping are O(1) amortised; reading the last n lines or matches is O(n).
 */
export class LogBuffer<T extends BufferedLine> {
  private items: T[] = [];
  private head = 0;
  /** Sequence number of items[head]. */
  private first = 0;
  private matches: number[] = [];
  private mhead = 0;
  private test: ((text: string) => boolean) | undefined;
  /** The next sequence number the filter has to test (its scan has reached every line before it). */
  private scanned = 0;
  /** Bytes held (lineBytes). */
  bytes = 0;
  /** Bumped on every change: a view redraws only when it moved. */
  version = 0;

  constructor(
    readonly maxBytes: number,
    readonly maxLines = Number.POSITIVE_INFINITY,
  ) {}

  /** Sequence number the next line gets (lines pushed in all). */
  get end(): number {
    return this.first + this.items.length - this.head;
  }
  /** Sequence number of the oldest line held. */
  get start(): number {
    return this.first;
  }
  get size(): number {
    return this.items.length - this.head;
  }
  /** The oldest line held (how far back the buffer reaches). */
  oldest(): T | undefined {
    return this.items[this.head];
  }
  /** The line of sequence number `seq`, while held. */
  at(seq: number): T | undefined {
    return seq < this.first ? undefined : this.items[this.head + seq - this.first];
  }

  push(l: T): void {
    if (this.test && this.scanned === this.end) {
      if (this.test(l.text)) this.matches.push(this.end);
      this.scanned++;
    }
    this.items.push(l);
    this.bytes += lineBytes(l);
    while (this.size > 1 && (this.bytes > this.maxBytes || this.size > this.maxLines)) this.dropOldest();
    this.version++;
  }

  private dropOldest(): void {
    const l = this.items[this.head] as T;
    this.items[this.head] = undefined as unknown as T;
    this.head++;
    this.bytes -= lineBytes(l);
    if (this.matches[this.mhead] === this.first) this.mhead++;
    this.first++;
    if (this.scanned < this.first) this.scanned = this.first;
    // Compact now and then: O(1) amortised, and the dropped slots are freed.
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.mhead > 4096 && this.mhead * 2 > this.matches.length) {
      this.matches = this.matches.slice(this.mhead);
      this.mhead = 0;
    }
  }

  /** Sets (or clears) the filter: its matches start empty and `scan` tests the lines held. */
  setFilter(test: ((text: string) => boolean) | undefined): void {
    this.test = test;
    this.matches = [];
    this.mhead = 0;
    this.scanned = this.first;
    this.version++;
  }

  /** Has the filter tested every line held? (always true without one) */
  get scanComplete(): boolean {
    return !this.test || this.scanned === this.end;
  }
  /** Lines the filter has tested so far. */
  get looked(): number {
    return this.scanned - this.first;
  }
  get matchCount(): number {
    return this.matches.length - this.mhead;
  }

  /** Tests lines held but not yet tested, oldest first, for at most `budgetMs` (the clock read every 64 lines). */
  scan(budgetMs: number, now: () => number = () => performance.now()): boolean {
    const test = this.test;
    if (!test) return true;
    const t0 = now();
    let n = 0;
    while (this.scanned < this.end) {
      if (++n % 64 === 0 && now() - t0 > budgetMs) break;
      if (test((this.at(this.scanned) as T).text)) this.matches.push(this.scanned);
      this.scanned++;
    }
    if (n) this.version++;
    return this.scanned === this.end;
  }

  /**
   * Up to `n` lines ending before sequence number `before` (default: the newest), or starting at
   * `from` when given: all lines, or only the matches while a filter is set. With their sequence numbers.
   */
  window(n: number, o: { before?: number; from?: number } = {}): { seq: number; line: T }[] {
    if (this.test) {
      const ms = this.matches;
      let lo = this.mhead;
      let hi = ms.length;
      if (o.from !== undefined) {
        lo = this.lowerBound(o.from);
        hi = Math.min(ms.length, lo + n);
      } else {
        if (o.before !== undefined) hi = this.lowerBound(o.before);
        lo = Math.max(this.mhead, hi - n);
      }
      const out: { seq: number; line: T }[] = [];
      for (let i = lo; i < hi; i++) out.push({ seq: ms[i] as number, line: this.at(ms[i] as number) as T });
      return out;
    }
    let lo: number;
    let hi: number;
    if (o.from !== undefined) {
      lo = Math.max(this.first, o.from);
      hi = Math.min(this.end, lo + n);
    } else {
      hi = Math.min(this.end, o.before ?? this.end);
      lo = Math.max(this.first, hi - n);
    }
    const out: { seq: number; line: T }[] = [];
    for (let s = lo; s < hi; s++) out.push({ seq: s, line: this.at(s) as T });
    return out;
  }

  /** The first line (sequence number) whose time is at or after `at`, or undefined when none is. */
  seqAtOrAfter(at: number): number | undefined {
    for (let s = this.first; s < this.end; s++) if (((this.at(s) as T).at ?? 0) >= at) return s;
    return undefined;
  }

  /** Index into `matches` of the first match at or after sequence number `seq`. */
  private lowerBound(seq: number): number {
    let lo = this.mhead;
    let hi = this.matches.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.matches[mid] as number) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
