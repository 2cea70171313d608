import { describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import { incidentClasses, incidentRules } from '../../src/config/schema-incidents.js';
import {
  affectedDatabases, clockText, decideOnAlert, DEFAULT_CLASSES, DEFAULT_RULES, milestones, parseSeverity, rpoStatus, rtoClock,
  type FiredAlert, type IncidentCore, type TimelineEntry,
} from '../../src/domain/incident.js';
import { POSTMORTEM_SECTIONS, postmortemMarkdown, type IncidentReport } from '../../src/domain/postmortem.js';

// The pure decisions of issue #18 with injected times: classes, rules, the re-open window, clocks,
// milestones and the postmortem's Markdown.

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);
const MIN = 60_000;
const fired = (checkId: string, status: FiredAlert['status'], at: number): FiredAlert => ({ checkId, status, firedAt: at });
const incident = (over: Partial<IncidentCore> = {}): IncidentCore => ({ id: 'INC-1', severity: 'P2', status: 'open', startedAt: T0, declaredAt: T0, checks: ['http:api'], ...over });

describe('classes and targets', () => {
  it('the DR plan table: P1 4h/15m, P2 2h/5m, P3 8h/1h, P4 24h/4h', () => {
    expect(Object.fromEntries(Object.entries(DEFAULT_CLASSES).map(([k, c]) => [k, [c.rtoMs / MIN, c.rpoMs / MIN]]))).toEqual({ P1: [240, 15], P2: [120, 5], P3: [480, 60], P4: [1440, 240] });
  });

  it('overridable in config (incidents.classes), the rest keep the table', () => {
    const c = validate({ incidents: { classes: { P1: { rto: '1h' } }, rules: { critical_check: 'P3', reopen_within: '5m' } } }, 'test');
    const classes = incidentClasses(c.incidents);
    expect(classes.P1).toMatchObject({ rtoMs: 60 * MIN, rpoMs: 15 * MIN });
    expect(classes.P4.rtoMs).toBe(24 * 60 * MIN);
    expect(incidentRules(c.incidents)).toEqual({ criticalCheck: 'P3', systemHealth: 'P1', reopenWithinMs: 5 * MIN });
    expect(incidentRules(validate({}, 'test').incidents)).toEqual(DEFAULT_RULES);
  });

  it.each([
    [{ incidents: { rules: { critical_check: 'P5' } } }, /incidents\.rules\.critical_check: expected one of P1, P2, P3, P4 or off/],
    [{ incidents: { classes: { P2: { rto: '10s' } } } }, /incidents\.classes\.P2\.rto: expected a duration from 1m to 30d/],
    [{ incidents: { classes: { P9: {} } } }, /incidents\.classes/],
  ])('a bad value names its field: %j', (doc, pattern) => {
    expect(() => validate(doc, 'opsdeck.yaml')).toThrow(pattern);
  });

  it('severities are read in any case; anything else is not one', () => {
    expect(parseSeverity('p1')).toBe('P1');
    expect(parseSeverity('P5')).toBeUndefined();
  });
});

