// Over 300 lines, knowingly: every check's pure evaluation (host, Docker, Redis, SQLite, HTTP, RPO,
// system health) side by side, sharing the status rules; each is a small function.
// Pure evaluation: adapter samples in, CheckResults out. No I/O, no clock (times come in).
import type { Config, DatabaseConfig, RedisConfig, ServiceConfig, Thresholds } from '../config/schema.js';
import type { ContainerInfo, ContainerStats, HostSample, HttpProbe, RedisHealth, SqliteHealth } from './observations.js';
import { downStatus, thresholdLevel, type CheckResult, type CheckStatus } from './check.js';
import { formatBytes, formatDuration, formatMs, formatPercent } from './format.js';
import type { Result } from './result.js';
import type { ScheduleView } from './schedule.js';
import type { OffHostCopy } from './copy-template.js';
import type { WindowStats } from './window.js';

const coarseDuration = (ms: number) => formatDuration(ms, 'coarse');

const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;

const level = thresholdLevel;

/** Host checks: CPU, memory, each filesystem, network throughput (thresholds: docs/DESIGN.md §1). */
export function evaluateHost(sample: Result<HostSample>, t: Thresholds): CheckResult[] {
  if (!sample.ok) return [{ id: 'host', kind: 'host', target: 'localhost', status: 'unknown', message: sample.error.message }];
  const h = sample.value;
  const out: CheckResult[] = [];
  if (h.cpuPercent !== undefined) {
    const s = level(h.cpuPercent, t.cpu, t.cpu_critical);
    out.push({
      id: 'host:cpu', kind: 'host', target: h.hostname, status: s, value: round(h.cpuPercent), threshold: t.cpu,
      message: `CPU ${formatPercent(h.cpuPercent)}${s === 'ok' ? '' : ` above ${t.cpu}%`} (load ${h.load.map((l) => l.toFixed(2)).join(' ')}, ${h.cpuCount} cores)`,
    });
  }
  const m = h.memory;
  const ms = level(m.percent, t.memory, t.memory_critical);
  out.push({
    id: 'host:memory', kind: 'host', target: h.hostname, status: ms, value: round(m.percent), threshold: t.memory,
    message: `memory ${formatPercent(m.percent)} used (${formatBytes(m.usedBytes)} of ${formatBytes(m.totalBytes)})${ms === 'ok' ? '' : ` above ${t.memory}%`}`,
  });
  for (const fs of h.filesystems) {
    const s = level(fs.percent, t.disk, t.disk_critical);
    out.push({
      id: `host:disk:${fs.mount}`, kind: 'host', target: fs.mount, status: s, value: round(fs.percent), threshold: t.disk,
      message: `disk ${fs.mount} ${formatPercent(fs.percent)} used (${formatBytes(fs.sizeBytes - fs.usedBytes)} free)${s === 'ok' ? '' : ` above ${t.disk}%`}`,
    });
  }
  if (h.network.rxBytesPerSec !== undefined && h.network.txBytesPerSec !== undefined) {
    out.push({
      id: 'host:network', kind: 'host', target: h.hostname, status: 'ok', value: Math.round(h.network.rxBytesPerSec + h.network.txBytesPerSec),
      message: `network in ${formatBytes(h.network.rxBytesPerSec)}/s, out ${formatBytes(h.network.txBytesPerSec)}/s`,
    });
  }
  return out;
}

/** Everything the Docker source saw in one run. */
export interface DockerObservation {
  endpoint: string;
  /** True when no address was configured and the default socket is used. */
  isDefault: boolean;
  /** An unreachable engine is only noted (no config and no DOCKER_HOST). */
  optional: boolean;
  engine: Result<{ version: string; latencyMs: number }>;
  containers?: Result<ContainerInfo[]>;
  stats: Map<string, ContainerStats>;
  /** Running containers whose stats were deliberately not read, with why. */
  unmeasured?: Map<string, string>;
}

