// Over 300 lines, knowingly: the five Redis actions share one connection helper, one bounded SCAN
// and one memory reading; split, each would carry its own copy.
// Redis actions for runbooks (issue #16): status, restart, memory (with a bounded SCAN of key
// prefixes), raise maxmemory, flush a key prefix. Each names its instance by its configured name
// (param `redis`), never by its URL: the URL may hold a password. Everything Redis is asked goes
// through one helper, `withRedis`: a fresh ioredis client that fails fast (no offline queue, no
// reconnects, the instance's `timeout` for connecting and for each command, an error listener
// first: docs/FACTS.md §3) and is always disconnected. `settled` and `preview` ask it too (does it
// answer PING, how full is it, how many keys match), within a deadline of about twice the timeout:
// a Redis that does not answer is a result they report, never a hang.

import { execFile } from 'node:child_process';
import type { Redis as RedisClient } from 'ioredis';
import type { Config, RedisConfig } from '../../config/schema.js';
import { displayUrl } from '../../config/secrets.js';
import { Failure } from '../../domain/errors.js';
import { formatBytes, formatPercent } from '../../domain/format.js';
import { factsOf, remember, type GenericDeps } from '../../engine/actions.js';
import type { Action, StepContext } from '../../engine/driver.js';
import { parseInfo } from '../../services/redis.js';
import { dockerFor } from '../../services/writers.js';
import { configOf as configFrom, namedEntry } from './config.js';

type X = StepContext<unknown, GenericDeps>;

/** The typed ids of the Redis actions. */
export type RedisActionId = 'redis.status' | 'redis.restart' | 'redis.memory' | 'redis.raise-maxmemory' | 'redis.flush-prefix';

const configOf = (x: X): Config => configFrom(x, 'to find Redis instances in');

/** The configured Redis entry named by param `redis`. */
export function redisOf(x: X): RedisConfig {
  return namedEntry(x, configOf(x).redis, 'redis', 'Redis');
}

const causeOf = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ECONNREFUSED') return 'refused the connection';
  if (/NOAUTH|WRONGPASS/.test(err?.message ?? '')) return 'rejected the credentials';
  if (/timed? ?out|ETIMEDOUT/i.test(err?.message ?? '')) return 'did not answer in time';
  return err?.code ?? err?.message ?? String(e);
};

/**
 * Runs `fn` on a fresh fail-fast client of `r`; always disconnects. A connection failure is an
 * `unhealthy` Failure, and so is no end within `deadlineMs` (when given) for the whole of it.
 */
export async function withRedis<T>(r: RedisConfig, fn: (c: RedisClient) => Promise<T>, deadlineMs?: number): Promise<T> {
  const { Redis } = await import('ioredis');
  let last: Error | undefined;
  const c = new Redis(r.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: r.timeout, commandTimeout: r.timeout, retryStrategy: () => null });
  c.on('error', (e: Error) => (last = e));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    if (deadlineMs !== undefined) timer = setTimeout(() => reject(new Failure('unhealthy', `Redis ${r.name} did not answer in time`)), deadlineMs);
  });
  try {
    // The race has a handler on both sides: the loser's later end is never an unhandled rejection.
    return await Promise.race([c.connect().then(() => fn(c)), late]);
  } catch (e) {
    if (e instanceof Failure) throw e;
    // "Connection is closed" hides the cause; the error event carries it (services/redis.ts).
    const cause = last && /Connection is closed/.test((e as Error)?.message ?? '') ? last : e;
    throw new Failure('unhealthy', `Redis ${r.name} ${causeOf(cause)}`);
  } finally {
    clearTimeout(timer);
    c.disconnect();
  }
}

/** What settled and preview may wait for Redis: connecting and a few commands, each bounded by the instance's timeout. */
const lookDeadline = (r: RedisConfig): number => r.timeout * 2;

/** Used and max memory (bytes; max 0: no limit), the eviction policy, keys evicted so far. */
type Memory = Record<'used' | 'max' | 'evicted', number> & { policy: string };
const memoryOf = (i: Map<string, string>): Memory => ({ used: Number(i.get('used_memory') ?? 0), max: Number(i.get('maxmemory') ?? 0), policy: i.get('maxmemory_policy') ?? '?', evicted: Number(i.get('evicted_keys') ?? 0) });

