import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleActions } from '../../src/cli/console.js';
import { loadConfigFile } from '../../src/config/load.js';
import type { Alert } from '../../src/domain/alerts.js';
import { AckStore } from '../../src/state/acks.js';
import { Monitor } from '../../src/state/monitor.js';
import { openStateDb } from '../../src/state/statedb.js';
import { createAppStore } from '../../src/state/store.js';
import { runCli, seedTrading, removePrivateCli } from '../helpers/restore-fixture.js';

// --read-only means read-only (issue #12 point 7): every path that changes something refuses,
// records the refusal in the audit log, and prints nothing that looks like it acted.

afterAll(() => removePrivateCli());

const alert: Alert = { checkId: 'http:api', state: 'firing', failStreak: 3, passStreak: 0, status: 'critical', message: 'http://127.0.0.1:1/ refused the connection', since: 1000, firedAt: 3000 };

async function actionsFor(readOnly: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-ro-'));
  const file = join(dir, 'opsdeck.yaml');
  writeFileSync(file, 'name: ro\n');
  const { config } = loadConfigFile(file, {});
  const db = await openStateDb(join(dir, 'state'));
  const monitor = new Monitor({ config, store: createAppStore(), sources: [], stateDb: db });
  const actions = consoleActions({ readOnly, db, acks: new AckStore(db), docker: () => undefined, monitor: () => monitor, entries: new Map(), configFile: file });
  return { db, actions };
}

describe('the console under --read-only (the layer below its key handling)', () => {
  it('acknowledge and silence are refused, not saved, and the refusals are audited', async () => {
    const { db, actions } = await actionsFor(true);
    actions.ack(alert);
    actions.silence(alert, 3_600_000);
    expect(actions.acks(alert)).toEqual({ acknowledged: false });
    expect(db.prepare('SELECT count(*) AS n FROM alert_acks').get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT count(*) AS n FROM alert_events WHERE event IN ('acknowledged', 'silenced')").get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT action, target, outcome, detail FROM audit ORDER BY id').all()).toEqual([
      { action: 'alert.ack', target: 'http:api', outcome: 'refused', detail: '--read-only' },
      { action: 'alert.silence', target: 'http:api', outcome: 'refused', detail: '--read-only' },
    ]);
    db.close();
  });

  it('a container action and a restore are refused and audited; no restore process starts', async () => {
    const { db, actions } = await actionsFor(true);
    const r = await actions.containerAction('restart', { id: 'abc', name: 'web' } as Parameters<typeof actions.containerAction>[1]);
    expect(r).toMatchObject({ ok: false, error: { message: 'restart web: refused: opsdeck runs in --read-only mode' } });
    const exit = await new Promise<{ code: number; error?: string }>((resolve) => {
      actions.restore(['--db', 'trading', '--tables', 'all'], { onSay: () => undefined, onAsk: () => undefined, onExit: (code, error) => resolve({ code, ...(error ? { error } : {}) }) });
    });
    expect(exit).toEqual({ code: 1, error: 'restore refused: opsdeck runs in --read-only mode' });
    expect(db.prepare('SELECT action, target, outcome FROM audit ORDER BY id').all()).toEqual([
      { action: 'container.restart', target: 'web', outcome: 'refused' },
      { action: 'restore', target: 'trading', outcome: 'refused' },
    ]);
    db.close();
  });

  it('without --read-only, acknowledge and silence are saved (the same actions)', async () => {
    const { db, actions } = await actionsFor(false);
    actions.ack(alert);
    expect(actions.acks(alert)).toEqual({ acknowledged: true });
    expect(db.prepare('SELECT count(*) AS n FROM audit').get()).toEqual({ n: 0 });
    db.close();
  });
});

