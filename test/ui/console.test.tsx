import { describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import type { Alert } from '../../src/domain/alerts.js';
import { ok, type Result } from '../../src/domain/result.js';
import type { ContainerInfo } from '../../src/services/docker.js';
import { createAppStore } from '../../src/state/store.js';
import { App, type ConsoleActions } from '../../src/ui/App.js';
import { KEY_TABLE, FORBIDDEN_KEYS, buildKeyTable, footerHints } from '../../src/ui/keys.js';
import { bar, containerRows, sparkline, visibleColumns, windowRows } from '../../src/ui/format/cells.js';
import { compileFilter, logLineColor } from '../../src/ui/format/logs.js';
import { createHostHistory } from '../../src/ui/useHostHistory.js';
import { renderApp } from '../helpers/render.js';

// Component tests of the console with plain values in the store (no adapters are involved: the UI
// only reads the store and calls the injected actions).

const container = (name: string, over: Partial<ContainerInfo> = {}): ContainerInfo => ({
  id: `${name}-id-0123456789`, name, image: 'busybox', state: 'running', health: 'healthy', restartCount: 0, exitCode: 0,
  startedAt: Date.now() - 3_600_000, pid: 1, tty: false, labels: {}, ...over,
});

function setup(opts: { readOnly?: boolean; size?: { columns: number; rows: number }; containers?: ContainerInfo[] } = {}) {
  const config = validate({ name: 'trading', docker: { all_containers: true } }, 'test');
  const store = createAppStore();
  const { actions } = store.getState();
  actions.setEnvelope('host', { data: {
    hostname: 'box', takenAt: 1, cpuCount: 2, cpuPercent: 91, load: [1, 1, 1], memory: { totalBytes: 100, usedBytes: 40, percent: 40 },
    filesystems: [{ mount: '/', device: 'd', type: 'ext4', sizeBytes: 1e9, usedBytes: 5e8, percent: 50 }], network: { rxBytes: 0, txBytes: 0, rxBytesPerSec: 1024, txBytesPerSec: 2048 }, uptimeSec: 1, source: 'proc',
  } }, 1);
  const containers = opts.containers ?? [container('api'), container('worker', { state: 'exited', exitCode: 137 }), container('web', { health: 'unhealthy' })];
  actions.setEnvelope('docker', { data: { endpoint: 'unix:///x', containers, stats: {} } }, 1);
  actions.setChecks([{ id: 'system:health', kind: 'system', target: 'stack', status: 'ok', value: 75, message: '' }]);
  const alert: Alert = { checkId: 'redis:cache', state: 'firing', failStreak: 3, passStreak: 0, status: 'critical', message: 'Redis at redis://127.0.0.1:6379 refused the connection', since: Date.now() - 60_000, firedAt: Date.now() - 30_000 };
  actions.setAlerts([alert]);
  const calls: string[] = [];
  const acked = new Set<string>();
  const consoleActions: ConsoleActions = {
    containerAction: (kind, c): Promise<Result<void>> => {
      calls.push(`${kind}:${c.name}`);
      return Promise.resolve(ok(undefined));
    },
    follow: () => Promise.resolve({ stop: () => undefined }),
    refresh: () => calls.push('refresh'),
    ack: (a) => {
      acked.add(a.checkId);
      calls.push(`ack:${a.checkId}`);
    },
    silence: (a, ms) => calls.push(`silence:${a.checkId}:${ms}`),
    acks: (a) => ({ acknowledged: acked.has(a.checkId) }),
    audit: (action, target, outcome) => calls.push(`audit:${action}:${target}:${outcome}`),
    history: () => [{ at: Date.now(), status: 'critical', message: 'refused' }],
  };
  const { history } = createHostHistory(store, 2000);
  const r = renderApp(
    <App store={store} config={config} keys={KEY_TABLE} readOnly={!!opts.readOnly} history={history} actions={consoleActions} hostname="box" size={opts.size ?? { columns: 120, rows: 40 }} />,
  );
  return { ...r, calls, store };
}

describe('console layout', () => {
  it('shows header, gauges, containers with problems first, alerts and footer hints', async () => {
    const { waitFor, frame } = setup();
    await waitFor((f) => f.includes('Alerts (1 firing)'));
    const f = frame();
    expect(f).toContain(' trading ');
    expect(f).toContain('health 75%');
    expect(f).toMatch(/cpu\s+█+░*\s+91%/);
    const lines = f.split('\n');
    const order = ['web', 'worker', 'api'].map((n) => lines.findIndex((l) => new RegExp(`^${n}\\s`).test(l)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(f).toContain('exited(137)');
    expect(f).toMatch(/CRITICAL\s+redis:cache/);
    expect(f).toMatch(/r restart · x stop/);
  });

  it('stacks panes below 100 columns and stays shorter than the terminal at 80×24', async () => {
    const { waitFor } = setup({ size: { columns: 80, rows: 24 } });
    const f = await waitFor((x) => x.includes('Alerts'));
    expect(f.split('\n').length).toBeLessThan(24);
    expect(f.split('\n').every((l) => l.length <= 80)).toBe(true);
    expect(f).toContain('Datastores');
  });

  it('says when the terminal is too small', async () => {
    const { waitFor } = setup({ size: { columns: 50, rows: 10 } });
    await waitFor((f) => f.includes('terminal too small (need 60×16, have 50×10)'));
  });

  it('windows a long container list with "+N more"', async () => {
    const many = Array.from({ length: 40 }, (_, i) => container(`svc-${String(i).padStart(2, '0')}`));
    const { waitFor } = setup({ containers: many, size: { columns: 80, rows: 24 } });
    await waitFor((f) => /\+\d+ more/.test(f));
  });
});

describe('console keys', () => {
  it('restart previews exactly what will happen and runs only after y', async () => {
    const { press, waitFor, calls, frames } = setup();
    await waitFor((f) => f.includes('Containers'));
    await press('r');
    const f = await waitFor((x) => x.includes('Restart container web'));
    expect(f).toContain('SIGTERM, waits up to 10 s, then SIGKILL');
    expect(calls).toEqual([]);
    await press('y');
    await waitFor(() => calls.includes('restart:web'));
    expect(frames.some((x) => x.includes('restart web: done'))).toBe(true);
  });

  it('a burst of keys ("ry" in one read) is handled key by key', async () => {
    const { press, waitFor, calls } = setup();
    await waitFor((f) => f.includes('Containers'));
    await press('ry');
    await waitFor(() => calls.includes('restart:web'));
  });

  it('n cancels, and the cancellation is audited', async () => {
    const { press, waitFor, calls } = setup();
    await waitFor((f) => f.includes('Containers'));
    await press('x');
    await waitFor((f) => f.includes('Stop container web'));
    await press('n');
    await waitFor((f) => f.includes('stop web: cancelled'));
    expect(calls).toEqual(['audit:container.stop:web:cancelled']);
  });

  it('in read-only mode a dangerous key stays visible, marked, and says why it is refused', async () => {
    const { press, waitFor, calls, frame } = setup({ readOnly: true });
    await waitFor((f) => f.includes('[READ-ONLY]'));
    expect(frame()).toContain('restart(read-only)');
    await press('r');
    await waitFor((f) => f.includes('refused — opsdeck runs in --read-only mode'));
    expect(calls).toEqual(['audit:container.restart:web:refused']);
  });

  it('tab focuses alerts; a acknowledges, s silences for a chosen time, enter shows the probe history', async () => {
    const { press, waitFor, calls } = setup();
    await waitFor((f) => f.includes('Alerts'));
    await press('\t');
    await press('a');
    await waitFor((f) => f.includes('redis:cache acknowledged'));
    await press('s');
    await waitFor((f) => f.includes('Silence redis:cache for:'));
    await press('2');
    await waitFor((f) => f.includes('silenced for 1h'));
    await press('\r');
    await waitFor((f) => f.includes('probe history (newest last)'));
    expect(calls).toEqual(['ack:redis:cache', 'silence:redis:cache:3600000']);
  });

  it('? shows every key from the key table', async () => {
    const { press, waitFor } = setup();
    await waitFor((f) => f.includes('Containers'));
    await press('?');
    const f = await waitFor((x) => x.includes('Keys (remap'));
    for (const b of KEY_TABLE.slice(0, 12)) expect(f).toContain(b.description);
  });
});

describe('key table', () => {
  it('no two commands of one scope share a key, and nothing is bound to tmux prefixes', () => {
    const seen = new Set<string>();
    for (const b of KEY_TABLE) {
      for (const k of b.keys) {
        expect(seen.has(`${b.scope}:${k}`), `${b.scope}:${k}`).toBe(false);
        seen.add(`${b.scope}:${k}`);
        expect(FORBIDDEN_KEYS).not.toContain(k);
      }
    }
    // global keys are not shadowed by the dashboard scopes
    const global = KEY_TABLE.filter((b) => b.scope === 'global').flatMap((b) => b.keys);
    for (const b of KEY_TABLE.filter((x) => ['dashboard', 'containers', 'alerts'].includes(x.scope))) for (const k of b.keys) expect(global).not.toContain(k);
  });
  it('remaps from config and refuses unknown commands and tmux prefixes', () => {
    expect(buildKeyTable({ 'container.restart': ['R2'] }).find((b) => b.id === 'container.restart')?.keys).toEqual(['R2']);
    expect(() => buildKeyTable({ 'nope.x': ['z'] })).toThrow(/unknown command/);
    expect(() => buildKeyTable({ 'app.quit': ['ctrl+b'] })).toThrow(/tmux's prefix/);
  });
  it('footer hints come from the table and mark dangerous ones in read-only mode', () => {
    const hints = footerHints(KEY_TABLE, ['containers'], true);
    expect(hints.find((h) => h.label === 'restart')).toEqual({ key: 'r', label: 'restart', refused: true });
    expect(hints.find((h) => h.label === 'logs')?.refused).toBe(false);
  });
});

describe('formatting', () => {
  it.each([
    [0, 10, '░░░░░░░░░░'],
    [50, 10, '█████░░░░░'],
    [100, 4, '████'],
    [150, 4, '████'],
  ])('bar(%i, %i)', (p, w, s) => expect(bar(p, w)).toBe(s));
  it('sparkline scales to the maximum and right-aligns', () => {
    expect(sparkline([0, 50, 100], 5, 100)).toBe('  ▁▅█');
  });
  it('drops optional columns first on narrow panes', () => {
    expect(visibleColumns(200).map((c) => c.key)).toEqual(['name', 'state', 'health', 'cpu', 'uptime', 'restarts', 'mem']);
    expect(visibleColumns(55).map((c) => c.key)).toEqual(['name', 'state', 'health', 'cpu']);
  });
  it('windows rows around the selection', () => {
    const w = windowRows([...Array(10).keys()], 8, 5);
    expect(w).toEqual({ rows: [5, 6, 7, 8], offset: 5, hidden: 6 });
  });
  it('sorts problem containers first', () => {
    const rows = containerRows([container('b'), container('a', { state: 'restarting' })], {}, Date.now());
    expect(rows.map((r) => r.name)).toEqual(['a', 'b']);
  });
  it.each([
    ['2026-11-23 ERROR db down', 'red'],
    ['WARN slow query', 'yellow'],
    ['INFO all good', undefined],
  ])('log line %s', (line, color) => expect(logLineColor(line)).toBe(color));
  it('an invalid filter is reported, not thrown', () => {
    expect(compileFilter('([').error).toMatch(/invalid regular expression/);
  });
});
