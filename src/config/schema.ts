// Over 300 lines, knowingly. The opsdeck.yaml schema: every section with its defaults and ranges, to be read (and checked
// against the README's example) together; field types in fields.ts, the apps of issue #17 in schema-apps.ts.

import { z } from 'zod';
import { COPY_VALUES, unknownCopyValues } from '../domain/copy-template.js';
import { DAY, duration, DURATION_RANGES, HOUR, httpUrl, MINUTE, name, percent, schedule, SECOND } from './fields.js';
import { appSchema, checkApps, checkDependencies } from './schema-apps.js';
import { healSchema } from './schema-heal.js';
import { failoverIssues, failoverSchema } from './schema-failover.js';
import { incidentsSchema } from './schema-incidents.js';
import { integritySchema } from './schema-integrity.js';
import { checkNotify, notifySchema } from './schema-notify.js';
import { logSchema } from './schema-logs.js';
import { capacitySchema } from './schema-capacity.js';
import { checkProbes, probeSchema } from './schema-probes.js';
import { checkHosts, hostsSchema } from './schema-hosts.js';
import { metricsSchema } from './schema-metrics.js';
import { alertmanagerSchema } from './schema-alertmanager.js';

export { DURATION_RANGES } from './fields.js';

// Defaults are the source documents' numbers (docs/DESIGN.md §1): interval 30 s, failure
// threshold 3, recovery threshold 2, CPU > 80 %, memory > 90 %, disk > 85 %, API > 2 s,
// error rate > 5 %, request failure rate > 10 %, timeouts database 10 s / API 5 s. The field types
// (durations, schedules, URLs, names) are src/config/fields.ts; the apps of issue #17 schema-apps.ts.

const expectSchema = z.strictObject({
  /** HTTP status that counts as healthy; default any 2xx/3xx. */
  status: z.number().int().min(100).max(599).optional(),
  /** Text the body must contain. */
  body_contains: z.string().optional(),
  /** A JSON field (dotted path) that must equal a value. */
  json_path: z.string().optional(),
  equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
});

const serviceSchema = z.strictObject({
  name,
  /** Container name (as in `docker ps`). */
  container: z.string().optional(),
  /** docker-compose service name (label com.docker.compose.service). */
  compose_service: z.string().optional(),
  health_url: httpUrl.optional(),
  expect: expectSchema.optional(),
  timeout: duration(5_000, DURATION_RANGES.timeout),
  critical: z.boolean().default(false),
  /**
   * Shell commands that stop and start a service that is not a container (a systemd unit, a host
   * process): `systemctl stop trading-engine`. A restore runs them for the database's writers.
   */
  stop_command: z.string().min(1).optional(),
  start_command: z.string().min(1).optional(),
  /** Services (by name) this one needs running first: started after them, stopped before them (issue #17). */
  depends_on: z.array(z.string().min(1)).default([]),
}).refine((s) => !s.stop_command === !s.start_command, { message: 'expected stop_command and start_command together (a restore that stops a writer must be able to start it again)', path: ['start_command'] });

const databaseSchema = z.strictObject({
  name,
  type: z.literal('sqlite').default('sqlite'),
  path: z.string().min(1, 'expected the path of a SQLite file'),
  timeout: duration(10_000, DURATION_RANGES.timeout),
  critical: z.boolean().default(true),
  critical_tables: z.array(z.string()).default([]),
  normal_tables: z.array(z.string()).default([]),
  /** Services (by name) that write to this database; stopped during a restore. */
  writers: z.array(z.string()).default([]),
  /**
   * The columns a merge restore matches rows on, for tables without a PRIMARY KEY (`events: [source,
   * seq]`); a declared PRIMARY KEY is used otherwise. Rowids are never used: VACUUM renumbers them.
   */
  merge_keys: z.record(z.string(), z.union([z.string().min(1), z.array(z.string().min(1)).min(1, 'expected at least one column')], { error: 'expected a column name or a list of column names' })).default({}),
  /** This database's backup schedule, overriding `backup.schedule`; `off`: none for this one. */
  backup_schedule: schedule,
});

const redisSchema = z.strictObject({
  name,
  url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL'),
  timeout: duration(2_000, DURATION_RANGES.timeout),
  critical: z.boolean().default(true),
  /** When true, an unreachable instance is only noted, not reported as a failure. */
  optional: z.boolean().default(false),
  /** How redis-recovery restarts it (issue #16): its container, or stop/start shell commands (`systemctl stop redis-server`). */
  container: z.string().min(1).optional(),
  stop_command: z.string().min(1).optional(),
  start_command: z.string().min(1).optional(),
}).refine((s) => !s.stop_command === !s.start_command, { message: 'expected stop_command and start_command together (a runbook that stops Redis must be able to start it again)', path: ['start_command'] });

