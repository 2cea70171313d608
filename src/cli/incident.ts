import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { incidentClasses } from '../config/schema-incidents.js';
import { ExitError, UsageError } from '../domain/errors.js';
import { clockText, parseSeverity, rtoClock, SEVERITIES } from '../domain/incident.js';
import { postmortemMarkdown, rpoText, utc, type IncidentReport } from '../domain/postmortem.js';
import { actor, recordAudit } from '../state/acks.js';
import { incidentReport, incidentRpo } from '../state/incident-report.js';
import { IncidentStore, type Incident } from '../state/incidents.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { out, outJson, useSecrets, type GlobalOptions } from './output.js';
import { refuseReadOnly } from './refuse.js';

/** Options of `opsdeck incident`. */
export interface IncidentOptions extends GlobalOptions {
  severity?: string;
  format?: string;
}

const ACTIONS = ['declare', 'note', 'list', 'show', 'resolve', 'export'] as const;
const CHANGES = new Set(['declare', 'note', 'resolve']);

/**
 * `opsdeck incident declare|note|list|show|resolve|export` (issue #18). declare, note and resolve
 * change the state database: refused (and audited) under --read-only; list, show and export only read.
 * Exit 0, 1 (no such incident; read-only refusal), 64 (usage), 78 (configuration).
 */
export async function incidentCommand(action: string, args: string[], g: IncidentOptions): Promise<number> {
  if (!(ACTIONS as readonly string[]).includes(action)) throw new UsageError(`incident: unknown action ${JSON.stringify(action)} (expected one of: ${ACTIONS.join(', ')})`);
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const { config } = loaded;
  const dir = stateDir(config.state_dir);
  if (g.readOnly && CHANGES.has(action)) await refuseReadOnly(dir, `incident.${action}`, action === 'declare' ? '-' : (args[0] ?? '-'), `incident ${action}: refused: opsdeck runs in --read-only mode`);
  const db = await openStateDb(dir);
  try {
    const store = new IncidentStore(db);
    const now = Date.now();
    const find = (ref: string | undefined): Incident => {
      if (!ref) throw new UsageError(`incident ${action}: expected an incident id (INC-3 or 3; opsdeck incident list)`);
      const i = store.get(ref);
      if (!i) throw new ExitError(1, 'not-found', `incident ${action}: no incident ${JSON.stringify(ref)} (opsdeck incident list)`);
      return i;
    };
    switch (action) {
      case 'declare': {
        const severity = parseSeverity(g.severity ?? 'P2');
        if (!severity) throw new UsageError(`incident declare: --severity ${JSON.stringify(g.severity)}: expected one of ${SEVERITIES.join(', ')}`);
        const title = args.join(' ').trim();
        if (!title) throw new UsageError('incident declare: expected a title (opsdeck incident declare --severity P1 "what is wrong")');
        const who = actor();
        const r = store.declare({ severity, title, actor: who, at: now });
        recordAudit(db, { action: 'incident.declare', target: r.incident.id, outcome: 'ok', detail: `${severity}: ${title}${r.created ? '' : ' (already open: noted)'}` }, now);
        if (g.json) outJson({ incident: summary(config, r.incident, now), created: r.created, ...(r.raisedFrom ? { raisedFrom: r.raisedFrom } : {}) });
        else out(r.created ? `${r.incident.id} declared: ${line(config, r.incident, now)}` : `${r.incident.id} is already open: ${r.raisedFrom ? `raised from ${r.raisedFrom} to ${r.incident.severity}, ` : ''}your title is noted on its timeline`);
        return 0;
      }
      case 'note': {
        const i = find(args[0]);
        const text = args.slice(1).join(' ').trim();
        if (!text) throw new UsageError(`incident note: expected the note's text (opsdeck incident note ${i.id} "what was done")`);
        store.note(i.id, text, actor(), now);
        recordAudit(db, { action: 'incident.note', target: i.id, outcome: 'ok', detail: text }, now);
        if (g.json) outJson({ incident: i.id, note: text });
        else out(`${i.id}: note added`);
        return 0;
      }
      case 'resolve': {
        const i = find(args[0]);
        const r = store.resolve(i.id, actor(), now) as Incident;
        if (i.status === 'open') recordAudit(db, { action: 'incident.resolve', target: i.id, outcome: 'ok' }, now);
        const rto = rtoClock(r, incidentClasses(config.incidents), now);
        if (g.json) outJson({ incident: summary(config, r, now), alreadyResolved: i.status === 'resolved' });
        else out(i.status === 'resolved' ? `${i.id} was already resolved at ${utc(i.resolvedAt ?? now)}` : `${r.id} resolved after ${clockText(now - r.startedAt)}: RTO ${clockText(incidentClasses(config.incidents)[r.severity].rtoMs)} ${rto.breached ? 'missed' : 'met'}`);
        return 0;
      }
      case 'list': {
        const list = store.list();
        if (g.json) outJson({ incidents: list.map((i) => summary(config, i, now)) });
        else if (list.length === 0) out('no incidents');
        else for (const i of list) out(`${i.id.padEnd(7)} ${i.status.padEnd(8)} ${line(config, i, now)}`);
        return 0;
      }
      case 'show': {
        const i = find(args[0]);
        const report = incidentReport(db, store, config, i, now);
        if (g.json) outJson({ incident: { ...summary(config, i, now), milestones: report.milestones, timeline: report.timeline } });
        else out(showText(config, report, now));
        return 0;
      }
      case 'export': {
        const format = g.format ?? 'md';
        if (format !== 'md' && format !== 'json') throw new UsageError(`incident export: --format ${JSON.stringify(format)}: expected md or json`);
        const report = incidentReport(db, store, config, find(args[0]), now);
        if (format === 'json' || g.json) outJson({ postmortem: report });
        else out(postmortemMarkdown(report, now));
        return 0;
      }
      default:
        throw new UsageError(`incident: unknown action ${JSON.stringify(action)}`);
    }
  } finally {
    db.close();
  }
}

