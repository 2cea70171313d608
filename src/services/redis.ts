import type { Redis as RedisClient } from 'ioredis';
import { displayUrl } from '../config/secrets.js';
import { fail, ok, type Result } from '../domain/result.js';
import { withTimeout } from './util.js';
import type { RedisHealth } from '../domain/observations.js';

// Its observation types live in the domain (issue #15); re-exported for the callers of this service.
export type { RedisHealth };

/** Parses the text of INFO into key → value. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

const num = (v: string | undefined): number | undefined => {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

/** Narrows INFO fields into RedisHealth (fields vary by version: every one is optional). */
export function healthFromInfo(info: Map<string, string>, latencyMs: number, prevEvicted?: number): RedisHealth {
  const used = num(info.get('used_memory')) ?? 0;
  const max = num(info.get('maxmemory')) || undefined;
  const hits = num(info.get('keyspace_hits')) ?? 0;
  const misses = num(info.get('keyspace_misses')) ?? 0;
  const evicted = num(info.get('evicted_keys')) ?? 0;
  const opt = <K extends keyof RedisHealth>(k: K, v: RedisHealth[K] | undefined): Partial<RedisHealth> =>
    v === undefined ? {} : ({ [k]: v });
  return {
    latencyMs,
    usedMemoryBytes: used,
    evictedKeys: evicted,
    loading: info.get('loading') === '1',
    aofEnabled: info.get('aof_enabled') === '1',
    ...opt('version', info.get('redis_version')),
    ...opt('role', info.get('role')),
    ...opt('maxMemoryBytes', max),
    ...opt('memoryPercent', max ? (used / max) * 100 : undefined),
    ...opt('maxMemoryPolicy', info.get('maxmemory_policy')),
    ...opt('fragmentationRatio', num(info.get('mem_fragmentation_ratio'))),
    ...opt('evictedDelta', prevEvicted !== undefined ? Math.max(0, evicted - prevEvicted) : undefined),
    ...opt('hitRatio', hits + misses > 0 ? hits / (hits + misses) : undefined),
    ...opt('connectedClients', num(info.get('connected_clients'))),
    ...opt('blockedClients', num(info.get('blocked_clients'))),
    ...opt('rejectedConnections', num(info.get('rejected_connections'))),
    ...opt('rdbLastBgsaveStatus', info.get('rdb_last_bgsave_status')),
    ...opt('rdbChangesSinceLastSave', num(info.get('rdb_changes_since_last_save'))),
    ...opt('aofLastWriteStatus', info.get('aof_last_write_status')),
    ...opt('masterLinkStatus', info.get('master_link_status')),
  };
}

/**
 * A dedicated Redis probe client that fails fast: no offline queue, one retry, short connect and
 * command timeouts, an `error` listener attached before connecting (ioredis prints unhandled error
 * events with console.error, which would corrupt the console's frame — docs/FACTS.md §3).
 */
export class RedisProbe {
  private client: RedisClient | undefined;
  private prevEvicted?: number;
  private lastError: Error | undefined;
  /** The URL with its password removed, for messages. */
  readonly target: string;

  constructor(
    private readonly url: string,
    private readonly timeoutMs = 2_000,
  ) {
    this.target = displayUrl(url);
  }

  private async connect(): Promise<RedisClient> {
    if (this.client && this.client.status === 'ready') return this.client;
    this.client?.disconnect();
    const { Redis } = await import('ioredis');
    const client = new Redis(this.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.timeoutMs,
      commandTimeout: this.timeoutMs,
      // The probe reconnects on its own schedule (the next probe), never in the background.
      retryStrategy: () => null,
      enableReadyCheck: true,
    });
    client.on('error', (e: Error) => {
      this.lastError = e;
    });
    this.client = client;
    await client.connect();
    return client;
  }

  /** PING + INFO; never throws, never waits longer than about twice the timeout. */
  async probe(): Promise<Result<RedisHealth>> {
    this.lastError = undefined;
    try {
      return await withTimeout(this.timeoutMs * 2 + 500, async () => {
        const client = await this.connect();
        const t0 = performance.now();
        await client.ping();
        const latencyMs = performance.now() - t0;
        const info = parseInfo(await client.info());
        const health = healthFromInfo(info, latencyMs, this.prevEvicted);
        this.prevEvicted = health.evictedKeys;
        return ok(health);
      });
    } catch (e) {
      this.client?.disconnect();
      this.client = undefined;
      // "Connection is closed" hides the cause; the error event carries it (ECONNREFUSED, auth…).
      const cause = this.lastError && /Connection is closed/.test((e as Error)?.message ?? '') ? this.lastError : e;
      return fail(...redisError(cause, this.target));
    }
  }

  /** Closes the connection. */
  close(): void {
    this.client?.disconnect();
    this.client = undefined;
  }
}

function redisError(e: unknown, target: string): ['unavailable' | 'timeout' | 'auth' | 'unknown', string, string] {
  const err = e as NodeJS.ErrnoException;
  const msg = err?.message ?? String(e);
  if (err?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(msg))
    return ['unavailable', 'redis', `Redis at ${target} refused the connection (is redis-server running?)`];
  if (err?.name === 'TimeoutError' || /timed? ?out|ETIMEDOUT/i.test(msg))
    return ['timeout', 'redis', `Redis at ${target} did not answer in time`];
  if (/NOAUTH|WRONGPASS|invalid password|AUTH/i.test(msg))
    return ['auth', 'redis', `Redis at ${target} rejected the credentials (check the password in the URL)`];
  if (/ENOTFOUND|EAI_AGAIN/.test(msg)) return ['unavailable', 'redis', `Redis host of ${target} cannot be resolved`];
  return ['unknown', 'redis', `Redis at ${target}: ${msg}`];
}
