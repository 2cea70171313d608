// Over 300 lines, knowingly: one input handler and the layouts of the console. Issue #15 replaces
// the handler by a pure console reducer over command ids and moves the dialogs into their own files.

import { Box, Text, useApp, useInput, useStdin, useStdout } from 'ink';
import Spinner from 'ink-spinner';
import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { useRefState } from './useRefState.js';
import { perKey } from './burst.js';
import type { Config } from '../config/schema.js';
import { formatDuration } from '../config/duration.js';
import type { Alert } from '../domain/alerts.js';
import { overallStatus } from '../domain/check.js';
import type { Result } from '../domain/result.js';
import type { ContainerInfo } from '../domain/observations.js';
import type { LogFollow, LogLine } from '../services/logs.js';
import type { AckState } from '../state/acks.js';
import type { AppStore } from '../state/store.js';
import { containerRows, fit, statusColor, windowRows, wrapColumns } from './format/cells.js';
import { commandFor, fitHints, footerHints, keyName, type KeyBinding, type KeyScope } from './keys.js';
import { LogsView, type LogsKeys, type LogTarget } from './LogsView.js';
import { RestoreWizard, type StartRestore, type WizardKeys } from './RestoreWizard.js';
import { AlertsPane, visibleAlerts } from './panes/AlertsPane.js';
import { ContainersPane } from './panes/ContainersPane.js';
import { DatastoresPane } from './panes/DatastoresPane.js';
import { HostPane } from './panes/HostPane.js';
import { C } from './theme.js';
import type { HostHistory } from './useHostHistory.js';

/** Below this the console says "terminal too small". */
export const MIN_COLUMNS = 60;
export const MIN_ROWS = 16;
/** Below this width panes stack instead of sitting side by side. */
export const STACK_BELOW = 100;

/** What the console can do to the world; injected so the UI stays free of I/O. */
export interface ConsoleActions {
  /** Runs a container action; the value says how it ended ("done", or "restarted, but it exited again…"). */
  containerAction: (kind: 'restart' | 'stop' | 'start', c: ContainerInfo) => Promise<Result<string>>;
  follow: (t: LogTarget, onLine: (l: LogLine) => void, onEnd: (why: string) => void) => Promise<LogFollow>;
  refresh: () => void;
  ack: (a: Alert) => void;
  silence: (a: Alert, ms: number) => void;
  acks: (a: Alert) => AckState;
  /** Records a refused or cancelled action in the audit log. */
  audit: (action: string, target: string, outcome: 'refused' | 'cancelled', detail?: string) => void;
  /** Recent results of one check (newest last), for the alert details. */
  history: (checkId: string) => { at: number; status: string; message: string }[];
  /** Starts `opsdeck restore` in a child process for the restore wizard. */
  restore: StartRestore;
  /** Which databases the restore journal holds an unfinished run of (read when the wizard opens). */
  unfinishedRestores?: () => Set<string> | undefined;
}

type Dialog =
  | { kind: 'confirm'; action: 'restart' | 'stop' | 'start'; container: ContainerInfo; preview: string[] }
  | { kind: 'silence'; alert: Alert }
  /** `back`: how many of the newest probe results are scrolled past (↑ shows older ones). */
  | { kind: 'details'; alert: Alert; back: number }
  | { kind: 'pick-log'; targets: LogTarget[]; selected: number }
  | { kind: 'help'; view: 'dashboard' | 'logs' };

/** How long a status-line message stays. */
export const FLASH_MS = 10_000;

const SILENCES: [string, number][] = [
  ['15m', 15 * 60_000],
  ['1h', 3_600_000],
  ['4h', 4 * 3_600_000],
  ['24h', 24 * 3_600_000],
];

function useTerminalSize(override?: { columns: number; rows: number }): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => override ?? { columns: stdout.columns || 80, rows: stdout.rows || 24 };
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (override) return;
    const on = () => setSize(read());
    stdout.on('resize', on);
    return () => {
      stdout.off('resize', on);
    };
  }, [stdout, override]);
  return override ?? size;
}

