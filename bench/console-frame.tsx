// The console's drawing alone, in process (issue #27 point 2): the App with the build's Ink swaps,
// fed 50 idle containers and the host's gauges, N refreshes of 2 s simulated time each, into a
// 160×48 terminal; prints the CPU milliseconds per refresh. Bundled and run by bench/console-frame.mjs
// (once per source tree, so the build before runs in the same run). No Docker, no /proc: only what a
// refresh costs to draw, far steadier on a loaded machine than the whole console's CPU.
import { EventEmitter } from 'node:events';
import { render } from 'ink';
import { validate } from '../src/config/load.js';
import type { ContainerInfo, ContainerStats } from '../src/domain/observations.js';
import { createAppStore } from '../src/state/store.js';
import { App, type ConsoleActions } from '../src/ui/App.js';
import { KEY_TABLE } from '../src/ui/keys.js';
import { createHostHistory } from '../src/ui/useHostHistory.js';

class Terminal extends EventEmitter {
  isTTY = true;
  columns = 160;
  rows = 48;
  bytes = 0;
  write = (s: string): boolean => {
    this.bytes += s.length;
    return true;
  };
}
class Keys extends EventEmitter {
  isTTY = true;
  read = (): null => null;
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

const N = Number(process.env.N ?? 60);
const config = validate({ name: 'bench', refresh: '2s', docker: { all_containers: true }, redis: [] }, 'bench');
const store = createAppStore();
const { actions } = store.getState();
let t = Date.parse('2026-12-03T13:00:00Z');
const containers: ContainerInfo[] = Array.from({ length: 50 }, (_, i) => ({
  id: `id${i}x`.padEnd(64, '0'), name: `idle${i}`, image: 'opsdeck-test/busybox:1', state: 'running', health: 'none', restartCount: 0, exitCode: 0,
  startedAt: t - 90_000 + i * 500, pid: 1000 + i, tty: false, labels: {},
}));
// A fixed pseudo-random series, so both builds see the same figures.
let seed = 1;
const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
const host = () => ({
  hostname: 'vm', takenAt: t, cpuCount: 2, cpuPercent: 20 + rnd() * 60, load: [1 + rnd(), 1.5, 2] as [number, number, number],
  memory: { totalBytes: 8e9, usedBytes: 1.5e9 + Math.round(rnd() * 1e6), percent: 6.6 },
  filesystems: [{ mount: '/', device: 'd', type: 'ext4', sizeBytes: 4e11, usedBytes: 1.9e11, percent: 44 }],
  network: { rxBytes: 0, txBytes: 0, rxBytesPerSec: 0, txBytesPerSec: 0 }, uptimeSec: 1, source: 'proc' as const,
});
// Idle containers' memory moves by a page now and then (as in bench:console's 50 busybox sleeps).
const stats = (): Record<string, ContainerStats> => Object.fromEntries(containers.map((c) => [c.id, { cpuPercent: 0, memUsedBytes: 315_392 + (rnd() < 0.2 ? 4096 : 0), memPercent: 0, source: 'cgroup' as const }]));
const health = { id: 'system:health', kind: 'system' as const, target: 'stack', status: 'ok' as const, value: 100, message: '' };
const feed = (): void => {
  actions.setEnvelope('host', { data: host() }, t);
  actions.setChecks([{ id: 'host:cpu', kind: 'host', target: 'vm', status: 'ok', value: 40, message: `CPU ${Math.round(rnd() * 100)}%` }]);
  actions.setChecks([health]);
  actions.setEnvelope('docker', { data: { endpoint: 'unix:///x', version: '26', containers, stats: stats() } }, t);
  actions.setChecks(containers.map((c) => ({ id: `container:${c.name}`, kind: 'container' as const, target: c.name, status: 'ok' as const, message: 'running' })));
  actions.setChecks([health]);
};
feed();
const { history } = createHostHistory(store, 2000);
const noop = (): undefined => undefined;
const consoleActions: ConsoleActions = {
  containerAction: () => Promise.resolve({ ok: true, value: { note: '', exitedAgain: false } }), follow: () => Promise.resolve({ stop: noop }), refresh: noop,
  ack: noop, silence: noop, acks: () => ({ acknowledged: false }), audit: noop, history: () => [], restore: () => ({ answer: noop }), runbook: () => ({ answer: noop }),
};
const terminal = new Terminal();
const instance = render(<App store={store} config={config} keys={KEY_TABLE} readOnly={false} history={history} actions={consoleActions} hostname="vm" now={() => t} />, {
  stdout: terminal as unknown as NodeJS.WriteStream, stderr: new Terminal() as unknown as NodeJS.WriteStream, stdin: new Keys() as unknown as NodeJS.ReadStream,
  maxFps: 10, patchConsole: false, exitOnCtrlC: false,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Past the 250 ms window that merges a refresh's updates into one frame.
const step = async (): Promise<void> => {
  t += 2000;
  feed();
  await sleep(300);
};
await sleep(1000);
for (let i = 0; i < 5; i++) await step();
const bytes0 = terminal.bytes;
const c0 = process.cpuUsage();
for (let i = 0; i < N; i++) await step();
const c = process.cpuUsage(c0);
process.stdout.write(`${JSON.stringify({ msPerRefresh: (c.user + c.system) / 1000 / N, kbPerRefresh: (terminal.bytes - bytes0) / N / 1024 })}\n`);
instance.unmount();
process.exit(0);
