import { describe, expect, it } from 'vitest';
import { dashboardLayout, frameHeight, MIN_COLUMNS, MIN_ROWS, STACK_BELOW, tooSmall, viewHeights, type DashboardLayout, type LayoutInput } from '../../src/ui/console/layout.js';

// The console's layout arithmetic (issue #15, part 3): which panes, how big, as pure numbers.

/** One filesystem, no datastores, three containers, one alert: the console test's setup. */
const input = (columns: number, rows: number, over: Partial<LayoutInput> = {}): LayoutInput => ({ columns, rows, filesystems: 1, stores: 0, containers: 3, alerts: 1, ...over });

/** Rows the dashboard draws: header, panes, status line, footer. */
function drawnRows(l: DashboardLayout): number {
  switch (l.kind) {
    case 'too-small':
      return 1;
    case 'stacked':
      return 1 + l.hostRows + l.containersHeight + l.storesHeight + l.alertsHeight + 2;
    case 'side-by-side':
      return 1 + l.topHeight + l.bottomHeight + 2;
  }
}

describe('terminal too small', () => {
  it.each([
    [50, 10, 'terminal too small (need 60×16, have 50×10)'],
    [59, 40, 'terminal too small (need 60×16, have 59×40)'],
    [200, 15, 'terminal too small (need 60×16, have 200×15)'],
    [60, 16, undefined],
  ])('%i×%i → %j', (columns, rows, message) => {
    expect(tooSmall(columns, rows)).toBe(message);
    expect(dashboardLayout(input(columns, rows)).kind === 'too-small').toBe(message !== undefined);
  });
  it('the minimum is 60×16', () => {
    expect([MIN_COLUMNS, MIN_ROWS, STACK_BELOW]).toEqual([60, 16, 100]);
  });
});

describe('the dashboard’s panes', () => {
  it.each([
    ['80×24: stacked', input(80, 24), { kind: 'stacked', width: 80, height: 23, hostRows: 4, containersHeight: 6, storesHeight: 2, alertsHeight: 8 }],
    ['80×24 with 20 containers: the alerts keep up to half', input(80, 24, { containers: 20 }), { kind: 'stacked', width: 80, height: 23, hostRows: 4, containersHeight: 9, storesHeight: 2, alertsHeight: 5 }],
    // Without containers the Alerts pane takes the room (issue #11: one alert and "+4 more" above empty lines).
    ['80×24 without containers', input(80, 24, { containers: 0 }), { kind: 'stacked', width: 80, height: 23, hostRows: 4, containersHeight: 3, storesHeight: 2, alertsHeight: 11 }],
    ['80×24 before Docker answered', input(80, 24, { containers: undefined }), { kind: 'stacked', width: 80, height: 23, hostRows: 4, containersHeight: 3, storesHeight: 2, alertsHeight: 11 }],
    ['80×24 with many filesystems and datastores: both capped', input(80, 24, { filesystems: 6, stores: 9 }), { kind: 'stacked', width: 80, height: 23, hostRows: 5, containersHeight: 5, storesHeight: 5, alertsHeight: 5 }],
    ['80×24 with no alert', input(80, 24, { alerts: 0 }), { kind: 'stacked', width: 80, height: 23, hostRows: 4, containersHeight: 12, storesHeight: 2, alertsHeight: 2 }],
    ['99×30: still stacked', input(99, 30), { kind: 'stacked', width: 99, height: 29, hostRows: 4, containersHeight: 12, storesHeight: 2, alertsHeight: 8 }],
    ['100×30: side by side', input(100, 30), { kind: 'side-by-side', width: 100, height: 29, hostRows: 4, left: 55, right: 44, topHeight: 4, bottomHeight: 22 }],
    ['160×48: side by side', input(160, 48), { kind: 'side-by-side', width: 160, height: 47, hostRows: 4, left: 88, right: 71, topHeight: 4, bottomHeight: 40 }],
    ['160×48 with many datastores: the top row grows to 8', input(160, 48, { stores: 12 }), { kind: 'side-by-side', width: 160, height: 47, hostRows: 4, left: 88, right: 71, topHeight: 8, bottomHeight: 36 }],
    ['160×48 with many filesystems: the gauges capped at 7', input(160, 48, { filesystems: 9 }), { kind: 'side-by-side', width: 160, height: 47, hostRows: 7, left: 88, right: 71, topHeight: 7, bottomHeight: 37 }],
  ] as const)('%s', (_n, i, want) => {
    expect(dashboardLayout(i)).toEqual(want);
  });

  it.each([
    [60, 16],
    [80, 24],
    [99, 40],
    [100, 24],
    [120, 40],
    [160, 48],
    [200, 50],
  ])('at %i×%i the frame is one row shorter than the terminal and the columns add up', (columns, rows) => {
    for (const over of [{}, { containers: 0 }, { alerts: 0 }, { alerts: 12 }, { filesystems: 4 }]) {
      const l = dashboardLayout(input(columns, rows, over));
      expect(drawnRows(l)).toBe(frameHeight(rows));
      if (l.kind === 'side-by-side') expect(l.left + 1 + l.right).toBe(columns);
    }
  });

  it('the other views: what sits under the header', () => {
    expect(viewHeights(24)).toEqual({ wizard: 22, logs: 20, dialog: 21 });
  });
});