describe('rules: open, join and raise, re-open a flap', () => {
  const rules = DEFAULT_RULES;
  it.each([
    ['a CRITICAL alert with nothing open opens a P2 whose clock starts when it fired', fired('http:api', 'critical', T0), undefined, [], { kind: 'open', severity: 'P2', checkId: 'http:api', startedAt: T0 }],
    ['system health firing opens a P1', fired('system:health', 'critical', T0), undefined, [], { kind: 'open', severity: 'P1', checkId: 'system:health', startedAt: T0 }],
    ['a WARNING alert opens nothing', fired('host:disk:/', 'warning', T0), undefined, [], { kind: 'none' }],
    ['a WARNING alert joins the open incident without raising it', fired('host:disk:/', 'warning', T0), incident(), [], { kind: 'join', id: 'INC-1', checkId: 'host:disk:/' }],
    ['a CRITICAL alert joins a P3 and raises it to P2', fired('redis:cache', 'critical', T0), incident({ severity: 'P3' }), [], { kind: 'join', id: 'INC-1', checkId: 'redis:cache', raise: 'P2' }],
    ['system health raises an open P2 to P1 instead of opening another', fired('system:health', 'critical', T0), incident(), [], { kind: 'join', id: 'INC-1', checkId: 'system:health', raise: 'P1' }],
    ['a CRITICAL alert never lowers a P1', fired('redis:cache', 'critical', T0), incident({ severity: 'P1' }), [], { kind: 'join', id: 'INC-1', checkId: 'redis:cache' }],
  ] as const)('%s', (_name, a, open, resolved, expected) => {
    expect(decideOnAlert(a, open, resolved, rules)).toEqual(expected);
  });

  const done = incident({ status: 'resolved', resolvedAt: T0 + 30 * MIN });
  it.each([
    ['9 min after the resolution: re-opened', T0 + 39 * MIN, { kind: 'reopen', id: 'INC-1', checkId: 'http:api' }],
    ['exactly 10 min after: re-opened', T0 + 40 * MIN, { kind: 'reopen', id: 'INC-1', checkId: 'http:api' }],
    ['11 min after: a new incident', T0 + 41 * MIN, { kind: 'open', severity: 'P2', checkId: 'http:api', startedAt: T0 + 41 * MIN }],
  ] as const)('a flapping alert %s', (_name, at, expected) => {
    expect(decideOnAlert(fired('http:api', 'critical', at), undefined, [done], rules)).toEqual(expected);
  });

  it('a flap of a check the resolved incident did not contain opens a new one; a shorter window is honoured', () => {
    expect(decideOnAlert(fired('redis:cache', 'critical', T0 + 31 * MIN), undefined, [done], rules).kind).toBe('open');
    expect(decideOnAlert(fired('http:api', 'critical', T0 + 36 * MIN), undefined, [done], { ...rules, reopenWithinMs: 5 * MIN }).kind).toBe('open');
  });

  it('a re-opened flap is raised when its rule class is worse', () => {
    expect(decideOnAlert(fired('http:api', 'critical', T0 + 31 * MIN), undefined, [incident({ severity: 'P4', status: 'resolved', resolvedAt: T0 + 30 * MIN })], rules)).toEqual({ kind: 'reopen', id: 'INC-1', checkId: 'http:api', raise: 'P2' });
  });

  it('a WARNING firing again soon after a resolution does not re-open it (a busy host must not undo a resolve)', () => {
    expect(decideOnAlert(fired('http:api', 'warning', T0 + 31 * MIN), undefined, [done], rules)).toEqual({ kind: 'none' });
  });

  it('rules set to off open nothing', () => {
    expect(decideOnAlert(fired('system:health', 'critical', T0), undefined, [], { ...rules, systemHealth: 'off', criticalCheck: 'off' })).toEqual({ kind: 'none' });
  });
});

