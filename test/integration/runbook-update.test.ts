import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { appConfig, makeAppFixture, type AppFixture } from '../helpers/app-fixture.js';
import { execFileSync } from 'node:child_process';

// app-update and db-migrate (issue #17) for real, once each way, on one fixture application
// (test/helpers/app-fixture.ts: a local git origin and checkout, a build script, an HTTP server
// started and stopped by shell commands, a migration tool keeping a revision table in SQLite).
// The tests run in order: each starts where the one before left the application.

const root = mkdtempSync(join(tmpdir(), 'opsdeck-update-'));
let f: AppFixture;
let config: string;
let v2: string;

const cli = (args: string[], timeoutMs = 120_000) => runCli(['--config', config, ...args], { timeoutMs });

async function health(): Promise<string | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${f.port}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
    return ((await r.json()) as { version: string }).version;
  } catch {
    return undefined;
  }
}

interface RunDoc {
  run: string;
  status: string;
  steps: { id: string; status: string; note?: string }[];
}
const doc = (stdout: string) => JSON.parse(stdout) as RunDoc;
const columns = (table: string) => f.sql(`SELECT group_concat(name) FROM pragma_table_info('${table}')`);

beforeAll(async () => {
  f = await makeAppFixture(root);
  config = join(root, 'opsdeck.yaml');
  writeFileSync(config, appConfig(f, ''));
  execFileSync('sh', ['-c', f.start]);
  for (let i = 0; i < 50 && (await health()) !== 'v1'; i++) await new Promise((r) => setTimeout(r, 100));
  expect(await health()).toBe('v1');
  f.sql('INSERT INTO trades (qty) VALUES (1), (2)');
}, 60_000);

afterAll(() => {
  execFileSync('sh', ['-c', f.stop]);
  rmSync(root, { recursive: true, force: true });
});

