// What Ink imports from @alcalzone/ansi-tokenize, with two functions made cheaper. scripts/build.mjs
// points Ink's import of that package here (an esbuild onResolve; the package itself is unchanged).
//
// Why (issue #3, measured with V8's sampling heap profiler on the bench's 160×48 dashboard): Ink's
// Output.get() turns every row into a string with styledCharsToString, which diffs the styles of
// each cell against the previous one. The diff builds three Sets, several arrays and another Set per
// cell, even when both cells have the same styles — ~7,700 cells a frame, ~60% of everything the
// console allocated (~17 MB/s at idle), which kept the young generation at its 16 MB maximum and
// cost as much CPU in scavenges as the rendering itself. Two cells with equal style lists diff to
// nothing, so the fast path skips the diff; everything else goes through the package's own code.
//
// Second: styledCharsFromTokens gave every character its own copy of the style list (the largest
// allocation left after the first fix); characters in a run of one style now share one list.
// (A cache of tokenized lines across frames was measured too: few hits, as the uptime column changes
// every second, and +7 MB RSS; not kept.)
import {
  ansiCodesToString,
  diffAnsiCodes,
  reduceAnsiCodesIncremental,
  type AnsiCode,
  type StyledChar,
  type Token,
} from '@alcalzone/ansi-tokenize';

export * from '@alcalzone/ansi-tokenize';

/** True when two style lists hold the same codes in the same order (their diff is empty). */
function sameStyles(a: readonly AnsiCode[], b: readonly AnsiCode[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as AnsiCode;
    const y = b[i] as AnsiCode;
    if (x.code !== y.code || x.endCode !== y.endCode) return false;
  }
  return true;
}

/** Same output as the package's styledCharsToString (a test compares them), without a diff between equally styled cells. */
export function styledCharsToString(chars: readonly StyledChar[]): string {
  let ret = '';
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] as StyledChar;
    if (i === 0) {
      if (char.styles.length) ret += ansiCodesToString(char.styles);
    } else {
      const prev = (chars[i - 1] as StyledChar).styles;
      if (!sameStyles(prev, char.styles)) ret += ansiCodesToString(diffAnsiCodes(prev, char.styles));
    }
    ret += char.value;
    if (i === chars.length - 1 && char.styles.length) ret += ansiCodesToString(diffAnsiCodes(char.styles, []));
  }
  return ret;
}

/**
 * The package's styledCharsFromTokens, except that consecutive characters with the same styles share
 * one styles list instead of a copy each (Ink only reads them). Besides one array less per
 * character, equal neighbours are then the same list, the cheapest case of sameStyles.
 */
export function styledCharsFromTokens(tokens: readonly Token[]): StyledChar[] {
  let codes: AnsiCode[] = [];
  let shared: AnsiCode[] | undefined;
  const ret: StyledChar[] = [];
  for (const token of tokens) {
    if (token.type === 'ansi') {
      codes = reduceAnsiCodesIncremental(codes, [token]);
      shared = undefined;
    } else if (token.type === 'char') {
      shared ??= [...codes];
      ret.push({ ...token, styles: shared });
    }
  }
  return ret;
}
