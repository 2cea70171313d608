import { loadConfig } from '../config/load.js';
import { capacityCheck, signedBytes } from '../domain/capacity.js';
import { formatBytes } from '../domain/format.js';
import { sampleCapacity } from '../services/capacity.js';
import { CapacityStore, projections } from '../state/capacity.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { err, out, outJson, useSecrets, type GlobalOptions } from './output.js';

/** Options of `opsdeck capacity`. */
export interface CapacityOptions extends GlobalOptions {
  sample?: boolean;
}

const DAY = 86_400_000;

/**
 * `opsdeck capacity [--sample] [--json]` (issue #23): per database, disk and Redis, the newest
 * sample, the growth per day and, for a disk or Redis, "full in N days" by a Theil–Sen fit of the
 * samples of `capacity.window`. `--sample` first takes and records one sample (as the
 * `capacity-sampler` lease holder does every `capacity.sample_every`). Exit 0, or 1 when a subject is
 * projected full within `capacity.horizon`.
 */
export async function capacityCommand(g: CapacityOptions): Promise<number> {
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const { config } = loaded;
  const dir = stateDir(config.state_dir);
  const db = await openStateDb(dir);
  try {
    const now = Date.now();
    let errors: { subject: string; message: string }[] = [];
    if (g.sample) {
      const s = await sampleCapacity(config, dir);
      new CapacityStore(db).add(s.samples, now);
      errors = s.errors;
    }
    const rows = [...projections(db, config, now)].map(([subject, p]) => {
      const limited = !subject.startsWith('db:');
      const check = limited ? capacityCheck(subject, subject.slice(subject.indexOf(':') + 1), p, config.capacity.horizon, now) : undefined;
      return { subject, ...p, ...(p.fullAt !== undefined ? { fullAt: new Date(p.fullAt).toISOString() } : {}), ...(check ? { status: check.status, message: check.message } : {}) };
    });
    const warn = rows.some((r) => r.status === 'warning');
    if (g.json) {
      outJson({ at: new Date(now).toISOString(), horizonDays: config.capacity.horizon / DAY, windowDays: config.capacity.window / DAY, subjects: rows, ...(errors.length ? { errors } : {}) });
      return warn ? 1 : 0;
    }
    for (const e of errors) err(`opsdeck: capacity: ${e.subject} not sampled: ${e.message}`);
    if (!rows.length) {
      out('capacity: no samples yet (watch or the console samples every capacity.sample_every; opsdeck capacity --sample takes one now)');
      return 0;
    }
    out(`${'subject'.padEnd(28)} ${'used'.padStart(10)} ${'of'.padStart(10)} ${'per day'.padStart(12)}  projection`);
    for (const r of rows) {
      const growth = r.growthPerDay === undefined ? `(${r.samples} samples)` : signedBytes(r.growthPerDay);
      const projection = r.subject.startsWith('db:')
        ? ''
        : r.growthPerDay === undefined
          ? `needs ${config.capacity.min_samples} samples`
          : r.daysLeft === undefined
            ? 'not growing'
            : `full in ${r.daysLeft < 1 ? 'under a day' : `${Math.floor(r.daysLeft)} days`} (${String(r.fullAt ?? '').slice(0, 10)})${r.status === 'warning' ? ' WARNING' : ''}`;
      out(`${r.subject.padEnd(28)} ${formatBytes(r.used ?? 0).padStart(10)} ${(r.total !== undefined ? formatBytes(r.total) : '-').padStart(10)} ${growth.padStart(12)}  ${projection}`);
    }
    return warn ? 1 : 0;
  } finally {
    db.close();
  }
}