/** Finds the containers behind a configured service: by container name, else by compose service label. */
export function matchService(svc: ServiceConfig, containers: readonly ContainerInfo[]): ContainerInfo | undefined {
  const found = containers.filter((c) =>
    svc.container ? c.name === svc.container : c.composeService === svc.compose_service,
  );
  // Prefer a running replica, so one exited leftover does not mask a healthy service.
  return found.find((c) => c.state === 'running') ?? found[0];
}

/** Describes a container's condition and decides its status. */
export function containerStatus(c: ContainerInfo, critical: boolean, declared: boolean): { status: CheckStatus; message: string } {
  const bad = downStatus(critical);
  switch (c.state) {
    case 'running':
      if (c.health === 'unhealthy')
        return { status: bad, message: `${c.name} is unhealthy (failing streak ${c.failingStreak ?? '?'})${c.healthOutput ? `: ${c.healthOutput.split('\n')[0]}` : ''}` };
      if (c.health === 'starting') return { status: 'warning', message: `${c.name} is running, health check still starting` };
      return { status: 'ok', message: `${c.name} is running${c.health === 'healthy' ? ' and healthy' : ''}` };
    case 'restarting':
      return { status: bad, message: `${c.name} is restarting (restart count ${c.restartCount}, last exit code ${c.exitCode})` };
    case 'paused':
      // A paused container serves nothing: as down as a stopped one for a critical service (issue #11).
      return { status: declared ? bad : 'warning', message: `${c.name} is paused (docker unpause ${c.name})` };
    case 'exited':
    case 'dead':
      // Undeclared containers that exited cleanly are finished jobs, not failures.
      if (!declared && c.exitCode === 0) return { status: 'ok', message: `${c.name} exited (code 0)` };
      return { status: declared ? bad : 'warning', message: `${c.name} is ${c.state} (exit code ${c.exitCode}; docker logs ${c.name})` };
    case 'created':
    case 'removing':
      return { status: declared ? bad : 'warning', message: `${c.name} is ${c.state}, not running` };
  }
}

function containerResult(id: string, c: ContainerInfo, stats: ContainerStats | undefined, critical: boolean, declared: boolean, notRead?: string): CheckResult {
  const { status, message } = containerStatus(c, critical, declared);
  const extra = stats
    ? `; CPU ${stats.cpuPercent !== undefined ? formatPercent(stats.cpuPercent) : stats.cpuMissing ? 'not measured' : '…'}, memory ${formatBytes(stats.memUsedBytes)}${stats.memLimitBytes ? ` of ${formatBytes(stats.memLimitBytes)}` : ''}`
    : notRead
      ? '; CPU and memory not measured'
      : '';
  const missing: Record<string, string> | undefined = !stats && notRead ? { cpuPercent: notRead, memory: notRead } : stats?.cpuPercent === undefined && stats?.cpuMissing ? { cpuPercent: stats.cpuMissing } : undefined;
  return {
    id, kind: 'container', target: c.name, status, message: `${message}${extra}`,
    ...(stats?.cpuPercent !== undefined ? { value: round(stats.cpuPercent) } : {}),
    ...(critical ? { critical: true } : {}),
    ...(missing ? { missing } : {}),
  };
}

/**
 * Engine and container checks; with the engine unreachable, one engine alert and the containers suppressed.
 * `host` (issue #25): a configured remote host's engine — every id carries `@<host>`
 * (`docker:engine@db1`, `container:web@db1`), `config` holding that host's services and settings.
 */