const readMemory = async (c: RedisClient): Promise<Memory> => memoryOf(parseInfo(`${await c.info('memory')}\n${await c.info('stats')}`));

/** `prefix*` for MATCH, the prefix's glob characters escaped. */
export const matchOf = (prefix: string): string => `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;

/** A key's prefix: up to and including its last `:` (empty when it has none). */
export const prefixOf = (key: string): string => key.slice(0, key.lastIndexOf(':') + 1);

/** Bounded SCAN: at most `limit` keys, COUNT 500 per call; `each` sees every page. Whether it saw all. */
async function scan(c: RedisClient, match: string, limit: number, each: (keys: string[]) => Promise<void>): Promise<boolean> {
  let [cursor, n, cut] = ['0', 0, false];
  do {
    const [next, keys] = await c.scan(cursor, 'MATCH', match, 'COUNT', 500);
    cursor = next;
    const page = keys.slice(0, limit - n);
    cut = page.length < keys.length;
    n += page.length;
    if (page.length) await each(page);
  } while (cursor !== '0' && n < limit);
  return cursor === '0' && !cut;
}

/** MEMORY USAGE of each key, pipelined (0 for a key gone meanwhile). */
async function usages(c: RedisClient, keys: readonly string[]): Promise<number[]> {
  const p = c.pipeline();
  for (const k of keys) p.memory('USAGE', k);
  return ((await p.exec()) ?? []).map(([, v]) => Number(v ?? 0));
}

/** How many keys match (at most `limit`, by the bounded SCAN) and about how many bytes they hold: MEMORY USAGE of the first `sample`, the rest at their average. */
async function countKeys(c: RedisClient, match: string, limit: number, sample: number): Promise<{ keys: number; bytes: number; complete: boolean }> {
  let [keys, measured, bytes] = [0, 0, 0];
  const complete = await scan(c, match, limit, async (page) => {
    keys += page.length;
    if (measured >= sample) return;
    const u = await usages(c, page.slice(0, sample - measured));
    measured += u.length;
    bytes += u.reduce((a, b) => a + b, 0);
  });
  return { keys, bytes: measured ? Math.round((bytes / measured) * keys) : 0, complete };
}

/** Memory now (for settled and preview), or why it cannot be read ("Redis cache refused the connection"). */
const memoryNow = (r: RedisConfig): Promise<Memory | string> => withRedis(r, readMemory, lookDeadline(r)).catch((e: Error) => e.message);

const threshold = (x: X): number => configOf(x).thresholds.redis_memory;
const share = (m: Memory) => (m.max ? (m.used / m.max) * 100 : 0);
const usedText = (m: Memory) => `used ${formatBytes(m.used)} of ${m.max ? `max ${formatBytes(m.max)} (${formatPercent(share(m))})` : 'no maxmemory (0: no limit)'}`;

/** Whether memory is below the threshold share of maxmemory (always, when there is no maxmemory). */
const below = (m: Memory, pct: number) => !m.max || share(m) < pct;

/** A byte size: a number, or digits with b/kb/mb/gb (1024-based, as Redis reads `64mb`). */
export function parseBytes(v: string | number, step: string): number {
  if (typeof v === 'number' && v > 0) return Math.floor(v);
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(String(v));
  if (!m) throw new Failure('params', `step ${step}: parameter maxmemory must be bytes or a size such as "64mb" or "1gb", got ${JSON.stringify(v)}`);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.ceil(Number(m[1]) * unit);
}

/** The maxmemory to set: param `maxmemory`, else the larger of 2× now and used/0.7, rounded up to MiB. */
export function newMaxmemory(x: X, m: Memory): number {
  const p = x.step.params?.maxmemory;
  if (typeof p === 'string' || typeof p === 'number') return parseBytes(p, x.step.id);
  const MiB = 1024 * 1024;
  return Math.ceil(Math.max(2 * m.max, m.used / 0.7) / MiB) * MiB;
}

const policyParam = (x: X): string | undefined => (typeof x.step.params?.policy === 'string' && x.step.params.policy ? x.step.params.policy : undefined);

/** Runs an operator's shell text through /bin/sh (60 s at most). */
function sh(command: string, signal: AbortSignal): Promise<string> {
  return new Promise((res, rej) => {
    execFile('/bin/sh', ['-c', command], { timeout: 60_000, signal, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const tail = `${stdout}${stderr}`.trim().split('\n').slice(-2).join(' | ');
      if (!err) res(tail || 'exit 0');
      else rej(new Failure('exec', `${(err as { killed?: boolean }).killed ? 'timed out after 60 s' : `exit ${String(err.code)}`}${tail ? `: ${tail}` : ''}`));
    });
  });
}

const NO_WAY = 'no way to restart configured: set redis[].container or stop_command/start_command';

/** How `r` is restarted, for people. */
const restartWay = (r: RedisConfig): string => (r.container ? `container ${r.container}` : r.stop_command && r.start_command ? 'its stop_command, then its start_command' : NO_WAY);

const ping = (r: RedisConfig): Promise<number> => withRedis(r, async (c) => ((t0) => c.ping().then(() => performance.now() - t0))(performance.now()));

const status: Action<unknown, GenericDeps> = {
  dangerous: false,
  preview: (x) => `PING Redis ${redisOf(x).name} and say how it is restarted`,
  async execute(x) {
    const r = redisOf(x);
    const answer = await ping(r).then((ms) => ({ ok: true, text: `answers PING in ${ms.toFixed(1)} ms` }), (e: Error) => ({ ok: false, text: e.message }));
    remember(x, 'redis.reachable', answer.ok ? 1 : 0);
    let way = restartWay(r);
    if (r.container) {
      const info = await dockerFor(configOf(x).docker.host).inspect(r.container);
      way = info.ok ? `container ${r.container} (${info.value.state})` : `container ${r.container}: ${info.error.message}`;
    }
    return `Redis ${r.name}: ${answer.ok ? answer.text : `does not answer PING: ${answer.text}`}; if it needs a restart: ${way}`;
  },
};

const restart: Action<unknown, GenericDeps> = {
  dangerous: true,
  async settled(x) {
    const r = redisOf(x);
    const pong = await withRedis(r, (c) => c.ping(), lookDeadline(r)).then((p) => p === 'PONG', () => false);
    return pong ? `Redis ${r.name} answers PING: nothing to restart` : undefined;
  },
  preview(x) {
    const r = redisOf(x);
    const within = `then wait up to ${num(x, 'within_ms', 30_000) / 1000} s for it to answer PING`;
    if (r.container) return `restart container ${r.container} (Redis ${r.name}), ${within}`;
    // The operator's own shell text, shown as it runs (a URL's password in it redacted).
    if (r.stop_command && r.start_command) return `run in /bin/sh: ${displayUrl(r.stop_command)} (a failure is noted: it may be down already), then ${displayUrl(r.start_command)}, ${within}`;
    return `cannot restart Redis ${r.name}: ${NO_WAY}`;
  },
  async execute(x) {
    const r = redisOf(x);
    if (r.container) {
      const d = await dockerFor(configOf(x).docker.host).restart(r.container);
      if (!d.ok) throw new Failure('docker', `restart ${r.container} (Redis ${r.name}): ${d.error.message}`);
      return `container ${r.container} restarted`;
    }
    if (!r.stop_command || !r.start_command) throw new Failure('params', `Redis ${r.name}: ${NO_WAY}`);
    const stopped = await sh(r.stop_command, x.signal).then(() => 'stop_command ran', (e: Error) => `stop_command failed (${e.message}): taken as down already`);
    x.say(`Redis ${r.name}: ${stopped}`);
    await sh(r.start_command, x.signal).catch((e: Error) => Promise.reject(new Failure('exec', `Redis ${r.name}: start_command failed: ${e.message}`)));
    return `${stopped}; start_command ran`;
  },
  async verify(x, note) {
    const r = redisOf(x);
    const within = num(x, 'within_ms', 30_000);
    const until = Date.now() + within;
    for (;;) {
      const last = await ping(r).then((ms) => ({ ms }), (e: Error) => e.message);
      if (typeof last !== 'string') return `${note}; answers PING again (${last.ms.toFixed(1)} ms)`;
      if (Date.now() >= until || x.signal.aborted) throw new Failure('unhealthy', `${last} ${within / 1000} s after the restart`);
      await new Promise((res) => setTimeout(res, 250));
    }
  },
};

/** A positive number parameter, or its default. */
const num = (x: X, k: string, dflt: number): number => {
  const v = x.step.params?.[k];
  return typeof v === 'number' && v > 0 ? v : dflt;
};

const memory: Action<unknown, GenericDeps> = {
  dangerous: false,
  preview: (x) => `read Redis ${redisOf(x).name}'s memory (INFO memory, stats) and its biggest key prefixes (SCAN of at most ${num(x, 'scan_keys', 10_000)} keys)`,
  async execute(x) {
    const r = redisOf(x);
    const limit = num(x, 'scan_keys', 10_000);
    const { m, sizes, complete, seen } = await withRedis(r, async (c) => {
      const m = await readMemory(c);
      const sizes = new Map<string, { keys: number; sampled: number; bytes: number }>();
      let seen = 0;
      const complete = await scan(c, '*', limit, async (keys) => {
        const measured = seen < 2000 ? await usages(c, keys.slice(0, 2000 - seen)) : [];
        keys.forEach((k, i) => {
          const e = sizes.get(prefixOf(k)) ?? { keys: 0, sampled: 0, bytes: 0 };
          e.keys++;
          if (i < measured.length) Object.assign(e, { sampled: e.sampled + 1, bytes: e.bytes + (measured[i] ?? 0) });
          sizes.set(prefixOf(k), e);
        });
        seen += keys.length;
      });
      return { m, sizes, complete, seen };
    });
    // Keys not measured count at the average of the measured ones (their prefix's, else all keys').
    const all = [...sizes.values()].reduce((a, e) => ({ s: a.s + e.sampled, b: a.b + e.bytes }), { s: 0, b: 0 });
    const avg = all.s ? all.b / all.s : 0;
    const ranked = [...sizes].map(([prefix, e]) => ({ prefix, keys: e.keys, bytes: e.bytes + (e.keys - e.sampled) * (e.sampled ? e.bytes / e.sampled : avg) })).sort((a, b) => b.bytes - a.bytes);
    remember(x, 'redis.used_memory', m.used);
    remember(x, 'redis.maxmemory', m.max);
    const biggest = ranked.find((p) => p.prefix);
    if (biggest) remember(x, 'redis.biggest_prefix', biggest.prefix);
    const lines = ranked.slice(0, 5).map((p) => `  ${p.prefix ? `${p.prefix}*` : '(keys without a prefix)'}: ${p.keys} keys, ≈ ${formatBytes(p.bytes)}`);
    return [
      `Redis ${r.name}: ${usedText(m)}, policy ${m.policy}, ${m.evicted} keys evicted`,
      `biggest key prefixes (${seen} keys ${complete ? 'scanned' : `scanned, stopped at scan_keys ${limit}`}; MEMORY USAGE of ${Math.min(seen, 2000)}, the rest estimated):`,
      ...(lines.length ? lines : ['  no keys']),
    ].join('\n');
  },
};

