import { describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import type { Alert } from '../../src/domain/alerts.js';
import { ok, type Result } from '../../src/domain/result.js';
import type { ContainerInfo, ContainerOutcome } from '../../src/domain/observations.js';
import { createAppStore } from '../../src/state/store.js';
import { App, FLASH_MS, type ConsoleActions } from '../../src/ui/App.js';
import { KEY_TABLE, FORBIDDEN_KEYS, buildKeyTable, fitHints, footerHints, hintText } from '../../src/ui/keys.js';
import type { LogLine } from '../../src/services/logs.js';
import type { LogTarget } from '../../src/ui/LogsView.js';
import { alertStateLabel, bar, containerRows, fit, levelColor, sparkline, visibleColumns, windowRows, wrapColumns } from '../../src/ui/format/cells.js';
import stringWidth from 'string-width';
import { compileFilter, logLineColor, printableLogText } from '../../src/ui/format/logs.js';
import { createHostHistory } from '../../src/ui/useHostHistory.js';
import Output from '../../src/ui/ink/output.js';
// Ink's own frame buffer (not in its package exports): the one these component tests render through.
import InkOutput from '../../node_modules/ink/build/output.js';
import { cells, renderApp } from '../helpers/render.js';

// Component tests of the console with plain values in the store (no adapters are involved: the UI
// only reads the store and calls the injected actions).

const container = (name: string, over: Partial<ContainerInfo> = {}): ContainerInfo => ({
  id: `${name}-id-0123456789`, name, image: 'busybox', state: 'running', health: 'healthy', restartCount: 0, exitCode: 0,
  startedAt: Date.now() - 3_600_000, pid: 1, tty: false, labels: {}, ...over,
});

interface SetupOptions {
  readOnly?: boolean;
  size?: { columns: number; rows: number };
  containers?: ContainerInfo[];
  logs?: { name: string; path: string }[];
  follow?: ConsoleActions['follow'];
  stdinIsTTY?: boolean;
  now?: () => number;
}

function setup(opts: SetupOptions = {}) {
  const config = validate({ name: 'trading', docker: { all_containers: true }, logs: opts.logs ?? [] }, 'test');
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
    containerAction: (kind, c): Promise<Result<ContainerOutcome>> => {
      calls.push(`${kind}:${c.name}`);
      return Promise.resolve(ok({ note: 'done', exitedAgain: false }));
    },
    follow: opts.follow ?? (() => Promise.resolve({ stop: () => undefined })),
    refresh: () => calls.push('refresh'),
    ack: (a) => {
      acked.add(a.checkId);
      calls.push(`ack:${a.checkId}`);
    },
    silence: (a, ms) => calls.push(`silence:${a.checkId}:${ms}`),
    acks: (a) => ({ acknowledged: acked.has(a.checkId) }),
    audit: (action, target, outcome) => calls.push(`audit:${action}:${target}:${outcome}`),
    history: () => [{ at: Date.now(), status: 'critical', message: 'refused' }],
    restore: (args) => {
      calls.push(`restore:${args.join(' ')}`);
      return { answer: (a) => calls.push(`answer:${a}`) };
    },
    runbook: (start) => {
      calls.push(`runbook:${start.runbook}:${start.target.name}:${start.check ?? '-'}`);
      return { answer: (a) => calls.push(`answer:${a}`) };
    },
  };
  const { history } = createHostHistory(store, 2000);
  const size = opts.size ?? { columns: 120, rows: 40 };
  const r = renderApp(<App store={store} config={config} keys={KEY_TABLE} readOnly={!!opts.readOnly} history={history} actions={consoleActions} hostname="box" {...(opts.now ? { now: opts.now } : {})} />, {
    ...size,
    ...(opts.stdinIsTTY === false ? { stdinIsTTY: false } : {}),
  });
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

  it('an alert message in Chinese stays in its row at 80×24: no line wider than the terminal, none pushed below', async () => {
    const { waitFor, store } = setup({ size: { columns: 80, rows: 24 } });
    const since = Date.now() - 5_000;
    // Short messages (padded to the pane) and long ones (cut), at offsets that put the edge of the
    // pane inside a wide character in some rows and between two in others.
    store.getState().actions.setAlerts(
      [0, 1, 2, 3].map((k) => ({
        checkId: `http:quotes${k}`, state: 'firing' as const, failStreak: 3, passStreak: 0, status: 'critical' as const,
        message: k < 2 ? `${'x'.repeat(k)}http://127.0.0.1:9/健康检查` : `${'x'.repeat(k)}http://127.0.0.1:9/健康检查: 连接被拒绝（行情接口不可用）`, since, firedAt: since,
      })),
    );
    const f = await waitFor((x) => x.includes('http:quotes3'));
    const lines = f.split('\n');
    expect(lines.filter((l) => stringWidth(l) > 80)).toEqual([]);
    for (let k = 0; k < 4; k++) expect(lines.find((l) => l.includes(`http:quotes${k}`))).toMatch(k === 0 ? /健康检查$/ : /健康.*…\s?$/);
    expect(lines.filter((l) => l.trim() === '…')).toEqual([]);
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
    await waitFor((x) => x.includes('restart web: done'));
    expect(frames.length).toBeGreaterThan(0);
  });

  it('the selection follows the container, not the row: another container failing re-sorts the rows and r still restarts the chosen one', async () => {
    const healthy = [container('api'), container('billing'), container('cache')];
    const { press, waitFor, calls, store } = setup({ containers: healthy });
    await waitFor((f) => /^api\s[\s\S]*^billing\s[\s\S]*^cache\s/m.test(f));
    await press('j'); // billing
    // cache fails: problems first, so billing is now the third row and api the second.
    store.getState().actions.setEnvelope('docker', { data: { endpoint: 'unix:///x', containers: [container('api'), container('billing'), container('cache', { state: 'exited', exitCode: 1 })], stats: {} } }, 2);
    await waitFor((f) => /^cache\s[\s\S]*^api\s[\s\S]*^billing\s/m.test(f));
    await press('r');
    await waitFor((x) => x.includes('Restart container billing'));
    await press('y');
    await waitFor(() => calls.includes('restart:billing'));
    expect(calls.filter((c) => c.startsWith('restart:'))).toEqual(['restart:billing']);
  });

  it('the first row shown stays selected when a failure re-sorts the rows (no key pressed yet)', async () => {
    const { press, waitFor, calls, store } = setup({ containers: [container('api'), container('billing')] });
    await waitFor((f) => /^api\s[\s\S]*^billing\s/m.test(f));
    store.getState().actions.setEnvelope('docker', { data: { endpoint: 'unix:///x', containers: [container('api'), container('billing', { health: 'unhealthy' })], stats: {} } }, 2);
    await waitFor((f) => /^billing\s[\s\S]*^api\s/m.test(f));
    await press('r');
    await waitFor((x) => x.includes('Restart container api'));
    await press('y');
    await waitFor(() => calls.includes('restart:api'));
  });

  it('a burst of keys ("ry" in one read) is handled key by key', async () => {
    const { press, waitFor, calls } = setup();
    await waitFor((f) => f.includes('Containers'));
    await press('ry');
    await waitFor(() => calls.includes('restart:web'));
  });

  it('a burst with a tab in it ("\\ta": tmux sends Tab then a) moves focus, then acknowledges', async () => {
    const { press, waitFor, calls } = setup();
    await waitFor((f) => f.includes('Alerts (1 firing)'));
    await press('\ta');
    await waitFor(() => calls.includes('ack:redis:cache'));
  });

  it('a filter typed with a backspace in the burst ("/ERRX\\x7fOR\\r")', async () => {
    const logs = fakeLogs();
    const { press, waitFor } = setup({ follow: logs.follow });
    await waitFor((f) => f.includes('Containers'));
    await press('l');
    await waitFor(() => logs.followed.length > 0);
    logs.emit({ stream: 'stdout', text: 'INFO fine' });
    logs.emit({ stream: 'stdout', text: 'ERROR broken' });
    await waitFor((f) => f.includes('ERROR broken'));
    await press('/ERRX\x7fOR\r');
    await waitFor((f) => f.includes('filter /ERROR/ 1 of 2 lines'));
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

  it('in read-only mode a and s (acknowledge, silence) are refused and the refusal is audited; nothing is saved (issue #12)', async () => {
    const { press, waitFor, calls } = setup({ readOnly: true });
    await waitFor((f) => f.includes('[READ-ONLY]'));
    await press('A');
    await press('a');
    await waitFor((f) => f.includes('acknowledge the selected alert: refused — opsdeck runs in --read-only mode'));
    await press('s');
    expect(calls).toEqual(['audit:alert.ack:redis:cache:refused', 'audit:alert.silence:redis:cache:refused']);
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
    const f = await waitFor((x) => x.includes('Keys of the dashboard'));
    for (const b of KEY_TABLE.slice(0, 12)) expect(f).toContain(b.description);
    // Help closes with esc; its footer does not offer a confirm dialog's y / n.
    expect(f).not.toContain('y yes');
  });

  it('? at 80×24 scrolls with ↑/↓ to the last keys (they were cut off behind "+N more"), and back at once from the end', async () => {
    const { press, waitFor, frame } = setup({ size: { columns: 80, rows: 24 } });
    await waitFor((f) => f.includes('Alerts'));
    await press('?');
    const first = await waitFor((x) => x.includes('Keys of the dashboard'));
    const total = Number(/keys 1–\d+ of (\d+) · ↑\/↓ scroll/.exec(first)?.[1]);
    expect(total).toBeGreaterThan(10);
    // The global keys come last: not on the first page.
    expect(first).not.toContain('run every check now');
    for (let i = 0; i < total; i++) await press('j');
    const end = await waitFor((x) => x.includes('run every check now'));
    const shown = /keys (\d+)–(\d+) of/.exec(end);
    expect(Number(shown?.[2])).toBe(total);
    // ↓ past the end stays at the end; one ↑ moves back at once.
    await press('k');
    await waitFor((x) => new RegExp(`keys ${Number(shown?.[1]) - 1}–${total - 1} of`).test(x));
    expect(frame()).not.toContain('run every check now');
  });
});

describe('the console’s frame buffer (scripts/build.mjs swaps it in for Ink’s)', () => {
  it('draws every frame of the dashboard, its help, a dialog and at 80×24 as Ink’s own does, cell by cell', async () => {
    // Every frame Ink builds here is built again by src/ui/ink/output.ts from the same writes.
    const compared: { ours: string[][]; ink: string[][] }[] = [];
    // eslint-disable-next-line @typescript-eslint/unbound-method -- put back below, and called with its own this
    const original = InkOutput.prototype.get;
    InkOutput.prototype.get = function (this: InkOutput) {
      const ink = original.call(this);
      const ours = new Output({ width: this.width, height: this.height });
      ours.operations = (this as unknown as Output).operations;
      compared.push({ ours: cells(ours.get().output), ink: cells(ink.output) });
      return ink;
    };
    try {
      const many = Array.from({ length: 30 }, (_, i) => container(`svc-${i}`, i % 7 === 0 ? { health: 'unhealthy' } : {}));
      const wide = setup({ containers: many, size: { columns: 160, rows: 48 } });
      await wide.waitFor((f) => f.includes('Alerts (1 firing)'));
      await wide.press('j');
      await wide.press('r');
      await wide.waitFor((f) => f.includes('y yes'));
      await wide.press('n');
      await wide.press('?');
      await wide.waitFor((f) => f.includes('Keys of the dashboard'));
      wide.unmount();
      const narrow = setup({ size: { columns: 80, rows: 24 } });
      await narrow.waitFor((f) => f.includes('Alerts'));
      narrow.unmount();
    } finally {
      InkOutput.prototype.get = original;
    }
    expect(compared.length).toBeGreaterThan(4);
    for (const c of compared) expect(c.ours).toEqual(c.ink);
  });
});

describe('terminal size', () => {
  it('re-lays out at once on resize: side by side, stacked below 100 columns, too small, back', async () => {
    const { waitFor, resize } = setup({ size: { columns: 120, rows: 40 } });
    // Side by side: the datastores pane sits on the CPU gauge's line.
    await waitFor((f) => f.split('\n').some((l) => l.startsWith('cpu') && l.includes('Datastores & endpoints')));
    resize(80, 24);
    const stacked = await waitFor((f) => f.includes('Datastores') && !f.split('\n').some((l) => l.startsWith('cpu') && l.includes('Datastores')));
    expect(stacked.split('\n').length).toBeLessThan(24);
    expect(stacked.split('\n').every((l) => l.length <= 80)).toBe(true);
    resize(50, 12);
    await waitFor((f) => f.includes('terminal too small (need 60×16, have 50×12)'));
    resize(160, 48);
    const wide = await waitFor((f) => f.includes('Alerts (1 firing)'));
    expect(wide.split('\n').length).toBeLessThan(48);
    // The MEM column (the most optional) comes back at full width.
    expect(wide).toMatch(/NAME\s+STATE\s+HEALTH\s+CPU\s+UP\s+RST\s+MEM/);
  });

  it('without a keyboard (stdin not a terminal) the console still renders and says keys are off', async () => {
    const { waitFor } = setup({ stdinIsTTY: false });
    await waitFor((f) => f.includes('keys off: stdin is not a terminal · ctrl-c quits') && f.includes('Containers'));
  });
});

describe('a dependency going away', () => {
  it('Docker unreachable: the containers pane keeps the last rows, turns stale with the reason, and recovers', async () => {
    const { waitFor, store } = setup();
    await waitFor((f) => /web\s+running/.test(f));
    const { actions } = store.getState();
    actions.setEnvelope('docker', { error: { kind: 'unavailable', source: 'docker', message: 'Docker at unix:///x refused the connection' } }, 2);
    const stale = await waitFor((f) => f.includes('stale: Docker at unix:///x refused the connection'));
    expect(stale).toMatch(/web\s+running/);
    actions.setEnvelope('docker', { data: { endpoint: 'unix:///x', containers: [container('api')], stats: {} } }, 3);
    await waitFor((f) => !f.includes('stale:') && f.includes('Containers (1/1 running)'));
  });

  it('Docker never reached: the pane says why instead of blanking', async () => {
    const { waitFor, store } = setup();
    const { actions } = store.getState();
    const fresh = createAppStore();
    store.setState({ docker: fresh.getState().docker });
    actions.setEnvelope('docker', { error: { kind: 'unavailable', source: 'docker', message: 'no Docker engine at unix:///gone.sock' } }, 2);
    await waitFor((f) => f.includes('no Docker engine at unix:///gone.sock'));
  });

  it('Redis down: its line says DOWN with the reason and keeps the last figures', async () => {
    const { waitFor, store } = setup({ size: { columns: 160, rows: 48 } });
    const { actions } = store.getState();
    actions.setKeyed('redis', 'cache', { data: { latencyMs: 1, usedMemoryBytes: 1024, maxMemoryBytes: 0, evictedKeys: 0, hitRatio: 0.5, rdbLastBgsaveStatus: 'ok' } }, 1);
    await waitFor((f) => /redis cache\s+1 ms/.test(f));
    actions.setKeyed('redis', 'cache', { error: { kind: 'unavailable', source: 'redis', message: 'Redis at 127.0.0.1:6379 refused the connection' } }, 2);
    await waitFor((f) => f.includes('DOWN: Redis at 127.0.0.1:6379 refused the connection'));
  });
});

/** A fake log source: pushes lines when told to; records what was followed and stopped. */
/** The console at 80×24 with the selected container's logs open (l) and followed. */
async function logsAt80x24() {
  const logs = fakeLogs();
  const { press, waitFor } = setup({ follow: logs.follow, size: { columns: 80, rows: 24 } });
  await waitFor((f) => f.includes('Containers'));
  await press('l');
  await waitFor(() => logs.followed.length > 0);
  return { logs, press, waitFor };
}

function fakeLogs() {
  const followed: LogTarget[] = [];
  let push: (l: LogLine) => void = () => undefined;
  let stopped = 0;
  const follow: ConsoleActions['follow'] = (t, onLine) => {
    followed.push(t);
    push = onLine;
    return Promise.resolve({ stop: () => void stopped++ });
  };
  return { follow, followed, emit: (l: LogLine) => push(l), stopped: () => stopped };
}

describe('logs view', () => {
  it('o picks a container or a configured log file; the file is followed', async () => {
    const logs = fakeLogs();
    const { press, waitFor } = setup({ logs: [{ name: 'app-log', path: '/var/log/app.log' }], follow: logs.follow });
    await waitFor((f) => f.includes('Containers'));
    await press('o');
    const picker = await waitFor((f) => f.includes('Follow which log?'));
    expect(picker).toMatch(/1\) container web/);
    expect(picker).toMatch(/4\) file\s+app-log\s+\/var\/log\/app.log/);
    // The picker says its own keys; the confirm dialog's "y yes · n no" is not offered.
    expect(picker).toContain('enter or 1-4 follow');
    expect(picker).not.toContain('y yes');
    await press('4');
    await waitFor((f) => f.includes('Logs: app-log'));
    await waitFor(() => logs.followed.length > 0); // the follow starts in an effect
    expect(logs.followed).toEqual([{ kind: 'file', id: '/var/log/app.log', name: 'app-log' }]);
    logs.emit({ stream: 'file', text: 'ERROR disk full' });
    await waitFor((f) => f.includes('ERROR disk full'));
  });

  it('the filter prompt: ctrl-u clears the line, and no control character joins the pattern (it was typed in unseen)', async () => {
    const { logs, press, waitFor } = await logsAt80x24();
    logs.emit({ stream: 'stdout', text: 'listening on 8080' });
    await waitFor((f) => f.includes('listening on 8080'));
    await press('/');
    await press('GET /api');
    await press('\x15'); // ctrl-u, as the terminal sends it
    await press('listen\x01\x1b[Cing'); // a paste with a control character and an arrow in it
    await press('\r');
    const f = await waitFor((x) => x.includes('filter /listening/'));
    expect(f).toContain('listening on 8080');
    expect(f).not.toMatch(/GET|\\x1|[\u0000-\u0008\u000b-\u001f]/);
  });

  it('/ again shows the filter in use, selected: typing replaces it, backspace edits it (not /listeningERROR)', async () => {
    const { logs, press, waitFor } = await logsAt80x24();
    logs.emit({ stream: 'stdout', text: 'listening on 8080' });
    logs.emit({ stream: 'stderr', text: 'ERROR disk full' });
    await waitFor((f) => f.includes('ERROR disk full'));
    await press('/');
    await press('listening');
    await press('\r');
    await waitFor((x) => x.includes('filter /listening/'));
    await press('/');
    await waitFor((x) => x.includes('typing replaces it'));
    await press('ERROR');
    await press('\r');
    const f = await waitFor((x) => x.includes('filter /ERROR/'));
    expect(f).toContain('ERROR disk full');
    await press('/');
    await press('\x7f');
    await press('\r');
    await waitFor((x) => x.includes('filter /ERRO/'));
  });

  it('a stack trace with tabs and a progress line with carriage returns stay one row each, inside the width', async () => {
    const { logs, waitFor } = await logsAt80x24();
    logs.emit({ stream: 'stderr', text: 'Exception in thread "main" java.lang.IllegalStateException: boom' });
    logs.emit({ stream: 'stderr', text: '\tat com.example.trading.OrderBook.match(OrderBook.java:42)\tmore' });
    logs.emit({ stream: 'stdout', text: 'download 10%\rdownload 55%\rdownload 100%\u0007' });
    const f = await waitFor((x) => x.includes('download 100%'));
    expect(f).toContain('        at com.example.trading.OrderBook.match(OrderBook.java:42)       more');
    expect(f).toContain('download 10% download 55% download 100%');
    expect(f).not.toMatch(/[\t\r\u0007]/);
  });

  it('esc from the logs view brings the whole dashboard back at 200×50: gauges, datastores, footer', async () => {
    const logs = fakeLogs();
    const { press, waitFor, frame } = setup({ follow: logs.follow, size: { columns: 200, rows: 50 } });
    await waitFor((f) => f.includes('Containers') && f.includes('Datastores'));
    const before = frame().split('\n').length;
    await press('l');
    await waitFor(() => logs.followed.length > 0);
    for (let i = 0; i < 100; i++) logs.emit({ stream: 'stdout', text: `INFO line ${i}` });
    await waitFor((f) => f.includes('line 99'));
    await press('\u001B');
    const back = await waitFor((f) => f.includes('Containers'));
    expect(back).toMatch(/^cpu\s+█/m);
    expect(back).toContain('Datastores & endpoints');
    expect(back).toMatch(/q quit/);
    expect(back.split('\n').length).toBe(before);
  });

  it('the picker moves with j/k and opens with enter; esc cancels', async () => {
    const logs = fakeLogs();
    const { press, waitFor } = setup({ follow: logs.follow });
    await waitFor((f) => f.includes('Containers'));
    await press('o');
    await waitFor((f) => f.includes('Follow which log?'));
    await press('\u001B');
    await waitFor((f) => !f.includes('Follow which log?'));
    await press('o');
    await waitFor((f) => f.includes('Follow which log?'));
    await press('j');
    await press('\r');
    await waitFor((f) => f.includes('Logs: worker'));
    await waitFor(() => logs.followed.length > 0); // the follow starts in an effect
    expect(logs.followed.map((t) => t.name)).toEqual(['worker']);
  });

  it('keeps up with a fast stream; the / filter narrows it; p pauses; esc goes back and stops the follow', async () => {
    const logs = fakeLogs();
    const { press, waitFor, frame } = setup({ follow: logs.follow });
    await waitFor((f) => f.includes('Containers'));
    await press('l');
    await waitFor((f) => f.includes('Logs: web'));
    await waitFor(() => logs.followed.length > 0); // the follow starts in an effect
    // 20 000 lines in one go: batched into frames, all kept (32 MB by default: issue #26).
    for (let i = 1; i <= 20_000; i++) logs.emit({ stream: 'stdout', text: i % 100 === 0 ? `ERROR request ${i} failed` : `INFO request ${i} ok` });
    await waitFor((f) => f.includes('INFO request 19999 ok') && f.includes('20,000 lines'));
    await press('/ERROR\r');
    const filtered = await waitFor((f) => f.includes('filter /ERROR/ 200 of 20,000 lines'));
    const body = filtered.split('\n').filter((l) => /request \d+/.test(l));
    expect(body.length).toBeGreaterThan(10);
    expect(body.every((l) => l.includes('ERROR'))).toBe(true);
    expect(filtered).toContain('ERROR request 20000 failed');
    await press('p');
    await waitFor((f) => f.includes('PAUSED'));
    logs.emit({ stream: 'stdout', text: 'ERROR request 20100 failed' });
    await new Promise((r) => setTimeout(r, 600)); // two ticks: a paused view must not move
    expect(frame()).not.toContain('20100');
    await press('p');
    await waitFor((f) => f.includes('ERROR request 20100 failed') && f.includes('following'));
    await press('\u001B');
    await waitFor((f) => f.includes('Containers'));
    await waitFor(() => logs.stopped() === 1); // the follow stops in the view's effect cleanup
  });

  it('g jumps back to when the oldest firing alert started', async () => {
    const logs = fakeLogs();
    const { press, waitFor, store } = setup({ size: { columns: 100, rows: 24 }, follow: logs.follow });
    const since = store.getState().alerts['redis:cache']?.since ?? 0;
    await waitFor((f) => f.includes('Containers'));
    await press('l');
    await waitFor((f) => f.includes('Logs: web'));
    await waitFor(() => logs.followed.length > 0); // the follow starts in an effect
    for (let i = 0; i < 200; i++) logs.emit({ stream: 'stdout', at: since - 100_000 + i * 1000, text: `line ${i} at ${i - 100}s` });
    await waitFor((f) => f.includes('line 199 at 99s'));
    await press('g');
    const jumped = await waitFor((f) => f.includes('(oldest firing alert)'));
    const first = jumped.split('\n').find((l) => l.startsWith('line '));
    expect(first).toBe('line 100 at 0s'.padEnd(first?.length ?? 0));
    expect(jumped).toContain('PAUSED');
  });

  it('? in the logs view shows the logs keys; the follow survives it', async () => {
    const logs = fakeLogs();
    const { press, waitFor } = setup({ follow: logs.follow });
    await waitFor((f) => f.includes('Containers'));
    await press('l');
    await waitFor((f) => f.includes('Logs: web'));
    await waitFor(() => logs.followed.length > 0); // the follow starts in an effect
    logs.emit({ stream: 'stdout', text: 'before help' });
    await waitFor((f) => f.includes('before help'));
    await press('?');
    const help = await waitFor((f) => f.includes('Keys of the logs view'));
    expect(help).toContain('filter lines by a regular expression');
    expect(help).not.toContain('restart the selected container');
    await press('\u001B');
    await waitFor((f) => f.includes('before help') && f.includes('Logs: web'));
    expect(logs.followed.length).toBe(1);
  });
});

