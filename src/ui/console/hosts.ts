import type { ContainerInfo } from '../../domain/observations.js';
import type { HostGauges } from '../../domain/observations.js';
import type { DockerData, Envelope } from '../../state/store.js';
import type { Config } from '../../config/schema.js';
import type { AppState } from '../../state/store.js';
import { containerRows } from '../format/cells.js';
import type { LogTarget } from '../LogsView.js';
import type { ConsoleState, ConsoleWorld } from './reducer.js';

// Several Docker engines in one console (issue #25, part C): the containers pane's groups, one per
// engine (the local one first, then the configured hosts in the file's order), and the host filter
// `h` cycles through (all → local → db1 → … → all). Pure: App hands in the store's slices.

/** The host filter's name for the console's own engine (config `docker:`). */
export const LOCAL = 'local';

/** One engine's containers as the pane draws them. */
export interface ContainerGroup {
  /** `local`, or a configured host's name. */
  host: string;
  remote: boolean;
  envelope: Envelope<DockerData>;
  /** Configured hosts: its `metrics:` gauges, or undefined when none is configured. */
  gauges?: Envelope<HostGauges> | undefined;
  /** Whether the host has a `metrics:` URL. */
  metrics: boolean;
}

/** What the grouping needs of the configuration. */
export interface HostsLayout {
  /** The local engine is configured (services on it, or all_containers). */
  local: boolean;
  hosts: readonly { name: string; metrics?: string | undefined }[];
}

/** The filter's choices in `h` order: local (when configured), then each host. */
export function hostChoices(layout: HostsLayout): string[] {
  return [...(layout.local ? [LOCAL] : []), ...layout.hosts.map((h) => h.name)];
}

/** The next filter after `current` (undefined = all): all → local → db1 → … → all. */
export function nextHostFilter(current: string | undefined, choices: readonly string[]): string | undefined {
  if (choices.length === 0) return undefined;
  if (current === undefined) return choices[0];
  const i = choices.indexOf(current);
  return i < 0 || i === choices.length - 1 ? undefined : choices[i + 1];
}

/** The groups the pane draws under a filter (undefined = all). */
export function containerGroups(
  s: { docker: Envelope<DockerData>; hosts: Record<string, Envelope<DockerData>>; hostGauges: Record<string, Envelope<HostGauges>> },
  layout: HostsLayout,
  filter: string | undefined,
): ContainerGroup[] {
  const out: ContainerGroup[] = [];
  if (layout.local && (filter === undefined || filter === LOCAL)) out.push({ host: LOCAL, remote: false, envelope: s.docker, metrics: false });
  for (const h of layout.hosts) {
    if (filter !== undefined && filter !== h.name) continue;
    out.push({ host: h.name, remote: true, envelope: s.hosts[h.name] ?? { status: 'loading' }, gauges: s.hostGauges[h.name], metrics: !!h.metrics });
  }
  return out;
}

/** The containers of the groups in the pane's order (each group problems first), a remote one tagged with its host. */
export function groupedContainers(groups: readonly ContainerGroup[], now: number): ContainerInfo[] {
  return groups.flatMap((g) => {
    const d = g.envelope.data;
    if (!d) return [];
    const byId = new Map(d.containers.map((c) => [c.id, c]));
    return containerRows(d.containers, d.stats, now).flatMap((r) => {
      const c = byId.get(r.id);
      return c ? [g.remote ? { ...c, host: g.host } : c] : [];
    });
  });
}

/** How a container is followed by the selection: its name, with `@host` on a remote engine (names repeat across hosts). */
export function containerKey(c: { name: string; host?: string | undefined }): string {
  return c.host === undefined ? c.name : `${c.name}@${c.host}`;
}

/** containerKey of a container that may be missing. */
export function containerKeyOf(c: { name: string; host?: string | undefined } | undefined): string | undefined {
  return c ? containerKey(c) : undefined;
}

/** A container's log: on a remote host its name says `@host`, and the follow goes to that host's engine. */
export function containerLogTarget(c: ContainerInfo): LogTarget {
  return c.host === undefined ? { kind: 'container', id: c.id, name: c.name } : { kind: 'container', id: c.id, name: containerKey(c), host: c.host };
}

/** `h`: the next filter and what the status line says, or why there is none (no `hosts:`). */
export function hostFilterStep(current: string | undefined, choices: readonly string[]): { ok: true; filter: string | undefined; text: string } | { ok: false; text: string } {
  if (choices.length === 0) return { ok: false, text: 'no other hosts: the config has no `hosts:`' };
  const filter = nextHostFilter(current, choices);
  return { ok: true, filter, text: `containers of ${filter === undefined ? 'every host' : `host ${filter}`}` };
}

/** Which engines the containers pane groups: the local one when it has work (services not on a host, or all_containers), then each host. */
export function hostsLayout(config: Pick<Config, 'hosts' | 'services' | 'docker'>): HostsLayout {
  const onHosts = new Set(config.hosts.flatMap((h) => h.services));
  const local = config.docker.all_containers || config.services.some((s) => !onHosts.has(s.name) && !!(s.container ?? s.compose_service));
  return { local, hosts: config.hosts };
}

/** The containers in the pane's order: one engine's (no `hosts:`), or every shown host's, grouped. */
export function containersInOrder(s: Pick<AppState, 'docker' | 'hosts' | 'hostGauges'>, config: Pick<Config, 'hosts' | 'services' | 'docker'>, filter: string | undefined, now: number): { containers: ContainerInfo[]; groups?: ContainerGroup[] } {
  if (config.hosts.length > 0) {
    const groups = containerGroups(s, hostsLayout(config), filter);
    return { containers: groupedContainers(groups, now), groups };
  }
  const d = s.docker.data;
  if (!d) return { containers: [] };
  const byId = new Map(d.containers.map((c) => [c.id, c]));
  return { containers: containerRows(d.containers, d.stats, now).flatMap((r) => byId.get(r.id) ?? []) };
}

/**
 * The container behind a container alert (`r` in Alerts): its check's target is the container's
 * name, on the host its id names (`container:web@db1`, issue #25; names never hold an '@').
 */
export function containerOfCheck(checkId: string, name: string | undefined, containers: readonly ContainerInfo[]): ContainerInfo | undefined {
  if (!checkId.startsWith('container:') || name === undefined) return undefined;
  const host = /@([^@]+)$/.exec(checkId)?.[1];
  return containers.find((x) => x.name === name && x.host === host);
}

/** `h` on the dashboard: the next host filter (selection back to the top), and the status line says which. */
export function onHostKey(s: ConsoleState, w: Pick<ConsoleWorld, 'hostChoices' | 'now'>): ConsoleState {
  const next = hostFilterStep(s.hostFilter, w.hostChoices ?? []);
  const flash = { text: next.text, color: next.ok ? ('green' as const) : ('yellow' as const), at: w.now };
  return next.ok ? { ...s, hostFilter: next.filter, selC: 0, selCName: undefined, flash } : { ...s, flash };
}

/** What the log picker offers: every container (in the table's order), then the configured log files. */
export function pickLogTargets(w: Pick<ConsoleWorld, 'containers' | 'logFiles'>): LogTarget[] {
  return [...w.containers.map(containerLogTarget), ...w.logFiles];
}
