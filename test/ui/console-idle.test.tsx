import type * as Ink from 'ink';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { validate } from '../../src/config/load.js';
import type { ContainerInfo, ContainerStats } from '../../src/domain/observations.js';
import { createAppStore } from '../../src/state/store.js';
import { App, type ConsoleActions } from '../../src/ui/App.js';
import { containerRows, uptimeText } from '../../src/ui/format/cells.js';
import { textWidth, widthCache } from '../../src/ui/ink/width.js';
import { KEY_TABLE } from '../../src/ui/keys.js';
import { createHostHistory } from '../../src/ui/useHostHistory.js';
import { cpuLines } from '../../src/services/host.js';
import { renderApp } from '../helpers/render.js';

// Issue #27 (the console's idle CPU): a container row whose text is unchanged is not drawn again
// (uptimes at the granularity an operator reads, memoised lines), and every visible change still is.

// Ink's Text, counted by the text it draws (the one way to see which lines React drew again).
const drawn: string[] = [];
const inverse: string[] = [];
vi.mock('ink', async (importOriginal) => {
  const ink = await importOriginal<typeof Ink>();
  const Text = (props: Parameters<typeof ink.Text>[0]) => {
    if (typeof props.children === 'string') drawn.push(props.children);
    if (typeof props.children === 'string' && props.inverse) inverse.push(props.children);
    return ink.Text(props);
  };
  return { ...ink, Text };
});

const T0 = Date.parse('2026-12-03T13:00:00Z');
const container = (i: number, over: Partial<ContainerInfo> = {}, started = true): ContainerInfo => ({
  id: `c${i}x`.padEnd(64, '0'), name: `idle${String(i).padStart(2, '0')}`, image: 'busybox', state: 'running', health: 'none', restartCount: 0, exitCode: 0,
  ...(started ? { startedAt: T0 - 150_000 - i * 1000 } : {}), pid: 100 + i, tty: false, labels: {}, ...over,
});
const stat = (mem: number): ContainerStats => ({ cpuPercent: 0, memUsedBytes: mem, memPercent: 0, source: 'cgroup' });

function setup() {
  let now = T0;
  const config = validate({ name: 'idle', docker: { all_containers: true } }, 'test');
  const store = createAppStore();
  const { actions } = store.getState();
  const host = (cpu: number) => ({
    hostname: 'box', takenAt: now, cpuCount: 2, cpuPercent: cpu, load: [1, 1, 1] as [number, number, number], memory: { totalBytes: 100, usedBytes: 40, percent: 40 },
    filesystems: [], network: { rxBytes: 0, txBytes: 0, rxBytesPerSec: 0, txBytesPerSec: 0 }, uptimeSec: 1, source: 'proc' as const,
  });
  let containers = Array.from({ length: 20 }, (_, i) => container(i));
  const docker = (mem: (i: number) => number) =>
    actions.setEnvelope('docker', { data: { endpoint: 'unix:///x', containers, stats: Object.fromEntries(containers.map((c, i) => [c.id, stat(mem(i))])) } }, now);
  actions.setEnvelope('host', { data: host(11) }, now);
  docker(() => 4096 * 77);
  const noop = () => undefined;
  const consoleActions: ConsoleActions = {
    containerAction: () => Promise.resolve({ ok: true, value: { note: '', exitedAgain: false } }), follow: () => Promise.resolve({ stop: noop }), refresh: noop,
    ack: noop, silence: noop, acks: () => ({ acknowledged: false }), audit: noop, history: () => [], restore: () => ({ answer: noop }), runbook: () => ({ answer: noop }),
  };
  const { history } = createHostHistory(store, 2000);
  const r = renderApp(<App store={store} config={config} keys={KEY_TABLE} readOnly={false} history={history} actions={consoleActions} hostname="box" now={() => now} />, { columns: 160, rows: 40 });
  return {
    ...r,
    /** One refresh, `ms` later: the host's CPU figure, the containers' memory (and, optionally, a new list). */
    refresh: (ms: number, cpu: number, mem: (i: number) => number, list?: ContainerInfo[]) => {
      now += ms;
      if (list) containers = list;
      actions.setEnvelope('host', { data: host(cpu) }, now);
      docker(mem);
    },
  };
}

const rowsDrawn = () => drawn.filter((t) => /^idle\d\d\s/.test(t));

afterEach(() => {
  drawn.length = 0;
  inverse.length = 0;
});