describe('clocks', () => {
  it('RTO counts down from the first alert; breached past the deadline; frozen at the resolution', () => {
    expect(rtoClock({ severity: 'P2', startedAt: T0 }, DEFAULT_CLASSES, T0 + 30 * MIN)).toEqual({ deadline: T0 + 120 * MIN, leftMs: 90 * MIN, breached: false });
    expect(rtoClock({ severity: 'P2', startedAt: T0 }, DEFAULT_CLASSES, T0 + 121 * MIN).breached).toBe(true);
    expect(rtoClock({ severity: 'P2', startedAt: T0, resolvedAt: T0 + 60 * MIN }, DEFAULT_CLASSES, T0 + 999 * MIN)).toEqual({ deadline: T0 + 120 * MIN, leftMs: 60 * MIN, breached: false });
  });

  it('RPO: the worst database decides; one without a verified backup is breached', () => {
    const ok = rpoStatus('P1', [{ database: 'a', newestVerifiedAt: T0 - 5 * MIN }, { database: 'b', newestVerifiedAt: T0 - 10 * MIN }], DEFAULT_CLASSES, T0);
    expect(ok).toEqual({ rpoMs: 15 * MIN, worst: { database: 'b', ageMs: 10 * MIN }, breached: false });
    expect(rpoStatus('P2', [{ database: 'b', newestVerifiedAt: T0 - 10 * MIN }], DEFAULT_CLASSES, T0).breached).toBe(true); // P2's RPO is 5 min
    expect(rpoStatus('P1', [{ database: 'a', newestVerifiedAt: T0 }, { database: 'c' }], DEFAULT_CLASSES, T0)).toEqual({ rpoMs: 15 * MIN, worst: { database: 'c' }, breached: true });
    expect(rpoStatus('P1', [], DEFAULT_CLASSES, T0)).toEqual({ rpoMs: 15 * MIN, breached: false });
  });

  it('the affected databases: those its checks name, else all (a whole-system incident)', () => {
    expect(affectedDatabases(['sqlite:trading:rows', 'http:api'], ['trading', 'intel'])).toEqual(['trading']);
    expect(affectedDatabases(['http:api'], ['trading', 'intel'])).toEqual(['trading', 'intel']);
  });

  it.each([[4 * 3_600_000, '4h'], [2 * 3_600_000 + 5 * MIN, '2h 05m'], [14 * MIN + 3000, '14m 03s'], [15 * MIN, '15m'], [9000, '9s']])('clockText(%d) = %s', (ms, text) => {
    expect(clockText(ms)).toBe(text);
  });
});

const line = (at: number, source: TimelineEntry['source'], kind: string, checkId?: string): TimelineEntry => ({ at, source, kind, text: kind, ...(checkId ? { checkId } : {}) });

describe('milestones', () => {
  it('detected, acknowledged, mitigated, resolved in order, from the timeline', () => {
    const i = incident({ checks: ['http:api', 'redis:cache'], resolvedAt: T0 + 50 * MIN });
    const m = milestones(i, [
      line(T0, 'alert', 'fired', 'http:api'),
      line(T0 + 2 * MIN, 'alert', 'fired', 'redis:cache'),
      line(T0 + 5 * MIN, 'alert', 'acknowledged', 'http:api'),
      line(T0 + 20 * MIN, 'alert', 'resolved', 'http:api'),
      line(T0 + 30 * MIN, 'alert', 'resolved', 'redis:cache'),
      line(T0 + 50 * MIN, 'incident', 'resolved'),
    ]);
    expect(m).toEqual({ detected: T0, acknowledged: T0 + 5 * MIN, mitigated: T0 + 30 * MIN, resolved: T0 + 50 * MIN });
  });

  it('an alert firing again un-mitigates; a note counts as acknowledged; nothing before detection', () => {
    const i = incident();
    const m = milestones(i, [line(T0 - MIN, 'incident', 'note'), line(T0, 'alert', 'fired', 'http:api'), line(T0 + MIN, 'alert', 'resolved', 'http:api'), line(T0 + 2 * MIN, 'alert', 'fired', 'http:api')]);
    expect(m).toEqual({ detected: T0, acknowledged: T0 });
  });
});

describe('milestones: only the alerts that make it an incident', () => {
  const st = (e: TimelineEntry, status: string): TimelineEntry => ({ ...e, status });
  it('a WARNING that joined and resolved does not mitigate it; a journal finding neither holds nor gives it', () => {
    const i = incident({ checks: ['http:api', 'host:cpu', 'journal:service-recovery:api'] });
    const m = milestones(i, [
      st(line(T0, 'alert', 'fired', 'http:api'), 'critical'),
      st(line(T0 + MIN, 'alert', 'fired', 'host:cpu'), 'warning'),
      st(line(T0 + 2 * MIN, 'alert', 'resolved', 'host:cpu'), 'ok'),
      st(line(T0 + 3 * MIN, 'alert', 'fired', 'journal:service-recovery:api'), 'critical'),
      st(line(T0 + 4 * MIN, 'alert', 'fired', 'host:cpu'), 'warning'),
      st(line(T0 + 5 * MIN, 'alert', 'resolved', 'http:api'), 'ok'),
    ]);
    expect(m.mitigated).toBe(T0 + 5 * MIN);
  });

  it('a declared incident that only WARNINGs joined is mitigated at its resolution, not when a warning clears', () => {
    const i = incident({ checks: ['host:cpu'], resolvedAt: T0 + 60 * MIN });
    const m = milestones(i, [st(line(T0, 'alert', 'fired', 'host:cpu'), 'warning'), st(line(T0 + MIN, 'alert', 'resolved', 'host:cpu'), 'ok')]);
    expect(m.mitigated).toBe(T0 + 60 * MIN);
  });
});

