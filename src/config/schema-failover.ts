import { z } from 'zod';
import { duration, HOUR, MINUTE, name, SECOND } from './fields.js';

// `failover:` (issue #21): the DR plan's ServiceFailoverManager — primary/backup pairs of
// configured services, each probed on its own schedule — and the load rule (host CPU above a
// threshold for a while → a runbook, under the healing budget). Names of services are checked
// against `services:` in src/config/schema.ts.

const RANGES = {
  every: { min: 200, max: 1 * HOUR, why: "how often the pair's health is probed (its own schedule, not the global interval)" },
  hold: { min: 0, max: 24 * HOUR, why: 'after a switch, no other switch of the pair for this long (never flaps)' },
  healthy: { min: 1 * SECOND, max: 30 * MINUTE, why: 'how long a side just started has to become healthy before the switch is given up' },
  timeout: { min: 1 * SECOND, max: 30 * MINUTE, why: 'the longest a switch step may run' },
  sustained: { min: 1 * SECOND, max: 24 * HOUR, why: 'how long host CPU must stay above the threshold' },
  cooldown: { min: 0, max: 24 * HOUR, why: 'the least time between two runs of the load runbook' },
};

const ARGV_HINT = 'expected a non-empty list of strings (an argv, run without a shell), such as ["docker", "exec", "proxy", "switch", "api-b"]';
const argv = z
  .array(z.string({ error: 'expected a string' }), { error: ARGV_HINT })
  .min(1, ARGV_HINT)
  .refine((a) => a[0] !== '', { message: 'expected the program to run as the first element, got ""' });

const pairSchema = z.strictObject({
  /** The pair's name: its check is `failover:<name>`. */
  name,
  /** The service (from `services:`) that serves normally. */
  primary: name,
  /** The service started in its place after `failures` failed probes in a row. */
  backup: name,
  /** How often both sides are probed (the pair's own schedule; the DR plan's 10 s). */
  check_every: duration(10 * SECOND, RANGES.every),
  /** Failed probes of the active side in a row before a switch (the DR plan's 3). */
  failures: z.number().int().min(1).max(100).default(3),
  /** No second switch of the pair within this long after one. */
  hold_down: duration(10 * MINUTE, RANGES.hold),
  /** How long the side being switched to has to become healthy. */
  healthy_within: duration(60 * SECOND, RANGES.healthy),
  /** Run after the new side is healthy and the old one stopped: repoint a proxy, promote a replica… (no shell). */
  switch: argv.optional(),
  /** Run by the failback runbook when the primary is active again (no shell). */
  switch_back: argv.optional(),
  switch_timeout: duration(60 * SECOND, RANGES.timeout),
});

const loadSchema = z.strictObject({
  /** Host CPU percent above which the load counts. */
  cpu: z.number().min(1).max(100).default(80),
  /** How long it must stay above. */
  for: duration(5 * MINUTE, RANGES.sustained),
  /** The runbook to run (opsdeck runbook list), unattended, under heal.budget. */
  runbook: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a runbook name (opsdeck runbook list)'),
  /** The service the runbook acts on (for a runbook whose target is a service, e.g. starting another worker). */
  target: name.optional(),
  /** The least time between two runs. */
  cooldown: duration(15 * MINUTE, RANGES.cooldown),
});

const sectionSchema = z.strictObject({
  pairs: z.array(pairSchema).default([]),
  /** Optional: host CPU sustained above `cpu` runs `runbook`. */
  load: loadSchema.optional(),
});

/** The `failover:` section, every field defaulted. */
export const failoverSchema = sectionSchema.default(() => sectionSchema.parse({}));

/** Validated `failover:` settings, durations in ms. */
export type FailoverConfig = z.output<typeof sectionSchema>;
export type FailoverPair = FailoverConfig['pairs'][number];
export type LoadRule = NonNullable<FailoverConfig['load']>;

/** Issues of the pairs against the configured services: `[path, message]`. */
export function failoverIssues(f: FailoverConfig, services: readonly string[]): [(string | number)[], string][] {
  const out: [(string | number)[], string][] = [];
  const seen = new Set<string>();
  const used = new Map<string, string>();
  f.pairs.forEach((p, i) => {
    if (seen.has(p.name)) out.push([['failover', 'pairs', i, 'name'], `duplicate pair name ${JSON.stringify(p.name)} (each pair's check is failover:<name>)`]);
    seen.add(p.name);
    for (const side of ['primary', 'backup'] as const) {
      const s = p[side];
      if (!services.includes(s)) out.push([['failover', 'pairs', i, side], `service ${JSON.stringify(s)} is not in services (expected one of: ${services.join(', ') || 'none declared'})`]);
      else if (used.has(s)) out.push([['failover', 'pairs', i, side], `service ${JSON.stringify(s)} is already in pair ${used.get(s) ?? ''} (a service belongs to one pair at most)`]);
      used.set(s, p.name);
    }
    if (p.primary === p.backup) out.push([['failover', 'pairs', i, 'backup'], 'expected a service other than the primary']);
  });
  if (f.load?.target && !services.includes(f.load.target)) out.push([['failover', 'load', 'target'], `service ${JSON.stringify(f.load.target)} is not in services (expected one of: ${services.join(', ') || 'none declared'})`]);
  return out;
}
