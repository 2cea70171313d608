import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import type { GenericCtx } from '../../src/engine/actions.js';
import type { RunRecord } from '../../src/engine/journal.js';
import { matchOf, prefixOf, REDIS_ACTIONS } from '../../src/runbooks/actions/redis.js';
import { freePort, RedisServer } from '../helpers/redis.js';
import { configOf, harness, stepOf, type Harness } from '../helpers/runbook-actions.js';

// The Redis actions of runbook files (issue #16) against a real redis-server, driven through the
// real engine (journal, driver, policy operator): down is a SIGKILL, full is CONFIG SET maxmemory
// just above what the keys use; silent is a socket that accepts and never answers.

let server: RedisServer;
let h: Harness;
let client: Redis;
let config: Config;

beforeAll(async () => {
  server = await RedisServer.start('s3cret-pw');
  h = await harness(REDIS_ACTIONS);
  client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  client.on('error', () => undefined);
  await client.connect();
  const start = `redis-server --port ${server.port} --bind 127.0.0.1 --requirepass s3cret-pw --save '' --appendonly no --daemonize yes --pidfile ${join(server.dir, 'redis.pid')} --logfile ${join(server.dir, 'redis.log')} --dir ${server.dir}`;
  config = configOf({
    redis: [
      { name: 'cache', url: server.url, stop_command: `redis-cli -p ${server.port} -a s3cret-pw --no-auth-warning shutdown nosave`, start_command: start },
      { name: 'bare', url: server.url },
      { name: 'lazy', url: server.url, stop_command: 'true', start_command: 'true' },
    ],
  });
});
afterAll(async () => {
  client?.disconnect();
  await server?.kill();
  h?.db.close();
});

const maxmemory = async () => Number(((await client.config('GET', 'maxmemory')) as string[])[1]);
const used = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);

/** Makes Redis "full": maxmemory just above what it uses (95 %, over the 90 % threshold). */
async function fill(): Promise<number> {
  await client.config('SET', 'maxmemory', '0');
  const max = Math.ceil((await used()) / 0.95);
  await client.config('SET', 'maxmemory', String(max));
  return max;
}

async function seed(): Promise<void> {
  await client.flushall();
  const p = client.pipeline();
  for (let i = 0; i < 300; i++) p.set(`sess:${i}`, 'x'.repeat(2000));
  for (let i = 0; i < 50; i++) p.set(`cache:${i}`, 'y');
  p.set('a*b:1', 'glob');
  p.set('axb:1', 'not matched by a*b:');
  p.set('plain', 'no prefix');
  await p.exec();
}

