import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import type { Alert } from '../../src/domain/alerts.js';
import { EventBus, type EngineEvent } from '../../src/engine/events.js';
import { INCIDENT_LEASE, incidentRulesRunner } from '../../src/state/incident-rules.js';
import { IncidentStore } from '../../src/state/incidents.js';
import { processIdentity } from '../../src/state/lease.js';
import { openStateDb } from '../../src/state/statedb.js';

// The incident rules on a real bus and state database (issue #18): they act only while this
// process holds the `incident-rules` lease, and tell the bus what they did (incident.changed).

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);
const firing = (checkId: string, at: number): Alert => ({ checkId, state: 'firing', failStreak: 1, passStreak: 0, status: 'critical', message: `${checkId} down`, since: at, firedAt: at });

async function setup(owner: 'watch' | 'console') {
  const db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-inc-rules-')));
  const bus = new EventBus();
  const heard: EngineEvent[] = [];
  bus.subscribe('incident.changed', (e) => void heard.push(e));
  const config = validate({ interval: 1 }, 'test');
  const runner = incidentRulesRunner({ bus, stateDb: db, owner, config: () => config, now: () => T0 });
  return { db, bus, heard, runner, store: new IncidentStore(db) };
}

describe('the incident rules', () => {
  it('the lease holder opens an incident on a CRITICAL alert and says so on the bus; the mitigation too', async () => {
    const { db, bus, heard, runner, store } = await setup('watch');
    const source = runner.source();
    await source.run();
    expect(db.prepare('SELECT name FROM leases').pluck().all()).toEqual([INCIDENT_LEASE]);
    db.prepare("INSERT INTO alert_events (at, check_id, event, status, message) VALUES (?, 'http:api', 'fired', 'critical', 'down')").run(T0);
    bus.emit({ type: 'alert.fired', at: T0, alert: firing('http:api', T0) });
    expect(store.open()).toMatchObject({ id: 'INC-1', severity: 'P2', startedAt: T0 });
    db.prepare("INSERT INTO alert_events (at, check_id, event, status, message) VALUES (?, 'http:api', 'resolved', 'ok', 'up')").run(T0 + 5000);
    bus.emit({ type: 'alert.resolved', at: T0 + 5000, alert: { ...firing('http:api', T0), state: 'resolved', status: 'ok' } });
    expect(heard).toEqual([
      { type: 'incident.changed', at: T0, incident: 'INC-1', action: 'opened', severity: 'P2', checkId: 'http:api' },
      { type: 'incident.changed', at: T0 + 5000, incident: 'INC-1', action: 'mitigated', severity: 'P2', checkId: 'http:api' },
    ]);
    source.close?.();
    runner.off();
    db.close();
  });

  it('without the lease (a live watch holds it) a console applies nothing', async () => {
    const { db, bus, heard, runner, store } = await setup('console');
    // Another live process of this machine (pid 1) holds it as a watch, which a console never takes over.
    const me = processIdentity('watch', 1);
    db.prepare('INSERT INTO leases (name, owner, pid, host, boot_id, pid_ns, acquired_at, renewed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(INCIDENT_LEASE, 'watch', 1, me.host, me.bootId, me.pidNs, T0, T0, T0 + 60_000);
    await runner.source().run();
    bus.emit({ type: 'alert.fired', at: T0, alert: firing('http:api', T0) });
    expect(store.list()).toEqual([]);
    expect(heard).toEqual([]);
    runner.off();
    db.close();
  });
});
