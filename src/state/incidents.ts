import type BetterSqlite3 from 'better-sqlite3';
import { redactSecrets } from '../config/secrets.js';
import { decideOnAlert, worseSeverity, type FiredAlert, type IncidentCore, type IncidentRules, type RuleDecision, type Severity, type TimelineEntry } from '../domain/incident.js';

// Incidents in the state database (issue #18; migration `incidents`): declare, note, resolve, the
// rules' decisions applied, and the timeline read back from what is already recorded — the alert
// history (alert_events), the audit log and the run journal — with the incident's own events.
// Every write that reads first is one BEGIN IMMEDIATE transaction: two monitors, or a console and
// a CLI, cannot both open an incident (the partial unique index makes a second open one impossible).

/** One incident as stored. */
export interface Incident extends IncidentCore {
  seq: number;
  title: string;
  openedBy: string;
  updatedAt: number;
}

interface Row {
  seq: number;
  id: string;
  title: string;
  severity: string;
  status: string;
  opened_by: string;
  declared_at: number;
  started_at: number;
  resolved_at: number | null;
  updated_at: number;
}

/** What `declare` did: opened a new incident, or raised and noted the one already open. */
export interface DeclareResult {
  incident: Incident;
  created: boolean;
  raisedFrom?: Severity;
}

/** What a rule did with a firing alert, with the incident it touched. */
export type Applied = RuleDecision & { incident?: Incident };

/** The incidents of one state database. */
export class IncidentStore {
  private openStmt?: BetterSqlite3.Statement;

  constructor(private readonly db: BetterSqlite3.Database) {}

  private fromRow(r: Row): Incident {
    const checks = (this.db.prepare('SELECT check_id FROM incident_checks WHERE incident_id = ? ORDER BY joined_at, check_id').pluck().all(r.id) as string[]);
    return {
      seq: r.seq, id: r.id, title: r.title, severity: r.severity as Severity, status: r.status === 'open' ? 'open' : 'resolved', openedBy: r.opened_by,
      declaredAt: r.declared_at, startedAt: r.started_at, ...(r.resolved_at !== null ? { resolvedAt: r.resolved_at } : {}), updatedAt: r.updated_at, checks,
    };
  }

  /** The open incident, if any (at most one is). */
  open(): Incident | undefined {
    // Prepared once (issue #27 point 2: the console asks at every refresh for its header).
    this.openStmt ??= this.db.prepare("SELECT * FROM incidents WHERE status = 'open'");
    const r = this.openStmt.get() as Row | undefined;
    return r ? this.fromRow(r) : undefined;
  }

  /** One incident by id (`INC-3`) or number (`3`). */
  get(ref: string): Incident | undefined {
    const seq = /^(?:INC-)?(\d+)$/i.exec(ref.trim())?.[1];
    const r = (seq !== undefined ? this.db.prepare('SELECT * FROM incidents WHERE seq = ?').get(Number(seq)) : undefined) as Row | undefined;
    return r ? this.fromRow(r) : undefined;
  }

  /** The newest incidents first. */
  list(limit = 50): Incident[] {
    return (this.db.prepare('SELECT * FROM incidents ORDER BY seq DESC LIMIT ?').all(limit) as Row[]).map((r) => this.fromRow(r));
  }

  /** The alerts firing now by the alert history: each check whose last fired/resolved event is `fired`, with when. */
  firing(): { checkId: string; firedAt: number }[] {
    return this.db
      .prepare(
        `SELECT check_id AS checkId, at AS firedAt FROM alert_events e WHERE event = 'fired' AND id = (
           SELECT id FROM alert_events x WHERE x.check_id = e.check_id AND x.event IN ('fired', 'resolved') ORDER BY at DESC, id DESC LIMIT 1)
         ORDER BY at`,
      )
      .all() as { checkId: string; firedAt: number }[];
  }

