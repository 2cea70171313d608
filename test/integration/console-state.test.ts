import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AckStore, recordAudit } from '../../src/state/acks.js';
import { openStateDb } from '../../src/state/statedb.js';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/redis.js';
import { TmuxSession } from '../helpers/tmux.js';
import { Watcher } from '../helpers/watch.js';

describe('acks and silences in the state database', () => {
  it('survive a restart of the console (a new AckStore on the same file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-acks-'));
    const db1 = await openStateDb(dir);
    const a1 = new AckStore(db1);
    a1.ack('redis:cache', 1000, 5000);
    a1.silence('http:api', 3_600_000, 5000);
    db1.close();
    const db2 = await openStateDb(dir);
    const a2 = new AckStore(db2);
    // The restarted console's monitor re-detects the outage as a new firing: the ack still holds.
    expect(a2.get('redis:cache', 9000, 6000)).toEqual({ acknowledged: true });
    expect(a2.get('http:api', undefined, 6000)).toEqual({ acknowledged: false, silencedUntil: 3_605_000 });
    expect(a2.get('http:api', undefined, 3_700_000)).toEqual({ acknowledged: false });
    const events = db2.prepare('SELECT check_id, event FROM alert_events ORDER BY id').all();
    expect(events).toEqual([
      { check_id: 'redis:cache', event: 'acknowledged' },
      { check_id: 'http:api', event: 'silenced' },
    ]);
    recordAudit(db2, { action: 'container.restart', target: 'web', outcome: 'refused', detail: 'read-only mode' });
    expect(db2.prepare('SELECT action, target, outcome, detail FROM audit').get()).toEqual({ action: 'container.restart', target: 'web', outcome: 'refused', detail: 'read-only mode' });
    db2.close();
  });

  it('an ack lapses when its alert resolves, in this run or (from alert_events) in an earlier one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-acks-'));
    const db1 = await openStateDb(dir);
    const a1 = new AckStore(db1);
    a1.ack('http:api', 1000, 5000);
    a1.ack('redis:cache', 1000, 5000);
    a1.lapse('http:api', 6000);
    expect(a1.get('http:api').acknowledged).toBe(false);
    // The monitor of an earlier run recorded the resolution after the ack.
    db1.prepare('INSERT INTO alert_events (at, check_id, event) VALUES (?, ?, ?)').run(7000, 'redis:cache', 'resolved');
    db1.close();
    const db2 = await openStateDb(dir);
    const a2 = new AckStore(db2);
    expect(a2.get('http:api').acknowledged).toBe(false);
    expect(a2.get('redis:cache').acknowledged).toBe(false);
    db2.close();
  });
});

