import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';

// The db-repair runbook (issue #22) on a real SQLite file through the built CLI: its check finds the
// rows the last verified backup holds and the database lacks, its merge brings exactly those back,
// the bad rows move into quarantine with the writers stopped (a shell script that logs each stop and
// start), and a run SIGKILLed while the writers are stopped is resumed — the writers start again and
// no row moves twice. `db repair --undo` still puts rows back after a column was added.

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-dbrb-'));
const config = join(dir, 'opsdeck.yaml');
const shop = join(dir, 'shop.db');
const log = join(dir, 'writer.log');
const env = { OPSDECK_STATE_DIR: join(dir, 'state') };
const cli = (...args: string[]) => runCli(['--config', config, ...args], { env, timeoutMs: 90_000 });

function exec(text: string): void {
  const db = new Database(shop);
  db.pragma('foreign_keys = OFF');
  try {
    db.exec(text);
  } finally {
    db.close();
  }
}
const all = (sql: string): unknown[] => {
  const db = new Database(shop, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  // The writer: `stop` and `start` are logged; the start whose number is in block-start (if any)
  // writes its pid and hangs, so the test can SIGKILL the run while the writers are stopped.
  writeFileSync(
    join(dir, 'writer.sh'),
    `#!/bin/sh\necho "$1" >> ${log}\nif [ "$1" = start ]; then n=$(grep -c start ${log}); if [ "$n" = "$(cat ${dir}/block-start 2>/dev/null)" ]; then echo $$ > ${dir}/start.pid; exec sleep 60; fi; fi\n`,
    { mode: 0o755 },
  );
  writeFileSync(
    config,
    `name: dbrb
state_dir: ${join(dir, 'state')}
services:
  - name: app
    stop_command: "${dir}/writer.sh stop"
    start_command: "${dir}/writer.sh start"
databases:
  - name: shop
    path: shop.db
    critical_tables: [orders]
    normal_tables: [lines]
    writers: [app]
backup:
  dir: backups
integrity:
  shop:
    unique: { orders: order_no }
    rules:
      "orders.qty": { min: 0, not_null: true }
`,
  );
  exec(`PRAGMA journal_mode = WAL;
    CREATE TABLE orders (id INTEGER PRIMARY KEY, order_no TEXT, qty INTEGER);
    CREATE TABLE lines (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id), sku TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40) INSERT INTO orders SELECT i, 'N' || i, i FROM n;
    INSERT INTO lines (order_id, sku) SELECT id, 'sku-' || id FROM orders;`);
  const r = await cli('backup', 'create', '--db', 'shop', '--verify');
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

describe('the db-repair runbook', () => {
  it('check → merge back exactly the lost rows → stop → quarantine → start → check; a run killed with the writers stopped resumes and starts them', async () => {
    // The damage: orders 11–15 deleted (with their lines: a lost range), a duplicate order number,
    // a negative quantity, and an orphan line.
    exec(`DELETE FROM lines WHERE order_id BETWEEN 11 AND 15; DELETE FROM orders WHERE id BETWEEN 11 AND 15;
      INSERT INTO orders VALUES (41, 'N3', 7), (42, 'N42', -5);
      INSERT INTO lines (id, order_id, sku) VALUES (100, 999, 'orphan');`);
    writeFileSync(join(dir, 'block-start'), '2'); // the merge's restore starts the writer once; the runbook's start hangs
    const child = spawn(process.execPath, [CLI, '--config', config, 'runbook', 'run', 'db-repair', '--target', 'shop', '--yes'], { stdio: 'ignore', env: { ...process.env, ...env } });
    const pidFile = join(dir, 'start.pid');
    for (let i = 0; i < 600 && !existsSync(pidFile); i++) await new Promise((res) => setTimeout(res, 50));
    expect(existsSync(pidFile), readFileSync(log, 'utf8')).toBe(true);
    child.kill('SIGKILL');
    await new Promise((res) => child.on('close', res));
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');

    // Killed with the writer stopped: the rows already moved and merged, the run open.
    expect(readFileSync(log, 'utf8')).toBe('stop\nstart\nstop\nstart\n');
    expect(all('SELECT id FROM orders WHERE id BETWEEN 11 AND 15')).toHaveLength(5);
    const moved = all('SELECT _opsdeck_rowid AS r, _opsdeck_run AS run FROM _opsdeck_quarantine_orders ORDER BY 1') as { r: number; run: string }[];
    expect(moved.map((m) => m.r)).toEqual([41, 42]);
    const check = await cli('check', '--json');
    expect(check.stdout).toContain('journal:db-repair:shop');

    writeFileSync(join(dir, 'block-start'), '0');
    const r = await cli('runbook', 'resume', '--check', 'journal:db-repair:shop', '--yes');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // The start step ran again and nothing moved twice.
    expect(readFileSync(log, 'utf8')).toBe('stop\nstart\nstop\nstart\nstart\n');
    expect(all('SELECT _opsdeck_rowid AS r FROM _opsdeck_quarantine_orders ORDER BY 1')).toEqual([{ r: 41 }, { r: 42 }]);
    expect(all('SELECT _opsdeck_rowid AS r FROM _opsdeck_quarantine_lines ORDER BY 1')).toEqual([{ r: 100 }]);
    // Exactly the backup's orders are in the table again; the duplicate and the negative one are not.
    expect(all('SELECT id, order_no, qty FROM orders ORDER BY id')).toEqual(Array.from({ length: 40 }, (_, i) => ({ id: i + 1, order_no: `N${i + 1}`, qty: i + 1 })));
    expect(all('SELECT count(*) AS n FROM lines')).toEqual([{ n: 40 }]);
    const st = await cli('runbook', 'status', '--json');
    const run = (JSON.parse(st.stdout) as { runs: { run: string; runbook: string; status: string }[] }).runs.find((x) => x.runbook === 'db-repair');
    expect(run?.status).toBe('completed');
    expect(moved[0]?.run).toBe(run?.run);
  });

  it('db repair --undo puts rows back after a column was added to their table (the new column takes its default)', async () => {
    exec("INSERT INTO orders VALUES (43, 'N43', -1);");
    const r = await cli('db', 'repair', '--db', 'shop', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    const done = JSON.parse(r.stdout) as { run: string };
    exec("ALTER TABLE orders ADD COLUMN note TEXT DEFAULT 'none'");
    const u = await cli('db', 'repair', '--db', 'shop', '--undo', done.run, '--yes');
    expect(u.code, u.stdout + u.stderr).toBe(0);
    expect(all('SELECT id, order_no, qty, note FROM orders WHERE id = 43')).toEqual([{ id: 43, order_no: 'N43', qty: -1, note: 'none' }]);
  });
});