/** Preview of a container action: exactly what will happen. */
export function previewAction(action: 'restart' | 'stop' | 'start', c: ContainerInfo): string[] {
  const id = c.id.slice(0, 12);
  switch (action) {
    case 'restart':
      return [
        `Restart container ${c.name} (${id}, image ${c.image})`,
        'Docker sends SIGTERM, waits up to 10 s, then SIGKILL, then starts it again (docker restart -t 10).',
        `It is ${c.state}${c.startedAt ? `, up ${formatDuration(Date.now() - c.startedAt)}` : ''}; clients lose their connections meanwhile.`,
      ];
    case 'stop':
      return [
        `Stop container ${c.name} (${id}, image ${c.image})`,
        'Docker sends SIGTERM, waits up to 10 s, then SIGKILL (docker stop -t 10). It stays stopped until started.',
      ];
    case 'start':
      return [`Start container ${c.name} (${id}, image ${c.image})`, `It is ${c.state}; Docker starts it with its existing configuration (docker start).`];
  }
}

/** What the logs view can follow: every container (problems first, as in the table), then the configured log files. */
export function logTargets(containers: readonly ContainerInfo[] | undefined, files: Config['logs'], now: number): LogTarget[] {
  const byId = new Map((containers ?? []).map((c) => [c.id, c]));
  const rows = containers ? containerRows(containers, {}, now) : [];
  return [
    ...rows.map((r): LogTarget => ({ kind: 'container', id: r.id, name: byId.get(r.id)?.name ?? r.name })),
    ...files.map((f): LogTarget => ({ kind: 'file', id: f.path, name: f.name })),
  ];
}

/** The scopes whose keys work in a view, in the order help lists them. */
export function viewScopes(view: 'dashboard' | 'logs'): KeyScope[] {
  return view === 'logs' ? ['logs', 'global'] : ['containers', 'alerts', 'dashboard', 'global'];
}

/** The `?` help of a view, one line per command, generated from the key table (STYLE.md §6). */
export function helpLines(keys: readonly KeyBinding[], view: 'dashboard' | 'logs', readOnly: boolean): { id: string; text: string; refused: boolean }[] {
  return viewScopes(view).flatMap((scope) =>
    keys
      .filter((b) => b.scope === scope)
      .map((b) => {
        const refused = readOnly && !!b.dangerous;
        return { id: b.id, refused, text: `${fit(b.keys.join(', '), 13)} ${b.description}${refused ? ' — refused: read-only mode' : ''}` };
      }),
  );
}

/**
 * Store updates within this many milliseconds draw one frame: the host and Docker sources of one
 * refresh finish ~170 ms apart, and each frame redraws the whole screen.
 */
const COALESCE_MS = 250;

/** useSyncExternalStore on the app store, with notifications coalesced (see COALESCE_MS). */
function useCoalescedStore(store: AppStore, ms: number) {
  const subscribe = useMemo(
    () => (onChange: () => void) => {
      let timer: NodeJS.Timeout | undefined;
      const unsubscribe = store.subscribe(() => {
        timer ??= setTimeout(() => {
          timer = undefined;
          onChange();
        }, ms);
      });
      return () => {
        if (timer) clearTimeout(timer);
        unsubscribe();
      };
    },
    [store, ms],
  );
  return useSyncExternalStore(subscribe, store.getState);
}

/** Per database: whether the journal holds an unfinished restore of it. */
export function unfinishedMap(databases: readonly string[], open: ReadonlySet<string>): Record<string, boolean> {
  return Object.fromEntries(databases.map((d) => [d, open.has(d)]));
}

/** Commands a firing alert makes urgent: the restore wizard for a database, restart for a container. */
export function urgentCommands(alerts: readonly Alert[]): Set<string> {
  const out = new Set<string>();
  for (const a of alerts) {
    if (a.state !== 'firing') continue;
    if (a.checkId.startsWith('sqlite:')) out.add('restore.wizard');
    if (a.checkId.startsWith('container:')) {
      out.add('container.restart');
      out.add('alert.restart');
    }
  }
  return out;
}

/**
 * The restore wizard's suggested way per database, from what fires (issue #10): rows lost → merge
 * (nothing live is overwritten); a corrupt or unreadable file → the whole file.
 */
