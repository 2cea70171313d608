import { z } from 'zod';
import { duration, HOUR, MINUTE, SECOND } from './fields.js';

// `heal:` (issue #20): self-healing. Every field has the DR plan's number as its default
// (service_down → restart_service: 3 attempts, backoff factor 2; high_memory_usage →
// restart_application: 95 %, cooldown 300 s), so the section is optional.

const RANGES = {
  base: { min: 100, max: 1 * HOUR, why: 'the wait before the second attempt' },
  cap: { min: 100, max: 6 * HOUR, why: 'the longest wait between two attempts (Docker cannot cap its own, moby/moby#41856)' },
  grace: { min: 0, max: 1 * HOUR, why: 'how long a service just restarted has before its failing checks count again' },
  reset: { min: 1 * SECOND, max: 24 * HOUR, why: 'how long a service must stay healthy for its attempts to start from 0 again' },
  window: { min: 1 * SECOND, max: 7 * 24 * HOUR, why: 'the window of the restart budget' },
  cooldown: { min: 0, max: 24 * HOUR, why: 'the least time between two memory restarts of one service' },
};

const ruleSchema = z.strictObject({
  /** A check id, `*` matching any run of characters (`http:api`, `redis:*`). */
  check: z.string().min(1, 'expected a check id such as http:api (`*` matches any run of characters)'),
  /** The runbook that answers it, run unattended (its person-only steps are skipped or stop it). */
  runbook: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a runbook name (opsdeck runbook list)'),
});

const sectionSchema = z.strictObject({
  /** `false` turns healing off (so does --read-only). */
  enabled: z.boolean().default(true),
  /** Runs of the restart runbook for one failure before healing gives up and escalates. */
  attempts: z.number().int().min(1).max(20).default(3),
  backoff: z
    .strictObject({
      base: duration(10 * SECOND, RANGES.base),
      factor: z.number().min(1).max(10).default(2),
      cap: duration(5 * MINUTE, RANGES.cap),
    })
    .default(() => ({ base: 10 * SECOND, factor: 2, cap: 5 * MINUTE })),
  /** After a restart, the service's failing checks are not acted on for this long (it is starting). */
  start_grace: duration(10 * SECOND, RANGES.grace),
  /** A service healthy this long has its attempts reset to 0. */
  reset_after: duration(10 * MINUTE, RANGES.reset),
  /** At most `restarts` healing restarts of one service per `window`; then healing of it stops until an operator enables it. */
  budget: z
    .strictObject({
      restarts: z.number().int().min(1).max(100).default(3),
      window: duration(30 * MINUTE, RANGES.window),
    })
    .default(() => ({ restarts: 3, window: 30 * MINUTE })),
  /** high_memory_usage → restart_application. */
  memory: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Percent of the container's memory limit. */
      threshold: z.number().min(1).max(100).default(95),
      cooldown: duration(300 * SECOND, RANGES.cooldown),
      /** For a container without a memory limit: percent of the host's memory (off by default: one process is rarely the host's problem). */
      host_fallback: z.boolean().default(false),
    })
    .default(() => ({ enabled: true, threshold: 95, cooldown: 300 * SECOND, host_fallback: false })),
  /** Restart a container whose HEALTHCHECK says unhealthy (Docker never does outside swarm). */
  unhealthy: z.boolean().default(true),
  /** Run the safe steps of redis-recovery on a Redis alert (deleting keys is never among them). */
  redis: z.boolean().default(true),
  /** Any check → any runbook. */
  rules: z.array(ruleSchema).default([]),
});

/** The `heal:` section, every field defaulted. */
export const healSchema = sectionSchema.default(() => sectionSchema.parse({}));

/** Validated `heal:` settings, durations in ms. */
export type HealConfig = z.output<typeof sectionSchema>;