describe('console at idle (issue #27)', () => {
  it('a refresh that changes only the host gauges draws no container line again', async () => {
    const { waitFor, refresh, unmount } = setup();
    await waitFor((f) => f.includes('11%') && f.includes('idle19'));
    drawn.length = 0;
    // 2 s later: the uptimes still read the same minute, the memory the same.
    refresh(2000, 37, () => 4096 * 77);
    await waitFor((f) => f.includes('37%'));
    expect(rowsDrawn()).toEqual([]);
    unmount();
  });

  it('a refresh draws the footer no more, and still draws what changed (the CPU gauge, the footer after tab)', async () => {
    const { waitFor, refresh, press, frames, unmount } = setup();
    const f0 = await waitFor((f) => f.includes('11%') && f.includes('idle19'));
    const footer0 = f0.trim().split('\n').at(-1) ?? '';
    expect(footer0).toContain('quit');
    drawn.length = 0;
    refresh(2000, 37, () => 4096 * 77);
    await waitFor((f) => f.includes('37%'));
    // The CPU gauge's line (a memoised line of its own now) is drawn again; the footer is not.
    expect(drawn).toContain('cpu   ');
    expect(drawn.some((t) => t.includes('37'))).toBe(true);
    expect(drawn).not.toContain('q');
    // Focus moves to the alerts pane: the footer's hints change, and are drawn within that frame.
    drawn.length = 0;
    const before = frames.length;
    await press('\t');
    const f1 = await waitFor(() => frames.length > before && (frames.at(-1)?.trim().split('\n').at(-1) ?? '') !== footer0);
    expect(drawn).toContain('q');
    expect(f1.trim().split('\n').at(-1)).not.toBe(footer0);
    unmount();
  });

  it('draws every visible change of a row within the refresh: memory, state, uptime, a new and a removed container', async () => {
    const { waitFor, refresh, unmount } = setup();
    await waitFor((f) => f.includes('idle19'));
    // One container's memory changes: that line, and only it, is drawn again.
    drawn.length = 0;
    refresh(2000, 12, (i) => (i === 3 ? 4096 * 99 : 4096 * 77));
    let f = await waitFor((x) => /idle03 .* 396 KiB/.test(x));
    expect(f).toMatch(/idle04 .* 308 KiB/);
    expect(rowsDrawn().map((t) => t.slice(0, 6))).toEqual(['idle03']);
    // A minute later every uptime reads one minute more.
    refresh(60_000, 13, () => 4096 * 77);
    f = await waitFor((x) => /idle00 .* 3m /.test(x));
    expect(f).toMatch(/idle19 .* 3m /);
    // idle05 died, idle20 was created, idle19 was removed: the table says so at once.
    const list = Array.from({ length: 19 }, (_, i) => container(i, i === 5 ? { state: 'exited', exitCode: 137 } : {}));
    list.push(container(20, { state: 'created' }, false));
    refresh(2000, 14, () => 4096 * 77, list);
    f = await waitFor((x) => x.includes('exited(137)') && x.includes('idle20'));
    expect(f).not.toContain('idle19');
    expect(f).toMatch(/Containers \(18\/20 running\)/);
    unmount();
  });

  it('a row of the same figures at another width is fitted to that width (the pane keeps row texts by figures and widths)', async () => {
    const { waitFor, resize, unmount } = setup();
    const wide = await waitFor((f) => f.includes('idle19'));
    const line = (f: string) => f.split('\n').find((l) => l.includes('idle03')) ?? '';
    expect(line(wide)).toMatch(/idle03 .* 308 KiB/);
    resize(100, 40);
    const narrow = await waitFor((f) => f.includes('idle19') && !/idle03 .* 308 KiB/.test(line(f)));
    expect(line(narrow)).toContain('idle03');
    resize(160, 40);
    const again = await waitFor((f) => /idle03 .* 308 KiB/.test(line(f)));
    expect(line(again)).toBe(line(wide));
    unmount();
  });

  it('moves the selection mark when a key moves it: both lines are drawn again', async () => {
    const { waitFor, press, frames, unmount } = setup();
    await waitFor((f) => f.includes('idle19'));
    drawn.length = 0;
    inverse.length = 0;
    const before = frames.length;
    await press('j');
    await waitFor(() => frames.length > before);
    expect(rowsDrawn().map((t) => t.slice(0, 6)).sort()).toEqual(['idle00', 'idle01']);
    expect(inverse.filter((t) => t.startsWith('idle')).map((t) => t.slice(0, 6))).toEqual(['idle01']);
    unmount();
  });
});

describe('figures at an operator\'s granularity', () => {
  it.each([
    [500, '500ms'],
    [45_000, '45s'],
    [60_000, '1m'],
    [150_000, '2m'],
    [3_599_000, '59m'],
    [3_600_000, '1h'],
    [3_900_000, '1h5m'],
    [26 * 3_600_000, '1d2h'],
  ])('uptime of %i ms reads %s', (ms, text) => {
    expect(uptimeText(ms)).toBe(text);
  });

  it('containerRows hands out the same rows for the same list, figures and time (App and the pane, one frame)', () => {
    const list = [container(1), container(2)];
    const stats = { [list[0]!.id]: stat(1) };
    const a = containerRows(list, stats, T0);
    expect(containerRows(list, stats, T0)).toBe(a);
    expect(containerRows(list, { ...stats }, T0)).not.toBe(a);
    expect(containerRows(list, stats, T0 + 1)).not.toBe(a);
  });

  it('counts the CPUs in /proc/stat as os.cpus() does (cpuN lines)', () => {
    expect(cpuLines('cpu  1 2 3\ncpu0 1 2 3\ncpu1 1 2 3\nintr 5\nctxt 9\n')).toBe(2);
    expect(cpuLines('intr 5\n')).toBe(0);
  });

  it('keeps the width of a long text, and answers as before', () => {
    const text = `idle07                    running     -  ${Date.now()}`;
    expect(textWidth(text)).toBe(text.length);
    expect(widthCache.size).toBeGreaterThan(0);
    expect(textWidth(`${text} 日本`)).toBe(text.length + 5);
  });
});