export function evaluateDocker(obs: DockerObservation, config: Pick<Config, 'services'> & { docker: Pick<Config['docker'], 'all_containers'> }, standby: ReadonlySet<string> = new Set(), host?: string): CheckResult[] {
  const services = config.services.filter((s) => s.container || s.compose_service);
  const anyCritical = services.some((s) => s.critical);
  const { at, where, of } = hostWords(host);
  const engineId = `docker:engine${at}`;
  const failed = !obs.engine.ok ? obs.engine.error : obs.containers && !obs.containers.ok ? obs.containers.error : undefined;
  if (failed) {
    const noted = obs.optional && failed.kind !== 'auth';
    const status: CheckStatus = noted ? 'ok' : services.length ? downStatus(anyCritical) : 'warning';
    const out: CheckResult[] = [{
      id: engineId, kind: 'docker', target: obs.endpoint, status,
      message: noted ? `${where}${failed.message} — containers not checked` : `${where}${failed.message}${services.length ? `; ${services.length} container check(s) suppressed` : ''}`,
      ...(anyCritical && !noted ? { critical: true } : {}),
    }];
    for (const s of services) {
      out.push({
        id: `container:${s.name}${at}`, kind: 'container', target: s.container ?? s.compose_service ?? s.name, status: 'unknown',
        message: `not checked: Docker engine${of} unreachable`, suppressedBy: engineId, ...(s.critical ? { critical: true } : {}),
      });
    }
    return out;
  }
  const engine = obs.engine.ok ? obs.engine.value : undefined;
  const containers = obs.containers?.ok ? obs.containers.value : [];
  const out: CheckResult[] = [{
    id: engineId, kind: 'docker', target: obs.endpoint, status: 'ok',
    message: `${where}Docker ${engine?.version ?? ''} at ${obs.endpoint}: ${containers.filter((c) => c.state === 'running').length} of ${containers.length} containers running`,
    ...(engine ? { latencyMs: Math.round(engine.latencyMs) } : {}),
    ...(anyCritical ? { critical: true } : {}),
  }];
  const claimed = new Set<string>();
  for (const s of services) {
    const c = matchService(s, containers);
    if (!c) {
      out.push({
        id: `container:${s.name}${at}`, kind: 'container', target: s.container ?? s.compose_service ?? s.name, status: downStatus(s.critical),
        message: `no container ${s.container ? `named ${s.container}` : `with compose service ${s.compose_service}`} on ${obs.endpoint}`,
        ...(s.critical ? { critical: true } : {}),
      });
      continue;
    }
    claimed.add(c.id);
    // The standby side of a failover pair (issue #21) is stopped on purpose: failover:<pair> says which side serves.
    if (standby.has(s.name) && (c.state === 'exited' || c.state === 'created')) {
      out.push({ id: `container:${s.name}${at}`, kind: 'container', target: c.name, status: 'ok', message: `${c.name} is stopped: the standby of a failover pair (its failover: check says which side serves)` });
      continue;
    }
    out.push(containerResult(`container:${s.name}${at}`, c, obs.stats.get(c.id), s.critical, true, obs.unmeasured?.get(c.id)));
  }
  if (config.docker.all_containers) {
    for (const c of containers) if (!claimed.has(c.id)) out.push(containerResult(`container:${c.name}${at}`, c, obs.stats.get(c.id), false, false, obs.unmeasured?.get(c.id)));
  }
  return out;
}

/** How a host's checks are named and said (issue #25): `@db1` on ids, "host db1: " before messages. */
function hostWords(host: string | undefined): { at: string; where: string; of: string } {
  return host === undefined ? { at: '', where: '', of: '' } : { at: `@${host}`, where: `host ${host}: `, of: ` of host ${host}` };
}

