// The postmortem draft of an incident (issue #18, `opsdeck incident export`): summary, impact,
// timeline, actions taken, recovery targets met or not, follow-ups. Pure: the report is assembled by
// src/state/incidents.ts; its texts are already redacted there (the CLI redacts again on output).

import { clockText, type IncidentClass, type Milestones, type RpoStatus, type RtoClock, type Severity, type TimelineEntry } from './incident.js';

/** Rows a row-loss check found missing (or brought back) while the incident ran (`row_loss_events`). */
export interface RowLoss {
  at: number;
  database: string;
  table: string;
  event: string;
  rows: number;
}

/** Everything a postmortem draft says about one incident. */
export interface IncidentReport {
  id: string;
  title: string;
  severity: Severity;
  status: 'open' | 'resolved';
  openedBy: string;
  declaredAt: number;
  startedAt: number;
  resolvedAt?: number;
  target: IncidentClass;
  /** The checks of its alerts, with their latest recorded status. */
  checks: { id: string; status: string; message: string }[];
  databases: string[];
  rowLoss: RowLoss[];
  timeline: TimelineEntry[];
  milestones: Milestones;
  rto: RtoClock;
  /** RPO at the incident's start: what a restore could bring back. */
  rpo: RpoStatus;
}

/** "2026-12-02 03:14:07Z". */
export function utc(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** The Markdown sections of every draft, in order (a test holds the export to them). */
export const POSTMORTEM_SECTIONS = ['Summary', 'Impact', 'Timeline', 'Actions taken', 'Recovery targets', 'Follow-ups'] as const;

/** Markdown text of a table cell: no pipe or newline breaks the table. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** The RPO line: "newest verified backup of trading 3m old at the start (target 15m): met". */
export function rpoText(rpo: RpoStatus, when: string): string {
  if (!rpo.worst) return `no database affected (target ${clockText(rpo.rpoMs)})`;
  const age = rpo.worst.ageMs === undefined ? `no verified backup of ${rpo.worst.database}` : `newest verified backup of ${rpo.worst.database} ${clockText(rpo.worst.ageMs)} old ${when}`;
  return `${age} (target ${clockText(rpo.rpoMs)})`;
}

/** The postmortem draft as Markdown. `now`: for an open incident's clocks. */
export function postmortemMarkdown(r: IncidentReport, now: number): string {
  const duration = (r.resolvedAt ?? now) - r.startedAt;
  // `lost` counts rows gone, `recovered` those a restore brought back, `kept` those a merge kept in its
  // conflicts table (found, not back in the table); `accepted` re-states lost ones.
  const lost = r.rowLoss;
  const sum = (ev: string) => lost.filter((e) => e.event === ev).reduce((n, e) => n + e.rows, 0);
  const rowsLost = Math.max(0, sum('lost') - sum('recovered') - sum('kept'));
  const m = r.milestones;
  const actions = r.timeline.filter((e) => e.source === 'audit' || e.source === 'run');
  const rtoMet = r.status === 'resolved' ? (r.rto.breached ? 'missed' : 'met') : r.rto.breached ? 'missed (still open)' : 'not yet decided (still open)';
  const lines = [
    `# Postmortem draft: ${r.id} — ${r.title}`,
    '',
    '## Summary',
    '',
    `- Severity: ${r.severity} (${r.target.meaning}); RTO ${clockText(r.target.rtoMs)}, RPO ${clockText(r.target.rpoMs)}`,
    `- Status: ${r.status}; opened by ${r.openedBy} at ${utc(r.declaredAt)}`,
    `- Started: ${utc(r.startedAt)}${r.resolvedAt !== undefined ? `; resolved ${utc(r.resolvedAt)}` : ''}; duration ${clockText(duration)}`,
    `- Milestones: detected ${utc(m.detected)}; acknowledged ${m.acknowledged !== undefined ? utc(m.acknowledged) : '—'}; mitigated ${m.mitigated !== undefined ? utc(m.mitigated) : '—'}; resolved ${m.resolved !== undefined ? utc(m.resolved) : '—'}`,
    '',
    '## Impact',
    '',
    ...(r.checks.length ? r.checks.map((c) => `- \`${c.id}\`: ${c.status.toUpperCase()} — ${c.message}`) : ['- No alert joined this incident.']),
    `- Databases at risk: ${r.databases.length ? r.databases.join(', ') : 'none'}`,
    lost.length
      ? `- Data lost (row-loss check \`sqlite:<db>:rows\`): ${rowsLost} row(s) still missing — ${lost.map((e) => `${e.database}.${e.table} ${e.rows} ${e.event === 'kept' ? `kept in _opsdeck_conflicts_${e.table} (their ids hold newer rows: review them)` : e.event} at ${utc(e.at)}`).join('; ')}`
      : '- Data lost (row-loss check `sqlite:<db>:rows`): none recorded',
    '',
    '## Timeline',
    '',
    '| time (UTC) | source | what | who |',
    '|---|---|---|---|',
    ...r.timeline.map((e) => `| ${utc(e.at)} | ${e.source} | ${cell(e.text)} | ${cell(e.actor ?? '')} |`),
    '',
    '## Actions taken',
    '',
    ...(actions.length ? actions.map((e) => `- ${utc(e.at)} ${e.text}${e.actor ? ` (${e.actor})` : ''}`) : ['- None recorded in the audit log or the run journal.']),
    '',
    '## Recovery targets',
    '',
    `- RTO ${clockText(r.target.rtoMs)}: ${rtoMet} — ${r.resolvedAt !== undefined ? `resolved after ${clockText(duration)}` : `${clockText(duration)} so far`} (deadline ${utc(r.rto.deadline)})`,
    `- RPO ${clockText(r.target.rpoMs)}: ${r.rpo.breached || rowsLost > 0 ? 'missed' : 'met'} — ${rpoText(r.rpo, 'at the start')}${rowsLost > 0 ? `; ${rowsLost} row(s) lost` : ''}`,
    '',
    '## Follow-ups',
    '',
    ...followUps(r, rowsLost),
    '',
  ];
  return lines.join('\n');
}

/** Follow-ups the record suggests; a person completes the list. */
function followUps(r: IncidentReport, rowsLost: number): string[] {
  const out = ['- [ ] Root cause: (to be written)'];
  if (r.rto.breached) out.push(`- [ ] Recovery took longer than the ${r.severity} RTO of ${clockText(r.target.rtoMs)}: find which step was slow`);
  if (r.rpo.breached) out.push(`- [ ] Backups older than the ${r.severity} RPO of ${clockText(r.target.rpoMs)}: schedule backups of ${r.rpo.worst?.database ?? 'the databases'} at least that often (backup.schedule)`);
  if (rowsLost > 0) out.push(`- [ ] ${rowsLost} row(s) lost: restore them (opsdeck restore --merge) or record why they are given up`);
  if (r.milestones.acknowledged === undefined) out.push('- [ ] Nobody acknowledged the incident: check who was paged');
  for (const c of r.checks) out.push(`- [ ] Prevent \`${c.id}\` from failing again`);
  return out;
}
