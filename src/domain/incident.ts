// Incidents (issue #18): the DR plan's classes and their recovery targets, the RTO and RPO clocks,
// the rules that open, join, raise and re-open incidents, the milestones of a timeline and the
// postmortem draft. Pure: times are passed in, nothing here reads a clock, a file or a database.

/** The DR plan's incident classes, most severe first. */
export const SEVERITIES = ['P1', 'P2', 'P3', 'P4'] as const;

/** An incident class. */
export type Severity = (typeof SEVERITIES)[number];

/** A class's recovery targets (ms) and what it means. */
export interface IncidentClass {
  rtoMs: number;
  rpoMs: number;
  meaning: string;
}

const MIN = 60_000;
const HOUR = 60 * MIN;

/** The DR plan's table (docs/DESIGN.md "Severity classes and targets"); `incidents.classes` overrides the times. */
export const DEFAULT_CLASSES: Readonly<Record<Severity, IncidentClass>> = {
  P1: { rtoMs: 4 * HOUR, rpoMs: 15 * MIN, meaning: 'critical: system completely unusable' },
  P2: { rtoMs: 2 * HOUR, rpoMs: 5 * MIN, meaning: 'high: core function affected' },
  P3: { rtoMs: 8 * HOUR, rpoMs: 1 * HOUR, meaning: 'medium: partial malfunction' },
  P4: { rtoMs: 24 * HOUR, rpoMs: 4 * HOUR, meaning: 'low: minor, non-core' },
};

/** The severity a text names (`p1`, `P1`), if any. */
export function parseSeverity(text: string | undefined): Severity | undefined {
  const s = text?.trim().toUpperCase();
  return (SEVERITIES as readonly string[]).includes(s ?? '') ? (s as Severity) : undefined;
}

/** The more severe of two classes (P1 over P2). */
export function worseSeverity(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b;
}

/** What opens incidents: a severity or off per rule, and the re-open window. */
export interface IncidentRules {
  /** An alert firing at CRITICAL (any check but `system:health`) opens or raises to this class. */
  criticalCheck: Severity | 'off';
  /** The `system:health` alert firing (health below `thresholds.system_health`, 50 % by default) opens or raises to this class. */
  systemHealth: Severity | 'off';
  /** An alert that fires again within this time of its incident's resolution re-opens it. */
  reopenWithinMs: number;
}

/** The rules by default: the DR plan's. */
export const DEFAULT_RULES: IncidentRules = { criticalCheck: 'P2', systemHealth: 'P1', reopenWithinMs: 10 * MIN };

/** An incident as the rules and clocks see it. */
export interface IncidentCore {
  id: string;
  severity: Severity;
  status: 'open' | 'resolved';
  /** When the RTO clock started: the first alert it contains, else its declaration. */
  startedAt: number;
  declaredAt: number;
  resolvedAt?: number;
  /** The checks of the alerts it contains. */
  checks: readonly string[];
}

/** An alert that fired, as a rule sees it. */
export interface FiredAlert {
  checkId: string;
  status: 'ok' | 'warning' | 'critical' | 'unknown';
  firedAt: number;
}

/** The class a rule gives a firing alert, if any. */
export function ruleSeverity(a: FiredAlert, rules: IncidentRules): Severity | undefined {
  if (a.checkId === 'system:health') return rules.systemHealth === 'off' ? undefined : rules.systemHealth;
  if (a.status === 'critical' && rules.criticalCheck !== 'off') return rules.criticalCheck;
  return undefined;
}

/** What the rules do with a firing alert. */
export type RuleDecision =
  | { kind: 'none' }
  | { kind: 'open'; severity: Severity; checkId: string; startedAt: number }
  /** It joins the open incident's timeline; `raise` when its class is worse than the incident's. */
  | { kind: 'join'; id: string; checkId: string; raise?: Severity }
  | { kind: 'reopen'; id: string; checkId: string; raise?: Severity };

/**
 * Decides one firing alert (issue #18), in order: an open incident takes it (joins its timeline,
 * raising its class when the alert's rule class is worse); else the newest resolved incident that
 * contains its check and was resolved at most `reopenWithinMs` before it fired is re-opened (a flap
 * is the same incident, not a new one); else a rule that gives it a class opens a new incident whose
 * RTO clock starts when the alert fired; else nothing.
 */
