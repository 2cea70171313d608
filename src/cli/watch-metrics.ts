import type BetterSqlite3 from 'better-sqlite3';
import type { LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { formatListenAddr, parseListenAddr, type ListenAddr } from '../config/schema-metrics.js';
import { ConfigError, UsageError } from '../domain/errors.js';
import type { EventBus } from '../engine/events.js';
import { serveMetrics } from '../services/metrics-server.js';
import { createMetrics } from '../state/metrics.js';
import type { AppStore } from '../state/store.js';
import { out, outJsonLine, type GlobalOptions } from './output.js';

/** The running endpoint, as `watch` holds it. */
export interface WatchMetrics {
  /** A reload that moves `metrics.addr` says it applies at the next start. */
  reloaded(next: Config): void;
  stop(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

/**
 * `watch --metrics-addr HOST:PORT` or `metrics.addr` (the flag wins; neither: no endpoint). A bad or
 * busy address ends `watch` with one line: a usage error (64) for the flag, a configuration error
 * (78) naming the file and field for the configuration.
 */
export async function startMetrics(
  g: GlobalOptions,
  o: { flag: string | undefined; loaded: LoadedConfig; store: AppStore; bus: EventBus; db: BetterSqlite3.Database; config: () => Config },
): Promise<WatchMetrics | undefined> {
  const fromConfig = o.loaded.config.metrics.addr;
  const text = o.flag ?? fromConfig;
  if (text === undefined) return undefined;
  const where = o.flag !== undefined ? '--metrics-addr' : `${o.loaded.file ?? 'configuration'}: metrics.addr`;
  const problem = (message: string) => (o.flag !== undefined ? new UsageError(`${where}: ${message}`) : new ConfigError(`${where}: ${message}`));
  const addr: ListenAddr | string = parseListenAddr(text);
  if (typeof addr === 'string') {
    o.db.close();
    throw problem(addr);
  }
  const exporter = createMetrics({ store: o.store, config: o.config, stateDb: o.db, bus: o.bus });
  const served = await serveMetrics(addr, () => exporter.render());
  if (!served.ok) {
    exporter.off();
    o.db.close();
    throw problem(served.error.message);
  }
  const bound = formatListenAddr(served.value.address);
  const url = `http://${bound}/metrics`;
  const open = !LOOPBACK.test(addr.host);
  if (g.json) outJsonLine({ at: new Date().toISOString(), event: 'metrics', url, ...(open ? { warning: 'no authentication: reachable beyond this machine' } : {}) });
  else out(`serving Prometheus metrics at ${url}${open ? ' (no authentication: anyone who reaches this address reads them; keep it on loopback or behind a proxy)' : ''}`);
  let configured = fromConfig;
  return {
    reloaded(next) {
      if (o.flag !== undefined || next.metrics.addr === configured) return;
      configured = next.metrics.addr;
      const say = `metrics.addr changed in the configuration: the endpoint stays at ${url} until watch restarts`;
      if (g.json) outJsonLine({ at: new Date().toISOString(), event: 'metrics-unchanged', url, message: say });
      else out(say);
    },
    async stop() {
      exporter.off();
      await served.value.close();
    },
  };
}