export function wizardSuggestions(databases: readonly string[], alerts: readonly Alert[]): Record<string, 'merge' | 'whole'> {
  const out: Record<string, 'merge' | 'whole'> = {};
  const firing = (id: string) => alerts.some((a) => a.checkId === id && (a.state === 'firing' || a.state === 'pending'));
  for (const db of databases) {
    if (firing(`sqlite:${db}`)) out[db] = 'whole';
    else if (firing(`sqlite:${db}:rows`)) out[db] = 'merge';
  }
  return out;
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
  notice?: { text: string; color: 'green' | 'red' | 'yellow'; until: number };
}) {
  const { exit } = useApp();
  // Keys need raw mode, which needs stdin to be a terminal (`opsdeck < /dev/null` in a real
  // terminal still shows the console; ctrl-c then arrives as SIGINT). FACTS §5.
  // Ink passes stdin.isTTY through, so "not supported" is `undefined`, which useInput takes as active.
  const isRawModeSupported = useStdin().isRawModeSupported === true;
  const logsKeys = useRef<LogsKeys>(null);
  const wizardKeys = useRef<WizardKeys>(null);
  const wizardUnfinished = useRef<Set<string> | undefined>(undefined);
  const [getWizard, setWizard] = useRefState(false);
  const state = useCoalescedStore(props.store, COALESCE_MS);
  const { columns, rows } = useTerminalSize(props.size);
  const [tick, setTick] = useState(0);
  // Read synchronously by the input handler (see useRefState).
  // No Docker in the config: nothing to do in the Containers pane, so Alerts starts focused.
  const [getFocus, setFocus] = useRefState<'containers' | 'alerts'>(props.config.docker.all_containers || props.config.services.some((s) => !!(s.container ?? s.compose_service)) ? 'containers' : 'alerts');
  const [getSelC, setSelC] = useRefState(0);
  const [getSelA, setSelA] = useRefState(0);
  // The selected alert is followed by its check id: the list re-sorts as alerts come and go, and a
  // key must act on the alert the operator is looking at, not on whatever slid into its row.
  const [getSelAId, setSelAId] = useRefState<string | undefined>(undefined);
  const [getDialog, setDialog] = useRefState<Dialog | undefined>(undefined);
  const [getLogs, setLogs] = useRefState<LogTarget | undefined>(undefined);
  const [getBusy, setBusy] = useRefState<string | undefined>(undefined);
  const focus = getFocus();
  const selC = getSelC();
  const dialog = getDialog();
  const logs = getLogs();
  const busy = getBusy();
  const [flash, setFlashAt] = useState<{ text: string; color: 'green' | 'red' | 'yellow'; at: number } | undefined>();
  // A status-line message expires (issue #11: "restart …: done" stayed forever).
  const setFlash = (f: { text: string; color: 'green' | 'red' | 'yellow' } | undefined) => setFlashAt(f ? { ...f, at: Date.now() } : undefined);
  const now = (props.now ?? Date.now)();

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

  const alerts = visibleAlerts(state.alerts);
  const alertIndex = (list: readonly Alert[]) => {
    const id = getSelAId();
    const i = id === undefined ? -1 : list.findIndex((a) => a.checkId === id);
    return i >= 0 ? i : Math.max(0, Math.min(getSelA(), list.length - 1));
  };
  const selA = alertIndex(alerts);
  const selectedContainer = () => {
    const s = props.store.getState().docker.data;
    const rowsNow = s ? containerRows(s.containers, s.stats, Date.now()) : [];
    return s?.containers.find((c) => c.id === rowsNow[Math.min(getSelC(), rowsNow.length - 1)]?.id);
  };
  const selectedAlert = () => {
    const list = visibleAlerts(props.store.getState().alerts);
    return list[alertIndex(list)];
  };

  const runAction = (action: 'restart' | 'stop' | 'start', c: ContainerInfo) => {
    setBusy(`${action} ${c.name}…`);
    setFlash(undefined);
    void props.actions.containerAction(action, c).then((r) => {
      setBusy(undefined);
      const again = r.ok && /exited again/.test(r.value);
      setFlash(r.ok ? { text: `${action} ${c.name}: ${r.value}`, color: again ? 'red' : 'green' } : { text: `${action} ${c.name} failed: ${r.error.message}`, color: 'red' });
      props.actions.refresh();
    });
  };

  useInput(
    perKey((input, key) => {
      const name = keyName(input, key);
      const dialog = getDialog();
      const focus = getFocus();
      const selC = getSelC();
      const busy = getBusy();
      const scopes: KeyScope[] = dialog ? ['dialog'] : getLogs() ? ['logs', 'global'] : [focus, 'dashboard', 'global'];
      if (dialog) {
        const dcmd = commandFor(props.keys, name, ['dialog'])?.id;
        if (dialog.kind === 'confirm') {
          if (dcmd === 'dialog.yes') {
            setDialog(undefined);
            runAction(dialog.action, dialog.container);
          } else if (dcmd === 'dialog.no' || dcmd === 'dialog.back') {
            props.actions.audit(`container.${dialog.action}`, dialog.container.name, 'cancelled');
            setDialog(undefined);
            setFlash({ text: `${dialog.action} ${dialog.container.name}: cancelled`, color: 'yellow' });
          }
        } else if (dialog.kind === 'silence') {
          const choice = SILENCES[Number(input) - 1];
          if (choice) {
            props.actions.silence(dialog.alert, choice[1]);
            setFlash({ text: `${dialog.alert.checkId} silenced for ${choice[0]}`, color: 'yellow' });
            setDialog(undefined);
          } else if (dcmd === 'dialog.back' || dcmd === 'dialog.no') setDialog(undefined);
        } else if (dialog.kind === 'pick-log') {
          const cmd = commandFor(props.keys, name, ['dialog', 'dashboard']);
          const digit = /^[1-9]$/.test(input) ? Number(input) - 1 : undefined;
          const chosen = digit !== undefined ? dialog.targets[digit] : cmd?.id === 'dialog.pick' ? dialog.targets[dialog.selected] : undefined;
          if (chosen) {
            setDialog(undefined);
            setLogs(chosen);
          } else if (cmd?.id === 'cursor.up') setDialog({ ...dialog, selected: Math.max(0, dialog.selected - 1) });
          else if (cmd?.id === 'cursor.down') setDialog({ ...dialog, selected: Math.min(dialog.targets.length - 1, dialog.selected + 1) });
          else if (cmd?.id === 'dialog.back' || cmd?.id === 'dialog.no') setDialog(undefined);
        } else if (dialog.kind === 'details' && commandFor(props.keys, name, ['dashboard'])?.id === 'cursor.up') {
          setDialog({ ...dialog, back: Math.min(dialog.back + 1, Math.max(0, props.actions.history(dialog.alert.checkId).length - 1)) });
        } else if (dialog.kind === 'details' && commandFor(props.keys, name, ['dashboard'])?.id === 'cursor.down') {
          setDialog({ ...dialog, back: Math.max(0, dialog.back - 1) });
        } else if (dcmd === 'dialog.back' || name === 'q' || name === 'enter' || name === '?') setDialog(undefined);
        return;
      }
      // The restore wizard takes every key while it is open: a restore is not left by a stray "q".
      if (getWizard()) {
        wizardKeys.current?.onKey(input, key);
        return;
      }
      // The logs view handles its own keys (its filter prompt takes any text, "q" included).
      if (getLogs()) {
        logsKeys.current?.onKey(input, key);
        return;
      }
      const cmd = commandFor(props.keys, name, scopes);
      if (!cmd) return;
      if (cmd.dangerous && props.readOnly) {
        const target = (cmd.scope === 'alerts' ? selectedAlert()?.checkId : selectedContainer()?.name) ?? '-';
        props.actions.audit(cmd.id, target, 'refused', 'read-only mode');
        setFlash({ text: `${cmd.description.split(' (')[0] ?? cmd.id}: refused — opsdeck runs in --read-only mode`, color: 'red' });
        return;
      }
      switch (cmd.id) {
        case 'app.quit':
          exit();
          return;
        case 'app.help':
          setDialog({ kind: 'help', view: 'dashboard' });
          return;
        case 'app.refresh':
          props.actions.refresh();
          setFlash({ text: 'running every check now', color: 'green' });
          return;
        case 'focus.next':
          setFocus(focus === 'containers' ? 'alerts' : 'containers');
          return;
        case 'focus.alerts':
          setFocus('alerts');
          return;
        case 'alert.restart': {
          // The container behind a container alert: its check's target is the container's name.
          const a = selectedAlert();
          const name = a?.checkId.startsWith('container:') ? props.store.getState().checks[a.checkId]?.target : undefined;
          const sc = name ? props.store.getState().docker.data?.containers.find((c) => c.name === name) : undefined;
          if (!sc) {
            setFlash({ text: 'r: the selected alert is not a container\'s (tab to Containers to restart one)', color: 'yellow' });
            return;
          }
          if (busy) {
            setFlash({ text: `wait: ${busy}`, color: 'yellow' });
            return;
          }
          setDialog({ kind: 'confirm', action: 'restart', container: sc, preview: previewAction('restart', sc) });
          return;
        }
        case 'cursor.up':
          if (focus === 'containers') setSelC(Math.max(0, selC - 1));
          else {
            const list = visibleAlerts(props.store.getState().alerts);
            const i = Math.max(0, alertIndex(list) - 1);
            setSelA(i);
            setSelAId(list[i]?.checkId);
          }
          return;
        case 'cursor.down': {
          const s = props.store.getState();
          if (focus === 'containers') setSelC(Math.min(Math.max(0, (s.docker.data?.containers.length ?? 1) - 1), selC + 1));
          else {
            const list = visibleAlerts(s.alerts);
            const i = Math.min(Math.max(0, list.length - 1), alertIndex(list) + 1);
            setSelA(i);
            setSelAId(list[i]?.checkId);
          }
          return;
        }
        case 'container.logs': {
          const sc = selectedContainer();
          if (sc) setLogs({ kind: 'container', id: sc.id, name: sc.name });
          else if (props.config.logs[0]) setLogs({ kind: 'file', id: props.config.logs[0].path, name: props.config.logs[0].name });
          return;
        }
        case 'restore.wizard':
          if (props.config.databases.length === 0) setFlash({ text: 'restore wizard: no database in the config (`databases:`)', color: 'yellow' });
          else {
            // Read once as the wizard opens: its resume / roll back choices say when there is nothing to finish.
            wizardUnfinished.current = props.actions.unfinishedRestores?.();
            setWizard(true);
          }
          return;
        case 'logs.open': {
          const targets = logTargets(props.store.getState().docker.data?.containers, props.config.logs, Date.now());
          if (targets.length === 0) setFlash({ text: 'no log to follow: no container seen and no `logs:` files in the config', color: 'yellow' });
          else setDialog({ kind: 'pick-log', targets, selected: 0 });
          return;
        }
        case 'container.restart':
        case 'container.stop':
        case 'container.start': {
          const sc = selectedContainer();
          if (!sc) return;
          if (busy) {
            setFlash({ text: `wait: ${busy}`, color: 'yellow' });
            return;
          }
          const action = cmd.id.split('.')[1] as 'restart' | 'stop' | 'start';
          setDialog({ kind: 'confirm', action, container: sc, preview: previewAction(action, sc) });
          return;
        }
        case 'alert.ack': {
          const a = selectedAlert();
          if (a) {
            props.actions.ack(a);
            setFlash({ text: `${a.checkId} acknowledged`, color: 'green' });
          }
          return;
        }
        case 'alert.silence': {
          const a = selectedAlert();
          if (a) setDialog({ kind: 'silence', alert: a });
          return;
        }
        case 'alert.details': {
          const a = selectedAlert();
          if (a) setDialog({ kind: 'details', alert: a, back: 0 });
          return;
        }
      }
    }),
    { isActive: isRawModeSupported },
  );

  if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
    return <Text>{`terminal too small (need ${MIN_COLUMNS}×${MIN_ROWS}, have ${columns}×${rows})`}</Text>;
  }

  // Keep the frame shorter than the terminal: a full-height frame makes Ink clear the screen (flicker in tmux).
  const height = rows - 1;
  const checks = Object.values(state.checks);
  const overall = checks.length ? overallStatus(checks) : 'unknown';
  const health = state.checks['system:health'];
  const oldestFiring = alerts.filter((a) => a.state === 'firing').reduce<number | undefined>((m, a) => (a.since !== undefined && (m === undefined || a.since < m) ? a.since : m), undefined);

  const header = (
    <Box>
      <C bold inverse color={statusColor(overall)}>{` ${props.config.name} `}</C>
      <Text>{` ${props.hostname} ${new Date(now).toLocaleTimeString()} `}</Text>
      <C bold color={health ? statusColor(health.status) : 'gray'}>{`health ${health?.value ?? '…'}%`}</C>
      <C color={statusColor(overall)}>{` ${overall.toUpperCase()}`}</C>
      {props.readOnly ? <C bold color="yellow">{'  [READ-ONLY]'}</C> : null}
      {oldestFiring !== undefined ? <C color="red">{`  oldest alert ${formatDuration(now - oldestFiring)}`}</C> : null}
    </Box>
  );

  // What fires decides which hints never drop at 80 columns (issue #11): W while a database alert
  // fires (the only console path for a database incident), r while a container alert fires.
  const urgent = urgentCommands(alerts);
  // An empty Containers pane offers none of its keys (they would do nothing).
  const paneScopes: KeyScope[] = focus === 'containers' && !state.docker.data?.containers.length ? [] : [focus];
  const scopesNow: KeyScope[] = dialog ? (dialog.kind === 'confirm' ? ['dialog'] : []) : logs ? ['logs', 'global'] : [...paneScopes, 'dashboard', 'global'];
  // A binding without a hint of its own (r on an alert) shows only while it is urgent.
  const hintTable = props.keys.map((b) => (!b.hint && urgent.has(b.id) && !dialog && !logs ? { ...b, hint: true } : b));
  const all = footerHints(hintTable, scopesNow, props.readOnly);
  const isUrgent = (h: (typeof all)[number]) => !dialog && !logs && urgent.has(h.id);
  const hints = fitHints([...all.filter(isUrgent), ...all.filter((h) => !isUrgent(h))], columns, (h) => h.scope === 'global' || isUrgent(h));
  const footer = !isRawModeSupported ? (
    <C color="yellow">keys off: stdin is not a terminal · ctrl-c quits</C>
  ) : (
    <Box>
      <Text wrap="truncate">
        {hints.map((h, i) => (
          <Text key={`${h.key}${i}`} dimColor={h.refused}>
            <Text bold>{h.key}</Text> {h.label}
            {h.refused ? '(read-only)' : ''}
            {i < hints.length - 1 ? ' · ' : ''}
          </Text>
        ))}
      </Text>
    </Box>
  );
  const statusLine = busy ? (
    <Text>
      <Spinner type="dots" /> {busy}
    </Text>
  ) : flash && now - flash.at < FLASH_MS ? (
    <C color={flash.color}>{flash.text}</C>
  ) : props.notice && props.notice.until > now ? (
    <C color={props.notice.color}>{props.notice.text}</C>
  ) : (
    <C dim>{`${Object.keys(state.checks).length} checks · refresh ${formatDuration(props.config.refresh)} · checks every ${formatDuration(props.config.interval)}`}</C>
  );

  // Each view's root has its own key, so React mounts a view afresh instead of reshaping the last
  // one's boxes: Ink does not reset a style prop a box loses (a flexDirection, a display), and the
  // dashboard came back from the logs view with its gauges and datastores laid out in a column
  // that its height then hid.
  if (getWizard()) {
    return (
      <Box key="wizard" flexDirection="column" width={columns}>
        {header}
        <RestoreWizard
          databases={props.config.databases.map((d) => d.name)}
          suggest={wizardSuggestions(props.config.databases.map((d) => d.name), alerts)}
          {...(wizardUnfinished.current ? { unfinished: unfinishedMap(props.config.databases.map((d) => d.name), wizardUnfinished.current) } : {})}
          keys={props.keys}
          start={props.actions.restore}
          width={columns}
          height={height - 1}
          onBack={() => setWizard(false)}
          keysRef={wizardKeys}
        />
      </Box>
    );
  }

  if (logs) {
    // The logs view stays mounted under a dialog (help), so the follow and its lines survive.
    return (
      <Box key="logs" flexDirection="column" width={columns}>
        {header}
        <Box display={dialog ? 'none' : 'flex'} flexDirection="column">
          <LogsView
            target={logs}
            follow={props.actions.follow}
            keys={props.keys}
            width={columns}
            height={height - 3}
            jumpTo={oldestFiring}
            onBack={() => setLogs(undefined)}
            onQuit={exit}
            onHelp={() => setDialog({ kind: 'help', view: 'logs' })}
            keysRef={logsKeys}
          />
        </Box>
        {dialog ? <DialogView dialog={dialog} keys={props.keys} readOnly={props.readOnly} width={columns} height={height - 2} history={props.actions.history} now={now} /> : null}
        {footer}
      </Box>
    );
  }

  if (dialog) {
    return (
      <Box key="dialog" flexDirection="column" width={columns}>
        {header}
        <DialogView dialog={dialog} keys={props.keys} readOnly={props.readOnly} width={columns} height={height - 2} history={props.actions.history} now={now} />
        {footer}
      </Box>
    );
  }

  const stacked = columns < STACK_BELOW;
  const dockerConfigured = props.config.docker.all_containers || props.config.services.some((s) => !!(s.container ?? s.compose_service));
  const hostRows = Math.min(3 + (state.host.data?.filesystems.length ?? 1), stacked ? 5 : 7);
  const storeLines = Math.max(2, Object.keys(state.databases).length + Object.keys(state.redis).length + Object.keys(state.endpoints).length + 1);
  const fixed = 1 + 1 + 1; // header, status line, footer
  if (stacked) {
    const rest = height - fixed - hostRows - Math.min(storeLines, 5);
    // Without containers to list, the Alerts pane takes the room (an operator at 80×24 saw one alert
    // and "+4 more" above five empty lines); otherwise it gets up to half, with room for the selected
    // alert's message under the list.
    const noContainers = !state.docker.data || state.docker.data.containers.length === 0;
    const alertRows = noContainers ? Math.max(2, rest - 3) : Math.max(2, Math.min(alerts.length + 1 + (alerts.length ? 3 : 0), Math.floor(rest / 2)));
    const containerRowsH = Math.max(noContainers ? 2 : 3, rest - alertRows);
    return (
      <Box key="stacked" flexDirection="column" width={columns}>
        {header}
        <HostPane host={state.host} thresholds={props.config.thresholds} history={props.history} width={columns} maxRows={hostRows} />
        <ContainersPane docker={state.docker} configured={dockerConfigured} selected={selC} focused={focus === 'containers'} width={columns} height={containerRowsH} now={now} />
        <Box height={Math.min(storeLines, 5)} overflowY="hidden" flexDirection="column">
          <DatastoresPane state={state} width={columns} now={now} />
        </Box>
        <AlertsPane alerts={alerts} acks={props.actions.acks} selected={selA} focused={focus === 'alerts'} width={columns} height={alertRows} now={now} />
        {statusLine}
        {footer}
      </Box>
    );
  }
  const left = Math.floor(columns * 0.55);
  const right = columns - left - 1;
  const topH = Math.max(hostRows, Math.min(storeLines, 8));
  const bottomH = height - fixed - topH;
  return (
    <Box key="side-by-side" flexDirection="column" width={columns}>
      {header}
      {/* overflowY only: every line is already truncated to its pane's width (Text wrap="truncate"),
          and a horizontal clip makes Ink re-slice each line of the box on every frame (slice-ansi;
          ~20% of the console's CPU at idle, issue #3). */}
      <Box height={topH} overflowY="hidden">
        <Box width={left} flexDirection="column">
          <HostPane host={state.host} thresholds={props.config.thresholds} history={props.history} width={left} maxRows={topH} />
        </Box>
        <Box width={1} />
        <Box width={right} flexDirection="column">
          <DatastoresPane state={state} width={right} now={now} />
        </Box>
      </Box>
      <Box height={bottomH} overflowY="hidden">
        <Box width={left} flexDirection="column">
          <ContainersPane docker={state.docker} configured={dockerConfigured} selected={selC} focused={focus === 'containers'} width={left} height={bottomH} now={now} />
        </Box>
        <Box width={1} />
        <Box width={right} flexDirection="column">
          <AlertsPane alerts={alerts} acks={props.actions.acks} selected={selA} focused={focus === 'alerts'} width={right} height={bottomH} now={now} />
        </Box>
      </Box>
      {statusLine}
      {footer}
    </Box>
  );
}

