import { z } from 'zod';
import { formatDuration, parseDuration } from './duration.js';

// The field types of opsdeck.yaml (durations held to a range, backup schedules, http(s) URLs, entry
// names), shared by src/config/schema.ts and schema-apps.ts.

/**
 * A duration in YAML: seconds as a number, or a string with a unit; parsed to milliseconds and held
 * to the field's range (issue #13: `interval: 0` spun `watch` at 73 % CPU, `30d` overflowed Node's
 * timers — anything above 2³¹−1 ms fires after 1 ms — so a `25d` timeout failed every probe at once).
 */
export const duration = (fallbackMs: number, range: DurationRange) =>
  z
    .union([z.number(), z.string()], {
      error: 'expected a duration such as 30, "500ms", "30s", "5m"',
    })
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return fallbackMs;
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a duration such as 30, "500ms", "30s", "5m", got ${describeDuration(v)}` });
        return z.NEVER;
      }
      if (ms < range.min || ms > range.max) {
        ctx.addIssue({ code: 'custom', message: `expected a duration from ${formatDuration(range.min)} to ${formatDuration(range.max)}${range.why ? ` (${range.why})` : ''}, got ${describeDuration(v)}` });
        return z.NEVER;
      }
      return ms;
    });

/** A duration field's allowed range in ms, and why, for the error message. */
interface DurationRange {
  min: number;
  max: number;
  why?: string;
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/**
 * The range of each kind of duration field (README: Configuration). Every one that arms a timer
 * stays far below Node's 2³¹−1 ms (24.8 days) timer limit.
 */
export const DURATION_RANGES = {
  interval: { min: 1 * SECOND, max: 24 * HOUR, why: 'how often every check runs' },
  refresh: { min: 500, max: 1 * HOUR, why: 'how often gauges and container stats refresh' },
  timeout: { min: 100, max: 10 * MINUTE, why: 'how long one probe may take' },
  response_time: { min: 1, max: 10 * MINUTE, why: 'a slower answer is a warning' },
  rpo: { min: 1 * MINUTE, max: 400 * DAY },
  schedule: { min: 1 * SECOND, max: 31 * DAY },
} satisfies Record<string, DurationRange>;

/** A bad duration as the operator wrote it: `.nan` is "not a number", not JSON's `null`. */
function describeDuration(v: number | string): string {
  if (typeof v === 'number' && Number.isNaN(v)) return 'not a number';
  if (typeof v === 'number' && !Number.isFinite(v)) return 'infinity';
  return JSON.stringify(v);
}

/**
 * A backup schedule: a duration of at least 1 s (backup ids are named by the second, so two backups
 * within one second would share a name), or `off`. Unset stays undefined: no schedule (issue #10).
 */
export const schedule = z
  .union([z.number(), z.string()], { error: 'expected a backup schedule such as "15m", "1h" or off' })
  .optional()
  .transform((v, ctx): number | 'off' | undefined => {
    if (v === undefined) return undefined;
    if (v === 'off') return 'off';
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a backup schedule such as "15m", "1h" or off, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    if (ms < DURATION_RANGES.schedule.min) {
      ctx.addIssue({ code: 'custom', message: `expected at least 1s between scheduled backups (backups are named by the second), got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    if (ms > DURATION_RANGES.schedule.max) {
      ctx.addIssue({ code: 'custom', message: `expected at most ${formatDuration(DURATION_RANGES.schedule.max)} between scheduled backups, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  });

/**
 * An http:// or https:// URL: `z.string().url()` alone accepts ftp://, file:// and mailto:, which the
 * HTTP probe cannot speak (issue #13).
 */
export const httpUrl = z
  .string()
  .url('expected an http(s) URL')
  .refine((u) => /^https?:$/i.test(safeProtocol(u)), { message: 'expected an http:// or https:// URL' });

function safeProtocol(u: string): string {
  try {
    return new URL(u).protocol;
  } catch {
    return '';
  }
}

export const percent = (fallback: number) => z.number().min(0).max(100).default(fallback);
export const name = z.string().regex(/^[A-Za-z0-9][\w.-]*$/, 'expected a name of letters, digits, "_", "-" or "."');

