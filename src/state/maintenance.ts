// The monitor sources of issue #23 in one place, so `watch` and the console each add them with one
// line: capacity (samples under the `capacity-sampler` lease, "projected full" checks) and the
// business/application probes, and the hardware signs (read-only mounts, kernel I/O errors).

import type BetterSqlite3 from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import type { LeaseOwnerKind } from '../domain/lease.js';
import { capacitySource, type CapacityEvent } from './capacity.js';
import { hardwareSources } from './hardware.js';
import { probeSources } from './probes.js';
import type { Source } from './sources.js';
import { stateDir } from './statedb.js';

/** What the maintenance sources report, for `watch`'s lines. */
export type MaintenanceEvent = CapacityEvent;

/** The maintenance sources of one monitor. */
export function maintenanceSources(o: { config: Config; stateDb: BetterSqlite3.Database; owner: LeaseOwnerKind; readOnly: boolean; onEvent?: (e: MaintenanceEvent) => void }): Source[] {
  return [
    capacitySource({ config: o.config, stateDb: o.stateDb, stateDir: stateDir(o.config.state_dir), owner: o.owner, readOnly: o.readOnly, ...(o.onEvent ? { onEvent: o.onEvent } : {}) }),
    ...probeSources({ config: o.config, stateDb: o.stateDb, readOnly: o.readOnly }),
    ...hardwareSources(o.config),
  ];
}