const raise: Action<unknown, GenericDeps> = {
  dangerous: true,
  async settled(x) {
    const r = redisOf(x);
    const m = await memoryNow(r);
    if (typeof m === 'string') return undefined;
    if (!m.max) return `Redis ${r.name} has no maxmemory (0: no limit): nothing to raise`;
    return below(m, threshold(x)) ? `Redis ${r.name} ${usedText(m)}, below the ${threshold(x)}% threshold: nothing to raise` : undefined;
  },
  async preview(x) {
    const r = redisOf(x);
    const m = await memoryNow(r);
    if (typeof m === 'string') return `raise Redis ${r.name}'s maxmemory (it cannot be read now: ${m})`;
    const n = newMaxmemory(x, m);
    const policy = policyParam(x);
    return `on Redis ${r.name}: CONFIG SET maxmemory ${n} (${formatBytes(n)})${policy ? ` and CONFIG SET maxmemory-policy ${policy}` : ''}; now ${usedText(m)}, policy ${m.policy}; undone by setting them back`;
  },
  async execute(x) {
    const r = redisOf(x);
    const policy = policyParam(x);
    return withRedis(r, async (c) => {
      const m = await readMemory(c);
      // The old values are journaled before the change, once: a run killed after the change and run
      // again must not take the new value for the old one.
      const facts = factsOf(x);
      if (facts['redis.old_maxmemory'] === undefined) {
        remember(x, 'redis.old_maxmemory', m.max);
        remember(x, 'redis.old_policy', m.policy);
      }
      const n = newMaxmemory(x, m);
      if (n > m.max) await c.config('SET', 'maxmemory', String(n));
      if (policy) await c.config('SET', 'maxmemory-policy', policy);
      return `Redis ${r.name}: maxmemory ${formatBytes(m.max)} → ${formatBytes(Math.max(n, m.max))}${policy ? `, policy ${m.policy} → ${policy}` : ''}`;
    });
  },
  async verify(x, note) {
    const r = redisOf(x);
    const m = await withRedis(r, readMemory);
    if (!below(m, threshold(x))) throw new Failure('check', `Redis ${r.name} still ${usedText(m)}, at or above the ${threshold(x)}% threshold`);
    return `${note}; now ${usedText(m)}`;
  },
  async undo(x) {
    const r = redisOf(x);
    const facts = factsOf(x);
    const old = facts['redis.old_maxmemory'];
    if (old === undefined) return undefined;
    const policy = facts['redis.old_policy'];
    await withRedis(r, async (c) => {
      await c.config('SET', 'maxmemory', String(old));
      if (typeof policy === 'string' && policy !== '?') await c.config('SET', 'maxmemory-policy', policy);
    });
    return `Redis ${r.name}: maxmemory set back to ${formatBytes(Number(old))}${typeof policy === 'string' ? `, policy ${policy}` : ''}`;
  },
};

