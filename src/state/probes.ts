// Business and application probes in the monitor (issue #23): one source per `probes:` entry, on its
// own interval, each reading a check `probe:<name>` and recording its value in the state database
// (`probe_values`, pruned after capacity.keep) for the sparklines of `opsdeck probes` and the console.

import type BetterSqlite3 from 'better-sqlite3';
import { displayUrl } from '../config/secrets.js';
import type { ProbeConfig } from '../config/schema-probes.js';
import type { Config } from '../config/schema.js';
import { probeCheck } from '../domain/probe.js';
import { readProbe } from '../services/probe.js';
import type { Source } from './sources.js';

/** Where a probe reads from, for people (credentials removed). */
export function probeTarget(p: ProbeConfig): string {
  return p.sql ? `${p.database ?? ''}: ${p.sql.length > 60 ? `${p.sql.slice(0, 59)}…` : p.sql}` : `${displayUrl(p.url ?? '')} ${p.json_path ?? ''}`;
}

/** Stored probe values. */
export class ProbeValues {
  constructor(private readonly db: BetterSqlite3.Database) {}

  add(name: string, at: number, value: number): void {
    this.db.prepare('INSERT OR REPLACE INTO probe_values (name, at, value) VALUES (?, ?, ?)').run(name, at, value);
  }

  prune(before: number): void {
    this.db.prepare('DELETE FROM probe_values WHERE at < ?').run(before);
  }

  /** The newest `n` values of a probe, oldest first. */
  last(name: string, n: number): number[] {
    const rows = this.db.prepare('SELECT value FROM probe_values WHERE name = ? ORDER BY at DESC LIMIT ?').all(name, n) as { value: number }[];
    return rows.map((r) => r.value).reverse();
  }
}

/** The sources of the configured probes; values are recorded (given a state database) unless `readOnly`. */
export function probeSources(o: { config: Config; stateDb?: BetterSqlite3.Database; readOnly: boolean; now?: () => number }): Source[] {
  const now = o.now ?? Date.now;
  const values = o.stateDb ? new ProbeValues(o.stateDb) : undefined;
  let runs = 0;
  return o.config.probes.map((p) => {
    const every = p.interval ?? o.config.interval;
    return {
      id: `probe:${p.name}`,
      refreshMs: every,
      checkMs: every,
      run: async () => {
        const r = await readProbe(o.config, p);
        if (r.ok && values && !o.readOnly) {
          try {
            const at = now();
            values.add(p.name, at, r.value);
            if (runs++ % 100 === 0) values.prune(at - o.config.capacity.keep);
          } catch {
            // a busy or unwritable state database costs a sparkline point, never the check
          }
        }
        return [probeCheck(p, probeTarget(p), r)];
      },
    };
  });
}
