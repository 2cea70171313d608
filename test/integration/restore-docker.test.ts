import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { holdersOf } from '../../src/services/backup-restore.js';
import { docker, runContainer } from '../helpers/docker-engine.js';
import { cli, cloneScenario, integrityOf, killAt, makeTemplate, rowsOf, type Scenario, removePrivateCli } from '../helpers/restore-fixture.js';

// The writers of a database are real containers in the private Docker engine: a busybox container
// that holds the database file open (as an application would) stands in for the app. The restore
// stops it before touching the file and starts it again after; it must pass its health check.

const host = inject('dockerHost');
let template: Scenario;
const names: string[] = [];

beforeAll(async () => {
  template = await makeTemplate();
});
afterAll(async () => {
  await removePrivateCli();
  for (const n of names) {
    try {
      docker(host, 'rm', '-f', n);
    } catch {
      // already gone
    }
  }
});

const HOLD = "trap 'exit 0' TERM; exec 3<>/data/trading.db; while true; do sleep 1 & wait; done";

/** Waits (polling /proc) until `n` processes hold the database open. */
async function held(db: string, n: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (holdersOf(db).length < n) {
    if (Date.now() > deadline) throw new Error(`${db} never held open by ${n} processes`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A scenario whose database has one writer container, running and holding the file open. */
async function withWriter(tag: string): Promise<{ s: Scenario; name: string }> {
  const name = `opsdeck-restore-${tag}-${process.pid}`;
  names.push(name);
  const s = cloneScenario(template, `services:\n  - name: app\n    container: ${name}\ndocker:\n  host: ${host}\n`, ['app']);
  runContainer(host, name, ['--network', 'none', '-v', `${join(s.dir, 'data')}:/data`, '--health-cmd', 'true', '--health-interval', '1s'], ['sh', '-c', HOLD]);
  await held(s.db, 1);
  return { s, name };
}

const running = (name: string) => docker(host, 'inspect', '-f', '{{.State.Running}}', name) === 'true';

describe.concurrent('restore with a writer container', () => {
  it('stops the writer before the safety copy and starts it again after; it is healthy at the end', async () => {
    const { s, name } = await withWriter('full');
    const r = await cli(s, ['restore', '--db', 'trading', '--yes', '--accept-loss']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`[3/10] stop the writers: stopped ${name}`);
    expect(r.stdout).toContain(`[8/10] start the writers again: started ${name}`);
    expect(r.stdout).toContain(`[9/10] verify the writers are healthy: ${name} running, healthy`);
    expect(running(name)).toBe(true);
    expect(rowsOf(s.db)).toEqual(s.backupSet);
  });

  it('killed before the swap: the writer is stopped at that moment, --resume starts it again', async () => {
    const { s, name } = await withWriter('resume');
    const k = await killAt('before:swap', ['--config', s.config, 'restore', '--db', 'trading', '--yes', '--accept-loss'], s);
    expect(k.paused, k.stderr).toBe(true);
    expect(running(name)).toBe(false);
    const r = await cli(s, ['restore', '--db', 'trading', '--resume', '--yes', '--accept-loss']);
    expect(r.code, r.stderr).toBe(0);
    expect(running(name)).toBe(true);
    expect(integrityOf(s.db)).toBe('ok');
    expect(rowsOf(s.db)).toEqual(s.backupSet);
  });

  it('killed after the writers were started again: --rollback stops them, puts the old database back, starts them', async () => {
    const { s, name } = await withWriter('rollback');
    const k = await killAt('after:start-writers', ['--config', s.config, 'restore', '--db', 'trading', '--yes', '--accept-loss'], s);
    expect(k.paused, k.stderr).toBe(true);
    expect(running(name)).toBe(true);
    const r = await cli(s, ['restore', '--db', 'trading', '--rollback', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(running(name)).toBe(true);
    expect(rowsOf(s.db)).toEqual(s.oldSet);
  });

  it('another container still has the database open: refused, the stopped writer is started again, nothing changed', async () => {
    const { s, name } = await withWriter('refuse');
    const intruder = `opsdeck-restore-intruder-${process.pid}`;
    names.push(intruder);
    runContainer(host, intruder, ['--network', 'none', '-v', `${join(s.dir, 'data')}:/data`], ['sh', '-c', HOLD]);
    await held(s.db, 2);
    const r = await cli(s, ['restore', '--db', 'trading', '--yes', '--accept-loss']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^opsdeck: refused: ${s.db} is still open in pid \\d+ \\(.*sh -c .*\\); stop it, or pass --force \\(restore of trading stopped; the database was not changed; started ${name} again\\)\\n$`));
    expect(running(name)).toBe(true);
    expect(rowsOf(s.db)).toEqual(s.oldSet);
  });
});
