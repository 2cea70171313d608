import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { applyRetention, retentionPolicy } from '../../src/domain/retention.js';
import { DISK_ACTIONS, isRotated, walk } from '../../src/runbooks/actions/disk.js';
import { createBackup, listBackups, verifyBackup } from '../../src/services/backup.js';
import { openStateDb } from '../../src/state/statedb.js';
import { configOf, harness, stepOf, type Harness } from '../helpers/runbook-actions.js';

// The disk actions of runbook files (issue #16) on real files: a temp folder as the "mount", a real
// tmpfs mounted inside it as another device (tests run as root: docs/TESTING.md "Faults as root"),
// real backups made by createBackup and pruned by the plan `opsdeck backup prune` uses.

let root: string;
let other: string;
let h: Harness;
let config: Config;
const MiB = 1024 * 1024;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'opsdeck-disk-'));
  other = join(root, 'other-device');
  mkdirSync(other);
  // A second device inside the walked tree: must never be counted nor cleaned. Fails loudly when it cannot be mounted.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', other]);
  h = await harness(DISK_ACTIONS);
  mkdirSync(join(root, 'data/big'), { recursive: true });
  mkdirSync(join(root, 'data/small'), { recursive: true });
  writeFileSync(join(root, 'data/big/blob'), Buffer.alloc(3 * MiB, 1));
  writeFileSync(join(root, 'data/small/blob'), Buffer.alloc(64 * 1024, 1));
  writeFileSync(join(other, 'huge'), Buffer.alloc(6 * MiB, 1));
  symlinkSync(other, join(root, 'data/link-to-other'));
  mkdirSync(join(root, 'logs'));
  mkdirSync(join(other, 'logs'));
  for (const f of ['app.log', 'app.log.1', 'app.log.2.gz', 'app.log.gz', 'app.log.old', 'app.log-20261201', 'app.log-20261130.gz', 'app.logger', 'app.log.bak', 'notes.txt', 'api.log']) writeFileSync(join(root, 'logs', f), `${f}\n`.repeat(100));
  symlinkSync(join(root, 'logs/notes.txt'), join(root, 'logs/app.log.3'));
  for (const f of ['far.log', 'far.log.1']) writeFileSync(join(other, 'logs', f), 'x\n');
  config = configOf({
    logs: [
      { name: 'app', path: join(root, 'logs/app.log') },
      // A live log that looks rotated (app.log-20261202 is someone's live file): never removed.
      { name: 'dated', path: join(root, 'logs/app.log-20261202') },
      { name: 'far', path: join(other, 'logs/far.log') },
    ],
  });
  writeFileSync(join(root, 'logs/app.log-20261202'), 'live\n');
});
afterAll(() => {
  h?.db.close();
  try {
    execFileSync('umount', [other]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

const noteOf = (id: string) => h.journal.lines(id).find((l) => l.event === 'succeed')?.detail ?? '';

describe('disk.usage', () => {
  it('says the mount\'s use and its biggest directories, on its own device only, never through a symlink', async () => {
    const { outcome } = await h.drive([stepOf('disk.usage', { mount: root })], { config });
    expect(outcome.kind).toBe('completed');
    const lines = noteOf(outcome.record.id).split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${root}: \\d+(\\.\\d)?% used \\(.* used, .* free of .*\\)$`));
    expect(lines[1]).toMatch(/^biggest directories \(\d+ entries walked\):$/);
    expect(lines[2]).toMatch(new RegExp(`^ +3\\.\\d MiB  ${root}/data$`));
    expect(lines[3]).toMatch(new RegExp(`^ +3\\.\\d MiB  ${root}/data/big$`));
    // The tmpfs's 6 MiB are on another device: not counted, not listed.
    expect(lines.join('\n')).not.toContain('other-device');
  });

  it('says when the walk was cut (max_entries, max_ms)', async () => {
    const { outcome } = await h.drive([stepOf('disk.usage', { mount: root, max_entries: 5 })], { config });
    expect(noteOf(outcome.record.id).split('\n')[1]).toBe('biggest directories (5 entries walked; the walk was cut: stopped after max_entries 5, sizes are lower bounds):');
    // A clock that jumps 1 s per look: the walk of /usr stops at its time budget.
    let t = 0;
    const slow = walk('/usr', statSync('/usr').dev, 1_000_000, 1000, () => (t += 1000));
    expect(slow.cut).toBe('stopped after max_ms 1000');
    expect(slow.entries).toBeLessThan(1000);
  });
});

describe('disk.rotated-logs', () => {
  it('removes the rotated copies of the configured logs on the mount, never a live log, nothing on another device; then is settled', async () => {
    const step = stepOf('disk.rotated-logs', { mount: root });
    const preview = (await DISK_ACTIONS['disk.rotated-logs'].preview?.(h.ctx(step, { config }))) ?? '';
    const listed = preview.split('\n').slice(1).map((l) => l.trim().split(/\s{2,}/)[1]);
    expect(preview.split('\n')[0]).toMatch(new RegExp(`^remove 6 rotated log files on ${root} \\(.*; the live logs stay\\):$`));
    expect(listed).toEqual(['app.log-20261130.gz', 'app.log-20261201', 'app.log.1', 'app.log.2.gz', 'app.log.gz', 'app.log.old'].map((f) => join(root, 'logs', f)));
    const { outcome } = await h.drive([step], { config });
    expect(outcome.kind).toBe('completed');
    expect(noteOf(outcome.record.id)).toMatch(new RegExp(`^removed 6 rotated log files on ${root} \\(`));
    expect(readdirSync(join(root, 'logs')).sort()).toEqual(['api.log', 'app.log', 'app.log-20261202', 'app.log.3', 'app.log.bak', 'app.logger', 'notes.txt']);
    expect(existsSync(join(other, 'logs/far.log.1'))).toBe(true);
    const again = await h.drive([step], { config });
    expect(noteOf(again.outcome.record.id)).toBe(`no rotated copies of the configured logs on ${root}: nothing to remove`);
  });

  it.each([
    ['app.log.1', true], ['app.log.12.gz', true], ['app.log.gz', true], ['app.log.old', true], ['app.log-20261201', true], ['app.log-20261201.gz', true],
    ['app.log', false], ['app.logger', false], ['app.log.bak', false], ['app.log-2026', false], ['app.log.1.bz2', false], ['xapp.log.1', false],
  ])('%s is rotated: %s', (name, want) => expect(isRotated('app.log', name)).toBe(want));
});

describe('disk.prune-backups', () => {
  it('deletes only what retention lets go (and never what an open sqlite alert holds), then is settled', async () => {
    const dbFile = join(root, 'orders.db');
    const d = new Database(dbFile);
    d.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES (\'x\')');
    d.close();
    const backups = join(root, 'backups');
    const hour = 3_600_000;
    const base = Date.parse('2026-11-20T00:00:00Z');
    // Verified: retention always keeps unverified backups newer than the newest verified one.
    for (let i = 0; i < 6; i++) await verifyBackup(join(backups, 'orders'), await createBackup({ db: dbFile, name: 'orders', dir: join(backups, 'orders'), tables: [], now: new Date(base + i * 5 * hour) }));
    const state = mkdtempSync(join(tmpdir(), 'opsdeck-disk-state-'));
    const sdb = await openStateDb(state);
    // An open alert since backup 1's time + 1 h: backups 0 and 1 were taken before it and are kept.
    sdb.prepare('INSERT INTO alert_events (at, check_id, event) VALUES (?, ?, ?)').run(base + 6 * hour, 'sqlite:orders', 'fired');
    sdb.close();
    const c = configOf({ databases: [{ name: 'orders', path: dbFile }], backup: { dir: backups, keep_last: 2, keep_hourly: 0, keep_daily: 0, keep_weekly: 0, keep_monthly: 0 } });
    const all = listBackups(join(backups, 'orders'));
    const expected = applyRetention(all.map((m) => ({ id: m.id, createdAt: Date.parse(m.createdAt), verified: !!m.verify?.ok })), retentionPolicy(c.backup), [{ before: base + 6 * hour, reason: 'alert' }]).remove;
    expect(expected).toHaveLength(2);
    const step = stepOf('disk.prune-backups', { mount: root });
    const preview = (await DISK_ACTIONS['disk.prune-backups'].preview?.(h.ctx(step, { config: c, stateDir: state }))) ?? '';
    expect(preview.split('\n')[0]).toMatch(new RegExp(`^delete 2 backups on ${root} that the retention \\(backup.keep_\\*\\) lets go \\(.*\\):$`));
    const { outcome } = await h.drive([step], { config: c, stateDir: state });
    expect(outcome.kind).toBe('completed');
    const left = listBackups(join(backups, 'orders')).map((m) => m.id);
    expect(left.sort()).toEqual(all.map((m) => m.id).filter((id) => !expected.includes(id)).sort());
    expect(readdirSync(join(backups, 'orders')).filter((f) => f.endsWith('.db.br'))).toHaveLength(4);
    const again = await h.drive([step], { config: c, stateDir: state });
    expect(noteOf(again.outcome.record.id)).toBe(`no backups on ${root} that retention lets go: nothing to prune`);
  });
});
