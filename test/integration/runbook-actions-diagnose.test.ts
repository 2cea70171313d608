import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { logLevel } from '../../src/domain/log-level.js';
import { DIAGNOSE_ACTIONS, tailFile, TAIL_BYTES } from '../../src/runbooks/actions/diagnose.js';
import { docker, runContainer } from '../helpers/docker-engine.js';
import { RedisServer } from '../helpers/redis.js';
import { configOf, harness, stepOf, type Harness } from '../helpers/runbook-actions.js';

// The diagnosis actions of the api-degraded runbook (issue #16) on real things: a log file larger
// than the part read, one container of the suite's private Docker engine (its log and its stats),
// a real redis-server and real SQLite files for the dependencies.

const host = inject('dockerHost');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-diagnose-'));
let redis: RedisServer;
let h: Harness;
let config: Config;

beforeAll(async () => {
  redis = await RedisServer.start('diag-pw');
  h = await harness(DIAGNOSE_ACTIONS);
  runContainer(host, 'rb-diag', ['--network', 'none', '--memory', '64m'], ['sh', '-c', 'echo starting; echo "ERROR db connection refused" >&2; echo "WARN slow query 2300ms"; echo ready; sleep 3600']);
  // The container's lines are in its log once it has run its echoes: poll, never sleep a fixed time.
  const until = Date.now() + 20_000;
  while (!docker(host, 'logs', 'rb-diag').includes('ready')) {
    if (Date.now() > until) throw new Error('rb-diag did not log its lines');
    await new Promise((r) => setTimeout(r, 100));
  }
  const good = join(dir, 'good.db');
  new Database(good).exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)').close();
  // An error line at the very start, beyond the last 256 KiB: never read.
  const filler = Array.from({ length: 6000 }, (_, i) => `2026-12-02T10:00:00Z INFO request ${i} served in 12ms`).join('\n');
  writeFileSync(join(dir, 'api.log'), `FATAL at the start, long ago\n${filler}\n2026-12-02T10:01:00Z ERROR upstream timeout\n2026-12-02T10:01:01Z WARN retrying\n2026-12-02T10:01:02Z ERROR bad \x1b]0;pwned\x07 title\n2026-12-02T10:01:03Z INFO ok\n`);
  writeFileSync(join(dir, 'quiet.log'), 'INFO all good\nDEBUG details\n');
  config = configOf({
    docker: { host },
    services: [{ name: 'web', container: 'rb-diag' }, { name: 'api', stop_command: 'systemctl stop api', start_command: 'systemctl start api' }],
    logs: [{ name: 'api', path: join(dir, 'api.log') }, { name: 'quiet', path: join(dir, 'quiet.log') }],
    databases: [{ name: 'orders', path: good }, { name: 'gone', path: join(dir, 'missing.db') }],
    redis: [{ name: 'cache', url: redis.url }],
  });
});
afterAll(async () => {
  docker(host, 'rm', '-f', 'rb-diag');
  await redis?.kill();
  h?.db.close();
});

const noteOf = (id: string) => h.journal.lines(id).find((l) => l.event === 'succeed')?.detail ?? '';

describe('diagnose.logs', () => {
  it('finds the last error and warning lines in a file log, reading only its last 256 KiB, escaped', async () => {
    const { outcome } = await h.drive([stepOf('diagnose.logs', { service: 'api', lines: 2 })], { config });
    expect(outcome.kind).toBe('completed');
    expect(noteOf(outcome.record.id).split('\n')).toEqual([
      `api: 3 error/warning lines in the last 256 KiB of ${join(dir, 'api.log')}, the last 2:`,
      '  2026-12-02T10:01:01Z WARN retrying',
      '  2026-12-02T10:01:02Z ERROR bad \\x1b]0;pwned\\x07 title',
    ]);
    expect(tailFile(join(dir, 'api.log')).join('\n').length).toBeLessThanOrEqual(TAIL_BYTES);
    const quiet = await h.drive([stepOf('diagnose.logs', { service: 'api', log: 'quiet' })], { config });
    expect(noteOf(quiet.outcome.record.id)).toBe(`api: no error lines in the last 256 KiB of ${join(dir, 'quiet.log')}`);
  });

  it('reads a container\'s last lines through the Docker facade (stdout and stderr)', async () => {
    const { outcome } = await h.drive([stepOf('diagnose.logs', { service: 'web' })], { config });
    expect(outcome.kind).toBe('completed');
    const [head, ...lines] = noteOf(outcome.record.id).split('\n');
    expect(head).toBe('web: 2 error/warning lines in the last 4 lines of container rb-diag\'s log:');
    // stdout and stderr are two pipes: which of two lines written at once Docker logs first is not fixed.
    expect(lines.sort()).toEqual(['  ERROR db connection refused', '  WARN slow query 2300ms']);
  });

  it('names the service parameter and the configured names when missing', () => {
    expect(() => DIAGNOSE_ACTIONS['diagnose.logs'].preview?.(h.ctx(stepOf('diagnose.logs'), { config }))).toThrow('parameter service (a configured service name) is missing: expected one of: web, api');
  });

  it.each([
    ['2026 ERROR x', 'error'], ['panic: FATAL', 'error'], ['java.lang.Exception: boom', 'error'], ['an error occurred', 'error'],
    ['WARNING: disk', 'warn'], ['warn: slow', 'warn'], ['INFO started', 'info'], ['DEBUG x=1', 'debug'], ['GET / 200', undefined], ['errors=0', undefined],
  ])('logLevel(%j) is %s', (text, level) => expect(logLevel(text)).toBe(level));
});

describe('diagnose.resources', () => {
  it('reads the container\'s CPU % and memory; a command-run service is not a container', async () => {
    const { outcome } = await h.drive([stepOf('diagnose.resources', { service: 'web' }), stepOf('diagnose.resources', { service: 'api' }, { id: 'api' })], { config });
    expect(outcome.kind).toBe('completed');
    const notes = h.journal.lines(outcome.record.id).filter((l) => l.event === 'succeed').map((l) => l.detail);
    expect(notes[0]).toMatch(/^container rb-diag is running: CPU \d+(\.\d)?%, memory .* of 64\.0 MiB \(\d+(\.\d)?%\), restarted 0 times$/);
    expect(notes[1]).toBe('not a container: service api runs by its commands (systemctl start api); nothing to read here');
  });
});

describe('diagnose.dependencies', () => {
  it('reports every database and Redis, one line each, and never fails (a dependency down is reported)', async () => {
    const up = await h.drive([stepOf('diagnose.dependencies')], { config });
    expect(up.outcome.kind).toBe('completed');
    const lines = noteOf(up.outcome.record.id).split('\n');
    expect(lines[0]).toMatch(/^database orders: quick_check ok, \d/);
    expect(lines[1]).toBe(`database gone: database file ${join(dir, 'missing.db')} does not exist`);
    expect(lines[2]).toMatch(/^Redis cache: answers in [\d.]+ ms, used .*, no maxmemory, 0 keys evicted$/);
    await redis.kill();
    const down = await h.drive([stepOf('diagnose.dependencies')], { config });
    expect(down.outcome.kind).toBe('completed');
    const line = noteOf(down.outcome.record.id).split('\n')[2] ?? '';
    expect(line).toMatch(/^Redis cache: unavailable: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the connection/);
    expect(line).not.toContain('diag-pw');
  });
});