/** One line: "P1 open 1h 02m, RTO 2h 57m left, RPO ok — title". */
function line(config: Config, i: Incident, now: number): string {
  const classes = incidentClasses(config.incidents);
  const rto = rtoClock(i, classes, now);
  const clock = i.status === 'open' ? (rto.breached ? `RTO BREACHED by ${clockText(-rto.leftMs)}` : `RTO ${clockText(rto.leftMs)} left`) : `RTO ${rto.breached ? 'missed' : 'met'}`;
  const rpo = i.status === 'open' ? `, RPO ${incidentRpo(config, i, now).breached ? 'BREACHED' : 'ok'}` : '';
  return `${i.severity} ${clock}${rpo} — ${i.title}`;
}

/** The JSON of one incident: its row, its clocks and its RPO now. */
function summary(config: Config, i: Incident, now: number) {
  const classes = incidentClasses(config.incidents);
  return { ...i, target: { rtoMs: classes[i.severity].rtoMs, rpoMs: classes[i.severity].rpoMs }, rto: rtoClock(i, classes, now), rpo: incidentRpo(config, i, i.status === 'open' ? now : i.startedAt) };
}

/** `incident show`: the incident, its clocks, milestones and timeline. */
function showText(config: Config, r: IncidentReport, now: number): string {
  const m = r.milestones;
  const rpo = incidentRpo(config, { severity: r.severity, checks: r.checks.map((c) => c.id) }, r.status === 'open' ? now : r.startedAt);
  return [
    `${r.id} ${r.status.toUpperCase()} ${r.severity}: ${r.title}`,
    `  opened by ${r.openedBy} at ${utc(r.declaredAt)}; RTO clock from ${utc(r.startedAt)}, deadline ${utc(r.rto.deadline)} (${r.rto.breached ? 'BREACHED' : r.status === 'open' ? `${clockText(r.rto.leftMs)} left` : 'met'})`,
    `  RPO ${clockText(rpo.rpoMs)}: ${rpo.breached ? 'BREACHED' : 'ok'} — ${rpoText(rpo, r.status === 'open' ? 'now' : 'at the start')}`,
    `  checks: ${r.checks.map((c) => c.id).join(', ') || 'none'}`,
    `  milestones: detected ${utc(m.detected)} · acknowledged ${m.acknowledged !== undefined ? utc(m.acknowledged) : '—'} · mitigated ${m.mitigated !== undefined ? utc(m.mitigated) : '—'} · resolved ${m.resolved !== undefined ? utc(m.resolved) : '—'}`,
    '  timeline:',
    ...r.timeline.map((e) => `    ${utc(e.at)} ${e.source.padEnd(8)} ${e.text}${e.actor ? ` (${e.actor})` : ''}`),
  ].join('\n');
}
