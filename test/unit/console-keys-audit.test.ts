import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyTracker, runbookArgs } from '../../src/cli/console.js';
import type { Alert } from '../../src/domain/alerts.js';
import { openStateDb } from '../../src/state/statedb.js';
import { createAppStore } from '../../src/state/store.js';

// The drill score's input (issue #16): the keys pressed in the console while an alert fired and the
// runbooks started for it, audited as `console.keys` when it resolves — on a real state database.

const alert = (checkId: string, state: Alert['state'], firedAt?: number): Alert => ({ checkId, state, failStreak: 3, passStreak: 0, status: 'critical', message: 'x', ...(firedAt !== undefined ? { firedAt } : {}) });

describe('console.keys', () => {
  it('counts keys per firing (and resolving) alert, with the runbooks started for it; one audit entry as each resolves', async () => {
    const db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-keys-')));
    const store = createAppStore();
    const t = keyTracker(db, store);
    store.getState().actions.setAlerts([alert('http:api', 'firing', 1000), alert('redis:cache', 'pending')]);
    t.fired(alert('http:api', 'firing', 1000), 1000);
    t.key();
    t.key();
    t.runbook('http:api', 'service-recovery');
    store.getState().actions.setAlerts([alert('http:api', 'resolving', 1000), alert('redis:cache', 'firing', 2000)]);
    t.key();
    t.resolved({ ...alert('http:api', 'resolved', 1000), resolvedAt: 5000 }, 5000);
    t.key();
    t.resolved(alert('redis:cache', 'resolved', 2000), 9000);
    // Resolved without a key pressed nor a fired event seen (it fired before the console started).
    t.resolved(alert('sqlite:shop', 'resolved', 300), 400);
    const rows = db.prepare("SELECT at, target, outcome, detail FROM audit WHERE action = 'console.keys' ORDER BY id").all() as { at: number; target: string; outcome: string; detail: string }[];
    db.close();
    expect(rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as unknown }))).toEqual([
      { at: 5000, target: 'http:api', outcome: 'ok', detail: { keys: 3, firedAt: 1000, resolvedAt: 5000, runbooks: ['service-recovery'] } },
      { at: 9000, target: 'redis:cache', outcome: 'ok', detail: { keys: 2, firedAt: 2000, resolvedAt: 9000, runbooks: [] } },
      { at: 400, target: 'sqlite:shop', outcome: 'ok', detail: { keys: 0, firedAt: 300, resolvedAt: 400, runbooks: [] } },
    ]);
  });
});

describe('a restore started from the console', () => {
  it("counts as restore-database for each open alert of that database, and of no other (drill score listed no runbook for db-corrupt)", async () => {
    const db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-keys-restore-')));
    const store = createAppStore();
    const t = keyTracker(db, store);
    store.getState().actions.setAlerts([alert('sqlite:trading', 'firing', 1000), alert('sqlite:trading:rows', 'resolving', 1100), alert('sqlite:trading2', 'firing', 1200), alert('http:api', 'firing', 1300)]);
    t.restore('trading');
    for (const id of ['sqlite:trading', 'sqlite:trading:rows', 'sqlite:trading2', 'http:api']) t.resolved({ ...alert(id, 'resolved', 1000), resolvedAt: 5000 }, 5000);
    const rows = db.prepare("SELECT target, detail FROM audit WHERE action = 'console.keys' ORDER BY id").all() as { target: string; detail: string }[];
    db.close();
    expect(Object.fromEntries(rows.map((r) => [r.target, (JSON.parse(r.detail) as { runbooks: string[] }).runbooks]))).toEqual({
      'sqlite:trading': ['restore-database'],
      'sqlite:trading:rows': ['restore-database'],
      'sqlite:trading2': [],
      'http:api': [],
    });
  });
});

describe('the runbook command the console spawns', () => {
  it.each([
    [{ runbook: 'service-recovery', target: { kind: 'service' as const, name: 'api' }, check: 'http:api' }, ['runbook', 'run', 'service-recovery', '--target', 'api', '--check', 'http:api']],
    [{ runbook: 'disk-pressure', target: { kind: 'host' as const, name: '/var' } }, ['runbook', 'run', 'disk-pressure', '--target', '/var']],
    [{ runbook: 'recovery-verify', target: { kind: 'none' as const, name: '' } }, ['runbook', 'run', 'recovery-verify']],
    [{ runbook: 'service-recovery', target: { kind: 'none' as const, name: 'api' }, check: 'journal:service-recovery:api', resume: true }, ['runbook', 'resume', '--check', 'journal:service-recovery:api']],
  ])('%j → %j', (start, args) => {
    expect(runbookArgs(start)).toEqual(args);
  });
});
