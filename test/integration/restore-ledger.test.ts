import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

// The row-loss ledger after a whole-file restore of rows that were only UPDATEd since the backup
// (an operator's trial): their ids are all there, so no row is "lost" — they hold the backup's
// version, and the summary says where the replaced versions are. Before the fix the ledger counted
// them missing: a CRITICAL "rows lost" nothing could clear, and every backup taken afterwards was
// held back from the next restore as "taken during a loss" (an older backup lost a committed row).

function stack(services = '', writers = '') {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-ledger-'));
  const db = join(dir, 'shop.db');
  const d = new Database(db);
  d.pragma('journal_mode = WAL');
  d.exec('CREATE TABLE trades (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL); INSERT INTO trades (qty) VALUES (1), (2), (3), (4);');
  d.close();
  const config = join(dir, 'opsdeck.yaml');
  writeFileSync(config, `state_dir: ${dir}/state\n${services}databases:\n  - name: shop\n    path: ${db}\n    critical: true\n    critical_tables: [trades]\n${writers}backup:\n  dir: ${dir}/backups\n`);
  const sql = (q: string) => {
    const h = new Database(db);
    try {
      h.exec(q);
    } finally {
      h.close();
    }
  };
  const rows = () => {
    const h = new Database(db, { readonly: true });
    try {
      return h.prepare('SELECT id, qty FROM trades ORDER BY id').all() as { id: number; qty: number }[];
    } finally {
      h.close();
    }
  };
  const cli = (args: string[]) => runCli([...args, '--config', config], { timeoutMs: 60_000 });
  return { dir, db, sql, rows, cli };
}

describe.concurrent('restore and the row-loss ledger', () => {
  it('rows only UPDATEd since the backup are reverted, not lost: no rows-lost alert, and the next restore takes the newest backup', async () => {
    const s = stack();
    expect((await s.cli(['check'])).code).toBeLessThan(2); // the ledger's first look: ids 1–4 known
    expect((await s.cli(['backup', 'create', '--db', 'shop', '--verify'])).code).toBe(0);
    s.sql('UPDATE trades SET qty = qty + 100');
    const r = await s.cli(['restore', '--db', 'shop', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/4 rows changed since the backup now hold the backup's version \(id 1–4; the replaced versions are in the safety copy \S+/);
    expect(r.stdout).not.toMatch(/gone|still missing \(id/);
    expect(s.rows().map((x) => x.qty)).toEqual([1, 2, 3, 4]);
    const c = await s.cli(['check', '--json']);
    const rowsCheck = (JSON.parse(c.stdout) as { checks: { id: string; status: string; message: string }[] }).checks.find((x) => x.id === 'sqlite:shop:rows');
    expect(rowsCheck?.status, rowsCheck?.message).toBe('ok');

    // A committed row written after the restore, a backup holding it, then a bad UPDATE: the next
    // restore must take that newest backup (before the fix: held back as "taken during a loss").
    s.sql('INSERT INTO trades (qty) VALUES (5)');
    expect((await s.cli(['check'])).code).toBeLessThan(2);
    await new Promise((r) => setTimeout(r, 1100)); // backup ids have a one-second resolution
    expect((await s.cli(['backup', 'create', '--db', 'shop', '--verify'])).code).toBe(0);
    s.sql('UPDATE trades SET qty = -1');
    const again = await s.cli(['restore', '--db', 'shop', '--yes']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(s.rows().map((x) => x.qty)).toEqual([1, 2, 3, 4, 5]);
  });

  it('a row written after the backup and replaced away is lost and named; the restore says why it passed over a newer backup', async () => {
    const s = stack();
    expect((await s.cli(['check'])).code).toBeLessThan(2);
    expect((await s.cli(['backup', 'create', '--db', 'shop', '--verify'])).code).toBe(0);
    s.sql('DELETE FROM trades WHERE id = 2');
    expect((await s.cli(['check'])).code).toBe(2); // the ledger notices id 2 missing
    await new Promise((r) => setTimeout(r, 1100));
    expect((await s.cli(['backup', 'create', '--db', 'shop', '--verify'])).code).toBe(0); // lacks id 2
    const m = await s.cli(['restore', '--db', 'shop', '--merge', '--yes']);
    expect(m.code, m.stdout + m.stderr).toBe(0);
    expect(m.stdout).toMatch(/passed over 1 newer backup: 1 taken after the missing rows were first noticed \(shop-/);
    expect(s.rows().map((x) => x.id)).toEqual([1, 2, 3, 4]);

    s.sql('INSERT INTO trades (qty) VALUES (5)'); // after the newest backup, never seen by the monitor
    const w = await s.cli(['restore', '--db', 'shop', '--yes']);
    expect(w.code).toBe(3); // rows still missing, not given up under --yes
    expect(w.stdout).toMatch(/1 rows written after the backup are gone \(id 5\)/);
  });
});

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('a command writer with a health_url', () => {
  it('the restore waits until its health_url answers, not only until its start_command exited', async () => {
    const port = await freePort();
    // The writer's start_command returns at once; its API answers 1.5 s later (a real HTTP server).
    const server = `setTimeout(() => require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1'), 1500); setTimeout(() => process.exit(0), 20000)`;
    const dir0 = mkdtempSync(join(tmpdir(), 'opsdeck-ledger-api-'));
    writeFileSync(join(dir0, 'server.js'), server);
    const s = stack(
      `services:\n  - name: api\n    health_url: http://127.0.0.1:${port}/health\n    stop_command: "true"\n    start_command: "${process.execPath} ${join(dir0, 'server.js')} >/dev/null 2>&1 &"\n`,
      '    writers: [api]\n',
    );
    expect((await s.cli(['backup', 'create', '--db', 'shop', '--verify'])).code).toBe(0);
    const r = await s.cli(['restore', '--db', 'shop', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`verify the writers are healthy: api: http://127\\.0\\.0\\.1:${port}/health answered HTTP 200 [1-9]\\.\\d s after its start_command`));
  });
});