describe('two consoles on one state directory (issue #13)', () => {
  it('a silence or an ack made in one appears in the other at its next read; neither overwrites the other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-acks2-'));
    // Two connections to one file, as two console processes have.
    const dbA = await openStateDb(dir);
    const dbB = await openStateDb(dir);
    let clock = 0;
    const a = new AckStore(dbA, 1000, () => clock);
    const b = new AckStore(dbB, 1000, () => clock);
    expect(b.get('http:api', undefined, 5000)).toEqual({ acknowledged: false });
    a.silence('http:api', 3_600_000, 5000);
    clock += 1000; // the next cycle
    expect(b.get('http:api', undefined, 6000)).toEqual({ acknowledged: false, silencedUntil: 3_605_000 });
    // B acks with its copy read before A's silence was written: the silence stays.
    b.ack('http:api', 4000, 7000);
    clock += 1000;
    expect(a.get('http:api', undefined, 8000)).toEqual({ acknowledged: true, silencedUntil: 3_605_000 });
    dbA.close();
    dbB.close();
  });

  it('an endpoint removed from the configuration while its alert fires: the reload resolves it (recorded), not left firing', async () => {
    // An operator's trial of issue #25: it kept firing (console row frozen, Alertmanager re-sent) until the endpoint came back.
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-retire-'));
    const f = join(dir, 'opsdeck.yaml');
    const port = await freePort(); // nothing listens: the endpoint is down
    const base = `name: retire\ninterval: 1s\nthresholds: {cpu: 100, memory: 100, disk: 100}\nfailure_threshold: 1\nrecovery_threshold: 1\n`;
    writeFileSync(f, `${base}endpoints:\n  - name: gone\n    url: http://127.0.0.1:${port}/\n  - name: kept\n    url: http://127.0.0.1:${port}/kept\n`);
    const w = new Watcher(f, { OPSDECK_STATE_DIR: dir });
    try {
      await Promise.all([w.waitFor('fired', 'http:gone', 30_000), w.waitFor('fired', 'http:kept', 30_000)]);
      writeFileSync(f, `${base}endpoints:\n  - name: kept\n    url: http://127.0.0.1:${port}/kept\n`);
      const r = await w.waitFor('resolved', 'http:gone', 30_000);
      expect(r.message).toMatch(/removed from the configuration/);
      // The endpoint still configured (and still down) fires on.
      expect(w.events.filter((e) => e.check === 'http:kept').map((e) => e.event)).toEqual(['fired']);
    } finally {
      await w.stop();
    }
    const db = new Database(join(dir, 'state.db'), { readonly: true });
    const rows = db.prepare("SELECT event FROM alert_events WHERE check_id = 'http:gone' ORDER BY id").pluck().all();
    db.close();
    expect(rows).toEqual(['fired', 'resolved']);
  });

  it('two watches record one "fired" and one "resolved" for one alert', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-two-watch-'));
    const f = join(dir, 'opsdeck.yaml');
    const port = await freePort(); // nothing listens: the endpoint is down
    writeFileSync(f, `name: two\ninterval: 1s\nthresholds: {cpu: 100, memory: 100, disk: 100}\nfailure_threshold: 1\nrecovery_threshold: 1\nendpoints:\n  - name: gone\n    url: http://127.0.0.1:${port}/\n`);
    const env = { OPSDECK_STATE_DIR: dir };
    const w1 = new Watcher(f, env);
    const w2 = new Watcher(f, env);
    try {
      await Promise.all([w1.waitFor('fired', 'http:gone', 30_000), w2.waitFor('fired', 'http:gone', 30_000)]);
      const server = createServer((_req, res) => res.end('ok'));
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
      try {
        await Promise.all([w1.waitFor('resolved', 'http:gone', 30_000), w2.waitFor('resolved', 'http:gone', 30_000)]);
      } finally {
        server.close();
      }
    } finally {
      await Promise.all([w1.stop(), w2.stop()]);
    }
    const db = new Database(join(dir, 'state.db'), { readonly: true });
    const rows = db.prepare("SELECT event FROM alert_events WHERE check_id = 'http:gone' ORDER BY id").pluck().all();
    db.close();
    expect(rows).toEqual(['fired', 'resolved']);
  });
});

describe('opsdeck without a terminal', () => {
  it('prints a plain-text snapshot once and exits with check\'s exit code (stdout decides, CI does not matter)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-snap-'));
    const f = join(dir, 'opsdeck.yaml');
    const port = await freePort();
    writeFileSync(f, `name: snap\nthresholds: {cpu: 100, disk: 100, memory: 100}\nendpoints:\n  - name: gone\n    url: http://127.0.0.1:${port}/\n    critical: true\n`);
    const r = await runCli(['--config', f], { env: { CI: 'true', OPSDECK_STATE_DIR: dir } });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^CRITICAL: /);
    expect(r.stdout).toContain(`http://127.0.0.1:${port}/ refused the connection`);
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });
});

describe('colours', () => {
  it('NO_COLOR and --no-color give a frame without colour escapes; by default there are colours', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-color-'));
    const f = join(dir, 'opsdeck.yaml');
    writeFileSync(f, 'name: colors\nthresholds: {cpu: 100, disk: 100, memory: 100}\n');
    const colored = /\x1b\[(3[0-7]|9[0-7]|38;)/;
    const shot = async (args: string[], env: Record<string, string>) => {
      const t = TmuxSession.start(`opsdeck-color-${process.pid}-${args.join('')}${Object.keys(env).join('')}`, ['--config', f, ...args], { columns: 100, rows: 30, env: { OPSDECK_STATE_DIR: dir, ...env } });
      try {
        await t.waitFor(/health \d+%/);
        return (await import('node:child_process')).execFileSync('tmux', ['capture-pane', '-e', '-p', '-t', t.name], { encoding: 'utf8' });
      } finally {
        t.kill();
      }
    };
    expect(await shot([], {})).toMatch(colored);
    expect(await shot([], { NO_COLOR: '1' })).not.toMatch(colored);
    expect(await shot(['--no-color'], {})).not.toMatch(colored);
  });
});
