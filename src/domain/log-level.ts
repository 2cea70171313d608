// The level of a log line from its text (issue #16): one classification for the console's logs view
// (its colours, src/ui/format/logs.ts) and the api-degraded runbook's error lines
// (src/runbooks/actions/diagnose.ts). Pure: a line in, a level out.

/** How severe a log line reads. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const ERROR = /\b(ERROR|FATAL|CRITICAL|PANIC|Traceback|Exception)\b|\berror\b|\bfatal\b/;
const WARN = /\b(WARN|WARNING)\b|\bwarn(ing)?\b/;
const MAYBE = ['ERROR', 'error', 'WARN', 'warn', 'FATAL', 'fatal', 'CRITICAL', 'PANIC', 'Traceback', 'Exception'];
const INFO = /\b(INFO|info|NOTICE|notice)\b/;
const DEBUG = /\b(DEBUG|debug|TRACE|trace)\b/;

/** The level a line's words say (ERROR/FATAL/Exception…, WARN…, INFO, DEBUG/TRACE), or undefined when none. */
export function logLevel(text: string): LogLevel | undefined {
  if (ERROR.test(text)) return 'error';
  if (WARN.test(text)) return 'warn';
  if (INFO.test(text)) return 'info';
  if (DEBUG.test(text)) return 'debug';
  return undefined;
}

/** Only whether a line reads as an error or a warning (the log review's question, issue #23): logLevel without the INFO/DEBUG tests. */
export function reviewLevel(text: string): 'error' | 'warn' | undefined {
  // Most lines are neither: plain substring tests turn them away at a quarter of the regexes' cost
  // (`npm run bench:logs`); every word ERROR and WARN match contains one of these.
  if (!MAYBE.some((w) => text.includes(w))) return undefined;
  if (ERROR.test(text)) return 'error';
  if (WARN.test(text)) return 'warn';
  return undefined;
}
