import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeAppFixture, type AppFixture } from '../helpers/app-fixture.js';

// full-system-recovery (issue #17) for real: a fixture stack (test/helpers/app-fixture.ts: an HTTP
// API started by shell commands, a worker that depends on it, two SQLite databases) backed up by
// `opsdeck backup create`, then its data deleted. The runbook stops the services (dependents
// first), puts back what is gone, starts them in depends_on order and verifies. A damaged database
// is not overwritten: the run stops and names restore-database, and resumes after.

const root = mkdtempSync(join(tmpdir(), 'opsdeck-fsr-'));
let f: AppFixture;
let config: string;
const order = () => readFileSync(join(root, 'order.log'), 'utf8').trim().split('\n');
const cli = (args: string[], timeoutMs = 120_000) => runCli(['--config', config, ...args], { timeoutMs });

interface RunDoc {
  run: string;
  status: string;
  steps: { id: string; status: string; note?: string }[];
  error?: { message: string };
}
const doc = (stdout: string) => JSON.parse(stdout) as RunDoc;

async function health(): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${f.port}/api/v1/health`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  f = await makeAppFixture(root);
  const log = join(root, 'order.log');
  const audit = join(root, 'audit.db');
  execFileSync('sqlite3', [audit, 'CREATE TABLE events (id INTEGER PRIMARY KEY, what TEXT); INSERT INTO events (what) VALUES (\'kept\');']);
  config = join(root, 'opsdeck.yaml');
  const q = (s: string) => JSON.stringify(s);
  writeFileSync(
    config,
    `name: t
state_dir: state
backup:
  dir: backups
services:
  - name: worker
    depends_on: [api]
    stop_command: ${q(`echo stop-worker >> ${log}; rm -f ${root}/worker-up`)}
    start_command: ${q(`echo start-worker >> ${log}; touch ${root}/worker-up`)}
  - name: api
    health_url: http://127.0.0.1:${f.port}/api/v1/health
    timeout: 1s
    stop_command: ${q(`echo stop-api >> ${log}; ${f.stop}`)}
    start_command: ${q(`echo start-api >> ${log}; ${f.start}`)}
databases:
  - name: shop
    path: ${f.db}
    critical_tables: [trades]
    writers: [api]
  - name: audit
    path: ${audit}
`,
  );
  execFileSync('sh', ['-c', f.start]);
  for (let i = 0; i < 50 && !(await health()); i++) await new Promise((r) => setTimeout(r, 100));
  f.sql('INSERT INTO trades (qty) VALUES (10), (20), (30)');
  const b = await cli(['backup', 'create', '--verify']);
  expect(b.code, b.stderr).toBe(0);
}, 60_000);

afterAll(() => {
  execFileSync('sh', ['-c', f.stop]);
  rmSync(root, { recursive: true, force: true });
});

describe('full-system-recovery', () => {
  it('after the database is deleted: stops dependents first, puts the database back from its verified backup, leaves the healthy one alone, starts in depends_on order, verifies', async () => {
    rmSync(f.db);
    const r = await cli(['runbook', 'run', 'full-system-recovery', '--yes', '--json']);
    const d = doc(r.stdout);
    expect(d.status, r.stdout + r.stderr).toBe('completed');
    expect(r.code).toBe(0);
    expect(d.steps.map((s) => s.id)).toEqual(['survey', 'stop', 'databases', 'start', 'verify']);
    expect(d.steps.find((s) => s.id === 'survey')?.note).toMatch(/shop: .* is gone; newest verified backup shop-/);
    expect(d.steps.find((s) => s.id === 'databases')?.note).toMatch(/shop\.db is backup shop-\d{8}T\d{6}Z .* again.*; audit there: left alone|audit there: left alone/);
    expect(order()).toEqual(['stop-worker', 'stop-api', 'start-api', 'start-worker']);
    expect(f.sql('SELECT group_concat(qty) FROM trades')).toBe('10,20,30');
    expect(await health()).toBe(true);
    expect(d.steps.find((s) => s.id === 'verify')?.note).toMatch(/api is healthy.*api is fast enough/);
  });

  it('a damaged database is not overwritten: the run stops naming restore-database; after it is repaired, resume finishes', async () => {
    writeFileSync(join(root, 'order.log'), '');
    const good = join(root, 'good.db');
    copyFileSync(f.db, good);
    writeFileSync(f.db, 'this is not a database '.repeat(200));
    const r = await cli(['runbook', 'run', 'full-system-recovery', '--yes', '--json']);
    const d = doc(r.stdout);
    expect(r.code, r.stdout).toBe(1);
    expect(d.status).toBe('open');
    expect(d.steps.find((s) => s.id === 'databases')?.status).toBe('failed');
    expect(d.error?.message).toContain('shop is damaged, not gone: run restore-database for it (opsdeck runbook run restore-database --target shop), then resume this run');
    expect(readFileSync(f.db, 'utf8')).toMatch(/^this is not a database/);
    // What restore-database would do, done by hand here: the database is readable again.
    copyFileSync(good, f.db);
    const resumed = await cli(['runbook', 'resume', d.run, '--yes', '--json']);
    expect(doc(resumed.stdout).status, resumed.stdout).toBe('completed');
    expect(order()).toEqual(['stop-worker', 'stop-api', 'start-api', 'start-worker']);
    expect(await health()).toBe(true);
  });
});
