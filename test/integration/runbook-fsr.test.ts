import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
  config_files: [app.env]
  files: ["reports/**/*.csv"]
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
  mkdirSync(join(root, 'reports', '2026'), { recursive: true });
  writeFileSync(join(root, 'app.env'), 'TRADING_MODE=live\n');
  writeFileSync(join(root, 'reports', 'daily.csv'), 'day,pnl\n2026-12-01,120\n');
  writeFileSync(join(root, 'reports', '2026', 'november.csv'), 'month,pnl\n11,3400\n', { mode: 0o600 });
  writeFileSync(join(root, 'reports', 'kept.csv'), 'v1\n');
  execFileSync('sh', ['-c', f.start]);
  for (let i = 0; i < 50 && !(await health()); i++) await new Promise((r) => setTimeout(r, 100));
  f.sql('INSERT INTO trades (qty) VALUES (10), (20), (30)');
  const b = await cli(['backup', 'create', '--verify']);
  expect(b.code, b.stderr).toBe(0);
  expect(b.stdout).toMatch(/files-\d{8}T\d{6}Z/);
}, 60_000);

afterAll(() => {
  execFileSync('sh', ['-c', f.stop]);
  rmSync(root, { recursive: true, force: true });
});

describe('full-system-recovery', () => {
  it('after the database, the configuration file and the report files are deleted: stops dependents first, puts back what is gone (an edited report is kept), leaves the healthy database alone, starts in depends_on order, verifies', async () => {
    const mode = statSync(f.db).mode & 0o777;
    rmSync(f.db);
    rmSync(join(root, 'app.env'));
    rmSync(join(root, 'reports', 'daily.csv'));
    rmSync(join(root, 'reports', '2026'), { recursive: true });
    writeFileSync(join(root, 'reports', 'kept.csv'), 'v2, edited after the backup\n');
    const r = await cli(['runbook', 'run', 'full-system-recovery', '--yes', '--json']);
    const d = doc(r.stdout);
    expect(d.status, r.stdout + r.stderr).toBe('completed');
    expect(r.code).toBe(0);
    expect(d.steps.map((s) => s.id)).toEqual(['survey', 'stop', 'databases', 'config', 'files', 'start', 'verify']);
    expect(d.steps.find((s) => s.id === 'survey')?.note).toMatch(/configuration files: 0 there, 1 gone .*app\.env.*data files \(set files-\d{8}T\d{6}Z\): 0 there, 2 gone .*, 1 changed since the copy/);
    expect(readFileSync(join(root, 'app.env'), 'utf8')).toBe('TRADING_MODE=live\n');
    expect(readFileSync(join(root, 'reports', 'daily.csv'), 'utf8')).toBe('day,pnl\n2026-12-01,120\n');
    expect(readFileSync(join(root, 'reports', '2026', 'november.csv'), 'utf8')).toBe('month,pnl\n11,3400\n');
    expect(statSync(join(root, 'reports', '2026', 'november.csv')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(root, 'reports', 'kept.csv'), 'utf8')).toBe('v2, edited after the backup\n');
    expect(d.steps.find((s) => s.id === 'files')?.note).toMatch(/put back 2 file\(s\) from set files-.*; changed since the set, left: .*kept\.csv/);
    expect(d.steps.find((s) => s.id === 'survey')?.note).toMatch(/shop: .* is gone; newest verified backup shop-/);
    expect(d.steps.find((s) => s.id === 'databases')?.note).toMatch(/shop\.db is backup shop-\d{8}T\d{6}Z(?:-\d+)? .* again.*; audit there: left alone|audit there: left alone/);
    expect(order()).toEqual(['stop-worker', 'stop-api', 'start-api', 'start-worker']);
    expect(f.sql('SELECT group_concat(qty) FROM trades')).toBe('10,20,30');
    expect(statSync(f.db).mode & 0o777).toBe(mode); // a database that was gone comes back with its mode, not 0600
    expect(await health()).toBe(true);
    expect(d.steps.find((s) => s.id === 'verify')?.note).toMatch(/api is healthy.*api is fast enough/);
  });

  it('a damaged database is not overwritten: the survey stops the run before any service is stopped, naming restore-database; run again once it is repaired, nothing is gone and nothing is stopped', async () => {
    writeFileSync(join(root, 'order.log'), '');
    const good = join(root, 'good.db');
    copyFileSync(f.db, good);
    writeFileSync(f.db, 'this is not a database '.repeat(200));
    const r = await cli(['runbook', 'run', 'full-system-recovery', '--yes', '--json']);
    const d = doc(r.stdout);
    expect(r.code, r.stdout).toBe(1);
    expect(d.status).toBe('failed');
    expect(d.steps.find((s) => s.id === 'survey')?.status).toBe('failed');
    expect(d.error?.message).toContain('shop is damaged, not gone: run restore-database for it first (opsdeck runbook run restore-database --target shop; it keeps what can still be read), then run full-system-recovery again; nothing was stopped');
    expect(readFileSync(f.db, 'utf8')).toMatch(/^this is not a database/);
    expect(readFileSync(join(root, 'order.log'), 'utf8')).toBe('');
    // What restore-database would do, done by hand here: the database is readable again.
    copyFileSync(good, f.db);
    const again = await cli(['runbook', 'run', 'full-system-recovery', '--yes', '--json']);
    const a = doc(again.stdout);
    expect(a.status, again.stdout).toBe('completed');
    expect(a.steps.find((s) => s.id === 'stop')?.note).toBe('nothing is gone: no service stopped');
    expect(readFileSync(join(root, 'order.log'), 'utf8')).toBe('');
    expect(await health()).toBe(true);
  });
});
