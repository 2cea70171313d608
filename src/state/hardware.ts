// Hardware signs as checks (issue #23): `hardware:readonly:<mount>` is CRITICAL when a watched file
// system (the databases', the backups', the state folder's, `capacity.paths`) is mounted read-only;
// `hardware:kernel-log` is CRITICAL when the kernel logged I/O errors in the last 24 h, and says
// "not readable" (OK, not an error) when this user may not read /dev/kmsg.

import type { Config } from '../config/schema.js';
import type { CheckResult } from '../domain/check.js';
import { watchedPaths } from '../services/capacity.js';
import { kernelIoErrors, mountEntryOf, readMounts } from '../services/hardware.js';
import type { Source } from './sources.js';
import { stateDir } from './statedb.js';

const DAY = 86_400_000;

/** The read-only checks of the watched file systems, one per mount. */
export function readOnlyChecks(config: Config, mountsText?: string): CheckResult[] {
  const mounts = readMounts(mountsText);
  const seen = new Set<string>();
  const out: CheckResult[] = [];
  for (const p of watchedPaths(config, stateDir(config.state_dir))) {
    const m = mountEntryOf(p, mounts);
    if (!m || seen.has(m.mount)) continue;
    seen.add(m.mount);
    out.push(
      m.readOnly
        ? { id: `hardware:readonly:${m.mount}`, kind: 'hardware', target: m.mount, status: 'critical', critical: true, value: 'ro', message: `${m.mount} (${m.type} on ${m.device}) is mounted read-only: nothing can be written there (after disk errors the kernel remounts read-only; see the kernel log)` }
        : { id: `hardware:readonly:${m.mount}`, kind: 'hardware', target: m.mount, status: 'ok', value: 'rw', message: `${m.mount} is writable` },
    );
  }
  return out;
}

/** The kernel-log check: I/O errors in the last 24 h. */
export function kernelLogCheck(now = Date.now()): CheckResult {
  const base = { id: 'hardware:kernel-log', kind: 'hardware' as const, target: 'kernel log' };
  const r = kernelIoErrors(now - DAY, now);
  if (!r.readable) return { ...base, status: 'ok', message: `kernel log not readable (${r.why}): I/O errors cannot be looked for`, missing: { ioErrors: r.why } };
  if (!r.lines.length) return { ...base, status: 'ok', value: 0, message: 'no I/O errors in the kernel log in the last 24 h' };
  return { ...base, status: 'critical', critical: true, value: r.lines.length, message: `${r.lines.length} I/O error lines in the kernel log in the last 24 h, the last: ${r.lines[r.lines.length - 1] ?? ''}` };
}

/** The hardware sources: read-only mounts every interval, the kernel log at most once a minute. */
export function hardwareSources(config: Config): Source[] {
  return [
    { id: 'hardware:mounts', refreshMs: config.interval, checkMs: config.interval, run: () => Promise.resolve(readOnlyChecks(config)) },
    { id: 'hardware:kernel-log', refreshMs: Math.max(config.interval, 60_000), checkMs: Math.max(config.interval, 60_000), run: () => Promise.resolve([kernelLogCheck()]) },
  ];
}