/** Runbooks (issue #16): the user's folder of runbook files, and which runbook answers which alert. */
const runbooksSchema = z.strictObject({
  /** A folder of runbook files (`*.yaml`); one with a built-in's name replaces it. Refused when group/others may write it. */
  dir: z.string().min(1).optional(),
  /** Check id pattern (`*` any text) → runbook name, tried in order before the defaults (`http:api: api-degraded`). */
  map: z.record(z.string().min(1), name).default({}),
});

const endpointSchema = z.strictObject({
  name,
  url: httpUrl,
  method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
  expect: expectSchema.optional(),
  timeout: duration(5_000, DURATION_RANGES.timeout),
  critical: z.boolean().default(false),
});

const thresholdsSchema = z.strictObject({
  cpu: percent(80),
  memory: percent(90),
  disk: percent(85),
  /** Optional critical levels; unset means a breach is only a warning. */
  cpu_critical: z.number().min(0).max(100).optional(),
  memory_critical: z.number().min(0).max(100).optional(),
  disk_critical: z.number().min(0).max(100).optional(),
  response_time: duration(2_000, DURATION_RANGES.response_time),
  error_rate: percent(5),
  failure_rate: percent(10),
  redis_memory: percent(90),
  /** Number of recent probes the error and failure rates are computed over. */
  window: z.number().int().min(1).max(1000).default(20),
  /**
   * Successful probes in a row after which an alert raised by the error or failure rate resolves
   * (with recovery_threshold, whichever is larger), although the window still holds the failures.
   */
  rate_recovery: z.number().int().min(1).max(1000).default(5),
  /** Below this composite system health (%), the system is critical. */
  system_health: percent(50),
});

const dockerSchema = z.strictObject({
  /** Engine address; default $DOCKER_HOST, then the default socket. */
  host: z.string().optional(),
  /** Only containers of this compose project (label com.docker.compose.project). */
  compose_project: z.string().optional(),
  /** Check every container of the engine, not only the declared services. */
  all_containers: z.boolean().default(false),
  timeout: duration(5_000, DURATION_RANGES.timeout),
  /** When true, an unreachable engine is only noted, not reported as a failure. */
  optional: z.boolean().default(false),
  /** Where container CPU/memory come from: cgroup files for a local engine (auto), or always the API. */
  stats_source: z.enum(['auto', 'api']).default('auto'),
});

/**
 * An off-host copy command (issue #17): a non-empty argv of strings run without a shell; `{{…}}`
 * may only name the copy values (`{{backup.path}}`, …), each filled into its element as it is.
 */
const copyArgv = z
  .array(z.string({ error: 'expected a string' }), { error: 'expected a non-empty list of strings (an argv, run without a shell), such as ["cp", "{{backup.path}}", "/mnt/offsite/"]' })
  .min(1, 'expected a non-empty list of strings (an argv, run without a shell), such as ["cp", "{{backup.path}}", "/mnt/offsite/"]')
  .superRefine((argv, ctx) => {
    if (argv[0] === '') ctx.addIssue({ code: 'custom', path: [0], message: 'expected the program to run as the first element, got ""' });
    argv.forEach((a, i) => {
      for (const n of unknownCopyValues(a)) ctx.addIssue({ code: 'custom', path: [i], message: `unknown value {{${n}}} (expected one of: ${COPY_VALUES.map((v) => `{{${v}}}`).join(', ')})` });
    });
  });

