import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { docker, runContainer } from '../helpers/docker-engine.js';

// Issue #23 on the real CLI: `opsdeck logs review` over a real container's log (the private engine)
// and a log file; `opsdeck logs cleanup` over a folder of dated files, one held open for writing by a
// child process and one open read-only by another.

const host = inject('dockerHost');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-logs-'));
const config = join(dir, 'opsdeck.yaml');
const appLog = join(dir, 'app.log');
const NAME = 'lg-mix';
const DAY = 86_400_000;

beforeAll(() => {
  // A known mix on stdout and stderr: 4 ERROR (3 of one pattern), 2 WARN (one pattern), 2 other lines.
  const script = [
    'for i in 7 42 1234; do echo "ERROR order $i failed"; done',
    'echo "WARN disk 91% full"',
    'echo "INFO started"',
    'echo "ERROR upstream 10.1.2.3:8080 timed out after 5000 ms" 1>&2',
    'echo "WARN disk 93% full" 1>&2',
    'echo "GET /health 200"',
    'exec sleep 3600',
  ].join('; ');
  runContainer(host, NAME, ['--network', 'none'], ['sh', '-c', script]);
  const old = new Date(Date.now() - 2 * DAY).toISOString();
  const recent = new Date(Date.now() - 3_600_000).toISOString();
  writeFileSync(appLog, [`${old} ERROR too old to count 1`, `${old} ERROR too old to count 2`, `${recent} ERROR payment 981 declined`, `${recent} WARN retry 2 of 5`, `${recent} INFO ok`, ''].join('\n'));
  writeFileSync(
    config,
    [
      'name: logs',
      `state_dir: ${join(dir, 'state')}`,
      `docker: {host: "${host}"}`,
      'services:',
      `  - name: mixer`,
      `    container: ${NAME}`,
      'logs:',
      '  - name: app',
      '    path: app.log',
      '    glob: "rotated/app*"',
      '    delete_after: 30d',
      '    compress_after: 7d',
      '    important: ["app-audit*"]',
      '    archive_dir: archive',
      '',
    ].join('\n'),
  );
});
afterAll(() => {
  docker(host, 'rm', '-f', NAME);
});

