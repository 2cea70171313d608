import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerSecrets, SecretRegistry } from '../../src/config/secrets.js';
import { DEFAULT_RULES } from '../../src/domain/incident.js';
import { validate } from '../../src/config/load.js';
import { postmortemMarkdown } from '../../src/domain/postmortem.js';
import { recordAudit } from '../../src/state/acks.js';
import { incidentReport } from '../../src/state/incident-report.js';
import { IncidentStore } from '../../src/state/incidents.js';
import { MIGRATIONS, openStateDb } from '../../src/state/statedb.js';

// The incidents of a real state database (issue #18): two connections (two monitors, or a console
// and the CLI) deciding on one alert; a flap re-opening; declare taking the firing alerts.

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);
const MIN = 60_000;
const alert = (checkId: string, firedAt: number, status: 'critical' | 'warning' = 'critical') => ({ checkId, status, firedAt, message: `${checkId} down` });

describe('incidents in the state database', () => {
  it('the migration is appended by name, after every released one', () => {
    const names = MIGRATIONS.map((m) => m.name);
    expect(names.indexOf('incidents')).toBe(names.indexOf('engine-runs') + 1); // later issues append after it
  });

  it('two connections applying the same alert open one incident: the second joins it (BEGIN IMMEDIATE; one open at a time)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-inc-two-'));
    const [dbA, dbB] = [await openStateDb(dir), await openStateDb(dir)];
    const a = new IncidentStore(dbA);
    const b = new IncidentStore(dbB);
    const first = a.applyAlert(alert('http:api', T0), DEFAULT_RULES, T0, 'rule A');
    const second = b.applyAlert(alert('http:api', T0 + 100), DEFAULT_RULES, T0 + 100, 'rule B');
    expect(first).toMatchObject({ kind: 'open', severity: 'P2', incident: { id: 'INC-1', startedAt: T0 } });
    expect(second).toMatchObject({ kind: 'join', id: 'INC-1' });
    expect(a.list().map((i) => i.id)).toEqual(['INC-1']);
    // The database itself refuses a second open incident, whoever writes it.
    expect(() => dbB.prepare("INSERT INTO incidents (seq, id, title, severity, status, opened_by, declared_at, started_at, updated_at) VALUES (9, 'INC-9', 'x', 'P1', 'open', 'x', 0, 0, 0)").run()).toThrow(/UNIQUE/);
    dbA.close();
    dbB.close();
  });

  it('a title is one line of at most 200 characters, whatever the alert said (a quick_check dump held a hundred lines)', async () => {
    const db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-inc-title-')));
    const s = new IncidentStore(db);
    const dump = `shop.db failed quick_check: *** in database main ***\n${Array.from({ length: 100 }, (_, i) => `Page ${i + 10}: never used`).join('\n')}`;
    const r = s.applyAlert({ ...alert('sqlite:shop', T0), message: dump }, DEFAULT_RULES, T0, 'rule');
    expect(r).toMatchObject({ kind: 'open' });
    const title = s.get('1')?.title ?? '';
    expect(title).not.toContain('\n');
    expect(title.length).toBeLessThanOrEqual(200);
    expect(title).toMatch(/^sqlite:shop CRITICAL: shop\.db failed quick_check: \*\*\* in database main \*\*\* Page 10: never used Page 11.*…$/);
    expect(s.timeline(s.get('1')!, T0 + MIN).every((e) => !e.text.includes('\n'))).toBe(true);
    db.close();
  });

  it('a flap within the window re-opens the incident; after it, a new one opens', async () => {
    const db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-inc-flap-')));
    const s = new IncidentStore(db);
    s.applyAlert(alert('http:api', T0), DEFAULT_RULES, T0, 'rule');
    s.resolve('INC-1', 'alice', T0 + 20 * MIN);
    expect(s.applyAlert(alert('http:api', T0 + 29 * MIN), DEFAULT_RULES, T0 + 29 * MIN, 'rule')).toMatchObject({ kind: 'reopen', incident: { id: 'INC-1', status: 'open' } });
    s.resolve('INC-1', 'alice', T0 + 40 * MIN);
    expect(s.applyAlert(alert('http:api', T0 + 51 * MIN), DEFAULT_RULES, T0 + 51 * MIN, 'rule')).toMatchObject({ kind: 'open', incident: { id: 'INC-2' } });
    expect(s.timeline(s.get('1')!, T0 + 60 * MIN).filter((e) => e.source === 'incident').map((e) => e.kind)).toEqual(['opened', 'resolved', 'reopened', 'resolved']);
    db.close();
  });

  it('mitigated once none of its alerts fires, once per quiet spell', async () => {
    const db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-inc-mitigated-')));
    const ins = db.prepare('INSERT INTO alert_events (at, check_id, event, status, message) VALUES (?, ?, ?, ?, ?)');
    const s = new IncidentStore(db);
    ins.run(T0, 'http:api', 'fired', 'critical', 'down');
    s.applyAlert(alert('http:api', T0), DEFAULT_RULES, T0, 'rule');
    ins.run(T0 + MIN, 'redis:cache', 'fired', 'critical', 'down');
    s.applyAlert(alert('redis:cache', T0 + MIN), DEFAULT_RULES, T0 + MIN, 'rule');
    ins.run(T0 + 2 * MIN, 'http:api', 'resolved', 'ok', 'ok');
    expect(s.applyResolved('http:api', T0 + 2 * MIN, 'rule')).toBeUndefined(); // redis:cache still fires
    ins.run(T0 + 3 * MIN, 'redis:cache', 'resolved', 'ok', 'ok');
    expect(s.applyResolved('redis:cache', T0 + 3 * MIN, 'rule')?.id).toBe('INC-1');
    expect(s.applyResolved('redis:cache', T0 + 3 * MIN + 1, 'rule')).toBeUndefined(); // said once
    ins.run(T0 + 4 * MIN, 'http:api', 'fired', 'critical', 'down');
    ins.run(T0 + 5 * MIN, 'http:api', 'resolved', 'ok', 'ok');
    expect(s.applyResolved('http:api', T0 + 5 * MIN, 'rule')?.id).toBe('INC-1'); // a new quiet spell
    expect(s.applyResolved('other:check', T0 + 5 * MIN, 'rule')).toBeUndefined();
    db.close();
  });

  it('declare takes the alerts firing now: its RTO clock starts at the first; a second declare raises and notes the open one', async () => {
    const db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-inc-declare-')));
    const ins = db.prepare('INSERT INTO alert_events (at, check_id, event, status, message) VALUES (?, ?, ?, ?, ?)');
    ins.run(T0, 'redis:cache', 'fired', 'critical', 'refused');
    ins.run(T0 + MIN, 'redis:cache', 'resolved', 'ok', 'ok');
    ins.run(T0 + 2 * MIN, 'redis:cache', 'fired', 'critical', 'refused');
    ins.run(T0 + 3 * MIN, 'host:disk:/', 'fired', 'warning', '91 %');
    const s = new IncidentStore(db);
    const r = s.declare({ severity: 'P3', title: 'cache flapping', actor: 'alice from 203.0.113.7', at: T0 + 10 * MIN });
    expect(r).toMatchObject({ created: true, incident: { id: 'INC-1', startedAt: T0 + 2 * MIN, checks: ['host:disk:/', 'redis:cache'], openedBy: 'alice from 203.0.113.7' } });
    const again = s.declare({ severity: 'P1', title: 'everything down', actor: 'bob', at: T0 + 11 * MIN });
    expect(again).toMatchObject({ created: false, raisedFrom: 'P3', incident: { id: 'INC-1', severity: 'P1' } });
    db.close();
  });

  it('a note is stored with secrets redacted', async () => {
    const reg = new SecretRegistry();
    reg.add('hunter2-secret-token');
    registerSecrets(reg);
    const db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-inc-note-')));
    const s = new IncidentStore(db);
    s.declare({ severity: 'P2', title: 'api down, key hunter2-secret-token', actor: 'alice', at: T0 });
    s.note('INC-1', 'tried the token hunter2-secret-token', 'alice', T0 + MIN);
    const stored = JSON.stringify([db.prepare('SELECT * FROM incidents').all(), db.prepare('SELECT * FROM incident_events').all()]);
    expect(stored).not.toContain('hunter2');
    expect(stored).toContain('tried the token ***');
    db.close();
  });

  it('the report reads the rows lost, the audit log and the run journal of the incident\'s time into the postmortem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-inc-report-'));
    const db = await openStateDb(dir);
    const config = validate({ databases: [{ name: 'trading', path: join(dir, 'trading.db') }, { name: 'intel', path: join(dir, 'intel.db') }], backup: { dir: join(dir, 'backups') } }, 'test');
    const s = new IncidentStore(db);
    db.prepare('INSERT INTO alert_events (at, check_id, event, status, message) VALUES (?, ?, ?, ?, ?)').run(T0, 'sqlite:trading:rows', 'fired', 'critical', '3 rows missing from orders');
    s.applyAlert({ ...alert('sqlite:trading:rows', T0), message: '3 rows missing from orders' }, DEFAULT_RULES, T0, 'rule');
    const loss = db.prepare('INSERT INTO row_loss_events (at, database, tbl, event, ranges, rows) VALUES (?, ?, ?, ?, ?, ?)');
    loss.run(T0, 'trading', 'orders', 'lost', '[[4,6]]', 3);
    loss.run(T0 - 3_600_000, 'trading', 'orders', 'lost', '[[1,1]]', 1); // before the incident: not its loss
    loss.run(T0 + MIN, 'intel', 'iocs', 'lost', '[[1,9]]', 9); // another database: not affected by this incident
    db.prepare("INSERT INTO runs (id, kind, subject, target_key, hint, status, cursor, phase, params, started_at, updated_at) VALUES ('restore-1', 'restore', 'trading', 'k', 'h', 'done', 0, '\"x\"', '{}', ?, ?)").run(T0 + 2 * MIN, T0 + 9 * MIN);
    recordAudit(db, { action: 'restore', target: 'trading', outcome: 'ok', detail: 'merged 2 rows' }, T0 + 9 * MIN);
    recordAudit(db, { action: 'container.restart', target: 'web', outcome: 'ok' }, T0 - 3_600_000); // before: not its action
    db.prepare("INSERT INTO row_loss_events (at, database, tbl, event, ranges, rows) VALUES (?, 'trading', 'orders', 'recovered', '[[4,5]]', 2)").run(T0 + 9 * MIN);
    s.resolve('INC-1', 'alice', T0 + 10 * MIN);
    const report = incidentReport(db, s, config, s.get('INC-1')!, T0 + 11 * MIN);
    expect(report.databases).toEqual(['trading']);
    expect(report.rowLoss.map((r) => `${r.database}.${r.table}:${r.event}:${r.rows}`)).toEqual(['trading.orders:lost:3', 'trading.orders:recovered:2']);
    const md = postmortemMarkdown(report, T0 + 11 * MIN);
    expect(md).toContain('- Data lost (row-loss check `sqlite:<db>:rows`): 1 row(s) still missing');
    expect(md).toContain('- 2026-12-02 03:02:00Z runbook restore on trading started (restore-1)');
    expect(md).toContain('- 2026-12-02 03:09:00Z runbook restore on trading done (restore-1)');
    expect(md).toMatch(/- 2026-12-02 03:09:00Z restore trading: ok \(merged 2 rows\)/);
    expect(md).not.toContain('container.restart web');
    // No verified backup of trading: the RPO was missed, whatever the rows.
    expect(md).toContain('- RPO 5m: missed — no verified backup of trading (target 5m); 1 row(s) lost');
    db.close();
  });

  it("the impact names each check's worst firing while the incident ran, not its last one (CRITICAL, then WARNING: CRITICAL)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-inc-worst-'));
    const db = await openStateDb(dir);
    const config = validate({}, 'test');
    const s = new IncidentStore(db);
    const fired = db.prepare("INSERT INTO alert_events (at, check_id, event, status, message) VALUES (?, 'http:api', ?, ?, ?)");
    fired.run(T0 - 60 * MIN, 'fired', 'critical', 'an hour before: not this incident');
    fired.run(T0 - 50 * MIN, 'resolved', 'ok', 'ok');
    fired.run(T0, 'fired', 'critical', 'answered HTTP 503');
    expect(s.applyAlert({ ...alert('http:api', T0), message: 'answered HTTP 503' }, DEFAULT_RULES, T0, 'rule')).toMatchObject({ kind: 'open' });
    fired.run(T0 + MIN, 'resolved', 'ok', 'ok');
    fired.run(T0 + 2 * MIN, 'fired', 'warning', 'slow');
    fired.run(T0 + 3 * MIN, 'resolved', 'ok', 'ok');
    fired.run(T0 + 4 * MIN, 'fired', 'warning', 'errors 20%');
    s.resolve('INC-1', 'alice', T0 + 10 * MIN);
    const report = incidentReport(db, s, config, s.get('INC-1')!, T0 + 11 * MIN);
    expect(report.checks).toEqual([{ id: 'http:api', status: 'critical', message: 'answered HTTP 503' }]);
    db.close();
  });
});

describe('notes a person pastes', () => {
  it('password=, token:, Bearer and *_SECRET_* values are stored as ***', async () => {
    const { scrubPasted } = await import('../../src/state/incidents.js');
    expect(scrubPasted('tried password=hunter2 and token: abc123, Authorization: Bearer eyJabc.def.ghi AWS_SECRET_ACCESS_KEY=AKIAXYZ ok')).toBe('tried password=*** and token: *** Authorization: Bearer *** AWS_SECRET_ACCESS_KEY=*** ok');
    expect(scrubPasted('restarted api at 03:12, p95 back to 40 ms')).toBe('restarted api at 03:12, p95 back to 40 ms');
  });
});
