import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_UPKEEP_ACTIONS } from '../../src/runbooks/actions/db-upkeep.js';
import { configOf, harness, stepOf } from '../helpers/runbook-actions.js';

// Issue #23: database upkeep through the real engine on real SQLite files. VACUUM shrinks a file
// with many free pages; on a real 4 MiB tmpfs a database too big to VACUUM there is refused before
// anything changes, and the preview said so. Needs root to mount: fails loudly otherwise.

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-upkeep-'));
const small = join(dir, 'small');

/** A database of ~`mb` MiB whose rows were then mostly deleted (free pages for VACUUM). */
function bloated(path: string, mb: number, opts: { index?: boolean; delete?: boolean } = { index: true, delete: true }): void {
  const db = new Database(path);
  try {
    db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);${opts.index ? ' CREATE INDEX t_v ON t(v);' : ''}`);
    const ins = db.prepare('INSERT INTO t (v) VALUES (randomblob(1000))');
    db.transaction(() => {
      for (let i = 0; i < mb * 1000; i++) ins.run();
    })();
    if (opts.delete) db.exec('DELETE FROM t WHERE id % 10 != 0');
  } finally {
    db.close(); // an open file would keep the tmpfs busy and its umount would fail
  }
}

beforeAll(() => {
  mkdirSync(small);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`this test needs root to mount a tmpfs (docs/TESTING.md "Faults as root"): ${(e as Error).message}`);
  }
});
afterAll(() => {
  try {
    execFileSync('umount', [small], { stdio: 'pipe' });
  } catch {
    // not mounted
  }
});

describe('db.analyze, db.reindex, db.vacuum', () => {
  it('run for real: ANALYZE writes statistics, REINDEX and VACUUM leave a smaller, sound file', async () => {
    const path = join(dir, 'shop.db');
    bloated(path, 4);
    const before = statSync(path).size;
    const h = await harness(DB_UPKEEP_ACTIONS);
    const config = configOf({ databases: [{ name: 'shop', path }] });
    const preview = await DB_UPKEEP_ACTIONS['db.vacuum'].preview?.(h.ctx(stepOf('db.vacuum'), { config }));
    expect(preview).toMatch(/VACUUM .* shop \(.*shop\.db, \d+(\.\d)? MiB\): about \d+s, writers wait meanwhile; needs up to .* free on \//);
    const { outcome } = await h.drive([stepOf('db.analyze'), stepOf('db.reindex'), stepOf('db.vacuum')], { config });
    expect(outcome.kind).toBe('completed');
    expect(statSync(path).size).toBeLessThan(before / 3);
    const db = new Database(path, { readonly: true });
    expect((db.prepare('SELECT count(*) AS n FROM sqlite_stat1').get() as { n: number }).n).toBeGreaterThan(0);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('VACUUM without the free space it needs is refused before it starts; the preview said so', async () => {
    const path = join(small, 'big.db');
    bloated(path, 1.5, {}); // 1.5 MiB of 4: VACUUM needs 3, 2.5 are free
    const before = statSync(path).size;
    const h = await harness(DB_UPKEEP_ACTIONS);
    const config = configOf({ databases: [{ name: 'big', path }] });
    expect(await DB_UPKEEP_ACTIONS['db.vacuum'].preview?.(h.ctx(stepOf('db.vacuum'), { config }))).toContain('NOT ENOUGH: the step will refuse');
    const { outcome } = await h.drive([stepOf('db.vacuum')], { config });
    expect(outcome.kind).toBe('failed');
    if (outcome.kind === 'failed') expect(outcome.error).toMatchObject({ kind: 'no-space', message: expect.stringMatching(/^big: VACUUM needs up to .* free on .*small, only .* is: free space first \(disk-pressure\), nothing was changed$/) as unknown });
    expect(statSync(path).size).toBe(before);
  });
});
