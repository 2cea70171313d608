// The console's layout arithmetic (issue #15, part 3): which panes, and how many rows and columns
// each gets, as pure functions of the terminal size and of how much there is to show.

/** Below this the console says "terminal too small". */
export const MIN_COLUMNS = 60;
export const MIN_ROWS = 16;
/** Below this width panes stack instead of sitting side by side. */
export const STACK_BELOW = 100;

/** The header, the status line and the footer: one row each, on every dashboard layout. */
const FIXED_ROWS = 3;

/** What the dashboard has to show, as counts. */
export interface LayoutInput {
  columns: number;
  rows: number;
  /** Filesystems the host gauges list; undefined before the first host sample (one row kept). */
  filesystems?: number | undefined;
  /** Databases, Redis servers and endpoints together (one line each in Datastores). */
  stores: number;
  /** Containers seen; undefined before Docker answered. */
  containers?: number | undefined;
  /** Alerts in the Alerts pane. */
  alerts: number;
}

/** The dashboard's panes and their sizes; `height` is the frame's (one row shorter than the terminal). */
export type DashboardLayout =
  | { kind: 'too-small'; message: string }
  | { kind: 'stacked'; width: number; height: number; hostRows: number; containersHeight: number; storesHeight: number; alertsHeight: number }
  | { kind: 'side-by-side'; width: number; height: number; hostRows: number; left: number; right: number; topHeight: number; bottomHeight: number };

/** "terminal too small (need 60×16, have 50×10)", or undefined when the console fits. */
export function tooSmall(columns: number, rows: number): string | undefined {
  return columns < MIN_COLUMNS || rows < MIN_ROWS ? `terminal too small (need ${MIN_COLUMNS}×${MIN_ROWS}, have ${columns}×${rows})` : undefined;
}

/**
 * The frame's height: one row shorter than the terminal, since a full-height frame makes Ink clear
 * the screen (flicker in tmux).
 */
export function frameHeight(rows: number): number {
  return rows - 1;
}

/** Rows left for what sits under the header of each other view (the wizard; the logs view and a dialog over the footer). */
export function viewHeights(rows: number): { wizard: number; logs: number; dialog: number } {
  const height = frameHeight(rows);
  return { wizard: height - 1, logs: height - 3, dialog: height - 2 };
}

/** The dashboard's layout at this size, for this much to show. */
export function dashboardLayout(i: LayoutInput): DashboardLayout {
  const message = tooSmall(i.columns, i.rows);
  if (message) return { kind: 'too-small', message };
  const height = frameHeight(i.rows);
  const stacked = i.columns < STACK_BELOW;
  const hostRows = Math.min(3 + (i.filesystems ?? 1), stacked ? 5 : 7);
  const storeLines = Math.max(2, i.stores + 1);
  if (stacked) {
    const storesHeight = Math.min(storeLines, 5);
    const rest = height - FIXED_ROWS - hostRows - storesHeight;
    // Without containers to list, the Alerts pane takes the room (an operator at 80×24 saw one alert
    // and "+4 more" above five empty lines); otherwise it gets up to half, with room for the selected
    // alert's message under the list.
    // The room a short container list leaves goes to the selected alert's message too (up to the 6
    // lines the pane gives it), not to empty rows under the containers (an operator's trial at 80×24:
    // the message cut to "(is the…" above three empty rows).
    const noContainers = !i.containers;
    const half = Math.min(i.alerts + 1 + (i.alerts ? 3 : 0), Math.floor(rest / 2));
    const spare = rest - ((i.containers ?? 0) + 2);
    const alertsHeight = noContainers ? Math.max(2, rest - 3) : Math.max(2, Math.min(i.alerts + 1 + (i.alerts ? 6 : 0), Math.max(half, spare)));
    const containersHeight = Math.max(noContainers ? 2 : 3, rest - alertsHeight);
    return { kind: 'stacked', width: i.columns, height, hostRows, containersHeight, storesHeight, alertsHeight };
  }
  const left = Math.floor(i.columns * 0.55);
  const right = i.columns - left - 1;
  const topHeight = Math.max(hostRows, Math.min(storeLines, 8));
  return { kind: 'side-by-side', width: i.columns, height, hostRows, left, right, topHeight, bottomHeight: height - FIXED_ROWS - topHeight };
}
