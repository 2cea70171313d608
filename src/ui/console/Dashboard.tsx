import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { Config } from '../../config/schema.js';
import type { Alert } from '../../domain/alerts.js';
import type { AckState } from '../../state/acks.js';
import type { AppState } from '../../state/store.js';
import { AlertsPane } from '../panes/AlertsPane.js';
import { ContainersPane } from '../panes/ContainersPane.js';
import { HostsContainersPane } from '../panes/HostsContainersPane.js';
import type { ContainerGroup } from './hosts.js';
import { DatastoresPane } from '../panes/DatastoresPane.js';
import { HostPane } from '../panes/HostPane.js';
import type { HostHistory } from '../useHostHistory.js';
import { dashboardLayout } from './layout.js';
import { assertNever, type Focus } from './reducer.js';

/** The slices of the store the dashboard draws. */
export type DashboardData = Pick<AppState, 'host' | 'docker' | 'redis' | 'databases' | 'endpoints' | 'checks'>;

/**
 * The dashboard: host gauges, containers, datastores and endpoints, alerts, laid out by
 * `dashboardLayout` (stacked below 100 columns, side by side above), between the header and the
 * status line and footer it is handed.
 */
export function Dashboard(props: {
  data: DashboardData;
  alerts: Alert[];
  columns: number;
  rows: number;
  focus: Focus;
  selC: number;
  selA: number;
  now: number;
  thresholds: Config['thresholds'];
  dockerConfigured: boolean;
  /** Several engines (config `hosts:`, issue #25): the containers pane's sections and the host filter (undefined = all). */
  hostGroups?: { groups: readonly ContainerGroup[]; filter: string | undefined } | undefined;
  history: HostHistory;
  acks: (a: Alert) => AckState;
  /** What F does for an alert ("F: run service-recovery for api"), when a runbook fits it. */
  runbookLine?: (checkId: string) => string | undefined;
  header: ReactNode;
  statusLine: ReactNode;
  footer: ReactNode;
}) {
  const { data, alerts, columns, now, focus } = props;
  const { host, docker, redis, databases, endpoints } = data;
  const layout = dashboardLayout({
    columns,
    rows: props.rows,
    filesystems: host.data?.filesystems.length,
    stores: Object.keys(databases).length + Object.keys(redis).length + Object.keys(endpoints).length,
    containers: props.hostGroups ? props.hostGroups.groups.reduce((n, g) => n + 1 + (g.envelope.data?.containers.length ?? 0), 0) : docker.data?.containers.length,
    alerts: alerts.length,
  });
  const stores = { checks: data.checks, databases, redis, endpoints };
  const runbookLine = props.runbookLine ?? (() => undefined);
  const containersPane = (width: number, height: number) =>
    props.hostGroups ? (
      <HostsContainersPane groups={props.hostGroups.groups} filter={props.hostGroups.filter} selected={props.selC} focused={focus === 'containers'} width={width} height={height} now={now} />
    ) : (
      <ContainersPane docker={docker} configured={props.dockerConfigured} selected={props.selC} focused={focus === 'containers'} width={width} height={height} now={now} />
    );
  switch (layout.kind) {
    case 'too-small':
      return <Text>{layout.message}</Text>;
    case 'stacked':
      return (
        <Box key="stacked" flexDirection="column" width={columns}>
          {props.header}
          <HostPane host={host} thresholds={props.thresholds} history={props.history} width={columns} maxRows={layout.hostRows} />
          {containersPane(columns, layout.containersHeight)}
          <Box height={layout.storesHeight} overflowY="hidden" flexDirection="column">
            <DatastoresPane state={stores} width={columns} now={now} />
          </Box>
          <AlertsPane alerts={alerts} acks={props.acks} selected={props.selA} focused={focus === 'alerts'} width={columns} height={layout.alertsHeight} now={now} runbookLine={runbookLine} checking={data.checks['system:health']?.pending?.length ?? 0} />
          {props.statusLine}
          {props.footer}
        </Box>
      );
    case 'side-by-side':
      return (
        <Box key="side-by-side" flexDirection="column" width={columns}>
          {props.header}
          {/* overflowY only: every line is already truncated to its pane's width (Text wrap="truncate"),
              and a horizontal clip makes Ink re-slice each line of the box on every frame (slice-ansi;
              ~20% of the console's CPU at idle, issue #3). */}
          <Box height={layout.topHeight} overflowY="hidden">
            <Box width={layout.left} flexDirection="column">
              <HostPane host={host} thresholds={props.thresholds} history={props.history} width={layout.left} maxRows={layout.topHeight} />
            </Box>
            <Box width={1} />
            <Box width={layout.right} flexDirection="column">
              <DatastoresPane state={stores} width={layout.right} now={now} />
            </Box>
          </Box>
          <Box height={layout.bottomHeight} overflowY="hidden">
            <Box width={layout.left} flexDirection="column">
              {containersPane(layout.left, layout.bottomHeight)}
            </Box>
            <Box width={1} />
            <Box width={layout.right} flexDirection="column">
              <AlertsPane alerts={alerts} acks={props.acks} selected={props.selA} focused={focus === 'alerts'} width={layout.right} height={layout.bottomHeight} now={now} runbookLine={runbookLine} checking={data.checks['system:health']?.pending?.length ?? 0} />
            </Box>
          </Box>
          {props.statusLine}
          {props.footer}
        </Box>
      );
    default:
      return assertNever(layout);
  }
}
