// Sets of integer ids kept as sorted, disjoint, non-adjacent closed ranges [lo, hi]. The row-loss
// ledger (issue #10) keeps which ids of a critical table are known to exist and which went missing
// in this form: an append-only table with a few holes is a handful of ranges, whatever its size.

/** A closed range of ids, lo ≤ hi. */
export type Range = readonly [number, number];
/** Sorted, disjoint, non-adjacent ranges. */
export type RangeSet = readonly Range[];

/** Normalises any list of ranges: sorted, overlapping and adjacent ones joined. */
export function normalize(ranges: readonly Range[]): Range[] {
  const sorted = ranges.filter(([lo, hi]) => lo <= hi).map(([lo, hi]): Range => [lo, hi]).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out.at(-1);
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** a ∪ b. */
export function union(a: RangeSet, b: RangeSet): Range[] {
  return normalize([...a, ...b]);
}

/** a − b. */
export function subtract(a: RangeSet, b: RangeSet): Range[] {
  const out: Range[] = [];
  let j = 0;
  for (const [lo0, hi] of a) {
    let lo = lo0;
    while (j < b.length && (b[j] as Range)[1] < lo) j++;
    let k = j;
    while (lo <= hi && k < b.length && (b[k] as Range)[0] <= hi) {
      const [blo, bhi] = b[k] as Range;
      if (blo > lo) out.push([lo, blo - 1]);
      lo = Math.max(lo, bhi + 1);
      k++;
    }
    if (lo <= hi) out.push([lo, hi]);
  }
  return out;
}

/** a ∩ b. */
export function intersect(a: RangeSet, b: RangeSet): Range[] {
  return subtract(a, subtract(a, b));
}

/** How many ids the set holds. */
export function size(a: RangeSet): number {
  return a.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
}

/** The highest id, or undefined for an empty set. */
export function maxOf(a: RangeSet): number | undefined {
  return a.at(-1)?.[1];
}

/** `101–200, 305` (at most `limit` ranges, then "+N more"). */
export function formatRanges(a: RangeSet, limit = 5): string {
  if (a.length === 0) return 'none';
  const shown = a.slice(0, limit).map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}–${hi}`));
  return `${shown.join(', ')}${a.length > limit ? `, +${a.length - limit} more ranges` : ''}`;
}

/** Parses a stored set (JSON), tolerating garbage as empty. */
export function parseRanges(text: string | null | undefined): Range[] {
  if (!text) return [];
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) return [];
    return normalize(v.filter((r): r is [number, number] => Array.isArray(r) && r.length === 2 && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1])));
  } catch {
    return [];
  }
}