  private event(id: string, at: number, kind: string, actor: string, detail?: string): void {
    this.db.prepare('INSERT INTO incident_events (incident_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?)').run(id, at, kind, actor, detail === undefined ? null : redactSecrets(detail));
  }

  private addCheck(id: string, checkId: string, at: number): void {
    this.db.prepare('INSERT OR IGNORE INTO incident_checks (incident_id, check_id, joined_at) VALUES (?, ?, ?)').run(id, checkId, at);
  }

  private create(o: { severity: Severity; title: string; openedBy: string; at: number; startedAt: number; checks: readonly string[] }): Incident {
    const seq = ((this.db.prepare('SELECT max(seq) FROM incidents').pluck().get() as number | null) ?? 0) + 1;
    const id = `INC-${seq}`;
    this.db
      .prepare('INSERT INTO incidents (seq, id, title, severity, status, opened_by, declared_at, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(seq, id, redactSecrets(o.title), o.severity, 'open', o.openedBy, o.at, o.startedAt, o.at);
    for (const c of o.checks) this.addCheck(id, c, o.at);
    return this.get(id) as Incident;
  }

  private raise(i: Incident, to: Severity, at: number, actor: string, why: string): Severity | undefined {
    if (worseSeverity(to, i.severity) === i.severity) return undefined;
    this.db.prepare('UPDATE incidents SET severity = ?, updated_at = ? WHERE id = ?').run(to, at, i.id);
    this.event(i.id, at, 'raised', actor, `${i.severity} → ${to}: ${why}`);
    return i.severity;
  }

  /**
   * A person declares an incident. The alerts firing now join it, and its RTO clock starts at the
   * first of them (or now). With one already open, that one is raised to `severity` when worse and
   * the title noted: one open incident at a time, whoever opened it.
   */
  declare(o: { severity: Severity; title: string; actor: string; at: number }): DeclareResult {
    return this.db
      .transaction((): DeclareResult => {
        const open = this.open();
        if (open) {
          const raisedFrom = this.raise(open, o.severity, o.at, o.actor, `declared by ${o.actor}`);
          this.event(open.id, o.at, 'note', o.actor, `declared again: ${o.title}`);
          return { incident: this.get(open.id) as Incident, created: false, ...(raisedFrom ? { raisedFrom } : {}) };
        }
        const firing = this.firing();
        const startedAt = Math.min(o.at, ...firing.map((f) => f.firedAt));
        const incident = this.create({ severity: o.severity, title: o.title, openedBy: o.actor, at: o.at, startedAt, checks: firing.map((f) => f.checkId) });
        this.event(incident.id, o.at, 'declared', o.actor, `${o.severity}: ${o.title}`);
        return { incident, created: true };
      })
      .immediate();
  }

  /**
   * Adds a note to an incident's timeline (secrets redacted): besides the configured secrets, what a
   * person pastes at 3 a.m. — `password=…`, `token: …`, `Authorization: Bearer …` — since a postmortem
   * is shared.
   */
  note(id: string, text: string, actor: string, at: number): Incident | undefined {
    return this.db
      .transaction(() => {
        const i = this.get(id);
        if (!i) return undefined;
        this.event(i.id, at, 'note', actor, scrubPasted(text));
        this.db.prepare('UPDATE incidents SET updated_at = ? WHERE id = ?').run(at, i.id);
        return i;
      })
      .immediate();
  }

  /** Resolves an open incident; undefined when there is no such incident, the incident unchanged when already resolved. */
  resolve(id: string, actor: string, at: number): Incident | undefined {
    return this.db
      .transaction(() => {
        const i = this.get(id);
        if (!i || i.status === 'resolved') return i;
        this.db.prepare("UPDATE incidents SET status = 'resolved', resolved_at = ?, updated_at = ? WHERE id = ?").run(at, at, i.id);
        this.event(i.id, at, 'resolved', actor);
        return this.get(i.id);
      })
      .immediate();
  }

  /**
   * The rules' answer to a firing alert (decideOnAlert), read and written in one BEGIN IMMEDIATE
   * transaction: the open incident and the recently resolved ones are read after taking the write
   * lock, so a second monitor hearing the same alert joins the incident the first opened.
   */
  applyAlert(a: FiredAlert & { message: string }, rules: IncidentRules, at: number, by: string): Applied {
    return this.db
      .transaction((): Applied => {
        const open = this.open();
        const recent = (this.db.prepare("SELECT * FROM incidents WHERE status = 'resolved' AND resolved_at >= ? ORDER BY resolved_at DESC").all(a.firedAt - rules.reopenWithinMs) as Row[]).map((r) => this.fromRow(r));
        const d = decideOnAlert(a, open, recent, rules);
        // One line, at most 200 characters: a title (and its timeline entries) is read in a list, a table, a page.
        const what = oneLine(`${a.checkId} ${a.status.toUpperCase()}: ${a.message}`, 200);
        switch (d.kind) {
          case 'none':
            return d;
          case 'open': {
            const incident = this.create({ severity: d.severity, title: what, openedBy: by, at, startedAt: d.startedAt, checks: [a.checkId] });
            this.event(incident.id, at, 'opened', by, `${d.severity} by rule: ${what}`);
            return { ...d, incident };
          }
          case 'join':
          case 'reopen': {
            const i = (d.kind === 'join' ? open : recent.find((r) => r.id === d.id)) as Incident;
            if (d.kind === 'reopen') {
              this.db.prepare("UPDATE incidents SET status = 'open', resolved_at = NULL, updated_at = ? WHERE id = ?").run(at, i.id);
              this.event(i.id, at, 'reopened', by, `${a.checkId} fired again within ${Math.round(rules.reopenWithinMs / 60_000)} min of the resolution`);
            } else if (!i.checks.includes(a.checkId)) {
              this.event(i.id, at, 'joined', by, what);
            }
            this.addCheck(i.id, a.checkId, at);
            if (d.raise) this.raise(i, d.raise, at, by, what);
            this.db.prepare('UPDATE incidents SET updated_at = ? WHERE id = ?').run(at, i.id);
            return { ...d, incident: this.get(i.id) as Incident };
          }
          default:
            return d satisfies never;
        }
      })
      .immediate();
  }

  /**
   * An alert resolved: when it belongs to the open incident and none of that incident's alerts fires
   * any more (by the alert history, which the monitor wrote before telling the bus), the incident is
   * mitigated — recorded once per quiet spell, in one BEGIN IMMEDIATE transaction.
   */
  applyResolved(checkId: string, at: number, by: string): Incident | undefined {
    return this.db
      .transaction(() => {
        const open = this.open();
        if (!open?.checks.includes(checkId)) return undefined;
        // Only the alerts that make it an incident count (as `milestones` in src/domain/incident.ts):
        // not a WARNING that joined, not the recovery's own unfinished-run finding.
        const critical = this.db.prepare("SELECT 1 FROM alert_events WHERE check_id = ? AND event = 'fired' AND (status IS NULL OR status = 'critical') LIMIT 1");
        const major = open.checks.filter((c) => !c.startsWith('journal:') && (c === 'system:health' || critical.get(c) !== undefined));
        if (!major.includes(checkId)) return undefined;
        const last = this.db.prepare("SELECT event, at FROM alert_events WHERE check_id = ? AND event IN ('fired', 'resolved') ORDER BY at DESC, id DESC LIMIT 1");
        const lasts = major.map((c) => last.get(c) as { event: string; at: number } | undefined);
        if (lasts.some((l) => l?.event !== 'resolved')) return undefined;
        const lastFired = (this.db.prepare(`SELECT max(at) FROM alert_events WHERE event = 'fired' AND check_id IN (${major.map(() => '?').join(', ')})`).pluck().get(...major) as number | null) ?? 0;
        const said = this.db.prepare("SELECT 1 FROM incident_events WHERE incident_id = ? AND kind = 'mitigated' AND at >= ?").get(open.id, lastFired);
        if (said) return undefined;
        this.event(open.id, at, 'mitigated', by, `every alert of ${open.id} resolved (last: ${checkId})`);
        return open;
      })
      .immediate();
  }

  /**
   * The timeline of an incident, oldest first: its own events; the alert history of its checks;
   * the audit log and the run journal while it ran (from its start to its resolution, or now).
   */
  timeline(i: Incident, now = Date.now()): TimelineEntry[] {
    const from = Math.min(i.startedAt, i.declaredAt);
    const to = i.resolvedAt ?? now;
    const own = (this.db.prepare('SELECT at, kind, actor, detail FROM incident_events WHERE incident_id = ? ORDER BY at, id').all(i.id) as { at: number; kind: string; actor: string; detail: string | null }[]).map(
      (e): TimelineEntry => ({ at: e.at, source: 'incident', kind: e.kind, text: `${e.kind}${e.detail ? `: ${e.detail}` : ''}`, actor: e.actor }),
    );
    const marks = i.checks.map(() => '?').join(', ');
    const alerts = i.checks.length
      ? (this.db.prepare(`SELECT at, check_id, event, status, message FROM alert_events WHERE check_id IN (${marks}) AND at >= ? AND at <= ? ORDER BY at, id`).all(...i.checks, from, to) as { at: number; check_id: string; event: string; status: string | null; message: string | null }[]).map(
          (e): TimelineEntry => {
            const by = e.event === 'acknowledged' || e.event === 'silenced' ? /^by (.+)$/.exec(e.message ?? '')?.[1] : undefined;
            return { at: e.at, source: 'alert', kind: e.event, checkId: e.check_id, ...(e.status ? { status: e.status } : {}), text: `${e.check_id} ${e.event}${e.status ? ` ${e.status.toUpperCase()}` : ''}${e.message && !by ? `: ${e.message}` : ''}`, ...(by ? { actor: by } : {}) };
          },
        )
      : [];
    const audit = (this.db.prepare("SELECT at, actor, action, target, outcome, detail FROM audit WHERE at >= ? AND at <= ? AND action NOT LIKE 'incident.%' AND action <> 'console.keys' ORDER BY at, id").all(from, to) as { at: number; actor: string; action: string; target: string; outcome: string; detail: string | null }[]).map(
      (e): TimelineEntry => ({ at: e.at, source: 'audit', kind: e.action, text: `${e.action} ${e.target}: ${e.outcome}${e.detail ? ` (${e.detail})` : ''}`, actor: e.actor }),
    );
    const runs = (this.db.prepare('SELECT id, kind, subject, status, started_at, updated_at FROM runs WHERE (started_at >= ? AND started_at <= ?) OR (updated_at >= ? AND updated_at <= ?) ORDER BY started_at').all(from, to, from, to) as { id: string; kind: string; subject: string; status: string; started_at: number; updated_at: number }[]).flatMap(
      (r): TimelineEntry[] => [
        ...(r.started_at >= from ? [{ at: r.started_at, source: 'run' as const, kind: 'run.started', text: `runbook ${r.kind} on ${r.subject} started (${r.id})` }] : []),
        ...(r.status !== 'open' && r.updated_at <= to ? [{ at: r.updated_at, source: 'run' as const, kind: `run.${r.status}`, text: `runbook ${r.kind} on ${r.subject} ${r.status} (${r.id})` }] : []),
      ],
    );
    return [...own, ...alerts, ...audit, ...runs].sort((a, b) => a.at - b.at);
  }
}

/** `password=x`, `api_key: x`, `Bearer x`, `AWS_SECRET_ACCESS_KEY=x` in free text: the value becomes `***`. */
export function scrubPasted(text: string): string {
  return text
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g, '$1 ***')
    .replace(/\b([A-Za-z0-9_]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)[A-Za-z0-9_]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, '$1$2***');
}

/** `text` on one line (runs of white space, line breaks among them, as one space), cut to `max` characters with "…". */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
