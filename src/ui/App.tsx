// Over 300 lines, knowingly: the one place the console's effects are performed (container actions,
// wizards and runbook children, acks, audit, reloads); the decisions are the pure reducer's.
// The console's root: reads the terminal size and the store, hands each key to the pure reducer
// (src/ui/console/reducer.ts) as a command, performs its effects, draws the view its state names (#15).

import { Box, Text, useApp, useInput, useStdin } from 'ink';
import { useEffect, useRef, useState } from 'react';
import { useRefState } from './useRefState.js';
import { perKey } from './burst.js';
import type { Config } from '../config/schema.js';
import { isExternal, type ExternalAlert } from '../domain/alertmanager.js';
import type { Alert } from '../domain/alerts.js';
import type { Severity } from '../domain/incident.js';
import type { Result } from '../domain/result.js';
import { runbookForCheck, type RunbookChoice } from '../domain/runbook-map.js';
import type { ContainerInfo, ContainerOutcome } from '../domain/observations.js';
import type { LogFollow, LogLine } from '../services/logs.js';
import type { AckState } from '../state/acks.js';
import type { AppState, AppStore } from '../state/store.js';
import { containerKey, containersInOrder, hostChoices, hostsLayout } from './console/hosts.js';
import { firstKey, keyName, type KeyBinding } from './keys.js';
import { LogsView, type LogsKeys, type LogTarget } from './LogsView.js';
import { RestoreWizard, unfinishedMap, wizardSuggestions, type StartRestore, type WizardKeys } from './RestoreWizard.js';
import { RunbookWizard, type StartRunbook } from './RunbookWizard.js';
import { runbookHint } from './console/runbook-picker.js';
import { isTextDialog } from './console/incident-dialog.js';
import type { RunbookCatalog, RunbookTargetKind } from './console/runbook-wizard.js';
import { visibleAlerts } from './panes/AlertsPane.js';
import type { HostHistory } from './useHostHistory.js';
import { Dashboard, type DashboardData } from './console/Dashboard.js';
import { Footer } from './console/Footer.js';
import { consoleFooter } from './console/hints.js';
import { Header } from './console/Header.js';
import { tooSmall, viewHeights } from './console/layout.js';
import { StatusLine, type Notice } from './console/StatusLine.js';
import { alertIndex, assertNever, containerIndex, initialConsoleState, keyEvent, listeningScopes, reduce, type ConsoleEvent, type ConsoleWorld, type Effect, type View } from './console/reducer.js';
import { DialogView } from './dialogs/DialogView.js';
import type { HealView } from './dialogs/HealingDialog.js';
import type { MaintSource } from './dialogs/MaintenanceDialog.js';
import { useCoalescedStore } from './hooks/useCoalescedStore.js';
import { useTerminalSize } from './hooks/useTerminalSize.js';

export { MIN_COLUMNS, MIN_ROWS, STACK_BELOW } from './console/layout.js';
export { unfinishedMap, wizardSuggestions };

/** What the console can do to the world; injected so the UI stays free of I/O. */
export interface ConsoleActions {
  /** Runs a container action; the value says how it ended (a note, and whether it exited again). */
  containerAction: (kind: 'restart' | 'stop' | 'start', c: ContainerInfo) => Promise<Result<ContainerOutcome>>;
  follow: (t: LogTarget, onLine: (l: LogLine) => void, onEnd: (why: string) => void) => Promise<LogFollow>;
  refresh: () => void;
  ack: (a: Alert) => void;
  silence: (a: Alert, ms: number) => void;
  /** Silences an Alertmanager alert in Alertmanager (issue #25): what to say once it answered. */
  silenceExternal?: (a: ExternalAlert, ms: number) => Promise<{ ok: boolean; text: string }>;
  acks: (a: Alert) => AckState;
  /** Records a refused or cancelled action in the audit log. */
  audit: (action: string, target: string, outcome: 'refused' | 'cancelled', detail?: string) => void;
  /** Recent results of one check (newest last), for the alert details. */
  history: (checkId: string) => { at: number; status: string; message: string }[];
  /** Starts `opsdeck restore` in a child process for the restore wizard. */
  restore: StartRestore;
  /** Which databases the restore journal holds an unfinished run of (read when the wizard opens). */
  unfinishedRestores?: () => Set<string> | undefined;
  /** Starts `opsdeck runbook run NAME --target T --check ID` in a child process for the runbook wizard (issue #16). */
  runbook: StartRunbook;
  /** A key was pressed (the drill score counts the keys pressed while an alert fires, issue #16). */
  keyPressed?: () => void;
  /** Declares an incident, or adds a note to one (issue #18): what to say in the status line. */
  declareIncident?: (severity: Severity, title: string) => { ok: boolean; text: string };
  noteIncident?: (id: string, text: string) => { ok: boolean; text: string };
  /** The healing pane's contents, read as it opens (issue #20). */
  healing?: () => HealView;
  /** E: enables healing of a subject again (audited; refused under --read-only): what to say. */
  enableHeal?: (subject: string) => { ok: boolean; text: string };
  /** M: the log review and the probes (issue #23), computed off the render path. */
  maintenance?: MaintSource;
}