function DialogView(props: {
  dialog: Dialog;
  keys: readonly KeyBinding[];
  readOnly: boolean;
  width: number;
  height: number;
  history: ConsoleActions['history'];
  now: number;
}) {
  const { dialog, width } = props;
  switch (dialog.kind) {
    case 'confirm':
      return (
        <Box flexDirection="column" borderStyle="round" width={Math.min(width, 90)} paddingX={1}>
          {dialog.preview.map((l, i) => (
            <C key={i} bold={i === 0} color={i === 0 ? 'yellow' : undefined} wrap="wrap">
              {l}
            </C>
          ))}
          <Text>
            <Text bold>y</Text> {dialog.action} now · <Text bold>n</Text> cancel
          </Text>
        </Box>
      );
    case 'silence':
      return (
        <Box flexDirection="column" borderStyle="round" width={Math.min(width, 70)} paddingX={1}>
          <C bold>{`Silence ${dialog.alert.checkId} for:`}</C>
          <Text>{SILENCES.map(([label], i) => `${i + 1}) ${label}`).join('   ')}   esc cancel</Text>
        </Box>
      );
    case 'details': {
      // The header (title, message, since) always shows; the message is bounded and the evidence is
      // a window that ↑/↓ scroll (issue #11: a corrupt database's quick_check pushed the header off).
      const a = dialog.alert;
      const inner = width - 4;
      const msg = a.message.split('\n').flatMap((line) => wrapColumns(line, inner));
      const msgRows = Math.max(1, Math.min(msg.length, Math.floor((props.height - 8) / 3)));
      const shownMsg = msg.length > msgRows ? [...msg.slice(0, msgRows - 1), fit(`${msg[msgRows - 1] ?? ''}… (+${msg.length - msgRows + 1} lines)`, inner)] : msg;
      const all = props.history(a.checkId);
      const room = Math.max(1, props.height - 7 - shownMsg.length);
      const end = Math.max(0, all.length - dialog.back);
      const hist = all.slice(Math.max(0, end - room), end);
      const older = Math.max(0, end - hist.length);
      return (
        <Box flexDirection="column" borderStyle="round" width={width} paddingX={1}>
          <C bold color={statusColor(a.status)}>{fit(`${a.checkId}: ${a.state} ${a.status.toUpperCase()}`, inner)}</C>
          {shownMsg.map((l, i) => (
            <C key={`m${i}`}>{l}</C>
          ))}
          <C>{fit(`failing since ${a.since ? new Date(a.since).toLocaleTimeString() : '-'}${a.firedAt ? ` · fired ${new Date(a.firedAt).toLocaleTimeString()}` : ''} · ${a.failStreak} failed / ${a.passStreak} passed in a row`, inner)}</C>
          <C bold>{fit(`probe history (newest last${older ? `; ${older} older: ↑` : ''}${dialog.back ? `; ${dialog.back} newer: ↓` : ''})`, inner)}</C>
          {hist.map((h, i) => (
            <C key={i} color={statusColor(h.status as 'ok')}>
              {fit(`${new Date(h.at).toLocaleTimeString()} ${h.status.toUpperCase().padEnd(8)} ${h.message.replace(/\s+/g, ' ')}`, inner)}
            </C>
          ))}
          <C dim>↑↓ scroll · esc close</C>
        </Box>
      );
    }
    case 'pick-log': {
      const win = windowRows(dialog.targets, dialog.selected, Math.max(3, props.height - 4));
      return (
        <Box flexDirection="column" borderStyle="round" width={Math.min(width, 80)} paddingX={1}>
          <C bold>Follow which log?</C>
          {win.rows.map((t, i) => {
            const n = win.offset + i;
            return (
              <C key={`${t.kind}:${t.id}`} inverse={n === dialog.selected}>
                {fit(`${n < 9 ? `${n + 1})` : '  '} ${t.kind === 'container' ? 'container' : 'file     '} ${t.name}${t.kind === 'file' ? `  ${t.id}` : ''}`, Math.min(width, 80) - 4)}
              </C>
            );
          })}
          {win.hidden > 0 ? <C dim>{`+${win.hidden} more`}</C> : null}
          <C dim>{`↑↓ choose · enter${dialog.targets.length > 1 ? ` or 1-${Math.min(9, dialog.targets.length)}` : ''} follow · esc cancel`}</C>
        </Box>
      );
    }
    case 'help': {
      const lines = helpLines(props.keys, dialog.view, props.readOnly);
      // Two columns when one does not fit the height and the terminal is wide enough.
      const room = Math.max(1, props.height - 2);
      const columns = lines.length > room && width >= 120 ? 2 : 1;
      const colW = Math.floor(width / columns);
      const perCol = Math.ceil(lines.length / columns);
      const cols = Array.from({ length: columns }, (_, i) => lines.slice(i * perCol, (i + 1) * perCol));
      const hidden = Math.max(0, perCol - room);
      return (
        <Box flexDirection="column" width={width}>
          <C bold>{`Keys of the ${dialog.view === 'logs' ? 'logs view' : 'dashboard'} (remap them in the config under \`keys:\`)`}</C>
          <Box>
            {cols.map((col, ci) => (
              <Box key={ci} flexDirection="column" width={colW}>
                {col.slice(0, hidden ? room - 1 : room).map((l) => (
                  <C key={l.id} dim={l.refused}>
                    {fit(l.text, colW - 1)}
                  </C>
                ))}
              </Box>
            ))}
          </Box>
          {hidden ? <C dim>{`+${hidden * columns} more: a taller terminal shows every key`}</C> : null}
          <C dim>esc close</C>
        </Box>
      );
    }
  }
}