/** The prefix to flush: param `prefix`, else what redis.memory found biggest. */
const flushPrefixOf = (x: X): string | undefined => [x.step.params?.prefix, factsOf(x)['redis.biggest_prefix']].find((v): v is string => typeof v === 'string' && v !== '');

const flush: Action<unknown, GenericDeps> = {
  dangerous: true,
  // Issue #20: deleting keys loses data that cannot be had back; no policy (--yes, self-healing)
  // may answer it. Under a policy the step is skipped when skippable (redis-recovery's is), else the run stops.
  personOnly: () => 'deleting keys cannot be undone: only a person decides (never --yes or self-healing)',
  async settled(x) {
    const r = redisOf(x);
    if (flushPrefixOf(x) === undefined) return `no key prefix known (param prefix, or a redis.memory step before): nothing to flush`;
    const m = await memoryNow(r);
    if (typeof m === 'string') return undefined;
    return below(m, threshold(x)) ? `Redis ${r.name} ${usedText(m)}, below the ${threshold(x)}% threshold: nothing to free` : undefined;
  },
  async preview(x) {
    const r = redisOf(x);
    const prefix = flushPrefixOf(x) ?? '';
    const limit = num(x, 'scan_keys', 10_000);
    // The SCAN is bounded by scan_keys, the whole count by a deadline (5 s more than a look, for the SCAN's pages).
    const found = await withRedis(r, (c) => countKeys(c, matchOf(prefix), limit, 2000), lookDeadline(r) + 5_000).catch((e: Error) => e.message);
    const count = typeof found === 'string' ? `the keys (not counted: ${found})` : `${found.keys}${found.complete ? '' : '+'} keys (≈ ${formatBytes(found.bytes)}${found.complete ? '' : ` in the first ${limit}`})`;
    return `on Redis ${r.name}: delete ${count} matching ${prefix}*, found by SCAN, UNLINKed in batches of 500; this cannot be undone`;
  },
  async execute(x) {
    const r = redisOf(x);
    const prefix = flushPrefixOf(x);
    if (!prefix) throw new Failure('params', `step ${x.step.id}: parameter prefix is missing and no redis.memory step found one`);
    let n = 0;
    await withRedis(r, async (c) => {
      // Deleting while scanning is safe: SCAN returns every key present throughout; a run again finds the rest.
      await scan(c, matchOf(prefix), Number.MAX_SAFE_INTEGER, async (keys) => {
        for (let i = 0; i < keys.length; i += 500) n += await c.unlink(...keys.slice(i, i + 500));
        x.say(`Redis ${r.name}: ${n} keys matching ${prefix}* deleted so far`);
      });
    });
    return `Redis ${r.name}: ${n} keys matching ${prefix}* deleted`;
  },
};

/** The Redis actions by id. */
export const REDIS_ACTIONS: Record<RedisActionId, Action<unknown, GenericDeps>> = {
  'redis.status': status,
  'redis.restart': restart,
  'redis.memory': memory,
  'redis.raise-maxmemory': raise,
  'redis.flush-prefix': flush,
};