describe('redis.status and redis.restart', () => {
  it('status says it answers PING and how it is restarted; remembers redis.reachable', async () => {
    const { outcome, facts } = await h.drive([stepOf('redis.status', { redis: 'cache' }), stepOf('redis.status', { redis: 'bare' }, { id: 'bare' })], { config });
    expect(outcome.kind).toBe('completed');
    const notes = h.journal.lines(outcome.record.id).filter((l) => l.event === 'succeed').map((l) => l.detail ?? '');
    expect(notes[0]).toMatch(/^Redis cache: answers PING in [\d.]+ ms; if it needs a restart: its stop_command, then its start_command$/);
    expect(notes[1]).toContain('no way to restart configured: set redis[].container or stop_command/start_command');
    expect(facts['redis.reachable']).toBe(1);
    expect(notes.join(' ')).not.toContain('s3cret-pw');
  });

  it('restart is settled while Redis answers PING (nothing restarted)', async () => {
    await client.set('survivor', '1');
    const { outcome } = await h.drive([stepOf('redis.restart', { redis: 'cache' })], { config });
    expect(outcome.kind).toBe('completed');
    expect(h.journal.lines(outcome.record.id).find((l) => l.event === 'succeed')?.detail).toBe('Redis cache answers PING: nothing to restart');
    expect(await client.get('survivor')).toBe('1'); // not restarted: --save '' would have lost it
  });

  it('when Redis is down: no way configured fails naming the fields; stop/start commands bring it back and verify sees PING; a start that does nothing fails verify', async () => {
    await server.kill();
    const { outcome: status, facts } = await h.drive([stepOf('redis.status', { redis: 'cache' })], { config });
    expect(status.kind).toBe('completed');
    expect(facts['redis.reachable']).toBe(0);

    const bare = await h.drive([stepOf('redis.restart', { redis: 'bare' })], { config });
    expect(bare.outcome.kind).toBe('failed');
    if (bare.outcome.kind === 'failed') expect(bare.outcome.error).toMatchObject({ kind: 'params', message: 'Redis bare: no way to restart configured: set redis[].container or stop_command/start_command' });

    const lazy = await h.drive([stepOf('redis.restart', { redis: 'lazy', within_ms: 1000 })], { config });
    expect(lazy.outcome.kind).toBe('failed');
    if (lazy.outcome.kind === 'failed') expect(lazy.outcome.error.message).toMatch(/^Redis lazy refused the connection 1 s after the restart$/);

    const { outcome } = await h.drive([stepOf('redis.restart', { redis: 'cache', within_ms: 15_000 })], { config });
    expect(outcome.kind).toBe('completed');
    const note = h.journal.lines(outcome.record.id).find((l) => l.event === 'succeed')?.detail ?? '';
    // The stop command fails on a Redis that is down: noted, not fatal.
    expect(note).toMatch(/^stop_command failed \(exit 1.*\): taken as down already; start_command ran; answers PING again/);
    expect(server.cli('PING')).toBe('PONG');
  });
});

