import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

// Issue #23: the built-in routines daily-check, weekly-maintenance and monthly-maintenance run
// unattended (--yes, as from cron) against one real demo stack (API, writer, Redis, a container in
// the private engine), each to its end; the state database then holds the log review, the capacity
// samples and the audit of the cleanup; every database has a new verified backup.

const host = inject('dockerHost');
const dir = join(mkdtempSync(join(tmpdir(), 'opsdeck-routines-')), 'ws');
const env = { DOCKER_HOST: host };
const config = join(dir, 'opsdeck.yaml');

beforeAll(async () => {
  const r = await runCli(['demo', '--detach', '--json', '--dir', dir, '--interval', '1s'], { env, timeoutMs: 90_000 });
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await runCli(['demo', '--stop', '--dir', dir], { env });
});

interface RunJson { status?: string; steps?: { id: string; status: string; note?: string }[] }

describe('maintenance routines on the demo', () => {
  it.each(['daily-check', 'weekly-maintenance', 'monthly-maintenance'])('%s runs unattended to its end', async (name) => {
    const r = await runCli(['--config', config, 'runbook', 'run', name, '--yes', '--json'], { env, timeoutMs: 240_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const doc = JSON.parse(r.stdout) as RunJson;
    expect(doc.steps?.length).toBeGreaterThan(3);
    for (const s of doc.steps ?? []) expect([s.id, s.status, s.note]).toEqual([s.id, 'done', expect.any(String)]);
    const notes = Object.fromEntries((doc.steps ?? []).map((s) => [s.id, s.note ?? '']));
    expect(notes.check).toMatch(/^checks: /);
    if (notes.backup) expect(notes.backup).toMatch(/^trading: backup trading-\S+ taken and verified/);
    if (notes.capacity) expect(notes.capacity).toMatch(/^capacity: /);
    if (notes.vacuum) expect(notes.vacuum).toMatch(/^trading: VACUUM in /);
  }, 300_000);

  it('left their records: log reviews, capacity samples, verified backups; the demo still answers', async () => {
    const state = new Database(join(dir, 'state', 'state.db'), { readonly: true });
    try {
      expect((state.prepare('SELECT count(*) AS n FROM log_reviews').get() as { n: number }).n).toBeGreaterThan(0);
      expect((state.prepare("SELECT count(*) AS n FROM capacity_samples WHERE subject LIKE 'db:%'").get() as { n: number }).n).toBeGreaterThan(0);
    } finally {
      state.close();
    }
    const check = await runCli(['--config', config, 'backup', 'list', '--json'], { env });
    expect(check.code).toBe(0);
  });
});