describe('the postmortem draft', () => {
  const report: IncidentReport = {
    id: 'INC-7', title: 'api down', severity: 'P2', status: 'resolved', openedBy: 'rule (watch pid 1)', declaredAt: T0, startedAt: T0, resolvedAt: T0 + 150 * MIN,
    target: DEFAULT_CLASSES.P2, checks: [{ id: 'http:api', status: 'critical', message: 'refused | the connection' }], databases: ['trading'],
    rowLoss: [{ at: T0 + MIN, database: 'trading', table: 'orders', event: 'lost', rows: 12 }, { at: T0 + 90 * MIN, database: 'trading', table: 'orders', event: 'recovered', rows: 10 }],
    timeline: [line(T0, 'alert', 'fired', 'http:api'), { at: T0 + 60 * MIN, source: 'run', kind: 'run.done', text: 'runbook service-recovery on api done' }, { at: T0 + 70 * MIN, source: 'audit', kind: 'container.restart', text: 'container.restart api: ok', actor: 'alice from 203.0.113.7' }],
    milestones: { detected: T0, acknowledged: T0 + 5 * MIN, mitigated: T0 + 100 * MIN, resolved: T0 + 150 * MIN },
    rto: rtoClock({ severity: 'P2', startedAt: T0, resolvedAt: T0 + 150 * MIN }, DEFAULT_CLASSES, T0 + 200 * MIN),
    rpo: { rpoMs: 5 * MIN, worst: { database: 'trading', ageMs: 3 * MIN }, breached: false },
  };
  const md = postmortemMarkdown(report, T0 + 200 * MIN);

  it('has every section, in order', () => {
    const headings = md.split('\n').filter((l) => l.startsWith('## ')).map((l) => l.slice(3));
    expect(headings).toEqual([...POSTMORTEM_SECTIONS]);
    expect(md.split('\n')[0]).toBe('# Postmortem draft: INC-7 — api down');
  });

  it('says whether RTO and RPO were met, the rows lost, the actions with their actor, and follow-ups', () => {
    expect(md).toContain('- RTO 2h: missed — resolved after 2h 30m (deadline 2026-12-02 05:00:00Z)');
    expect(md).toContain('- RPO 5m: missed — newest verified backup of trading 3m old at the start (target 5m); 2 row(s) lost');
    expect(md).toContain('2 row(s) still missing');
    expect(md).toContain('- 2026-12-02 04:10:00Z container.restart api: ok (alice from 203.0.113.7)');
    expect(md).toContain('| 2026-12-02 03:00:00Z | alert | fired |  |');
    expect(md).toContain('- `http:api`: CRITICAL — refused | the connection');
    expect(md).toContain('- [ ] Recovery took longer than the P2 RTO of 2h: find which step was slow');
    expect(md).toContain('- [ ] 2 row(s) lost: restore them');
  });

  it('rows a merge kept in its conflicts table count as found, and are said to be there, not "recovered"', () => {
    const kept = postmortemMarkdown({ ...report, rowLoss: [{ at: T0 + MIN, database: 'trading', table: 'trades', event: 'lost', rows: 96 }, { at: T0 + 2 * MIN, database: 'trading', table: 'trades', event: 'kept', rows: 96 }] }, T0 + 200 * MIN);
    expect(kept).toContain('0 row(s) still missing — trading.trades 96 lost at 2026-12-02 03:01:00Z; trading.trades 96 kept in _opsdeck_conflicts_trades (their ids hold newer rows: review them) at 2026-12-02 03:02:00Z');
    expect(kept).not.toMatch(/recovered/);
  });
});
