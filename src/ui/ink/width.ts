/**
 * The printed width of the widest line of `text` when it is plain printable ASCII (lines split by
 * '\n'): then every character is one column. Undefined otherwise (escape codes, wide or combining
 * characters), for string-width to answer. string-width splits every text into grapheme clusters and
 * tests each against an emoji regex, which made it the console's largest cost per frame after the
 * frame buffer itself (issue #3): most texts on the dashboard are ASCII.
 */
export function asciiWidth(text: string): number | undefined {
  let widest = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      widest = Math.max(widest, i - start);
      start = i + 1;
    } else if (c < 0x20 || c > 0x7e) {
      return undefined;
    }
  }
  return Math.max(widest, text.length - start);
}