describe('commands under --read-only', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('demo --stop --read-only stops nothing and deletes nothing; the refusal is audited in the demo state folder', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'opsdeck-ro-demo-')), 'ws');
    mkdirSync(dir);
    // A stand-in for the demo's writer: a real process the stop would kill.
    const writer = spawn('sleep', ['300'], { stdio: 'ignore' });
    children.push(writer);
    writeFileSync(join(dir, 'demo.json'), JSON.stringify({ dir, config: join(dir, 'opsdeck.yaml'), db: join(dir, 'data', 'trading.db'), apiPort: 1, apiPid: 0, writerPid: writer.pid, notes: [], interval: '5s', drills: [] }));
    writeFileSync(join(dir, 'opsdeck.yaml'), 'name: demo\ndemo: true\nstate_dir: state\n');
    const r = await runCli(['--read-only', 'demo', '--stop', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`opsdeck: opsdeck demo --stop stops processes and deletes ${dir}; refused in --read-only mode (nothing stopped)\n`);
    expect(writer.exitCode).toBeNull();
    expect(() => process.kill(writer.pid!, 0)).not.toThrow();
    expect(existsSync(join(dir, 'demo.json'))).toBe(true);
    const db = await openStateDb(join(dir, 'state'));
    expect(db.prepare('SELECT action, target, outcome FROM audit').all()).toEqual([{ action: 'demo.stop', target: dir, outcome: 'refused' }]);
    db.close();
  });

  it('drill commands under --read-only are refused and audited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-ro-drill-'));
    writeFileSync(join(dir, 'opsdeck.yaml'), 'name: demo\ndemo: true\nstate_dir: state\n');
    const r = await runCli(['--read-only', 'drill', 'stop-writer', '--config', join(dir, 'opsdeck.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('opsdeck: drill stop-writer changes the demo stack; refused in --read-only mode\n');
    const db = await openStateDb(join(dir, 'state'));
    expect(db.prepare('SELECT action, outcome FROM audit').all()).toEqual([{ action: 'drill.stop-writer', outcome: 'refused' }]);
    db.close();
  });

  it('backup verify --read-only checks and prints, but records nothing: manifest, verification history and audit log unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-ro-verify-'));
    const dbFile = join(dir, 'trading.db');
    seedTrading(dbFile, 20);
    const config = join(dir, 'opsdeck.yaml');
    writeFileSync(config, `databases:\n  - name: trading\n    path: ${dbFile}\nbackup:\n  dir: ${join(dir, 'backups')}\n`);
    const env = { OPSDECK_STATE_DIR: join(dir, 'state') };
    expect((await runCli(['--config', config, 'backup', 'create'], { env })).code).toBe(0);
    const bdir = join(dir, 'backups', 'trading');
    const manifest = join(bdir, readdirSync(bdir).find((f) => f.endsWith('.json'))!);
    const before = readFileSync(manifest, 'utf8');
    const db = await openStateDb(join(dir, 'state'));
    const rows = () => ({
      verifications: db.prepare('SELECT count(*) AS n FROM backup_verifications').get(),
      audit: db.prepare("SELECT count(*) AS n FROM audit WHERE action = 'backup.verify'").get(),
    });
    const r = await runCli(['--config', config, '--read-only', 'backup', 'verify'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^OK {6}trading-\S+: ok: checksum, integrity_check and foreign_key_check pass\n--read-only: checked only; the results were not recorded \(manifests, verification history and audit log unchanged\)\n$/);
    const json = JSON.parse((await runCli(['--config', config, '--read-only', 'backup', 'verify', '--json'], { env })).stdout) as { verified: { ok: boolean }[]; recorded: boolean };
    expect(json).toMatchObject({ verified: [{ ok: true }], recorded: false });
    expect(readFileSync(manifest, 'utf8')).toBe(before);
    expect(rows()).toEqual({ verifications: { n: 0 }, audit: { n: 0 } });
    // Without --read-only the same verify records all three.
    expect((await runCli(['--config', config, 'backup', 'verify'], { env })).code).toBe(0);
    expect(readFileSync(manifest, 'utf8')).not.toBe(before);
    expect(rows()).toEqual({ verifications: { n: 1 }, audit: { n: 1 } });
    db.close();
  });
});