/** Redis: reachability, memory against maxmemory (≥ threshold % is a warning), persistence, replication. */
export function evaluateRedis(cfg: RedisConfig, target: string, r: Result<RedisHealth>, t: Thresholds): CheckResult {
  const base = { id: `redis:${cfg.name}`, kind: 'redis' as const, target, ...(cfg.critical ? { critical: true } : {}) };
  if (!r.ok) {
    if (cfg.optional) {
      return { id: base.id, kind: 'redis', target, status: 'ok', message: `${r.error.message} — not checked (REDIS_URL not set)` };
    }
    return { ...base, status: downStatus(cfg.critical), message: r.error.message };
  }
  const h = r.value;
  const latency = { latencyMs: round(h.latencyMs, 2) };
  const problems: { status: CheckStatus; text: string }[] = [];
  if (h.memoryPercent !== undefined && h.memoryPercent >= t.redis_memory)
    problems.push({ status: 'warning', text: `memory ${formatPercent(h.memoryPercent)} of maxmemory (${formatBytes(h.usedMemoryBytes)} of ${formatBytes(h.maxMemoryBytes ?? 0)}, policy ${h.maxMemoryPolicy ?? '?'})` });
  if (h.rdbLastBgsaveStatus === 'err')
    problems.push({ status: downStatus(cfg.critical), text: 'last RDB save failed: Redis refuses writes (MISCONF) until a save succeeds' });
  if (h.aofEnabled && h.aofLastWriteStatus === 'err') problems.push({ status: downStatus(cfg.critical), text: 'AOF writes are failing' });
  if (h.masterLinkStatus === 'down') problems.push({ status: 'warning', text: 'replica link to master is down' });
  if (h.loading) problems.push({ status: 'warning', text: 'loading the dataset into memory' });
  if (h.evictedDelta) problems.push({ status: 'warning', text: `${h.evictedDelta} keys evicted since the last probe` });
  const mem = h.maxMemoryBytes ? `${formatBytes(h.usedMemoryBytes)} of ${formatBytes(h.maxMemoryBytes)}` : `${formatBytes(h.usedMemoryBytes)} (no maxmemory)`;
  const value = h.memoryPercent !== undefined ? round(h.memoryPercent) : undefined;
  if (problems.length === 0) {
    return { ...base, status: 'ok', ...latency, ...(value !== undefined ? { value, threshold: t.redis_memory } : {}),
      message: `Redis ${h.version ?? ''} ${h.role ?? ''} answered in ${formatMs(h.latencyMs)}; memory ${mem}${h.hitRatio !== undefined ? `, hit ratio ${formatPercent(h.hitRatio * 100)}` : ''}`.replace(/\s+/g, ' ') };
  }
  const worst = problems.some((p) => p.status === 'critical') ? 'critical' : 'warning';
  return { ...base, status: worst, ...latency, ...(value !== undefined ? { value, threshold: t.redis_memory } : {}), message: `Redis: ${problems.map((p) => p.text).join('; ')}` };
}

/** SQLite: exists, is a database, quick_check passes. */
export function evaluateSqlite(cfg: DatabaseConfig, r: Result<SqliteHealth>): CheckResult {
  const base = { id: `sqlite:${cfg.name}`, kind: 'sqlite' as const, target: cfg.path, ...(cfg.critical ? { critical: true } : {}) };
  if (!r.ok) {
    // Locked past its timeout, a critical database cannot be read by its services either (issue #11).
    const status = downStatus(cfg.critical);
    return { ...base, status, message: r.error.message };
  }
  const h = r.value;
  const size = `${formatBytes(h.sizeBytes)}${h.walBytes ? ` + ${formatBytes(h.walBytes)} WAL` : ''}`;
  if (h.quickCheck.length !== 1 || h.quickCheck[0] !== 'ok') {
    // One answer of quick_check can hold many lines ("*** in database main ***\nPage 10: never used\n…"):
    // the message stays one line (an incident's title carried a hundred lines of it).
    const lines = h.quickCheck.flatMap((l) => l.split('\n')).map((l) => l.trim()).filter((l) => l !== '');
    return { ...base, status: downStatus(cfg.critical), latencyMs: Math.round(h.latencyMs),
      message: `${cfg.path} failed quick_check: ${lines.slice(0, 3).join('; ')}${lines.length > 3 ? ` (+${lines.length - 3} more)` : ''}` };
  }
  return { ...base, status: 'ok', value: h.sizeBytes, latencyMs: Math.round(h.latencyMs),
    message: `${cfg.path}: quick_check ok, ${size}, ${h.pageCount} pages (${h.freelistCount} free), ${h.journalMode}` };
}

