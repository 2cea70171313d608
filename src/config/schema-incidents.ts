import { z } from 'zod';
import { DEFAULT_CLASSES, DEFAULT_RULES, SEVERITIES, type IncidentClass, type IncidentRules, type Severity } from '../domain/incident.js';
import { duration } from './fields.js';

// `incidents:` (issue #18): the DR plan's classes (P1–P4 with their RTO and RPO) and the rules
// that open incidents. Every field has the DR plan's default, so the section is optional.

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Ranges of the incident durations (an RTO or RPO arms no timer: it is compared, never waited on). */
const RANGES = {
  rto: { min: 1 * MINUTE, max: 30 * DAY, why: 'the time to recover a class of incident' },
  rpo: { min: 1 * MINUTE, max: 30 * DAY, why: 'the data a class of incident may lose' },
  reopen: { min: 0, max: 1 * DAY, why: 'an alert firing again this soon after its incident resolved re-opens it' },
};

const severityOrOff = (fallback: Severity | 'off') =>
  z.enum([...SEVERITIES, 'off'], { error: `expected one of ${SEVERITIES.join(', ')} or off` }).default(fallback);

const classSchema = (s: Severity) =>
  z
    .strictObject({
      rto: duration(DEFAULT_CLASSES[s].rtoMs, RANGES.rto),
      rpo: duration(DEFAULT_CLASSES[s].rpoMs, RANGES.rpo),
    })
    .default(() => ({ rto: DEFAULT_CLASSES[s].rtoMs, rpo: DEFAULT_CLASSES[s].rpoMs }));

const rulesSchema = z.strictObject({
  /** An alert firing at CRITICAL opens (or raises an open incident to) this class. */
  critical_check: severityOrOff(DEFAULT_RULES.criticalCheck),
  /** The `system:health` alert (health below thresholds.system_health, 50 %) opens or raises to this class. */
  system_health: severityOrOff(DEFAULT_RULES.systemHealth),
  /** An alert firing again this soon after its incident was resolved re-opens it. */
  reopen_within: duration(DEFAULT_RULES.reopenWithinMs, RANGES.reopen),
});

const sectionSchema = z.strictObject({
    classes: z.strictObject({ P1: classSchema('P1'), P2: classSchema('P2'), P3: classSchema('P3'), P4: classSchema('P4') }).default(() => ({
      P1: { rto: DEFAULT_CLASSES.P1.rtoMs, rpo: DEFAULT_CLASSES.P1.rpoMs },
      P2: { rto: DEFAULT_CLASSES.P2.rtoMs, rpo: DEFAULT_CLASSES.P2.rpoMs },
      P3: { rto: DEFAULT_CLASSES.P3.rtoMs, rpo: DEFAULT_CLASSES.P3.rpoMs },
      P4: { rto: DEFAULT_CLASSES.P4.rtoMs, rpo: DEFAULT_CLASSES.P4.rpoMs },
    })),
    rules: rulesSchema.default(() => ({ critical_check: DEFAULT_RULES.criticalCheck, system_health: DEFAULT_RULES.systemHealth, reopen_within: DEFAULT_RULES.reopenWithinMs })),
});

/** The `incidents:` section (every field defaulted: the DR plan's table and rules). */
export const incidentsSchema = sectionSchema.default(() => sectionSchema.parse({}));

/** The validated section. */
export type IncidentsConfig = z.output<typeof incidentsSchema>;

/** The classes of a configuration, as the domain takes them. */
export function incidentClasses(c: IncidentsConfig): Record<Severity, IncidentClass> {
  const out = { ...DEFAULT_CLASSES };
  for (const s of SEVERITIES) out[s] = { ...DEFAULT_CLASSES[s], rtoMs: c.classes[s].rto, rpoMs: c.classes[s].rpo };
  return out;
}

/** The rules of a configuration, as the domain takes them. */
export function incidentRules(c: IncidentsConfig): IncidentRules {
  return { criticalCheck: c.rules.critical_check, systemHealth: c.rules.system_health, reopenWithinMs: c.rules.reopen_within };
}
