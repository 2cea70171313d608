import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepScratch } from '../../src/services/backup.js';

describe('scratch copies left by a killed opsdeck', () => {
  it('are removed when their process is gone, kept while it runs; other files are never touched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-scratch-'));
    const dead = spawnSync('true').pid; // exited: its pid names no process now
    const files = {
      deadSnap: `.opsdeck-trading-20261123T010203Z-${dead}.snapshot`,
      deadVerify: `.opsdeck-trading-20261123T010203Z-${dead}.verify`,
      // killed while verify was still decompressing (the copy is renamed when complete)
      deadVerifyPart: `.opsdeck-trading-20261123T010203Z-${dead}.verify.part`,
      live: `.opsdeck-trading-20261123T010203Z-${process.pid}.snapshot`,
      other: 'trading.db',
    };
    for (const f of Object.values(files)) writeFileSync(join(dir, f), 'x');
    sweepScratch(dir);
    expect(existsSync(join(dir, files.deadSnap))).toBe(false);
    expect(existsSync(join(dir, files.deadVerify))).toBe(false);
    expect(existsSync(join(dir, files.deadVerifyPart))).toBe(false);
    expect(existsSync(join(dir, files.live))).toBe(true);
    expect(existsSync(join(dir, files.other))).toBe(true);
  });
});
