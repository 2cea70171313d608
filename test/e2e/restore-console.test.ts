import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { TmuxSession } from '../helpers/tmux.js';
import { rowCount } from '../helpers/sqlite.js';

// The restore wizard inside the console, in a real terminal (tmux), on a real SQLite file and a
// real verified backup: each step is previewed and waits for y; the database comes back.

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-restore-console-'));
const config = join(dir, 'opsdeck.yaml');
const dbPath = join(dir, 'shop.db');
const env = { OPSDECK_STATE_DIR: join(dir, 'state'), XDG_DATA_HOME: join(dir, 'data') };
const sessions: TmuxSession[] = [];
let n = 0;
const open = (...args: string[]) => {
  const s = TmuxSession.start(`opsdeck-rw-${process.pid}-${n++}`, ['--config', config, ...args], { columns: 120, rows: 40, env });
  sessions.push(s);
  return s;
};
const count = () => rowCount(dbPath, 'orders');

beforeAll(async () => {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO orders (item) SELECT printf(\'item %d\', i) FROM n;');
  db.close();
  writeFileSync(config, `name: shop\ninterval: 1s\nrefresh: 1s\nthresholds: {cpu: 100, memory: 100, disk: 100}\ndatabases:\n  - name: shop\n    path: shop.db\n    critical_tables: [orders]\nbackup:\n  dir: backups\n`);
  for (const args of [['backup', 'create'], ['backup', 'verify', '--all']]) {
    const r = await runCli(['--config', config, ...args], { env });
    expect(r.code, r.stderr).toBe(0);
  }
  // The incident: rows deleted after the backup.
  const live = new Database(dbPath);
  live.exec('DELETE FROM orders WHERE id BETWEEN 40 AND 69');
  live.close();
}, 60_000);

afterAll(() => {
  for (const s of sessions) s.kill();
});