/** HTTP: the latest probe decides reachability; latency and the window's error/failure rates add warnings. */
export function evaluateHttp(
  id: string, critical: boolean, probe: HttpProbe, win: WindowStats, t: Thresholds, minSamplesForRates = 5, failureThreshold = 3,
): CheckResult {
  const base = { id, kind: 'http' as const, target: probe.target, latencyMs: Math.round(probe.latencyMs), ...(critical ? { critical: true } : {}) };
  const rates = win.count >= minSamplesForRates ? `; over the last ${win.count} probes: errors ${formatPercent(win.errorRate)}, failures ${formatPercent(win.failureRate)}` : '';
  if (!probe.ok) {
    return { ...base, status: downStatus(critical), ...(probe.status !== undefined ? { value: probe.status } : {}), message: `${probe.failure?.message ?? 'probe failed'}${rates}` };
  }
  const problems: string[] = [];
  if (probe.latencyMs > t.response_time) problems.push(`slow: answered in ${formatMs(probe.latencyMs)} (threshold ${formatMs(t.response_time)})`);
  // A rate over the window lags: the failed probes stay in it long after the service answers again
  // (issue #11: an alert stayed firing 38–95 s after the API was back). Two waivers:
  // - one outage it came back from (the window's failures are one block of at least
  //   failure_threshold, then successes): that is judged by failure_threshold and
  //   recovery_threshold alone, not by the rate it leaves behind;
  // - failures spread out (a flap) stop counting once the last `rate_recovery` probes all succeeded;
  //   the result then carries the streak, so stepAlert resolves the alert after max(recovery_threshold,
  //   rate_recovery) successes in a row. A service failing one probe in three never gets the streak.
  const ratesHigh = win.count >= minSamplesForRates && (win.errorRate > t.error_rate || win.failureRate > t.failure_rate);
  const flapOver = win.okStreak >= t.rate_recovery;
  const outageOver = win.failureRuns === 1 && win.okStreak >= 1 && win.lastFailureRun >= failureThreshold;
  if (ratesHigh && !flapOver && !outageOver) {
    if (win.errorRate > t.error_rate) problems.push(`error rate ${formatPercent(win.errorRate)} above ${t.error_rate}%`);
    if (win.failureRate > t.failure_rate) problems.push(`failure rate ${formatPercent(win.failureRate)} above ${t.failure_rate}%`);
  }
  const streak = ratesHigh && flapOver && !outageOver ? { okInARow: win.okStreak } : {};
  if (problems.length) return { ...base, status: 'warning', value: Math.round(probe.latencyMs), threshold: t.response_time, message: `${probe.target}: ${problems.join('; ')}${rates}` };
  return { ...base, ...streak, status: 'ok', value: Math.round(probe.latencyMs), threshold: t.response_time, message: `${probe.target} answered HTTP ${probe.status} in ${formatMs(probe.latencyMs)}${rates}` };
}

/**
 * Composite "system health": the share of critical checks that pass (a warning counts half).
 * Below the threshold (default 50 %) the system is critical (docs/DESIGN.md §1). `pending`: sources
 * whose first run has not finished (the console draws before a slow probe answers, issue #27): the
 * figure counts only the checks that ran, and says which sources it is still waiting for.
 */
export function systemHealth(checks: readonly CheckResult[], threshold: number, pending: readonly string[] = []): CheckResult {
  const critical = checks.filter((c) => c.critical && c.suppressedBy === undefined);
  const score = critical.reduce((a, c) => a + (c.status === 'ok' ? 1 : c.status === 'warning' ? 0.5 : 0), 0);
  const pct = critical.length ? (score / critical.length) * 100 : 100;
  const failing = critical.filter((c) => c.status !== 'ok').map((c) => c.id);
  const checking = pending.length ? `; still checking: ${pending.join(', ')}` : '';
  return {
    id: 'system:health', kind: 'system', target: 'stack', status: pct < threshold ? 'critical' : 'ok', value: Math.round(pct), threshold,
    message: critical.length
      ? `system health ${Math.round(pct)}% (${critical.length - failing.length} of ${critical.length} critical checks passing${failing.length ? `; failing: ${failing.join(', ')}` : ''}${checking})`
      : `system health 100% (no checks are declared critical${checking})`,
    ...(pending.length ? { pending: [...pending] } : {}),
  };
}

/** The newest verified backup's off-host copy (issue #17), when it failed: `off-host copy of X failed: why; `. */
function offHostFailed(newest: { id: string; offHost?: OffHostCopy | undefined } | undefined): string {
  const c = newest?.offHost;
  if (!c || c.ok) return '';
  return `off-host copy of ${newest.id} failed: ${c.message.length > 160 ? `${c.message.slice(0, 159)}…` : c.message}; `;
}

