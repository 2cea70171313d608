import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { POSTMORTEM_SECTIONS } from '../../src/domain/postmortem.js';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/redis.js';
import { Watcher } from '../helpers/watch.js';

// Issue #18 on the real CLI: `opsdeck watch --json` (1 s interval) watching a real HTTP endpoint
// that is stopped and started again; the incident rules open, raise and re-open incidents; the
// `opsdeck incident` commands note, resolve, show and export them.

const SECRET = 'tok-5ecret-9f2e71';

/** A real HTTP server on a fixed port that can be stopped and started again. */
class Endpoint {
  private server: Server | undefined;
  constructor(readonly port: number) {}
  async up(): Promise<void> {
    const s = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'));
    await new Promise<void>((r) => s.listen(this.port, '127.0.0.1', r));
    this.server = s;
  }
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/** A stack of one critical endpoint whose URL carries a `${VAR}` secret; a state folder of its own. */
async function stack(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `opsdeck-incident-${name}-`));
  const port = await freePort();
  const config = join(dir, 'opsdeck.yaml');
  writeFileSync(
    config,
    [
      `name: ${name}`,
      'interval: 1s',
      'failure_threshold: 1',
      'recovery_threshold: 1',
      'thresholds: {cpu: 100, memory: 100, disk: 100}',
      `state_dir: ${join(dir, 'state')}`,
      'endpoints:',
      '  - name: api',
      `    url: http://127.0.0.1:${port}/health?token=\${API_TOKEN}`,
      '    critical: true',
      // A database (not critical: system health stays the endpoint's alone) with a verified backup for the RPO.
      'databases:',
      `  - name: trading`,
      `    path: ${join(dir, 'trading.db')}`,
      '    critical: false',
      `backup: {dir: ${join(dir, 'backups')}}`,
      '',
    ].join('\n'),
  );
  const trading = new Database(join(dir, 'trading.db'));
  trading.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, qty INTEGER); INSERT INTO orders (qty) VALUES (1), (2);');
  trading.close();
  const env = { API_TOKEN: SECRET };
  const cli = (...args: string[]) => runCli(['--config', config, 'incident', ...args], { env: { ...env, SSH_CLIENT: '203.0.113.7 52100 22' } });
  return { dir, config, env, cli, endpoint: new Endpoint(port), db: () => new Database(join(dir, 'state', 'state.db'), { readonly: true }) };
}

/** The `incident` lines a watch printed (JSON). */
const incidentLines = (w: Watcher) => w.lines.flatMap((l) => {
  try {
    const d = JSON.parse(l) as { event?: string; action?: string; incident?: string; severity?: string; check?: string; raised?: string };
    return d.event === 'incident' ? [d] : [];
  } catch {
    return [];
  }
});