describe('the restore wizard in the console', () => {
  it('W opens it; each changing step is previewed and waits for y; the rows come back; audited', async () => {
    expect(count()).toBe(70);
    const t = open();
    await t.waitFor(/ shop .*health/);
    t.send('W');
    await t.waitFor(/Restore wizard: shop/);
    t.send('2'); // the whole file
    const first = await t.waitFor(/run this step\?\s+y yes, run it · n no, stop the restore here/, 30_000);
    expect(first).toMatch(/\[1\/10\] choose the backup: shop-\S+ \(.*verified/);
    t.send('y');
    await t.waitFor(/\[3\/10\] stop the writers: stop none configured[^]*?run this step\?/, 30_000);
    expect(count()).toBe(70); // nothing changed before the step that swaps the file
    t.send('y');
    await t.waitFor(/\[5\/10\] restore the whole file: [^]*?run this step\?/, 30_000);
    expect(count()).toBe(70);
    t.send('y');
    await t.waitFor(/restore wizard finished/, 60_000);
    expect(count()).toBe(100);
    const screen = t.capture();
    expect(screen).toMatch(/safety copy/);
    t.send('Escape', false);
    await t.waitFor(/Containers|Datastores/);
    t.send('q');
    await t.waitFor(/EXIT=0/);
    const state = new Database(join(dir, 'state', 'state.db'), { readonly: true });
    const actions = (state.prepare("SELECT action FROM audit WHERE action LIKE 'restore%' ORDER BY id").all() as { action: string }[]).map((r) => r.action);
    state.close();
    expect(actions).toEqual(expect.arrayContaining(['restore.start', 'restore.swap', 'restore']));
  });

  it('answering n at a step stops the run with the database unchanged', async () => {
    const live = new Database(dbPath);
    live.exec('DELETE FROM orders WHERE id > 90');
    live.close();
    expect(count()).toBe(90);
    const t = open();
    await t.waitFor(/ shop .*health/);
    t.send('W');
    await t.waitFor(/Restore wizard: shop/);
    t.send('2');
    await t.waitFor(/run this step\?\s+y yes, run it · n no, stop the restore here/, 30_000);
    t.send('n');
    await t.waitFor(/cancel|declin|stopp/i, 30_000);
    expect(count()).toBe(90);
    t.send('Escape', false);
    t.send('q');
    await t.waitFor(/EXIT=0/);
  });

  it('esc at a stage question answers nothing; only s skips, and the wizard then says NOT complete', async () => {
    // Orders 91–100 are still missing from the test before (its restore was cancelled).
    expect(count()).toBe(90);
    const t = open();
    await t.waitFor(/ shop .*health/);
    t.send('W');
    await t.waitFor(/Restore wizard: shop/);
    t.send('3'); // table by table
    await t.waitFor(/\[1\/10\] choose the backup[^]*?y yes, run it/, 30_000);
    t.send('y');
    await t.waitFor(/\[3\/10\] stop the writers[^]*?y yes, run it/, 30_000);
    t.send('y');
    const stage = await t.waitFor(/\[5\/10\] restore critical tables[^]*?s skip this step/, 30_000);
    expect(stage).toMatch(/y yes, run it · n no, stop the restore here · s skip this step/);
    t.send('Escape', false);
    await t.waitFor(/esc does not answer: press one of the keys above/);
    expect(t.capture()).toMatch(/s skip this step/); // still asking
    expect(count()).toBe(90);
    t.send('s');
    // The rows no backup restored are named, and giving them up is a question of its own: the
    // database's name typed, never a key — a reflex y (then enter) keeps them missing.
    await t.waitFor(/give up 10 rows of orders \(id 91–100\)\? They are missing after this restore[^]*?type shop and enter to give them up · enter with anything else keeps them missing · esc clears\s+> ▏/, 30_000);
    t.send('y');
    await t.waitFor(/> y▏/); // what was typed is shown
    t.send('Enter', false);
    await t.waitFor(/restore finished with skipped steps \(named above\) — NOT complete/, 60_000);
    expect(t.capture()).toMatch(/→ typed y, not shop: keep them missing[^]*rows still missing: SKIPPED — not given up \(only typing shop gives them up\)/);
    expect(t.capture()).toMatch(/SKIPPED — its tables stay as they are/);
    expect(count()).toBe(90);
    t.send('Escape', false);
    await t.waitFor(/Containers|Datastores/);
    t.send('q');
    await t.waitFor(/EXIT=0/);
    const state = new Database(join(dir, 'state', 'state.db'), { readonly: true });
    const run = state.prepare("SELECT status FROM runs ORDER BY started_at DESC LIMIT 1").get() as { status: string };
    const line = state.prepare("SELECT event, detail FROM run_events WHERE event = 'finished-with-skips' ORDER BY id DESC LIMIT 1").get() as { event: string; detail: string } | undefined;
    state.close();
    expect(run.status).toBe('partial');
    expect(line?.detail).toMatch(/restore critical tables \(skipped by the operator/);
  });

  it('typing the database name (then enter) at the give-up question gives the missing rows up, audited as typed', async () => {
    // Orders 91–100 are still missing: the test before kept them so.
    const t = open();
    await t.waitFor(/ shop .*health/);
    t.send('W');
    await t.waitFor(/Restore wizard: shop/);
    t.send('3');
    await t.waitFor(/\[1\/10\] choose the backup[^]*?y yes, run it/, 30_000);
    t.send('y');
    await t.waitFor(/\[3\/10\] stop the writers[^]*?y yes, run it/, 30_000);
    t.send('y');
    await t.waitFor(/\[5\/10\] restore critical tables[^]*?s skip this step/, 30_000);
    t.send('s');
    await t.waitFor(/give up 10 rows of orders \(id 91–100\)\?[^]*?> ▏/, 30_000);
    t.send('shpo');
    t.send('BSpace', false);
    t.send('BSpace', false);
    t.send('op');
    await t.waitFor(/> shop▏/);
    t.send('Enter', false);
    await t.waitFor(/restore finished with skipped steps/, 60_000); // its critical stage was skipped
    expect(t.capture().replace(/\s/g, '')).toContain('rowsstillmissing:givenup,recordedinthestatedatabase:orders:10rowsgivenup(ids91–100)(theoperatortyped"shop"toconfirm)');
    t.send('Escape', false);
    await t.waitFor(/Containers|Datastores/);
    t.send('q');
    await t.waitFor(/EXIT=0/);
    const state = new Database(join(dir, 'state', 'state.db'), { readonly: true });
    const audit = state.prepare("SELECT outcome, detail FROM audit WHERE action = 'restore.accept-loss' ORDER BY id DESC LIMIT 1").get() as { outcome: string; detail: string };
    const ledger = state.prepare("SELECT missing FROM row_ledger WHERE database = 'shop' AND tbl = 'orders'").get() as { missing: string };
    state.close();
    expect(audit.outcome).toBe('ok');
    expect(audit.detail).toBe('given up, recorded in the state database: orders: 10 rows given up (ids 91–100) (the operator typed "shop" to confirm)');
    expect(ledger.missing).toBe('[]');
    expect(count()).toBe(90);
  });

  it('under --read-only W is refused with the reason', async () => {
    const t = open('--read-only');
    await t.waitFor(/ shop .*health/);
    t.send('W');
    await t.waitFor(/refused — opsdeck runs in --read-only mode/);
    expect(t.capture()).not.toMatch(/Restore wizard/);
    t.send('q');
    await t.waitFor(/EXIT=0/);
  });
});

describe('an interrupted restore, offered by the console at start', () => {
  it('a restore killed after the swap is announced; W → resume finishes it', async () => {
    const live = new Database(dbPath);
    live.exec('DELETE FROM orders WHERE id > 80');
    live.close();
    expect(count()).toBe(80);
    // A real SIGKILL right after the file was swapped (the test-only pause hook, then kill).
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('../helpers/cli.js');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, '--config', config, 'restore', '--db', 'shop', '--yes'], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, OPSDECK_TEST_PAUSE_AT: 'after:swap' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('paused at after:swap')) child.kill('SIGKILL');
      });
      child.on('exit', () => (err.includes('paused at after:swap') ? resolve() : reject(new Error(err))));
    });
    const t = open();
    await t.waitFor(/unfinished restore of shop: press W to resume it or roll it back/, 30_000);
    t.send('W');
    await t.waitFor(/Restore wizard: shop/);
    t.send('4'); // resume
    await t.waitFor(/restore wizard finished/, 60_000);
    expect(count()).toBe(100);
    t.send('Escape', false);
    t.send('q');
    await t.waitFor(/EXIT=0/);
  });
  it('ctrl-c at a wizard question: the run pauses journaled, the console says what it left unfinished and how to resume, exit 1', async () => {
    const live = new Database(dbPath);
    live.exec('DELETE FROM orders WHERE id > 95');
    live.close();
    const t = open();
    await t.waitFor(/ shop .*health/);
    t.send('W');
    await t.waitFor(/Restore wizard: shop/);
    t.send('3'); // table by table: past the safety copy, the run can no longer just be dropped
    await t.waitFor(/\[1\/10\][^]*run this step\?/, 30_000);
    t.send('y');
    await t.waitFor(/\[3\/10\] stop the writers[^]*?run this step\?/, 30_000);
    t.send('y');
    await t.waitFor(/\[5\/10\] restore critical tables[^]*?run this stage\?/, 30_000);
    t.send('C-c', false);
    const end = await t.waitFor(/EXIT=\d+/, 20_000);
    expect(end).toMatch(/left unfinished: restore \S+ of shop is unfinished \(step 5\/10[^]*--resume, or --rollback/);
    expect(end).toContain('EXIT=1');
    expect(count()).toBe(95); // nothing was run
  });
});