export function decideOnAlert(a: FiredAlert, open: IncidentCore | undefined, resolved: readonly IncidentCore[], rules: IncidentRules): RuleDecision {
  const cls = ruleSeverity(a, rules);
  const raiseOf = (i: IncidentCore) => (cls !== undefined && worseSeverity(cls, i.severity) !== i.severity ? { raise: cls } : {});
  if (open) {
    return { kind: 'join', id: open.id, checkId: a.checkId, ...raiseOf(open) };
  }
  // Only an alert a rule would open an incident for re-opens one: a WARNING flapping (host CPU on a
  // busy box) must not undo a person's resolve.
  const flap = cls === undefined ? undefined : reopenCandidate(a.checkId, a.firedAt, resolved, rules.reopenWithinMs);
  if (flap) return { kind: 'reopen', id: flap.id, checkId: a.checkId, ...raiseOf(flap) };
  return cls === undefined ? { kind: 'none' } : { kind: 'open', severity: cls, checkId: a.checkId, startedAt: a.firedAt };
}

/** The resolved incident a check firing at `at` re-opens: the newest containing it, resolved within the window before `at`. */
export function reopenCandidate(checkId: string, at: number, resolved: readonly IncidentCore[], withinMs: number): IncidentCore | undefined {
  return resolved
    .filter((i) => i.status === 'resolved' && i.resolvedAt !== undefined && i.checks.includes(checkId) && at >= i.resolvedAt && at - i.resolvedAt <= withinMs)
    .sort((x, y) => (y.resolvedAt ?? 0) - (x.resolvedAt ?? 0))[0];
}

/** The RTO clock of an incident at `now`: time left (negative once breached), and whether the target was met. */
export interface RtoClock {
  deadline: number;
  /** ms left until the deadline (negative: breached by that much); frozen at the resolution. */
  leftMs: number;
  breached: boolean;
}

/** The RTO clock: the class's RTO from the incident's start, counted to now or to its resolution. */
export function rtoClock(i: Pick<IncidentCore, 'severity' | 'startedAt' | 'resolvedAt'>, classes: Readonly<Record<Severity, IncidentClass>>, now: number): RtoClock {
  const deadline = i.startedAt + classes[i.severity].rtoMs;
  const leftMs = deadline - (i.resolvedAt ?? now);
  return { deadline, leftMs, breached: leftMs < 0 };
}

/** The newest verified backup of one affected database (undefined: none verified). */
export interface DatabaseBackupAge {
  database: string;
  newestVerifiedAt?: number;
}

/** The RPO status: the oldest "newest verified backup" among the affected databases against the class's RPO. */
export interface RpoStatus {
  rpoMs: number;
  /** The worst database: its newest verified backup's age (undefined: it has none). */
  worst?: { database: string; ageMs?: number };
  breached: boolean;
}

/**
 * The RPO status at `at` (now while open; the incident's start for the postmortem: what a restore
 * could have brought back). Per database, the age of its newest verified backup taken at or before
 * `at`; the worst one decides. The same figure as the `backup:<db>` check (evaluateBackupAge), held
 * against the class's RPO (P1 15 min) instead of the standing `backup.rpo` (24 h by default).
 * No affected database: not breached, nothing to say.
 */
export function rpoStatus(severity: Severity, dbs: readonly DatabaseBackupAge[], classes: Readonly<Record<Severity, IncidentClass>>, at: number): RpoStatus {
  const rpoMs = classes[severity].rpoMs;
  const ages = dbs.map((d) => ({ database: d.database, ...(d.newestVerifiedAt === undefined ? {} : { ageMs: Math.max(0, at - d.newestVerifiedAt) }) }));
  // A database without any verified backup is the worst; else the oldest newest backup.
  const worst = ages.find((a) => a.ageMs === undefined) ?? [...ages].sort((x, y) => (y.ageMs ?? 0) - (x.ageMs ?? 0))[0];
  return { rpoMs, ...(worst ? { worst } : {}), breached: worst !== undefined && (worst.ageMs === undefined || worst.ageMs > rpoMs) };
}

