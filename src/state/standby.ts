// Which services are the standby side of a failover pair right now (issue #21), in this process:
// written by the failover manager's pair sources (src/state/failover.ts) from failover_state, read
// by the Docker source (src/state/sources.ts) so a stopped standby's container check is OK, not an
// alert every interval. Empty in a process with no failover manager (`opsdeck check`).

const byPair = new Map<string, string>();

/** Records the standby service of a pair. */
export function setStandby(pair: string, service: string): void {
  byPair.set(pair, service);
}

/** The standby services of every pair. */
export function standbyServices(): ReadonlySet<string> {
  return new Set(byPair.values());
}
