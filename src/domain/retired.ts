// Checks a configuration change removed (an operator's trial of issue #25: an endpoint deleted from
// the file while its alert fired kept firing — the console's row froze, the header stayed CRITICAL,
// the Alertmanager channel re-sent it — until the endpoint came back). Only ids that belong to a
// configured item (an endpoint, a Redis, a database, a service, a probe, a host, a channel, a
// failover pair) that the new configuration no longer has are retired: a check of a source that
// reports now and then is never guessed gone.

import type { Config } from '../config/schema.js';

/** The id prefixes of a configuration's items: `http:api`, `redis:cache`, `container:web`, `container:*@db1`, … */
export function itemPrefixes(c: Config): Set<string> {
  const out = new Set<string>();
  for (const e of c.endpoints) out.add(`http:${e.name}`);
  for (const r of c.redis) out.add(`redis:${r.name}`).add(`capacity:redis:${r.name}`);
  for (const d of c.databases) out.add(`sqlite:${d.name}`).add(`backup:${d.name}`);
  for (const s of c.services) out.add(`container:${s.name}`).add(`heal:${s.name}`);
  for (const p of c.probes) out.add(`probe:${p.name}`);
  for (const h of c.hosts) out.add(`docker:engine@${h.name}`).add(`@${h.name}`);
  for (const ch of c.notify.channels) out.add(`notify:${ch.name}`);
  for (const p of c.failover.pairs) out.add(`failover:${p.name}`);
  return out;
}

/** The item prefix an id belongs to, if any (`sqlite:trading:rows` → `sqlite:trading`, `container:x@db1` → `@db1`). */
function owner(id: string, prefixes: ReadonlySet<string>): string | undefined {
  const at = id.lastIndexOf('@');
  if (at > 0 && prefixes.has(id.slice(at))) return id.slice(at);
  for (let end = id.length; end > 0; end = id.lastIndexOf(':', end - 1)) {
    const p = id.slice(0, end);
    if (prefixes.has(p)) return p;
    if (end <= 0) break;
  }
  return undefined;
}

/** Of `ids`, those that belonged to an item of `before` that `after` no longer has. */
export function retiredChecks(before: Config, after: Config, ids: Iterable<string>): string[] {
  const was = itemPrefixes(before);
  const now = itemPrefixes(after);
  return [...ids].filter((id) => {
    const o = owner(id, was);
    return o !== undefined && owner(id, now) === undefined;
  });
}