describe('app-update', () => {
  it('updates v1 → v2: stop, backup with the services stopped, pull, build, migrate, start, health; the new revision serves', async () => {
    v2 = f.publish({ VERSION: 'v2\n', 'migrations/0002.up.sql': 'ALTER TABLE trades ADD COLUMN fee INTEGER NOT NULL DEFAULT 0;', 'migrations/0002.down.sql': 'ALTER TABLE trades DROP COLUMN fee;' }, 'v2');
    const dry = await cli(['runbook', 'run', 'app-update', '--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.stdout).toContain('does: in ' + join(root, 'app') + ': git pull --ff-only');
    expect(dry.stdout).toContain('bash migrate.sh ' + f.db + ' upgrade head');
    const r = await cli(['runbook', 'run', 'app-update', '--yes', '--json']);
    expect(r.stderr).toBe('');
    const d = doc(r.stdout);
    expect(d.status, r.stdout).toBe('completed');
    expect(d.steps.map((s) => `${s.id}:${s.status}`)).toEqual(['look:done', 'notify:done', 'stop:done', 'backup:done', 'pull:done', 'build:done', 'migrate:done', 'start:done', 'verify:done']);
    expect(r.code).toBe(0);
    expect(f.head()).toBe(v2);
    expect(await health()).toBe('v2');
    expect(f.sql('SELECT rev FROM schema_revision')).toBe('0002');
    expect(columns('trades')).toBe('id,qty,fee');
    expect(f.sql('SELECT count(*) FROM trades')).toBe('2');
    expect(d.steps.find((s) => s.id === 'migrate')?.note).toContain('0001 → 0002');
    expect(readdirSync(join(root, 'backups', 'shop')).filter((x) => x.endsWith('.db.br'))).toHaveLength(1);
  });

  it('a failing build rolls back: the old revision is checked out, built and serving again; the database is untouched', async () => {
    f.sql('INSERT INTO trades (qty, fee) VALUES (3, 1)');
    f.publish({ VERSION: 'v3\n', BREAK_BUILD: 'x\n', 'migrations/0003.up.sql': 'CREATE TABLE v3_only (x);', 'migrations/0003.down.sql': 'DROP TABLE v3_only;' }, 'v3 (broken build)');
    const r = await cli(['runbook', 'run', 'app-update', '--yes', '--json']);
    const d = doc(r.stdout);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(d.status, r.stdout).toBe('failed');
    expect(d.steps.find((s) => s.id === 'build')).toMatchObject({ status: 'failed' });
    expect(d.steps.find((s) => s.id === 'build')?.note).toContain('BREAK_BUILD');
    expect(d.steps.find((s) => s.id === 'migrate')?.status).toBe('pending');
    // --json: the error comes with the run's steps, and says what the rollback did.
    expect((JSON.parse(r.stdout) as { error: { message: string } }).error.message).toMatch(/stopped and closed; undone: shop: back at [0-9a-f]{12}, built again; api healthy/);
    expect(f.head()).toBe(v2);
    expect(await health()).toBe('v2');
    expect(f.sql('SELECT rev FROM schema_revision')).toBe('0002');
    expect(f.sql('SELECT group_concat(qty) FROM trades')).toBe('1,2,3');
  });

  it('a revision that does not start rolls back after its migration: the pre-update database is put back (safety copy kept), v2 serves again', async () => {
    f.publish({ VERSION: 'crash\n', BREAK_BUILD: null, 'migrations/0003.up.sql': 'CREATE TABLE v4_only (x); UPDATE trades SET fee = 99;' }, 'v4 (does not start)');
    const r = await cli(['runbook', 'run', 'app-update', '--yes', '--json']);
    const d = doc(r.stdout);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(d.status, r.stdout).toBe('failed');
    expect(d.steps.find((s) => s.id === 'migrate')?.status).toBe('done');
    expect(d.steps.find((s) => s.id === 'start')?.status).toBe('failed');
    expect(f.head()).toBe(v2);
    expect(await health()).toBe('v2');
    // The database the update found: migration 0002, no v4 table, every row and value as it was.
    expect(f.sql('SELECT rev FROM schema_revision')).toBe('0002');
    expect(f.sql("SELECT count(*) FROM sqlite_master WHERE name = 'v4_only'")).toBe('0');
    expect(f.sql('SELECT group_concat(qty || ":" || fee) FROM trades')).toBe('1:0,2:0,3:1');
    const safety = readdirSync(join(root, 'state', 'safety'));
    expect(safety.some((s) => s.startsWith(d.run))).toBe(true);
    const status = await cli(['runbook', 'status', d.run, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'failed' });
  });
});

describe('app-update refuses', () => {
  it('a checkout with local changes: the look step stops it before anything is stopped, and the run closes', async () => {
    const before = f.head();
    writeFileSync(join(f.app, 'VERSION'), 'hotfix\n');
    try {
      const r = await cli(['runbook', 'run', 'app-update', '--yes', '--json']);
      const d = doc(r.stdout);
      expect(r.code, r.stdout).toBe(1);
      expect(d.status).toBe('failed');
      expect(d.steps.find((s) => s.id === 'look')?.note).toMatch(/the checkout .* has local changes \(M VERSION\): commit or stash them first; nothing was changed/);
      expect(d.steps.find((s) => s.id === 'stop')?.status).toBe('pending');
      expect(await health()).toBe('v2');
      expect(f.head()).toBe(before);
    } finally {
      execFileSync('git', ['checkout', '--', 'VERSION'], { cwd: f.app });
    }
  });
});

describe('db-migrate', () => {
  it('shows current, history and heads, backs up, downgrades to a revision, then upgrades back to head', async () => {
    f.publish({ VERSION: 'v2\n', 'migrations/0003.up.sql': null, 'migrations/0003.down.sql': null }, 'back to v2');
    const r = await cli(['runbook', 'run', 'db-migrate', '--param', 'direction=downgrade', '--param', 'revision=0001', '--yes', '--json']);
    expect(r.stderr).toBe('');
    const d = doc(r.stdout);
    expect(d.status, r.stdout).toBe('completed');
    expect(d.steps.find((s) => s.id === 'current')?.note).toContain('0002');
    expect(d.steps.find((s) => s.id === 'history')?.note).toMatch(/0001 \| 0002/);
    expect(d.steps.find((s) => s.id === 'heads')?.note).toContain('0002 (head)');
    expect(d.steps.find((s) => s.id === 'migrate')?.note).toContain('0002 → 0001');
    expect(f.sql('SELECT rev FROM schema_revision')).toBe('0001');
    expect(columns('trades')).toBe('id,qty');
    expect(f.sql('SELECT count(*) FROM trades')).toBe('3');
    // Back up to head: the default direction and revision.
    const up = doc((await cli(['runbook', 'run', 'db-migrate', '--yes', '--json'])).stdout);
    expect(up.status).toBe('completed');
    expect(up.steps.find((s) => s.id === 'migrate')?.note).toContain('0001 → 0002');
    expect(f.sql('SELECT rev FROM schema_revision')).toBe('0002');
    expect(columns('trades')).toBe('id,qty,fee');
    expect(f.sql('SELECT count(*) FROM trades')).toBe('3');
  });

  it('a downgrade without a revision is refused at the migrate step; the database is unchanged', async () => {
    const r = await cli(['runbook', 'run', 'db-migrate', '--param', 'direction=downgrade', '--yes', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('a downgrade needs the revision to go to (--param revision=REV)');
    expect(f.sql('SELECT rev FROM schema_revision')).toBe('0002');
    expect(existsSync(f.db)).toBe(true);
  });
});
