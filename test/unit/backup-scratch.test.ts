import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepBackupTemps, sweepScratch } from '../../src/services/backup.js';

describe('scratch copies left by a killed opsdeck', () => {
  it('are removed when their process is gone, kept while it runs; other files are never touched (leftovers made by hand with a dead pid: a SIGKILL inside SQLite’s one backup step cannot be aimed at)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-scratch-'));
    const dead = spawnSync('true').pid; // exited: its pid names no process now
    const files = {
      deadSnap: `.opsdeck-trading-20261123T010203Z-${dead}.snapshot`,
      deadVerify: `.opsdeck-trading-20261123T010203Z-${dead}.verify`,
      // killed while verify was still decompressing (the copy is renamed when complete)
      deadVerifyPart: `.opsdeck-trading-20261123T010203Z-${dead}.verify.part`,
      // SQLite's journal beside a snapshot killed mid-copy (issue #13: left in /dev/shm); made by
      // hand with a dead pid, as a SIGKILL inside the backup API's one step cannot be aimed at.
      deadJournal: `.opsdeck-trading-20261123T010203Z-${dead}.snapshot-journal`,
      deadVerifyPidPart: `.opsdeck-trading-20261123T010203Z-${dead}.verify.${dead}.part`,
      live: `.opsdeck-trading-20261123T010203Z-${process.pid}.snapshot`,
      liveJournal: `.opsdeck-trading-20261123T010203Z-${process.pid}.snapshot-journal`,
      other: 'trading.db',
    };
    for (const f of Object.values(files)) writeFileSync(join(dir, f), 'x');
    sweepScratch(dir);
    expect(existsSync(join(dir, files.deadSnap))).toBe(false);
    expect(existsSync(join(dir, files.deadVerify))).toBe(false);
    expect(existsSync(join(dir, files.deadVerifyPart))).toBe(false);
    expect(existsSync(join(dir, files.deadJournal))).toBe(false);
    expect(existsSync(join(dir, files.deadVerifyPidPart))).toBe(false);
    expect(existsSync(join(dir, files.live))).toBe(true);
    expect(existsSync(join(dir, files.liveJournal))).toBe(true);
    expect(existsSync(join(dir, files.other))).toBe(true);
  });

  it('backup temp files: a dead pid\'s go, a live one\'s stay, one without a pid goes once an hour old (issue #13)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-btmp-'));
    const dead = spawnSync('true').pid;
    const files = {
      dead: `.trading-20261123T010203Z-${dead}.db.br.tmp`,
      deadManifest: `.trading-20261123T010203Z-${dead}.json.tmp`,
      live: `.trading-20261123T010203Z-${process.pid}.db.br.tmp`,
      legacyOld: '.trading-20261122T010203Z.db.br.tmp',
      legacyNew: '.trading-20261123T010203Z.db.br.tmp',
      backup: 'trading-20261123T010203Z.db.br',
    };
    for (const f of Object.values(files)) writeFileSync(join(dir, f), 'x');
    const hourAgo = (Date.now() - 2 * 3_600_000) / 1000;
    utimesSync(join(dir, files.legacyOld), hourAgo, hourAgo);
    expect(sweepBackupTemps(dir).sort()).toEqual([files.dead, files.deadManifest, files.legacyOld].sort());
    for (const f of [files.live, files.legacyNew, files.backup]) expect(existsSync(join(dir, f))).toBe(true);
  });
});
