import { ConfigError } from '../domain/errors.js';
import { loadConfig, type LoadedConfig } from './load.js';
import type { Config } from './schema.js';

/**
 * What a configuration asks to be checked besides the local host (which is always checked):
 * services, databases, Redis instances, endpoints, and every container of the engine.
 */
export function declaredChecks(c: Config): string[] {
  return [
    ...c.services.map((s) => `services.${s.name}`),
    ...c.databases.map((d) => `databases.${d.name}`),
    ...c.redis.map((r) => `redis.${r.name}`),
    ...c.endpoints.map((e) => `endpoints.${e.name}`),
    ...(c.docker.all_containers ? ['docker.all_containers'] : []),
  ];
}

/**
 * Loads the edited configuration for a running `watch` or console. Besides every error a start
 * would refuse, an edit that would drop every declared check is refused (issue #13: a config file
 * truncated while the console ran was "reloaded" and every check silently stopped): the running
 * configuration stays, as for any broken edit. To stop monitoring, stop opsdeck.
 */
export function reloadConfig(file: string, running: Config, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const next = loadConfig({ file, env });
  const before = declaredChecks(running);
  if (before.length > 0 && declaredChecks(next.config).length === 0) {
    throw new ConfigError(`${file}: the edit would remove every check (${before.length} running: ${before.slice(0, 4).join(', ')}${before.length > 4 ? ', …' : ''}); a half-written or truncated file is not taken`);
  }
  return next;
}
