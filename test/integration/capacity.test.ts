import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { Watcher } from '../helpers/watch.js';

// Issue #23 on the real CLI: `opsdeck capacity --sample` samples a real database and the real disk
// under it into the state database; injected samples of that disk put it on a line that is full in
// 5 days; `opsdeck capacity` projects that date and `opsdeck watch` warns (capacity:disk:<mount>).

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-capacity-'));
const config = join(dir, 'opsdeck.yaml');
const stateDb = join(dir, 'state', 'state.db');
let watcher: Watcher | undefined;
afterAll(async () => {
  await watcher?.kill('SIGTERM');
});

interface Subject { subject: string; used: number; total?: number; samples: number; growthPerDay?: number; daysLeft?: number; fullAt?: string; status?: string; message?: string }

describe('opsdeck capacity', () => {
  it('samples, projects "full in 5 days" from the injected history, and the monitor warns', async () => {
    const db = new Database(join(dir, 'shop.db'));
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (randomblob(100000));');
    db.close();
    writeFileSync(config, [`name: cap`, 'interval: 1s', 'failure_threshold: 1', 'recovery_threshold: 1', 'thresholds: {cpu: 100, memory: 100, disk: 100}', `state_dir: ${join(dir, 'state')}`, 'databases:', `  - {name: shop, path: shop.db, critical: false}`, 'capacity: {sample_every: 1h, horizon: 14d, min_samples: 3, paths: []}', ''].join('\n'));

    const first = await runCli(['--config', config, 'capacity', '--sample', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const subjects = (JSON.parse(first.stdout) as { subjects: Subject[] }).subjects;
    expect(subjects.find((s) => s.subject === 'db:shop')?.used).toBeGreaterThan(100_000);
    const disk = subjects.find((s) => s.subject.startsWith('disk:'));
    expect(disk?.samples).toBe(1);
    if (!disk?.total) throw new Error(`no disk sampled: ${first.stdout}`);

    // Ten daily samples before the real one, on the line that reaches the disk's size in 5 days.
    const perDay = (disk.total - disk.used) / 5;
    const state = new Database(stateDb);
    const now = Date.now();
    const ins = state.prepare('INSERT INTO capacity_samples (subject, at, used, total) VALUES (?, ?, ?, ?)');
    for (let d = 10; d >= 1; d--) ins.run(disk.subject, now - d * DAY, disk.used - d * perDay, disk.total);
    state.close();

    const second = await runCli(['--config', config, 'capacity', '--json']);
    expect(second.code).toBe(1);
    const projected = (JSON.parse(second.stdout) as { subjects: Subject[] }).subjects.find((s) => s.subject === disk.subject);
    expect(projected?.status).toBe('warning');
    expect(projected?.daysLeft).toBeGreaterThan(4.9);
    expect(projected?.daysLeft).toBeLessThan(5.1);
    expect(projected?.fullAt?.slice(0, 10)).toBe(new Date(now + 5 * DAY).toISOString().slice(0, 10));

    const text = await runCli(['--config', config, 'capacity']);
    expect(text.stdout).toMatch(new RegExp(`${disk.subject}.*full in [45] days \\(.*\\) WARNING`));

    watcher = new Watcher(config);
    const fired = await watcher.waitFor('fired', `capacity:${disk.subject}`, 30_000);
    expect(fired.status).toBe('warning');
    expect(fired.message).toMatch(/full in [45] days .*within the 14-day horizon/);
  });
});