export { FLASH_MS } from './console/StatusLine.js';

/**
 * Store updates within this many milliseconds draw one frame: the host and Docker sources of one
 * refresh finish ~170 ms apart, and each frame redraws the whole screen.
 */
const COALESCE_MS = 250;

/** What the header needs in every view: the checks (overall status, health) and the alerts. */
function headerSlices(s: AppState) {
  return { checks: s.checks, alerts: s.alerts, incident: s.incident, amAlerts: s.amAlerts };
}

/** What the dashboard draws: every data slice (the store's actions never change). */
function dashboardSlices(s: AppState) {
  return { checks: s.checks, alerts: s.alerts, incident: s.incident, amAlerts: s.amAlerts, host: s.host, docker: s.docker, redis: s.redis, databases: s.databases, endpoints: s.endpoints, hosts: s.hosts, hostGauges: s.hostGauges };
}

/** Whether a selection holds the dashboard's slices (it does whenever the dashboard is in front). */
function isDashboardData(d: Partial<DashboardData>): d is DashboardData {
  return !!(d.host && d.docker && d.redis && d.databases && d.endpoints && d.checks);
}

/** Whether the config names containers to watch; without them Alerts starts focused. */
function dockerConfigured(config: Config): boolean {
  return config.hosts.length > 0 || config.docker.all_containers || config.services.some((s) => !!(s.container ?? s.compose_service));
}

