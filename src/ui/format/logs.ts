import type { Color } from './cells.js';

/** Colour of a log line: ERROR red, WARN yellow (the operator's eye goes there first). */
export function logLineColor(text: string): Color | undefined {
  if (/\b(ERROR|FATAL|CRITICAL|PANIC|Traceback|Exception)\b|\berror\b|\bfatal\b/.test(text)) return 'red';
  if (/\b(WARN|WARNING)\b|\bwarn(ing)?\b/.test(text)) return 'yellow';
  return undefined;
}

/** Compiles a filter; an invalid expression is reported, not thrown. */
export function compileFilter(src: string): { re?: RegExp; error?: string } {
  if (!src) return {};
  try {
    return { re: new RegExp(src, 'i') };
  } catch (e) {
    return { error: `invalid regular expression: ${(e as Error).message}` };
  }
}
