import type { CheckResult } from './check.js';

// Which runbook answers an alert (issue #16): `F` on the selected alert, `runbook run --check ID`.
// Defaults by check kind, overridden per check id pattern by `runbooks.map` in the configuration.
// Pure: the caller gives the configured names it needs to resolve a target.

/** What a runbook acts on: a configured entry by kind and name (a mount point for `host`). */
export interface MappedTarget {
  kind: 'service' | 'database' | 'redis' | 'endpoint' | 'host' | 'app' | 'none';
  name: string;
}

/** The runbook for an alert, and what it acts on. */
export interface RunbookChoice {
  runbook: string;
  target: MappedTarget;
  check: string;
}

/** The configured names a target is resolved among. */
export interface MapNames {
  services: readonly string[];
  endpoints: readonly string[];
  redis: readonly string[];
  databases: readonly string[];
  /** Failover pairs (issue #21): pair name → its primary service (`failover:<pair>` → failback on the primary). */
  pairs?: Readonly<Record<string, string>>;
}

/** `*` matches any run of characters; everything else is literal. */
export function matchesPattern(pattern: string, id: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(id);
}

/**
 * An HTTP check whose service answered (an HTTP status, or slow) is degraded: api-degraded. One
 * that did not answer at all (refused, timed out) is down: service-recovery. Read from the result's
 * shape, never its message: a failed probe carries the status it got as `value`, a slow one its latency.
 */
export function httpAnswered(r: Pick<CheckResult, 'status' | 'value'>): boolean {
  // Issue #20: not `status === 'warning'` — a non-critical service that does not answer is a
  // WARNING too (downStatus), and it is down, not degraded. A slow answer carries its latency.
  return typeof r.value === 'number';
}

/** The target a check id names, by its kind (`http:api` → the service or endpoint api). */
export function targetOfCheck(r: Pick<CheckResult, 'id' | 'kind'>, names: MapNames): MappedTarget | undefined {
  const [, first = '', ...rest] = r.id.split(':');
  switch (r.kind) {
    case 'container': {
      // A remote host's container check (issue #25) is `container:<service>@<host>`: the same service.
      const svc = first.replace(/@[^@]*$/, '');
      return names.services.includes(svc) ? { kind: 'service', name: svc } : undefined;
    }
    case 'http':
      if (names.services.includes(first)) return { kind: 'service', name: first };
      return names.endpoints.includes(first) ? { kind: 'endpoint', name: first } : undefined;
    case 'redis':
      return names.redis.includes(first) ? { kind: 'redis', name: first } : undefined;
    case 'sqlite':
    case 'backup':
      return names.databases.includes(first) ? { kind: 'database', name: first } : undefined;
    case 'host':
      return first === 'disk' && rest.length ? { kind: 'host', name: rest.join(':') } : undefined;
    case 'failover': {
      const primary = names.pairs?.[first];
      return primary ? { kind: 'service', name: primary } : undefined;
    }
    case 'docker':
    case 'system':
    case 'journal':
      return undefined;
    default:
      return undefined;
  }
}

/** The built-in runbook for a check, by its kind (issue #16's table); undefined when none fits. */
export function defaultRunbook(r: Pick<CheckResult, 'id' | 'kind' | 'status' | 'value'> & { message?: string }): string | undefined {
  switch (r.kind) {
    case 'container':
      return 'service-recovery';
    case 'http':
      return httpAnswered(r) ? 'api-degraded' : 'service-recovery';
    case 'redis':
      return 'redis-recovery';
    // Rows a merge kept as conflicts wait for a person's review, not for another restore.
    case 'sqlite':
      return r.id.endsWith(':rows') && r.message?.startsWith('merge conflicts kept for review') ? undefined : 'restore-database';
    case 'host':
      return r.id.startsWith('host:disk:') ? 'disk-pressure' : undefined;
    // The backup side serves (or a switch failed): failing back is a person's decision, never the healer's.
    case 'failover':
      return r.status === 'ok' ? undefined : 'failback';
    case 'backup':
    case 'docker':
    case 'system':
    case 'journal':
      return undefined;
    default:
      return undefined;
  }
}

/**
 * The runbook for an alert: the first `map` pattern matching its check id (in the order written),
 * else the default for its kind; with the target its check id names. Undefined when no runbook
 * fits or the target is not configured.
 */
export function runbookForCheck(r: Pick<CheckResult, 'id' | 'kind' | 'status' | 'value'> & { message?: string }, names: MapNames, map: Readonly<Record<string, string>> = {}): RunbookChoice | undefined {
  const mapped = Object.entries(map).find(([pattern]) => matchesPattern(pattern, r.id))?.[1];
  const target = targetOfCheck(r, names);
  if (mapped) return { runbook: mapped, target: target ?? { kind: 'none', name: '' }, check: r.id };
  // The HTTP defaults restart a service: an endpoint alone (no service behind it in the
  // configuration) has nothing they could restart — map one in runbooks.map.
  if (target?.kind === 'endpoint') return undefined;
  const runbook = defaultRunbook(r);
  return runbook && target ? { runbook, target, check: r.id } : undefined;
}