const backupSchema = z.strictObject({
  /** Where backups are stored; default $XDG_DATA_HOME/opsdeck/backups/<db>. */
  dir: z.string().optional(),
  /**
   * Every database is backed up this often (verified, then pruned) by the monitor holding the
   * `backup-scheduler` lease (`watch` or the console); unset or `off`: no schedule.
   */
  schedule,
  /** Retention: the N newest backups, and the newest of each of the last N hours that have one. */
  keep_last: z.number().int().min(0).default(24),
  keep_hourly: z.number().int().min(0).default(48),
  keep_daily: z.number().int().min(0).default(7),
  keep_weekly: z.number().int().min(0).default(4),
  keep_monthly: z.number().int().min(0).default(12),
  /**
   * Safety copies (the database as it was before each restore, in <state dir>/safety): after a
   * restore, the newest N of each database and any younger than N days are kept, and always the
   * copy of an unfinished run; the rest are removed (issue #13).
   */
  keep_safety_copies: z.number().int().min(1).max(1000).default(3),
  keep_safety_days: z.number().int().min(0).max(3650).default(1),
  /** Recovery point objective: the newest verified backup must be younger than this. */
  rpo: duration(24 * 3_600_000, DURATION_RANGES.rpo),
  /** Configuration files backed up when their content changes. */
  config_files: z.array(z.string()).default([]),
  /**
   * Report and other data files (issue #17): globs relative to the configuration file's folder
   * (`!glob` excludes), backed up as one set with checksums and the same retention.
   */
  files: z.array(z.string().min(1, 'expected a glob such as "reports/**/*.csv"')).default([]),
  /** How often the `backup-scheduler` lease holder backs up `files`; `off`: never. Default 7d. */
  files_schedule: schedule.transform((v) => v ?? 7 * DAY),
  /** Off-host copy of each backup once it verified: an argv (no shell) with `{{backup.…}}` values. */
  copy_command: copyArgv.optional(),
  /** Checks the copy: its stdout must contain the backup's sha256 (`sha256sum /mnt/offsite/{{backup.file}}`). */
  copy_verify_command: copyArgv.optional(),
  /** How long the copy command (and, again, the verify command) may run before its process group is killed. */
  copy_timeout: duration(10 * MINUTE, { min: SECOND, max: 24 * HOUR, why: 'how long an off-host copy may take' }),
}).refine((b) => !b.copy_verify_command || b.copy_command, { message: 'expected copy_command too (copy_verify_command checks the copy it makes)', path: ['copy_verify_command'] });

/**
 * The console's logs view (issue #26): how many lines it keeps to scroll and filter. Bounded by
 * bytes (the estimate of src/domain/log-buffer.ts: 2 bytes a character + 64 a line), and by a number
 * of lines when `lines` is set; the oldest go first.
 */
const logViewSchema = z.strictObject({
  /** Megabytes of lines kept (default 32: ~300,000 lines of 50 characters). */
  buffer_mb: z.number({ error: 'expected a number of megabytes such as 32' }).int('expected a whole number of megabytes').min(1, 'expected at least 1 (MB)').max(4096, 'expected at most 4096 (MB)').default(32),
  /** At most this many lines, besides the bytes (none by default). */
  lines: z.number({ error: 'expected a number of lines such as 100000' }).int('expected a whole number of lines').min(100, 'expected at least 100 lines').optional(),
});