describe('redis.memory, raise-maxmemory, flush-prefix', () => {
  it('memory ranks key prefixes by a bounded SCAN and remembers the biggest', async () => {
    await seed();
    const { outcome, facts } = await h.drive([stepOf('redis.memory', { redis: 'cache' })], { config });
    expect(outcome.kind).toBe('completed');
    const note = h.journal.lines(outcome.record.id).find((l) => l.event === 'succeed')?.detail ?? '';
    const lines = note.split('\n');
    expect(lines[0]).toMatch(/^Redis cache: used .* of no maxmemory \(0: no limit\), policy noeviction, \d+ keys evicted$/);
    expect(lines[1]).toBe('biggest key prefixes (353 keys scanned; MEMORY USAGE of 353, the rest estimated):');
    expect(lines[2]).toMatch(/^ {2}sess:\*: 300 keys, ≈ \d/);
    expect(lines).toHaveLength(2 + 5);
    expect(facts['redis.biggest_prefix']).toBe('sess:');
    expect(facts['redis.used_memory']).toBeGreaterThan(600_000);
    expect(facts['redis.maxmemory']).toBe(0);

    const bounded = await h.drive([stepOf('redis.memory', { redis: 'cache', scan_keys: 100 })], { config });
    expect(h.journal.lines(bounded.outcome.record.id).find((l) => l.event === 'succeed')?.detail).toContain('100 keys scanned, stopped at scan_keys 100');
  });

  it('raise-maxmemory is settled with no limit; when full it sets 2× (or used/0.7), verify sees it below the threshold, and rollback sets the old values back', async () => {
    await client.config('SET', 'maxmemory', '0');
    const free = await h.drive([stepOf('redis.raise-maxmemory', { redis: 'cache' })], { config });
    expect(h.journal.lines(free.outcome.record.id).find((l) => l.event === 'succeed')?.detail).toBe('Redis cache has no maxmemory (0: no limit): nothing to raise');

    const old = await fill();
    const step = stepOf('redis.raise-maxmemory', { redis: 'cache', policy: 'allkeys-lru' });
    expect(await REDIS_ACTIONS['redis.raise-maxmemory'].preview?.(h.ctx(step, { config }))).toMatch(new RegExp(`^on Redis cache: CONFIG SET maxmemory ${Math.ceil((2 * old) / 1048576) * 1048576} \\(.*\\) and CONFIG SET maxmemory-policy allkeys-lru; now used .* of max .* \\(9\\d%\\), policy noeviction`));
    const { outcome, facts, driver } = await h.drive([step], { config });
    expect(outcome.kind).toBe('completed');
    expect(facts['redis.old_maxmemory']).toBe(old);
    expect(facts['redis.old_policy']).toBe('noeviction');
    expect(await maxmemory()).toBe(Math.ceil((2 * old) / 1048576) * 1048576);
    expect(h.journal.lines(outcome.record.id).find((l) => l.event === 'succeed')?.detail).toMatch(/policy noeviction → allkeys-lru; now used .* \([1-4]\d(\.\d)?%\)$/);

    // Run again after a kill (the change made, the step not journaled done): the old values stay the first ones.
    const x = h.ctx(step, { config }, { ...facts });
    await REDIS_ACTIONS['redis.raise-maxmemory'].execute(x);
    expect(x.facts()['redis.old_maxmemory']).toBe(old);

    const rb = await driver.rollback(h.journal.get<GenericCtx>(outcome.record.id) as RunRecord<GenericCtx>);
    expect(rb?.notes[0]).toMatch(/^Redis cache: maxmemory set back to .*, policy noeviction$/);
    expect(await maxmemory()).toBe(old);
    expect(((await client.config('GET', 'maxmemory-policy')) as string[])[1]).toBe('noeviction');
  });

  it('flush-prefix is person-only (a policy never deletes keys: issue #20); what a person runs deletes only the keys of its prefix (glob characters escaped), previews the count, then is settled', async () => {
    await client.config('SET', 'maxmemory', '0');
    await seed();
    await fill();
    const step = stepOf('redis.flush-prefix', { redis: 'cache', prefix: 'sess:' });
    expect(await REDIS_ACTIONS['redis.flush-prefix'].settled?.(h.ctx(step, { config }))).toBeUndefined();
    expect(await REDIS_ACTIONS['redis.flush-prefix'].preview?.(h.ctx(step, { config }))).toMatch(/^on Redis cache: delete 300 keys \(≈ \d.*\) matching sess:\*, found by SCAN, UNLINKed in batches of 500; this cannot be undone$/);
    // The count's SCAN stops at scan_keys: "N+", and the size is of the first N.
    expect(await REDIS_ACTIONS['redis.flush-prefix'].preview?.(h.ctx(stepOf('redis.flush-prefix', { redis: 'cache', prefix: 'sess:', scan_keys: 100 }), { config }))).toMatch(/^on Redis cache: delete 100\+ keys \(≈ \d.* in the first 100\) matching sess:\*, found by SCAN/);
    // Person-only (issue #20): a policy (--yes, self-healing) never deletes keys; the run stops before it.
    const unattended = await h.drive([step], { config });
    expect(unattended.outcome.kind).toBe('paused');
    expect(h.journal.lines(unattended.outcome.record.id).find((l) => l.event === 'decline')?.detail).toMatch(/only a person decides/);
    expect((await client.keys('sess:*')).length).toBe(300);
    const { outcome } = await h.drive([step], { config }, {}, 'person');
    expect(outcome.kind).toBe('completed');
    expect(h.journal.lines(outcome.record.id).find((l) => l.event === 'succeed')?.detail).toBe('Redis cache: 300 keys matching sess:* deleted');
    expect(await client.keys('sess:*')).toEqual([]);
    expect((await client.keys('cache:*')).length).toBe(50);

    // A prefix with glob characters matches itself only; the fact from redis.memory is the default prefix.
    await fill();
    const glob = await h.drive([stepOf('redis.flush-prefix', { redis: 'cache' })], { config }, { 'redis.biggest_prefix': 'a*b:' }, 'person');
    expect(h.journal.lines(glob.outcome.record.id).find((l) => l.event === 'succeed')?.detail).toBe('Redis cache: 1 keys matching a*b:* deleted');
    expect(await client.get('axb:1')).toBe('not matched by a*b:');
    expect(await client.get('plain')).toBe('no prefix');

    await client.config('SET', 'maxmemory', '0');
    expect(await REDIS_ACTIONS['redis.flush-prefix'].settled?.(h.ctx(step, { config }))).toMatch(/^Redis cache used .* of no maxmemory .*: nothing to free$/);
    expect(await REDIS_ACTIONS['redis.flush-prefix'].settled?.(h.ctx(stepOf('redis.flush-prefix', { redis: 'cache' }), { config }))).toMatch(/^no key prefix known/);
  });

  it('a Redis that does not answer (silent, or refusing) is what settled and the previews report, within about twice its timeout', async () => {
    // Silent: accepts the connection, never answers a byte.
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
    const port = (silent.address() as { port: number }).port;
    const c = configOf({ redis: [{ name: 'mute', url: `redis://127.0.0.1:${port}`, timeout: '300ms' }, { name: 'gone', url: `redis://127.0.0.1:${await freePort()}`, timeout: '300ms' }] });
    try {
      const flush = stepOf('redis.flush-prefix', { redis: 'mute', prefix: 'sess:' });
      const t0 = Date.now();
      expect(await REDIS_ACTIONS['redis.restart'].settled?.(h.ctx(stepOf('redis.restart', { redis: 'mute' }), { config: c }))).toBeUndefined();
      expect(await REDIS_ACTIONS['redis.raise-maxmemory'].settled?.(h.ctx(stepOf('redis.raise-maxmemory', { redis: 'mute' }), { config: c }))).toBeUndefined();
      expect(await REDIS_ACTIONS['redis.raise-maxmemory'].preview?.(h.ctx(stepOf('redis.raise-maxmemory', { redis: 'mute' }), { config: c }))).toBe("raise Redis mute's maxmemory (it cannot be read now: Redis mute did not answer in time)");
      expect(await REDIS_ACTIONS['redis.flush-prefix'].settled?.(h.ctx(flush, { config: c }))).toBeUndefined();
      expect(await REDIS_ACTIONS['redis.flush-prefix'].preview?.(h.ctx(flush, { config: c }))).toBe('on Redis mute: delete the keys (not counted: Redis mute did not answer in time) matching sess:*, found by SCAN, UNLINKed in batches of 500; this cannot be undone');
      // Five looks, each bounded by 2 × 300 ms (the count by 5 s more): nothing waited for a default timeout.
      expect(Date.now() - t0).toBeLessThan(5 * 600 + 5_000);
      expect(await REDIS_ACTIONS['redis.raise-maxmemory'].preview?.(h.ctx(stepOf('redis.raise-maxmemory', { redis: 'gone' }), { config: c }))).toBe("raise Redis gone's maxmemory (it cannot be read now: Redis gone refused the connection)");
      expect(await REDIS_ACTIONS['redis.restart'].settled?.(h.ctx(stepOf('redis.restart', { redis: 'gone' }), { config: c }))).toBeUndefined();
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('names the missing or unknown Redis with the configured names', () => {
    const a = REDIS_ACTIONS['redis.status'];
    expect(() => a.preview?.(h.ctx(stepOf('redis.status', {}), { config }))).toThrow('parameter redis (a configured Redis name) is missing: expected one of: cache, bare, lazy');
    expect(() => a.preview?.(h.ctx(stepOf('redis.status', { redis: 'nope' }), { config }))).toThrow(/no Redis named "nope" in the configuration \(expected one of: cache, bare, lazy\)/);
    expect(matchOf('a*b?[c]\\:')).toBe('a\\*b\\?\\[c\\]\\\\:*');
    expect(prefixOf('user:42:name')).toBe('user:42:');
    expect(prefixOf('plain')).toBe('');
  });
});