/** The databases an incident's checks name (`sqlite:<db>`, `sqlite:<db>:rows`, `backup:<db>`). */
export function affectedDatabases(checks: readonly string[], configured: readonly string[]): string[] {
  const named = configured.filter((d) => checks.some((c) => c === `sqlite:${d}` || c.startsWith(`sqlite:${d}:`) || c === `backup:${d}`));
  // A whole-system incident (no database named) puts every database at risk.
  return named.length ? named : [...configured];
}

/** One line of an incident's timeline, from wherever it was recorded. */
export interface TimelineEntry {
  at: number;
  /** `alert` (alert history), `audit` (the audit log), `run` (the run journal), `incident` (its own events: declared, opened, joined, raised, note, resolved, reopened). */
  source: 'alert' | 'audit' | 'run' | 'incident';
  /** `fired`, `resolved`, `acknowledged`, `silenced`; an audit action; `run.started`/`run.<status>`; an incident event kind. */
  kind: string;
  text: string;
  actor?: string;
  /** The check of an alert line. */
  checkId?: string;
  /** The status an alert line fired with (`critical`, `warning`), when recorded. */
  status?: string;
}

/** The milestones of an incident (ms), each once reached. */
export interface Milestones {
  detected: number;
  acknowledged?: number;
  mitigated?: number;
  resolved?: number;
}

/**
 * The milestones from the timeline: detected = the RTO clock's start (first alert, else the
 * declaration); acknowledged = the first sign of a person — an ack of one of its alerts, a note, or a
 * declaration by a person; mitigated = when the last of its alerts resolved, once none fires (an
 * incident without alerts: at its resolution); resolved = its resolution. Never before detection.
 * Only the alerts that make it an incident count for "mitigated": WARNINGs that joined it (a busy
 * host's CPU) and the recovery's own unfinished-run findings (`journal:…`) neither hold nor give it.
 */
export function milestones(i: Pick<IncidentCore, 'startedAt' | 'resolvedAt' | 'checks'>, timeline: readonly TimelineEntry[]): Milestones {
  const sorted = [...timeline].sort((a, b) => a.at - b.at);
  const human = sorted.find((e) => (e.source === 'alert' && e.kind === 'acknowledged') || (e.source === 'incident' && (e.kind === 'note' || e.kind === 'declared')));
  const last = new Map<string, string>();
  let mitigated: number | undefined;
  const firedAs = (id: string) => sorted.filter((e) => e.source === 'alert' && e.kind === 'fired' && e.checkId === id).map((e) => e.status);
  const major = new Set(i.checks.filter((id) => !id.startsWith('journal:') && (id === 'system:health' || firedAs(id).some((s) => s === undefined || s === 'critical'))));
  for (const e of sorted) {
    if (e.source !== 'alert' || e.checkId === undefined || !major.has(e.checkId) || (e.kind !== 'fired' && e.kind !== 'resolved')) continue;
    last.set(e.checkId, e.kind);
    if (e.kind === 'fired') mitigated = undefined;
    else if ([...last.values()].every((k) => k === 'resolved')) mitigated = e.at;
  }
  if (mitigated === undefined && major.size === 0) mitigated = i.resolvedAt;
  const after = (t: number | undefined) => (t === undefined ? undefined : Math.max(t, i.startedAt));
  const ack = after(human?.at);
  const mit = after(mitigated);
  return { detected: i.startedAt, ...(ack !== undefined ? { acknowledged: ack } : {}), ...(mit !== undefined ? { mitigated: mit } : {}), ...(i.resolvedAt !== undefined ? { resolved: after(i.resolvedAt) as number } : {}) };
}

/** "2h 05m", "14m 03s", "9s" (a zero last unit dropped: "4h", "15m"): a duration for a clock or a target. */
export function clockText(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return m ? `${h}h ${String(m).padStart(2, '0')}m` : `${h}h`;
  if (m > 0) return sec ? `${m}m ${String(sec).padStart(2, '0')}s` : `${m}m`;
  return `${sec}s`;
}