/** The whole opsdeck.yaml. */
export const configSchema = z
  .strictObject({
  name: z.string().default('opsdeck'),
  interval: duration(30_000, DURATION_RANGES.interval),
  /** Refresh of gauges and container stats in the console. */
  refresh: duration(2_000, DURATION_RANGES.refresh),
  failure_threshold: z.number().int().min(1).max(64).default(3),
  recovery_threshold: z.number().int().min(1).max(64).default(2),
  state_dir: z.string().optional(),
  docker: dockerSchema.default(() => dockerSchema.parse({})),
  thresholds: thresholdsSchema.default(() => thresholdsSchema.parse({})),
  services: z.array(serviceSchema).default([]),
  databases: z.array(databaseSchema).default([]),
  redis: z.array(redisSchema).default([]),
  endpoints: z.array(endpointSchema).default([]),
  backup: backupSchema.default(() => backupSchema.parse({})),
  /** Log files the console can follow besides containers' logs. */
  logs: z.array(logSchema).default([]),
  /** The console's logs view: its buffer (issue #26). */
  log_view: logViewSchema.default(() => logViewSchema.parse({})),
  /** Console key remapping: command id → keys (see `?` in the console). */
  keys: z.record(z.string(), z.array(z.string())).default({}),
  runbooks: runbooksSchema.default(() => runbooksSchema.parse({})),
  /** Applications that app-update and db-migrate act on (issue #17). */
  apps: z.array(appSchema).default([]),
  incidents: incidentsSchema,
  /** Self-healing (issue #20): rules, backoff, budget, memory restarts. */
  heal: healSchema,
  /** Failover (issue #21): primary/backup pairs probed on their own schedule; the load rule. */
  failover: failoverSchema,
  /** Data integrity of each database (issue #22: `opsdeck db check|repair`): unique keys, column rules, timestamp columns. */
  integrity: integritySchema,
  /** Notifications (issue #19): channels (Slack, webhook, email, SMS), routes, grouping, repeats. */
  notify: notifySchema,
  /** Capacity samples and "projected full" warnings (issue #23). */
  capacity: capacitySchema,
  /** Business and application metrics: an SQL query or a JSON field, thresholded (issue #23). */
  probes: z.array(probeSchema).default([]),
  /** Other machines' Docker engines watched from here (issue #25): their services' containers, their gauges. */
  hosts: hostsSchema,
  /** The Prometheus endpoint of `opsdeck watch` and the `host` label it exports (issue #25). */
  metrics: metricsSchema,
  /** A Prometheus Alertmanager whose alerts the console shows beside its own (issue #25). */
  alertmanager: alertmanagerSchema,
  /** Marks the workspace made by `opsdeck demo`; drills refuse every other config. */
  demo: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    // Two entries of one name give one check id (issue #13): their results overwrite each other.
    // A service with a health_url is probed as `http:<name>`, like an endpoint.
    const groups: { label: string; items: { name: string; path: (string | number)[] }[] }[] = [
      { label: 'service', items: c.services.map((s, i) => ({ name: s.name, path: ['services', i, 'name'] })) },
      { label: 'database', items: c.databases.map((d, i) => ({ name: d.name, path: ['databases', i, 'name'] })) },
      { label: 'Redis', items: c.redis.map((r, i) => ({ name: r.name, path: ['redis', i, 'name'] })) },
      { label: 'endpoint', items: c.endpoints.map((e, i) => ({ name: e.name, path: ['endpoints', i, 'name'] })) },
      { label: 'log', items: c.logs.map((l, i) => ({ name: l.name, path: ['logs', i, 'name'] })) },
      { label: 'app', items: c.apps.map((a, i) => ({ name: a.name, path: ['apps', i, 'name'] })) },
      { label: 'probe', items: c.probes.map((p, i) => ({ name: p.name, path: ['probes', i, 'name'] })) },
      {
        label: 'HTTP check (services with a health_url and endpoints are both checked as http:<name>)',
        items: [
          ...c.services.flatMap((s, i) => (s.health_url ? [{ name: s.name, path: ['services', i, 'name'] }] : [])),
          ...c.endpoints.map((e, i) => ({ name: e.name, path: ['endpoints', i, 'name'] })),
        ],
      },
    ];
    for (const g of groups) {
      const seen = new Map<string, (string | number)[]>();
      for (const it of g.items) {
        const first = seen.get(it.name);
        if (first) {
          ctx.addIssue({ code: 'custom', path: it.path, message: `duplicate ${g.label} name ${JSON.stringify(it.name)}, also at ${pathText(first)} (each needs its own name: they would share one check id)` });
          return;
        }
        seen.set(it.name, it.path);
      }
    }
    // A writer a restore cannot find is found out at 3 a.m. otherwise (issue #13).
    const services = c.services.map((s) => s.name);
    checkApps(c, services, ctx);
    checkDependencies(c.services, ctx);
    checkNotify(c, ctx);
    for (const [path, message] of failoverIssues(c.failover, services)) ctx.addIssue({ code: 'custom', path, message });
    checkProbes(c.probes, c.databases.map((d) => d.name), ctx);
    checkHosts(c, ctx);
    c.databases.forEach((d, i) =>
      d.writers.forEach((w, j) => {
        if (!services.includes(w)) ctx.addIssue({ code: 'custom', path: ['databases', i, 'writers', j], message: `service ${JSON.stringify(w)} is not in services (expected one of: ${services.join(', ') || 'none declared'})` });
      }),
    );
  });

function pathText(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');
}

/** Validated configuration, durations in milliseconds. */
export type Config = z.output<typeof configSchema>;
export type ServiceConfig = Config['services'][number];
export type DatabaseConfig = Config['databases'][number];
export type RedisConfig = Config['redis'][number];
export type EndpointConfig = Config['endpoints'][number];
export type RunbooksConfig = Config['runbooks'];
export type AppConfig = Config['apps'][number];
export type Thresholds = Config['thresholds'];
export type BackupConfig = Config['backup'];
export type ExpectConfig = z.output<typeof expectSchema>;

/**
 * Top-level keys kept for the features that come next (ARCHITECTURE.md "Reserved config keys"): a
 * configuration that uses one now gets a clear error naming what it is for, not "unknown key".
 */
export const RESERVED_CONFIG_KEYS: Readonly<Record<string, string>> = {};