/** The console: header, host gauges, containers, datastores and endpoints, alerts, status and footer. */
export function App(props: {
  store: AppStore;
  config: Config;
  keys: readonly KeyBinding[];
  readOnly: boolean;
  history: HostHistory;
  actions: ConsoleActions;
  hostname: string;
  size?: { columns: number; rows: number };
  now?: () => number;
  /** A message from outside the UI (a configuration reload), shown in the status line until `until`. */
  notice?: Notice;
  /** The runbook catalog (`:`), loaded by cli/console.ts (ui/ never imports runbooks/). */
  runbooks?: RunbookCatalog;
}) {
  const { exit } = useApp();
  // Keys need raw mode, which needs stdin to be a terminal (`opsdeck < /dev/null` in a real
  // terminal still shows the console; ctrl-c then arrives as SIGINT). FACTS §5.
  // Ink passes stdin.isTTY through, so "not supported" is `undefined`, which useInput takes as active.
  const isRawModeSupported = useStdin().isRawModeSupported === true;
  const logsKeys = useRef<LogsKeys>(null);
  const wizardKeys = useRef<WizardKeys>(null);
  const wizardUnfinished = useRef<Set<string> | undefined>(undefined);
  // Read synchronously by the input handler (see useRefState): a burst "ry" must see the dialog "r" opened.
  const [getConsole, setConsole] = useRefState(() => initialConsoleState(dockerConfigured(props.config)));
  const cs = getConsole();
  const { columns, rows } = useTerminalSize(props.size);
  // Narrow selections (issue #15): the logs view and the wizard redraw on checks and alerts only.
  const onDashboard = cs.view.kind === 'dashboard' && !cs.dialog;
  // Until the host and Docker panes have data, drawn at once (issue #27: the first full frame).
  const data: Partial<ReturnType<typeof dashboardSlices>> & ReturnType<typeof headerSlices> = useCoalescedStore(props.store, onDashboard ? dashboardSlices : headerSlices, COALESCE_MS, (d: Partial<DashboardData>) => !!d.host && d.host.status !== 'loading' && (!dockerConfigured(props.config) || (!!d.docker && d.docker.status !== 'loading')));
  const [tick, setTick] = useState(0);
  const clock = props.now ?? Date.now;
  const now = clock();

  // The clock and the uptimes move with the data: one refresh period after the last frame,
  // whatever drew it (no dependency list: re-armed after every render), so the tick only draws
  // when no data arrived (a source hanging) — every frame of the 160×48 dashboard costs a few ms
  // of CPU in Ink, and a 1 s clock drew as many frames as the data itself (issue #3).
  const tickMs = Math.max(1000, props.config.refresh);
  useEffect(() => {
    const t = setTimeout(() => setTick((x) => x + 1), tickMs);
    return () => clearTimeout(t);
  });
  void tick;

  // The containers table's order as drawn (problems first): the selection follows a container by its
  // name (operator trial: rows re-sort as containers fail), so the row first shown is pinned by name.
  const shown = data.docker && data.hosts && data.hostGauges ? containersInOrder({ docker: data.docker, hosts: data.hosts, hostGauges: data.hostGauges }, props.config, cs.hostFilter, now) : { containers: [] };
  const containerOrder = shown.containers;
  const selCIndex = containerIndex(cs, containerOrder);
  const pinned = cs.selCName === undefined ? containerOrder[selCIndex] : undefined;
  const pin = pinned ? containerKey(pinned) : undefined;
  useEffect(() => {
    if (pin !== undefined && getConsole().selCName === undefined) setConsole({ ...getConsole(), selCName: pin });
  }, [pin, getConsole, setConsole]);

  const c = props.config;
  const names = { services: c.services.map((x) => x.name), endpoints: c.endpoints.map((x) => x.name), redis: c.redis.map((x) => x.name), databases: c.databases.map((x) => x.name), apps: c.apps.map((x) => x.name), pairs: Object.fromEntries(c.failover.pairs.map((p) => [p.name, p.primary])) };
  /** The runbook for an alert: runbookForCheck on its check's latest result (issue #16). */
  const runbookFor = (checkId: string): RunbookChoice | undefined => {
    const r = props.store.getState().checks[checkId];
    return r ? runbookForCheck(r, names, c.runbooks.map) : undefined;
  };
  /** The configured entries a runbook of a kind acts on; for host, the filesystems the host gauges see. */
  const targets = (kind: Exclude<RunbookTargetKind, 'none'>, runbook?: string): string[] =>
    kind === 'service' && runbook === 'failback' && c.failover.pairs.length > 0 ? c.failover.pairs.map((p) => p.primary) : kind === 'service' ? names.services : kind === 'database' ? names.databases : kind === 'redis' ? names.redis : kind === 'endpoint' ? names.endpoints : kind === 'app' ? names.apps : (props.store.getState().host.data?.filesystems ?? []).map((f) => f.mount);
  /** "run service-recovery for api" for an alert, when a runbook fits it. */
  const hintFor = (checkId: string): string | undefined => {
    const choice = runbookFor(checkId);
    return choice ? runbookHint(choice) : undefined;
  };
  /** "F: run service-recovery for api", under the selected alert. */
  const runbookLine = (checkId: string): string | undefined => {
    const hint = hintFor(checkId);
    return hint ? `${firstKey(props.keys, 'alert.runbook')}: ${hint}` : undefined;
  };

  /** The world as a key finds it, read from the store at that moment (not from the last frame). */
  const world = (): ConsoleWorld => {
    const s = props.store.getState();
    const { containers } = containersInOrder(s, props.config, getConsole().hostFilter, Date.now());
    return {
      keys: props.keys,
      readOnly: props.readOnly,
      now: clock(),
      containers,
      alerts: visibleAlerts(s.alerts, s.amAlerts),
      checkTargets: Object.fromEntries(Object.entries(s.checks).map(([id, c]) => [id, c.target])),
      databases: props.config.databases.length,
      logFiles: props.config.logs.map((f): LogTarget => ({ kind: 'file', id: f.path, name: f.name })),
      historyCount: (id) => props.actions.history(id).length,
      runbooks: props.runbooks ?? { entries: [] },
      hostChoices: props.config.hosts.length ? hostChoices(hostsLayout(props.config)) : [],
      runbookFor,
      targets,
      dialogSize: { width: columns, height: viewHeights(rows).dialog },
      incident: s.incident ? { id: s.incident.id, severity: s.incident.severity } : undefined,
      healStopped: Object.values(s.checks).flatMap((c) => (c.kind === 'heal' && c.status === 'critical' ? [c.target] : [])),
    };
  };

  const perform = (fx: Effect): void => {
    switch (fx.effect) {
      case 'quit':
        exit();
        return;
      case 'refresh':
        props.actions.refresh();
        return;
      case 'container':
        void props.actions.containerAction(fx.verb, fx.container).then((result) => dispatch({ type: 'task.ended', verb: fx.verb, name: fx.container.name, result }));
        return;
      case 'audit':
        if (fx.detail === undefined) props.actions.audit(fx.action, fx.target, fx.outcome);
        else props.actions.audit(fx.action, fx.target, fx.outcome, fx.detail);
        return;
      case 'ack':
        props.actions.ack(fx.alert);
        return;
      case 'silence': {
        if (!isExternal(fx.alert)) return props.actions.silence(fx.alert, fx.ms);
        const answer = props.actions.silenceExternal?.(fx.alert, fx.ms) ?? Promise.resolve({ ok: false, text: `${fx.alert.checkId}: silence it in Alertmanager` });
        void answer.then((said) => dispatch({ type: 'said', text: said.text, color: said.ok ? 'green' : 'red' }));
        return;
      }
      case 'incident.declare':
      case 'incident.note': {
        const said = fx.effect === 'incident.declare' ? props.actions.declareIncident?.(fx.severity, fx.title) : props.actions.noteIncident?.(fx.id, fx.text);
        if (said) dispatch({ type: 'said', text: said.text, color: said.ok ? 'green' : 'red' });
        return;
      }
      case 'heal.enable': {
        const said = props.actions.enableHeal?.(fx.subject) ?? { ok: false, text: 'healing is not available in this console' };
        dispatch({ type: 'said', text: said.text, color: said.ok ? 'green' : 'red' });
        return;
      }
      case 'maint.review':
        props.actions.maintenance?.again();
        return;
      case 'wizard.opened':
        // Read once as the wizard opens: its resume / roll back choices say when there is nothing to finish.
        wizardUnfinished.current = props.actions.unfinishedRestores?.();
        return;
      default:
        assertNever(fx);
    }
  };

  const dispatch = (e: ConsoleEvent): void => {
    const step = reduce(getConsole(), e, world());
    setConsole(step.state);
    for (const fx of step.effects) perform(fx);
  };

  useInput(
    perKey((input, key) => {
      props.actions.keyPressed?.();
      const s = getConsole();
      // A wizard takes every key while it is open: a restore or a runbook is not left by a stray "q".
      if (!s.dialog && (s.view.kind === 'wizard' || s.view.kind === 'runbook')) {
        wizardKeys.current?.onKey(input, key);
        return;
      }
      // The incident dialogs (I, N) take typed text: every key but ctrl+c is theirs (issue #18).
      const name = key.backspace || key.delete ? 'backspace' : keyName(input, key);
      if (isTextDialog(s.dialog) && name !== 'ctrl+c') {
        dispatch({ type: 'text', name, input });
        return;
      }
      const scopes = listeningScopes(s);
      // The logs view handles its own keys (its filter prompt takes any text, "q" included).
      if (!scopes) {
        logsKeys.current?.onKey(input, key);
        return;
      }
      const event = keyEvent(props.keys, name, scopes, s); // F with Containers focused is said, not silent
      if (event) dispatch(event);
    }),
    { isActive: isRawModeSupported },
  );

  const small = tooSmall(columns, rows);
  if (small) return <Text>{small}</Text>;

  const heights = viewHeights(rows);
  const alerts = visibleAlerts(data.alerts, data.amAlerts);
  // The header's "oldest firing" is this stack's: Alertmanager's alerts (issue #25) are left out.
  const oldestFiring = alerts.filter((a) => a.state === 'firing' && !isExternal(a)).reduce<number | undefined>((m, a) => (a.since !== undefined && (m === undefined || a.since < m) ? a.since : m), undefined);
  const header = <Header width={columns} name={props.config.name} hostname={props.hostname} now={now} checks={data.checks} readOnly={props.readOnly} oldestFiring={oldestFiring} incident={data.incident} amCritical={alerts.filter((a) => isExternal(a) && a.status === 'critical' && a.external.state === 'active').length} />;
  const selected = cs.focus === 'alerts' ? alerts[alertIndex(cs, alerts)] : undefined;
  const hints = consoleFooter({ keys: props.keys, readOnly: props.readOnly, columns, state: cs, hasContainers: !!data.docker?.data?.containers.length, alerts, ...(selected ? { selected: { alert: selected, runbook: hintFor(selected.checkId) } } : {}) });
  const footer = <Footer hints={hints} keysOn={isRawModeSupported} />;
  const statusLine = <StatusLine busy={cs.busy} flash={cs.flash} notice={props.notice} now={now} checks={Object.keys(data.checks).length} refresh={props.config.refresh} interval={props.config.interval} />;
  // Read at each frame while it is open: the pane follows the healer (a few small queries).
  const healView = cs.dialog?.kind === 'healing' ? props.actions.healing?.() : undefined;
  const dialog = cs.dialog ? <DialogView dialog={cs.dialog} keys={props.keys} readOnly={props.readOnly} width={columns} height={heights.dialog} history={props.actions.history} runbookHint={hintFor} healing={cs.dialog.kind === 'healing' ? healView : undefined} maintenance={props.actions.maintenance} /> : null;

  // Each view's root has its own key, so React mounts a view afresh instead of reshaping the last
  // one's boxes: Ink does not reset a style prop a box loses (a flexDirection, a display), and the
  // dashboard came back from the logs view with its gauges and datastores laid out in a column
  // that its height then hid.
  const view: View = cs.view;
  switch (view.kind) {
    case 'wizard': {
      const databases = props.config.databases.map((d) => d.name);
      return (
        <Box key="wizard" flexDirection="column" width={columns}>
          {header}
          <RestoreWizard
            databases={databases}
            suggest={wizardSuggestions(databases, alerts)}
            {...(wizardUnfinished.current ? { unfinished: unfinishedMap(databases, wizardUnfinished.current) } : {})}
            keys={props.keys}
            start={props.actions.restore}
            width={columns}
            height={heights.wizard}
            onBack={() => dispatch({ type: 'wizard.closed' })}
            keysRef={wizardKeys}
          />
        </Box>
      );
    }
    case 'runbook':
      return (
        <Box key="runbook" flexDirection="column" width={columns}>
          {header}
          <RunbookWizard start={view.start} run={props.actions.runbook} keys={props.keys} width={columns} height={heights.wizard} now={now} onBack={() => dispatch({ type: 'wizard.closed' })} keysRef={wizardKeys} />
        </Box>
      );
    case 'logs':
      // The logs view stays mounted under a dialog (help), so the follow and its lines survive.
      return (
        <Box key="logs" flexDirection="column" width={columns}>
          {header}
          <Box display={cs.dialog ? 'none' : 'flex'} flexDirection="column">
            <LogsView
              target={view.target}
              follow={props.actions.follow}
              keys={props.keys}
              width={columns}
              height={heights.logs}
              jumpTo={oldestFiring}
              bufferBytes={props.config.log_view.buffer_mb * 1048576}
              bufferLines={props.config.log_view.lines}
              onBack={() => dispatch({ type: 'command', command: { id: 'logs.back' } })}
              onQuit={() => dispatch({ type: 'command', command: { id: 'app.quit' } })}
              onHelp={() => dispatch({ type: 'command', command: { id: 'app.help' } })}
              keysRef={logsKeys}
            />
          </Box>
          {dialog}
          {footer}
        </Box>
      );
    case 'dashboard':
      if (dialog) {
        return (
          <Box key="dialog" flexDirection="column" width={columns}>
            {header}
            {dialog}
            {footer}
          </Box>
        );
      }
      // The dashboard's selection holds every slice it draws (onDashboard above).
      if (!isDashboardData(data)) return null;
      return (
        <Dashboard
          data={data}
          alerts={alerts}
          columns={columns}
          rows={rows}
          focus={cs.focus}
          selC={selCIndex}
          selA={alertIndex(cs, alerts)}
          now={now}
          thresholds={props.config.thresholds}
          dockerConfigured={dockerConfigured(props.config)}
          hostGroups={shown.groups ? { groups: shown.groups, filter: cs.hostFilter } : undefined}
          history={props.history}
          acks={props.actions.acks}
          runbookLine={runbookLine}
          header={header}
          statusLine={statusLine}
          footer={footer}
        />
      );
    default:
      return assertNever(view);
  }
}