/** Waits until the container has printed its lines (it sleeps afterwards). */
async function printed(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (docker(host, 'logs', NAME).split('\n').length >= 5) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${NAME} did not print its lines`);
}

describe('opsdeck logs review', () => {
  it('counts and groups a container\'s lines and a file\'s lines of the last 24 h; the next review names only the new pattern', async () => {
    await printed();
    const first = await runCli(['--config', config, 'logs', 'review', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const a = JSON.parse(first.stdout) as { sources: { name: string; lines: number; errors: number; warnings: number; groups: { count: number; level: string; pattern: string }[]; previousReview: string | null; newPatterns: unknown[] }[] };
    const svc = a.sources.find((s) => s.name === 'mixer');
    expect(svc).toMatchObject({ lines: 8, errors: 4, warnings: 2, previousReview: null, newPatterns: [] });
    expect(svc?.groups.map((g) => [g.count, g.level, g.pattern])).toEqual([
      [3, 'error', 'ERROR order <n> failed'],
      [2, 'warn', 'WARN disk <n>% full'],
      [1, 'error', 'ERROR upstream <ip> timed out after <n> ms'],
    ]);
    const file = a.sources.find((s) => s.name === 'app');
    expect(file).toMatchObject({ lines: 3, errors: 1, warnings: 1 });
    expect(file?.groups.map((g) => g.pattern)).toEqual(['<ts> ERROR payment <n> declined', '<ts> WARN retry <n> of <n>']);

    appendFileSync(appLog, `${new Date().toISOString()} ERROR ledger 77 out of balance\n${new Date().toISOString()} ERROR payment 5 declined\n`);
    const second = await runCli(['--config', config, 'logs', 'review']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('service mixer (container lg-mix): 4 ERROR, 2 WARN in 8 lines');
    expect(second.stdout).toMatch(/no new patterns since the review of/);
    expect(second.stdout).toContain('log app');
    expect(second.stdout).toMatch(/1 new since the review of .*\n {2}NEW {5}1 {2}ERROR {2}<ts> ERROR ledger <n> out of balance/);
  });

  it('a source that cannot be read is named with why, not a stack trace (exit 1)', async () => {
    const cfg = join(dir, 'gone.yaml');
    writeFileSync(cfg, [`state_dir: ${join(dir, 'state2')}`, `docker: {host: "${host}"}`, 'services:', '  - {name: ghost, container: no-such-container}', ''].join('\n'));
    const r = await runCli(['--config', cfg, 'logs', 'review']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/service ghost \(container no-such-container\): not read: .*no-such-container/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});

describe('opsdeck logs cleanup', () => {
  let writer: ChildProcess | undefined;
  let reader: ChildProcess | undefined;
  afterAll(() => {
    writer?.kill('SIGKILL');
    reader?.kill('SIGKILL');
  });

  /** A child process that opens `path` (`a`: for writing, `r`: read-only) and waits; resolves once it has. */
  function holder(path: string, flags: 'a' | 'r'): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(path)}, '${flags}'); console.log('open'); setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] });
    return new Promise((resolve, reject) => {
      child.stdout?.once('data', () => resolve(child));
      child.once('exit', (c) => reject(new Error(`holder exited ${c}`)));
    });
  }

  it('a dry run changes nothing; --yes deletes, compresses and archives exactly the planned files and skips the one open for writing', async () => {
    const rot = join(dir, 'rotated');
    mkdirSync(rot, { recursive: true });
    const files: Record<string, number> = { 'app.log.1': 1, 'app.log.2': 10, 'app.log.3.gz': 12, 'app.log.4': 45, 'app.log.5.gz': 60, 'app.log.6': 20, 'app.log.7': 9, 'app-audit.log': 50 };
    for (const [name, days] of Object.entries(files)) {
      const p = join(rot, name);
      writeFileSync(p, `${name}\n`.repeat(100));
      const t = new Date(Date.now() - days * DAY);
      utimesSync(p, t, t);
    }
    writer = await holder(join(rot, 'app.log.6'), 'a');
    reader = await holder(join(rot, 'app.log.7'), 'r');

    const dry = await runCli(['--config', config, 'logs', 'cleanup', '--json']);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as { dryRun: boolean; entries: { name: string; steps: { op: string; path: string; why?: string }[] }[] };
    expect(plan.dryRun).toBe(true);
    expect(plan.entries[0]?.steps.map((s) => [s.op, s.path.slice(rot.length + 1)])).toEqual([
      ['archive', 'app-audit.log'],
      ['compress', 'app.log.2'],
      ['delete', 'app.log.4'],
      ['delete', 'app.log.5.gz'],
      ['skip', 'app.log.6'],
      ['compress', 'app.log.7'],
    ]);
    expect(plan.entries[0]?.steps.find((s) => s.op === 'skip')?.why).toContain(`pid ${writer.pid}`);
    for (const name of Object.keys(files)) expect(existsSync(join(rot, name))).toBe(true);

    const refused = await runCli(['--config', config, '--read-only', 'logs', 'cleanup', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('read-only');
    expect(existsSync(join(rot, 'app.log.4'))).toBe(true);

    const mtime2 = statSync(join(rot, 'app.log.2')).mtimeMs;
    const done = await runCli(['--config', config, 'logs', 'cleanup', '--yes']);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toContain(`skipped ${join(rot, 'app.log.6')}: open for writing by pid ${writer.pid}`);
    expect(existsSync(join(rot, 'app.log.4'))).toBe(false);
    expect(existsSync(join(rot, 'app.log.5.gz'))).toBe(false);
    expect(existsSync(join(rot, 'app.log.2'))).toBe(false);
    expect(gunzipSync(readFileSync(join(rot, 'app.log.2.gz'))).toString()).toBe('app.log.2\n'.repeat(100));
    expect(statSync(join(rot, 'app.log.2.gz')).mtimeMs).toBeCloseTo(mtime2, -1);
    expect(existsSync(join(rot, 'app.log.7.gz'))).toBe(true);
    expect(existsSync(join(dir, 'archive', 'app-audit.log'))).toBe(true);
    expect(existsSync(join(rot, 'app-audit.log'))).toBe(false);
    for (const kept of ['app.log.1', 'app.log.3.gz', 'app.log.6']) expect(existsSync(join(rot, kept))).toBe(true);

    const db = new Database(join(dir, 'state', 'state.db'), { readonly: true });
    const audit = db.prepare("SELECT outcome, detail FROM audit WHERE action = 'logs.cleanup' ORDER BY id").all();
    db.close();
    expect(audit).toEqual([
      { outcome: 'refused', detail: '--read-only' },
      { outcome: 'ok', detail: 'deleted 2, compressed 2, archived 1, skipped 1' },
    ]);
  });
});
