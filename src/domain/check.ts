/** Status of one check, in the monitoring-plugin sense (Nagios/Icinga exit codes). */
export type CheckStatus = 'ok' | 'warning' | 'critical' | 'unknown';

/** What a check looked at. */
export type CheckKind =
  | 'host'
  | 'docker'
  | 'container'
  | 'redis'
  | 'sqlite'
  | 'http'
  | 'system'
  | 'backup'
  | 'journal'
  /** A notification channel's deliveries (issue #19): `notify:<channel>`. */
  | 'notify'
  /** Self-healing of a subject stopped (issue #20): `heal:<subject>`. */
  | 'heal'
  /** A failover pair (issue #21): `failover:<pair>`, which side is active. */
  | 'failover'
  /** Issue #23: a disk or Redis projected full within the horizon; a business/application probe; hardware signs. */
  | 'capacity'
  | 'probe'
  | 'hardware'
  /** Issue #25: the Alertmanager the console reads (`alertmanager:<host:port>`): WARNING while unreachable. */
  | 'alertmanager';

/** One sampled check result; the shape of `opsdeck check --json`'s `checks[]`. */
export interface CheckResult {
  /** Stable id, e.g. `container:backend`, `host:disk:/`, `redis:cache`. */
  id: string;
  kind: CheckKind;
  /** What was checked, for people: a container name, a URL (credentials removed), a path. */
  target: string;
  status: CheckStatus;
  value?: number | string;
  threshold?: number | string;
  message: string;
  latencyMs?: number;
  /** Set when the check belongs to a declared-critical service or datastore. */
  critical?: boolean;
  /** Id of the check whose failure made this one impossible to evaluate (dependency suppression). */
  suppressedBy?: string;
  /** Figures this check would normally carry but does not, each with why (e.g. `cpuPercent`). */
  missing?: Record<string, string>;
  /** HTTP: successful probes in a row, set when a rate over the window is waived because of them; an alert raised by a rate counts them toward its recovery. */
  okInARow?: number;
  /** The composite system health only: the sources not heard from yet (a monitor's first moments, issue #27); its value counts the checks that ran. */
  pending?: string[];
}

/** Severity order used to pick the worst status: unknown ranks above warning, below critical. */
const RANK: Record<CheckStatus, number> = { ok: 0, warning: 1, unknown: 2, critical: 3 };

/** The one severity rank (issue #15): ok 0 < warning 1 < unknown 2 < critical 3. Sort by `-severityRank` for worst first. */
export const severityRank = (s: CheckStatus): number => RANK[s];

/** The one threshold level (issue #15): WARNING above `warn`, CRITICAL above `crit` when set (host checks and gauge colours alike). */
export function thresholdLevel(value: number, warn: number, crit?: number): CheckStatus {
  if (crit !== undefined && value > crit) return 'critical';
  return value > warn ? 'warning' : 'ok';
}

/** The worst of several statuses; `ok` for none. Suppressed checks must be filtered out by the caller. */
export function worstStatus(statuses: Iterable<CheckStatus>): CheckStatus {
  let worst: CheckStatus = 'ok';
  for (const s of statuses) if (RANK[s] > RANK[worst]) worst = s;
  return worst;
}

/** Overall status of a run: the worst status of the checks that were not suppressed. */
export function overallStatus(checks: readonly CheckResult[]): CheckStatus {
  return worstStatus(checks.filter((c) => c.suppressedBy === undefined).map((c) => c.status));
}

/** Exit code for a status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (monitoring-plugin convention). */
export function exitCodeFor(status: CheckStatus): number {
  switch (status) {
    case 'ok':
      return 0;
    case 'warning':
      return 1;
    case 'critical':
      return 2;
    case 'unknown':
      return 3;
  }
}

/** Status of a dependency that is down: critical when declared critical, else warning. */
export function downStatus(critical: boolean): CheckStatus {
  return critical ? 'critical' : 'warning';
}