describe('key table', () => {
  it('footer hints fit the width; quit and help always stay', () => {
    const hints = footerHints(KEY_TABLE, ['containers', 'dashboard', 'global'], true);
    const fitted = fitHints(hints, 80, (h) => h.scope === 'global');
    const text = fitted.map(hintText).join(' · ');
    expect(text.length).toBeLessThanOrEqual(80);
    expect(text).toContain('r restart(read-only)');
    expect(text).toContain('? help');
    expect(fitHints(hints, 20, (h) => h.scope === 'global').map((h) => h.key)).toEqual(['q', '?']);
  });

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
    expect(buildKeyTable({ 'container.restart': ['T'] }).find((b) => b.id === 'container.restart')?.keys).toEqual(['T']);
    expect(() => buildKeyTable({ 'nope.x': ['z'] })).toThrow(/unknown command/);
    expect(() => buildKeyTable({ 'app.quit': ['ctrl+b'] })).toThrow(/tmux's prefix/);
  });
  it('footer hints come from the table and mark dangerous ones in read-only mode', () => {
    const hints = footerHints(KEY_TABLE, ['containers'], true);
    expect(hints.find((h) => h.label === 'restart')).toMatchObject({ key: 'r', label: 'restart', refused: true });
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
  it.each([
    [50, 80, undefined, 'green'],
    [80, 80, undefined, 'green'],
    [81, 80, undefined, 'yellow'],
    [99, 80, undefined, 'yellow'],
    [91, 80, 90, 'red'],
    [85, 80, 90, 'yellow'],
  ])('gauge %i%% with warn %i, critical %s is %s (the host check\'s level)', (v, w, c, color) => expect(levelColor(v, w, c)).toBe(color));
  it.each([
    [{ acknowledged: false }, 'firing'],
    [{ acknowledged: true }, 'acknowledged'],
    [{ acknowledged: true, silencedUntil: 1_000 + 3_600_000 }, 'silenced 1h'],
    [{ acknowledged: false, silencedUntil: 500 }, 'firing'],
  ])('alert state with %o is %s', (ack, label) => {
    const a: Alert = { checkId: 'x', state: 'firing', failStreak: 3, passStreak: 0, status: 'critical', message: '', since: 0, firedAt: 0 };
    expect(alertStateLabel(a, ack, 1_000)).toBe(label);
  });
  it.each([
    ['ASCII padded', 'abc', 5, 'left', 'abc  '],
    ['ASCII cut', 'abcdef', 4, 'left', 'abc…'],
    ['right-aligned', 'ok', 4, 'right', '  ok'],
    ['Chinese fits exactly', '健康检查', 8, 'left', '健康检查'],
    ['Chinese padded by columns', '健康', 6, 'right', '  健康'],
    ['Chinese cut between characters', '健康检查', 7, 'left', '健康检…'],
    ['Chinese cut inside a character', '健康检查', 6, 'left', '健康… '],
    ['mixed', 'url /健康', 8, 'left', 'url /健…'],
  ] as const)('fit by columns: %s', (_n, text, width, align, out) => {
    expect(fit(text, width, align)).toBe(out);
    expect(stringWidth(fit(text, width, align))).toBe(width);
  });
  it.each([
    ['short', 'abc', 5, ['abc']],
    ['ASCII at the width', 'abcdefgh', 3, ['abc', 'def', 'gh']],
    ['a path in Chinese', '/data/备份/交易/safety.db', 10, ['/data/备份', '/交易/safe', 'ty.db']],
    ['a wide character wider than the width', '备份', 1, ['备', '份']],
    ['words are not cut when a space is near', 'opsdeck restore --db trading --merge', 18, ['opsdeck restore ', '--db trading ', '--merge']],
  ] as const)('wrapColumns: %s', (_n, text, width, pieces) => {
    expect(wrapColumns(text, width)).toEqual(pieces);
    expect(wrapColumns(text, width).join('')).toBe(text);
  });
  it('wrapColumns: a cut just before a space does not start the next piece with it (an operator saw "│  stays stopped")', () => {
    expect(wrapColumns('It stays stopped until started.', 8)).toEqual(['It stays', 'stopped ', 'until ', 'started.']);
    expect(wrapColumns('then (docker stop -t 10). It stays stopped', 26)).toEqual(['then (docker stop -t 10). ', 'It stays stopped']);
  });
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
  it.each([
    ['plain', 'INFO ok', 'INFO ok'],
    ['tab stops of 8', 'a\tb\tc', 'a       b       c'],
    ['a tab at a stop', '12345678\tx', '12345678        x'],
    ['colours kept for Ink', '\u001b[31mred\u001b[39m', '\u001b[31mred\u001b[39m'],
    ['CR, backspace, DEL', 'a\rb\bc\x7f', 'a b c '],
  ])('printable log text: %s', (_n, text, shown) => expect(printableLogText(text)).toBe(shown));
  it('an invalid filter is reported, not thrown', () => {
    expect(compileFilter('([').error).toMatch(/invalid regular expression/);
  });
});

describe('the console helps in the moment (issue #11)', () => {
  const long = 'HTTP 503 from http://127.0.0.1:8000/api/v1/health: upstream trading engine unreachable; over the last 20 probes: errors 35%, failures 35%';
  it("the selected alert's whole message is readable under the list at 120×32, without opening anything", async () => {
    const { waitFor, store } = setup({ size: { columns: 120, rows: 32 } });
    const since = Date.now() - 600_000; // older than the setup's alert: sorted first, so selected
    store.getState().actions.setAlerts([{ checkId: 'http:api', state: 'firing', failStreak: 3, passStreak: 0, status: 'critical', message: long, since, firedAt: since }]);
    const f = await waitFor((x) => x.includes('▸ http:api'));
    const joined = f.split('\n').map((l) => l.slice(Math.floor(120 * 0.55) + 1).trim()).join(' ').replace(/\s+/g, ' ');
    expect(joined).toContain('upstream trading engine unreachable; over the last 20 probes: errors 35%, failures 35%');
  });

  it('alert details of a long, multi-line message keep the title and "failing since"; the evidence scrolls', async () => {
    const { press, waitFor, store } = setup({ size: { columns: 100, rows: 24 } });
    const since = Date.now() - 600_000; // sorted first, so selected
    const quick = Array.from({ length: 40 }, (_, i) => `*** in database main ***\nPage ${i + 2}: btreeInitPage() returns error code 11`).join('\n');
    store.getState().actions.setAlerts([{ checkId: 'sqlite:trading', state: 'firing', failStreak: 3, passStreak: 0, status: 'critical', message: `/d/trading.db failed quick_check: ${quick}`, since, firedAt: since }]);
    await waitFor((x) => x.includes('sqlite:trading'));
    await press('\t');
    await press('\r');
    const f = await waitFor((x) => x.includes('probe history'));
    const lines = f.split('\n');
    expect(lines.length).toBeLessThan(24);
    expect(f).toMatch(/sqlite:trading: firing CRITICAL/);
    expect(f).toMatch(/failing since/);
    expect(f).toMatch(/… \(\+\d+ lines\)/);
    expect(f).toMatch(/↑↓ scroll · esc close/);
  });

  it('at 80×24 the footer keeps W while a database alert fires and r while a container alert fires', async () => {
    const { waitFor, store } = setup({ size: { columns: 80, rows: 24 } });
    const since = Date.now() - 5_000;
    const a = (checkId: string): Alert => ({ checkId, state: 'firing', failStreak: 3, passStreak: 0, status: 'critical', message: 'x', since, firedAt: since });
    store.getState().actions.setAlerts([a('sqlite:trading:rows'), a('container:worker')]);
    const f = await waitFor((x) => x.includes('sqlite:trading:rows'));
    const footer = f.split('\n').filter((l) => l.trim()).at(-1) ?? '';
    expect(footer).toMatch(/\bW wizard\b/);
    expect(footer).toMatch(/\br restart\b/);
    expect(footer).toMatch(/\bq quit\b/);
  });

  it("a status-line message expires after about 10 s (a restart's 'done' does not stay forever)", async () => {
    let clock = Date.now();
    const { press, waitFor, frame } = setup({ now: () => clock });
    await waitFor((x) => x.includes('Containers'));
    await press('R');
    await waitFor((x) => x.includes('running every check now'));
    clock += FLASH_MS - 1000;
    await press('j'); // any key redraws, as the clock does
    expect(frame()).toContain('running every check now');
    clock += 2000;
    await press('k');
    await waitFor((x) => !x.includes('running every check now'));
  });

  it('the focused pane is marked without colour (▶, inverse); A jumps to Alerts', async () => {
    const { press, waitFor } = setup();
    let f = await waitFor((x) => x.includes('Containers'));
    expect(f).toMatch(/▶ Containers/);
    expect(f).not.toMatch(/▶ Alerts/);
    await press('A');
    f = await waitFor((x) => x.includes('▶ Alerts'));
    expect(f).not.toMatch(/▶ Containers/);
  });
});

describe('the selected alert follows its check, not its row', () => {
  it('an alert that sorts above the selected one does not steal a', async () => {
    const { press, waitFor, store, calls } = setup();
    const a = (checkId: string, ago: number): Alert => ({ checkId, state: 'firing', failStreak: 3, passStreak: 0, status: 'critical', message: 'x', since: Date.now() - ago, firedAt: Date.now() - ago });
    store.getState().actions.setAlerts([a('http:api', 600_000)]);
    await waitFor((f) => f.includes('http:api'));
    await press('A');
    await press('j'); // http:api first (older), redis:cache second: select redis:cache
    await waitFor((f) => f.includes('▸ redis:cache'));
    store.getState().actions.setAlerts([a('http:older', 900_000)]); // now sorts first
    await waitFor((f) => f.includes('http:older'));
    await press('a');
    expect(calls.filter((c) => c.startsWith('ack:'))).toEqual(['ack:redis:cache']);
  });
});

describe('the restore wizard says when there is nothing to resume', () => {
  it('resume / roll back keep their numbers and say "none is unfinished now" when the journal has none', async () => {
    const { wizardModes } = await import('../../src/ui/RestoreWizard.js');
    const { unfinishedMap } = await import('../../src/ui/App.js');
    expect(unfinishedMap(['a', 'b'], new Set(['b']))).toEqual({ a: false, b: true });
    expect(wizardModes('a', false).map((m) => m.label.endsWith('— none is unfinished now'))).toEqual([false, false, false, true, true, false]);
    expect(wizardModes('b', true).some((m) => m.label.includes('none is unfinished'))).toBe(false);
    // With one unfinished, the new ways say they are refused and point at 4 and 5.
    expect(wizardModes('b', true).map((m) => m.label.endsWith('— refused while a restore is unfinished: 4 resumes it, 5 rolls it back'))).toEqual([true, true, true, false, false, true]);
    expect(wizardModes('a', false).some((m) => m.label.includes('refused'))).toBe(false);
    expect(wizardModes('c').some((m) => m.label.includes('none is unfinished'))).toBe(false);
  });
});
