import type BetterSqlite3 from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import { incidentClasses } from '../config/schema-incidents.js';
import { affectedDatabases, milestones, rpoStatus, rtoClock, type DatabaseBackupAge, type RpoStatus, type Severity } from '../domain/incident.js';
import type { IncidentReport, RowLoss } from '../domain/postmortem.js';
import { backupDir, listBackups } from '../services/backup-list.js';
import type { Incident, IncidentStore } from './incidents.js';

// What is said about an incident beyond its own rows (issue #18): the RPO status from the backup
// folders, the impact from the alert history and the row-loss ledger, the whole postmortem report,
// and the console header's banner.

/**
 * The newest verified backup (taken at or before `at`) of each database, from its backup folder
 * (listBackups / backupDir: the same manifests the `backup:<db>` RPO check reads). A folder that
 * cannot be read counts as no verified backup.
 */
export function backupAges(config: Config, databases: readonly string[], at: number): DatabaseBackupAge[] {
  return databases.map((name) => {
    try {
      const newest = listBackups(backupDir(name, config.backup.dir)).find((m) => m.verify?.ok && Date.parse(m.createdAt) <= at);
      return { database: name, ...(newest ? { newestVerifiedAt: Date.parse(newest.createdAt) } : {}) };
    } catch {
      return { database: name };
    }
  });
}

/** The RPO status of an incident at `at` (now while open; its start for the postmortem). */
export function incidentRpo(config: Config, i: Pick<Incident, 'severity' | 'checks'>, at: number): RpoStatus {
  const dbs = affectedDatabases(i.checks, config.databases.map((d) => d.name));
  return rpoStatus(i.severity, backupAges(config, dbs, at), incidentClasses(config.incidents), at);
}

/** What the console header shows of the open incident. */
export interface IncidentBanner {
  id: string;
  severity: Severity;
  title: string;
  /** When the RTO runs out (the class's RTO after the first alert, or the declaration). */
  deadline: number;
  rpo: RpoStatus;
}

/** The banner of the open incident, if any. */
export function incidentBanner(config: Config, store: IncidentStore, now: number): IncidentBanner | undefined {
  const i = store.open();
  if (!i) return undefined;
  const rto = rtoClock(i, incidentClasses(config.incidents), now);
  return { id: i.id, severity: i.severity, title: i.title, deadline: rto.deadline, rpo: incidentRpo(config, i, now) };
}

/** Everything the postmortem draft says, read from the state database, the backup folders and the configuration. */
export function incidentReport(db: BetterSqlite3.Database, store: IncidentStore, config: Config, i: Incident, now: number): IncidentReport {
  const classes = incidentClasses(config.incidents);
  const timeline = store.timeline(i, now);
  const to = i.resolvedAt ?? now;
  // The worst firing of each check while the incident ran (an operator's trial: http:api fired
  // CRITICAL, later WARNING, and the impact said WARNING); before it, the last firing.
  const from = Math.min(i.startedAt, i.declaredAt);
  const checks = i.checks.map((id) => {
    type Fired = { status: string | null; message: string | null };
    const during = db.prepare("SELECT status, message FROM alert_events WHERE check_id = ? AND event = 'fired' AND at >= ? AND at <= ? ORDER BY at, id").all(id, from, to) as Fired[];
    const worst = during.reduce<Fired | undefined>((w, e) => (w === undefined || RANK(e.status) >= RANK(w.status) ? e : w), undefined);
    const last = worst ?? (db.prepare("SELECT status, message FROM alert_events WHERE check_id = ? AND event = 'fired' AND at <= ? ORDER BY at DESC, id DESC LIMIT 1").get(id, to) as Fired | undefined);
    return { id, status: last?.status ?? 'unknown', message: last?.message ?? '' };
  });
  const databases = affectedDatabases(i.checks, config.databases.map((d) => d.name));
  const marks = databases.map(() => '?').join(', ');
  const rowLoss = databases.length
    ? (db.prepare(`SELECT at, database, tbl AS "table", event, rows FROM row_loss_events WHERE database IN (${marks}) AND at >= ? AND at <= ? ORDER BY at, id`).all(...databases, Math.min(i.startedAt, i.declaredAt), to) as RowLoss[])
    : [];
  return {
    id: i.id, title: i.title, severity: i.severity, status: i.status, openedBy: i.openedBy, declaredAt: i.declaredAt, startedAt: i.startedAt,
    ...(i.resolvedAt !== undefined ? { resolvedAt: i.resolvedAt } : {}),
    target: classes[i.severity], checks, databases, rowLoss, timeline,
    milestones: milestones(i, timeline),
    rto: rtoClock(i, classes, now),
    rpo: rpoStatus(i.severity, backupAges(config, databases, i.startedAt), classes, i.startedAt),
  };
}

/** critical above warning above anything else, for the worst firing of a check. */
const RANK = (status: string | null): number => (status === 'critical' ? 2 : status === 'warning' ? 1 : 0);
