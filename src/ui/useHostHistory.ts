import { Ring } from '../state/history.js';
import type { AppStore } from '../state/store.js';

/** Ring buffers of the last hour of host figures, fed by the store (outside React). */
export interface HostHistory {
  cpu: Ring;
  mem: Ring;
  net: Ring;
  disk(mount: string): Ring;
}

/** What the history starts from: each disk's last values by mount, and the CPU's and memory's (%). */
export interface HistorySeed {
  disks: ReadonlyMap<string, readonly number[]>;
  cpu?: readonly number[];
  mem?: readonly number[];
}

/** Subscribes to the store and records each new host sample (after `seed`: disk mount → its last values, or a HistorySeed); returns the history and an unsubscribe. */
export function createHostHistory(store: AppStore, refreshMs: number, seed: ReadonlyMap<string, readonly number[]> | HistorySeed = new Map()): { history: HostHistory; stop: () => void } {
  const cap = Math.max(60, Math.ceil(3_600_000 / Math.max(250, refreshMs)));
  const ring = (values: readonly number[] = []) => {
    const r = new Ring(cap);
    for (const v of values) r.push(v);
    return r;
  };
  const s: HistorySeed = seed instanceof Map ? { disks: seed } : (seed as HistorySeed);
  // Issue #23: the last hour read back from the capacity samples (disks, CPU, memory), so a restart keeps it.
  const disks = new Map<string, Ring>([...s.disks].map(([mount, values]) => [mount, ring(values)]));
  const history: HostHistory = {
    cpu: ring(s.cpu),
    mem: ring(s.mem),
    net: new Ring(cap),
    disk: (m) => {
      let r = disks.get(m);
      if (!r) disks.set(m, (r = new Ring(cap)));
      return r;
    },
  };
  let last = 0;
  const stop = store.subscribe((s) => {
    const h = s.host.data;
    if (!h || h.takenAt === last) return;
    last = h.takenAt;
    if (h.cpuPercent !== undefined) history.cpu.push(h.cpuPercent);
    history.mem.push(h.memory.percent);
    history.net.push((h.network.rxBytesPerSec ?? 0) + (h.network.txBytesPerSec ?? 0));
    for (const f of h.filesystems) history.disk(f.mount).push(f.percent);
  });
  return { history, stop };
}
