import { loadConfig } from '../config/load.js';
import { exitCodeFor, worstStatus } from '../domain/check.js';
import { probeCheck, probeNumber } from '../domain/probe.js';
import { readProbe } from '../services/probe.js';
import { probeTarget, ProbeValues } from '../state/probes.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { sparkline } from '../ui/format/cells.js';
import { out, outJson, useSecrets, type GlobalOptions } from './output.js';

/**
 * `opsdeck probes [--json]` (issue #23): reads every configured probe now and shows its value, its
 * status against its thresholds and a sparkline of the values the monitor recorded. Exit as `check`:
 * 0 OK, 1 WARNING, 2 CRITICAL.
 */
export async function probesCommand(g: GlobalOptions): Promise<number> {
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const { config } = loaded;
  const db = await openStateDb(stateDir(config.state_dir));
  try {
    const values = new ProbeValues(db);
    const rows = [];
    for (const p of config.probes) {
      const check = probeCheck(p, probeTarget(p), await readProbe(config, p));
      rows.push({ probe: p, check, history: values.last(p.name, 30) });
    }
    const code = exitCodeFor(worstStatus(rows.map((r) => r.check.status)));
    if (g.json) {
      outJson({ probes: rows.map((r) => ({ name: r.probe.name, target: r.check.target, status: r.check.status, ...(typeof r.check.value === 'number' ? { value: r.check.value } : {}), unit: r.probe.unit, message: r.check.message, history: r.history })) });
      return code;
    }
    if (!rows.length) out('probes: none configured (see README "Business and application probes")');
    for (const r of rows) {
      const v = typeof r.check.value === 'number' ? `${probeNumber(r.check.value)}${r.probe.unit}` : '—';
      out(`${r.probe.name.padEnd(20)} ${r.check.status.toUpperCase().padEnd(8)} ${v.padStart(12)}  ${sparkline([...r.history], 30)}  ${r.check.status === 'ok' ? r.check.target : r.check.message}`);
    }
    return code;
  } finally {
    db.close();
  }
}