/**
 * RPO: the age of the newest verified backup against the configured objective, and when the next
 * scheduled backup is due (issue #10). Exceeded, no verified backup at all, a scheduled backup
 * that failed (with its one-line error, until a verified backup follows it), or a newest verified
 * backup whose off-host copy failed (issue #17), or a scheduled backup overdue because it waits for an
 * unfinished restore, is a warning that says what happens next or what to run.
 */
export function evaluateBackupAge(db: DatabaseConfig, newestVerifiedAt: number | undefined, rpoMs: number, now: number, schedule: ScheduleView = { kind: 'none' }, newest?: { id: string; offHost?: OffHostCopy | undefined }): CheckResult {
  const base = { id: `backup:${db.name}`, kind: 'backup' as const, target: db.path, threshold: Math.round(rpoMs / 1000) };
  const next = describeSchedule(schedule, now);
  const failed = `${schedule.kind === 'due' && schedule.failure ? `scheduled backup failed ${coarseDuration(now - schedule.failure.at)} ago: ${schedule.failure.message}; ` : ''}${offHostFailed(newest)}`;
  if (newestVerifiedAt === undefined) {
    const what = schedule.kind === 'none' ? ` (run: opsdeck backup create --db ${db.name} && opsdeck backup verify --db ${db.name})` : '';
    return { ...base, status: 'warning', message: `${failed}no verified backup of ${db.name}${what}; ${next}` };
  }
  const age = now - newestVerifiedAt;
  const ageText = coarseDuration(age);
  const value = Math.round(age / 1000);
  if (age > rpoMs) return { ...base, status: 'warning', value, message: `${failed}newest verified backup of ${db.name} is ${ageText} old, beyond the RPO of ${coarseDuration(rpoMs)}; ${next}` };
  // A scheduled backup held back by an unfinished restore is not taken: a warning, not OK (operator trial).
  const held = schedule.kind === 'due' && schedule.overdue && !!schedule.restoreOpen;
  return { ...base, status: failed || held ? 'warning' : 'ok', value, message: `${failed}last verified backup ${ageText} ago (RPO ${coarseDuration(rpoMs)}); ${next}` };
}

/**
 * The files set's scheduled backups (issue #17), `backup:_files`: no RPO, but a warning while the
 * last scheduled run failed (until a verified set follows it) or the newest set's off-host copy failed.
 */
export function evaluateFilesBackup(newest: { id: string; createdAt: number; offHost?: OffHostCopy | undefined } | undefined, now: number, schedule: ScheduleView): CheckResult {
  const failed = `${schedule.kind === 'due' && schedule.failure ? `scheduled files backup failed ${coarseDuration(now - schedule.failure.at)} ago: ${schedule.failure.message}; ` : ''}${offHostFailed(newest)}`;
  const last = newest ? `last verified files backup ${coarseDuration(now - newest.createdAt)} ago` : 'no verified files backup yet';
  return { id: 'backup:_files', kind: 'backup', target: 'backup.files', status: failed ? 'warning' : 'ok', message: `${failed}${last}; ${describeSchedule(schedule, now)}` };
}

/** The schedule part of the RPO message: `next scheduled in 12m`, `no backup scheduled`, … */
function describeSchedule(s: ScheduleView, now: number): string {
  switch (s.kind) {
    case 'none':
      return 'no backup scheduled';
    case 'running':
      return `scheduled backup running for ${coarseDuration(Math.max(0, now - s.since))}`;
    case 'due': {
      const retry = s.failure ? 'retry' : 'next scheduled';
      if (s.dueAt > now) return `${retry} in ${coarseDuration(s.dueAt - now)}`;
      if (s.overdue && s.restoreOpen) return `${s.failure ? 'retry' : 'scheduled backup'} waits for the unfinished restore (due ${coarseDuration(now - s.dueAt)} ago; resume or roll it back)`;
      if (s.overdue) return `${s.failure ? 'retry' : 'scheduled backup'} overdue by ${coarseDuration(now - s.dueAt)} (is a watch or console running?)`;
      return `${s.failure ? 'retry' : 'scheduled backup'} due now`;
    }
  }
}