/** Polls until `pred` holds (never a fixed sleep). */
async function until<T>(what: string, get: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a scripted incident through watch and the CLI', () => {
  it('opens on the critical alert, raised to P1 by system health; note, mitigation, resolution in order; the export is a postmortem draft without the secret; a flap re-opens it', async () => {
    const s = await stack('scripted');
    const backup = await runCli(['--config', s.config, 'backup', 'create', '--db', 'trading', '--verify'], { env: s.env });
    expect(backup.code, backup.stderr).toBe(0);
    const w = new Watcher(s.config, s.env);
    cleanups.push(() => w.stop(), () => s.endpoint.down());
    // The endpoint is down from the start: the alert fires at the first check.
    await w.waitFor('fired', 'http:api', 30_000);
    const opened = await until('the incident to open', () => incidentLines(w).find((l) => l.action === 'opened'));
    expect(opened).toMatchObject({ incident: 'INC-1', severity: 'P2', check: 'http:api' });
    // The only critical check failing puts system health at 0 %: the same incident, raised to P1.
    await until('the raise to P1', () => incidentLines(w).find((l) => l.check === 'system:health'));
    expect(incidentLines(w).find((l) => l.check === 'system:health')).toMatchObject({ action: 'joined', incident: 'INC-1', severity: 'P1', raised: 'P1' });

    const note = await s.cli('note', 'INC-1', `restarting the api (token ${SECRET})`);
    expect(note.code).toBe(0);
    await s.endpoint.up();
    await w.waitFor('resolved', 'http:api', 30_000);
    await w.waitFor('resolved', 'system:health', 30_000);
    // The last of its alerts resolved: the rules record it as mitigated.
    expect(await until('the mitigation', () => incidentLines(w).find((l) => l.action === 'mitigated'))).toMatchObject({ incident: 'INC-1' });
    const resolved = await s.cli('resolve', '1');
    expect(resolved.code).toBe(0);
    expect(resolved.stdout).toMatch(/^INC-1 resolved after \d+s: RTO 4h met/);

    const show = await s.cli('show', 'INC-1', '--json');
    expect(show.code).toBe(0);
    const doc = JSON.parse(show.stdout) as { incident: { severity: string; status: string; checks: string[]; milestones: Record<string, number>; timeline: { source: string; kind: string; actor?: string }[] } };
    expect(doc.incident).toMatchObject({ severity: 'P1', status: 'resolved', checks: ['http:api', 'system:health'] });
    const m = doc.incident.milestones;
    expect(Object.keys(m)).toEqual(['detected', 'acknowledged', 'mitigated', 'resolved']);
    expect(m.detected).toBeLessThanOrEqual(m.acknowledged as number);
    expect(m.acknowledged).toBeLessThan(m.mitigated as number);
    expect(m.mitigated).toBeLessThanOrEqual(m.resolved as number);
    // The timeline wrote itself: the alert history, the rule's own events, the note with its actor over SSH.
    const kinds = doc.incident.timeline.map((e) => `${e.source}:${e.kind}`);
    expect(kinds).toEqual(expect.arrayContaining(['incident:opened', 'alert:fired', 'incident:raised', 'incident:note', 'alert:resolved', 'incident:mitigated', 'incident:resolved']));
    expect(doc.incident.timeline.find((e) => e.kind === 'note')?.actor).toMatch(/ from 203\.0\.113\.7$/);

    const md = await s.cli('export', 'INC-1');
    expect(md.code).toBe(0);
    expect(md.stdout.split('\n').filter((l) => l.startsWith('## ')).map((l) => l.slice(3))).toEqual([...POSTMORTEM_SECTIONS]);
    expect(md.stdout).toMatch(/^# Postmortem draft: INC-1 — http:api CRITICAL: /);
    expect(md.stdout).toMatch(/- RTO 4h: met — resolved after \d+s/);
    // The backup verified before the outage is seconds old at its start: within P1's 15 min.
    expect(md.stdout).toMatch(/- RPO 15m: met — newest verified backup of trading \d+s old at the start \(target 15m\)/);
    expect(md.stdout).toContain('| incident | note: restarting the api');
    const json = await s.cli('export', 'INC-1', '--format', 'json');
    const list = await s.cli('list', '--json');
    for (const out of [md.stdout, show.stdout, json.stdout, list.stdout, w.lines.join('\n')]) {
      expect(out).toContain('127.0.0.1');
      expect(out).not.toContain(SECRET);
    }
    expect((JSON.parse(json.stdout) as { postmortem: { id: string } }).postmortem.id).toBe('INC-1');

    // The alert fires again within 10 min of the resolution: INC-1 re-opens, no second incident.
    const before = w.events.length;
    await s.endpoint.down();
    await w.waitFor('fired', 'http:api', 30_000, before);
    await until('the re-open', () => incidentLines(w).find((l) => l.action === 'reopened'));
    expect(incidentLines(w).find((l) => l.action === 'reopened')).toMatchObject({ incident: 'INC-1', check: 'http:api' });
    const db = s.db();
    try {
      expect(db.prepare('SELECT id, status FROM incidents').all()).toEqual([{ id: 'INC-1', status: 'open' }]);
      expect(db.prepare("SELECT kind FROM incident_events WHERE incident_id = 'INC-1' AND kind IN ('opened', 'resolved', 'reopened') ORDER BY id").pluck().all()).toEqual(['opened', 'resolved', 'reopened']);
    } finally {
      db.close();
    }
  });

  it('--read-only refuses declare, note and resolve (audited) and still lists, shows and exports', async () => {
    const s = await stack('readonly');
    const declared = await s.cli('declare', '--severity', 'P3', 'disk filling');
    expect(declared.code).toBe(0);
    for (const args of [['declare', 'x'], ['note', '1', 'x'], ['resolve', '1']]) {
      const r = await runCli(['--config', s.config, '--read-only', 'incident', ...args], { env: s.env });
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`opsdeck: incident ${args[0]}: refused: opsdeck runs in --read-only mode`);
    }
    for (const args of [['list'], ['show', '1'], ['export', '1']]) {
      const r = await runCli(['--config', s.config, '--read-only', 'incident', ...args], { env: s.env });
      expect(r.code).toBe(0);
    }
    const db = s.db();
    try {
      expect(db.prepare("SELECT action FROM audit WHERE outcome = 'refused' ORDER BY id").pluck().all()).toEqual(['incident.declare', 'incident.note', 'incident.resolve']);
      expect(db.prepare('SELECT status FROM incidents').pluck().all()).toEqual(['open']);
    } finally {
      db.close();
    }
  });
});

describe('two monitors on one state folder', () => {
  it('two watches open one incident, not two: only the incident-rules lease holder applies the rules', async () => {
    const s = await stack('two');
    const w1 = new Watcher(s.config, s.env);
    const w2 = new Watcher(s.config, s.env);
    cleanups.push(() => Promise.all([w1.stop(), w2.stop()]));
    await Promise.all([w1.waitFor('fired', 'http:api', 30_000), w2.waitFor('fired', 'http:api', 30_000)]);
    await Promise.all([w1.waitFor('fired', 'system:health', 30_000), w2.waitFor('fired', 'system:health', 30_000)]);
    // Both watches heard both alerts; the holder's rules ran in its listener before it printed the next line.
    await until('the incident to open and be raised', () => [...incidentLines(w1), ...incidentLines(w2)].some((l) => l.check === 'system:health'));
    const all = [...incidentLines(w1), ...incidentLines(w2)];
    expect(all.filter((l) => l.action === 'opened')).toHaveLength(1);
    expect(incidentLines(w1).length === 0 || incidentLines(w2).length === 0).toBe(true);
    const db = s.db();
    try {
      expect(db.prepare('SELECT id, severity, status FROM incidents').all()).toEqual([{ id: 'INC-1', severity: 'P1', status: 'open' }]);
      expect(db.prepare("SELECT name FROM leases WHERE name = 'incident-rules'").pluck().all()).toEqual(['incident-rules']);
    } finally {
      db.close();
    }
  });
});
