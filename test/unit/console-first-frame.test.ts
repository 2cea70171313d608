import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkingRows, firstDataHook } from '../../src/cli/console-runtime.js';
import { validate } from '../../src/config/load.js';
import type { CheckResult } from '../../src/domain/check.js';
import { systemHealth } from '../../src/domain/evaluate.js';
import { re2 } from '../../src/domain/re2.js';
import { createAppStore } from '../../src/state/store.js';

// Issue #27 point 4: the console's first full frame. The hook's clock is the timers (faked here:
// what is asserted is the order of events, not how long anything takes).

const withDocker = validate({ docker: { all_containers: true } }, 'test');
const hostData = { cpuPercent: 1, memPercent: 1, load: [0, 0, 0], disks: [], net: undefined };

describe('firstDataHook', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('arrived() waits for the host and Docker data, or gives up after its bound', async () => {
    const store = createAppStore();
    const first = firstDataHook(store, withDocker);
    let done = false;
    void first.arrived(300).then(() => (done = true));
    store.getState().actions.setEnvelope('host', { data: hostData }, 1);
    await vi.advanceTimersByTimeAsync(10);
    expect(done).toBe(false); // Docker has not answered
    store.getState().actions.setEnvelope('docker', { data: { endpoint: 'x', version: '1', containers: [], stats: {} } }, 2);
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);

    const slow = firstDataHook(createAppStore(), withDocker);
    let gaveUp = false;
    void slow.arrived(300).then(() => (gaveUp = true));
    await vi.advanceTimersByTimeAsync(299);
    expect(gaveUp).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(gaveUp).toBe(true);
  });

  it('holds deferred work until the frame with the data is drawn, not merely until the data arrived', async () => {
    const store = createAppStore();
    const first = firstDataHook(store, withDocker);
    const ran: string[] = [];
    first(() => ran.push('catalog'));
    store.getState().actions.setEnvelope('host', { data: hostData }, 1);
    store.getState().actions.setEnvelope('docker', { error: { kind: 'unavailable', source: 'docker', message: 'down' } }, 2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ran).toEqual([]); // the data is in, but no frame shows it yet
    first.drawn();
    await vi.advanceTimersByTimeAsync(0);
    expect(ran).toEqual(['catalog']);
  });

  it('data after the first render: the work waits for the frame that shows it; maxMs at the latest', async () => {
    const store = createAppStore();
    const first = firstDataHook(store, withDocker, 3_000);
    const ran: string[] = [];
    first(() => ran.push('catalog'));
    first.drawn(); // drawn with nothing yet (the wait for data timed out)
    await vi.advanceTimersByTimeAsync(500);
    expect(ran).toEqual([]);
    store.getState().actions.setEnvelope('host', { data: hostData }, 1);
    store.getState().actions.setEnvelope('docker', { data: { endpoint: 'x', version: '1', containers: [], stats: {} } }, 2);
    await vi.advanceTimersByTimeAsync(200);
    expect(ran).toEqual(['catalog']);

    const never = firstDataHook(createAppStore(), withDocker, 3_000);
    const late: string[] = [];
    never(() => late.push('catalog'));
    await vi.advanceTimersByTimeAsync(3_001);
    expect(late).toEqual(['catalog']);
  });
});

describe('what the first frame shows before every probe answered', () => {
  it('every configured datastore and endpoint is a row still loading ("checking…"), not "none configured"', () => {
    const config = validate({ redis: [{ name: 'cache', url: 'redis://127.0.0.1:1' }], databases: [{ name: 'app', path: '/tmp/x.db' }], endpoints: [{ name: 'api', url: 'http://127.0.0.1:1/' }], services: [{ name: 'web', health_url: 'http://127.0.0.1:1/h' }] }, 'test');
    expect(checkingRows(config)).toEqual({ redis: { cache: { status: 'loading' } }, databases: { app: { status: 'loading' } }, endpoints: { api: { status: 'loading' }, web: { status: 'loading' } } });
  });

  it('the system health counts the checks that ran and names the sources it still waits for', () => {
    const ran: CheckResult[] = [{ id: 'container:web', kind: 'container', target: 'web', status: 'ok', message: '', critical: true }];
    const h = systemHealth(ran, 50, ['http:api']);
    expect(h.value).toBe(100);
    expect(h.pending).toEqual(['http:api']);
    expect(h.message).toContain('still checking: http:api');
    expect(systemHealth(ran, 50).pending).toBeUndefined();
  });
});


describe('the built console UI (dist/, built by the global setup)', () => {
  it('loads Ink’s layout engine without fetch (undici is not loaded for yoga’s embedded WebAssembly)', () => {
    const dist = resolve('dist/chunks');
    const ui = readdirSync(dist).find((f) => /^run-[A-Z0-9]+\.js$/.test(f));
    expect(ui).toBeDefined();
    // A fetch that throws: yoga's stock loader calls it for its data: URL, and the import then fails.
    const script = `globalThis.fetch = () => { throw new Error('fetch called'); };
await import(${JSON.stringify(pathToFileURL(join(dist, ui ?? '')).href)});
process.stdout.write('loaded');`;
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })).toBe('loaded');
  });

  it('loads the console command without the backup machinery (its zlib, worker threads): the sources read backup folders through backup-list', () => {
    const dist = resolve('dist/chunks');
    const command = readdirSync(dist).find((f) => /^console-[A-Z0-9]+\.js$/.test(f));
    expect(command).toBeDefined();
    // Only what the import adds: Node 22 and later load zlib and worker_threads for themselves at start.
    // Not http's either: on Node 22 and 24 an ES import of node:http loads Node's bundled undici (and
    // zlib, worker_threads) while building its namespace; the build takes node:http by require.
    const script = `const before = new Set(process.moduleLoadList);
await import(${JSON.stringify(pathToFileURL(join(dist, command ?? '')).href)});
const loaded = process.moduleLoadList.filter((m) => !before.has(m) && /^NativeModule (zlib|worker_threads)$/.test(m));
process.stdout.write(JSON.stringify(loaded));`;
    const added = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
    expect(added).toEqual([]);
  });

  it('loads the console and restore commands without re2js: it is not bundled, and loads at the first RE2 pattern', () => {
    const dist = resolve('dist/chunks');
    const files = readdirSync(dist).filter((f) => f.endsWith('.js'));
    // Bundled, its top-level code ran with whichever chunk imported it (before: the configuration's).
    expect(files.filter((f) => readFileSync(join(dist, f), 'utf8').includes('// node_modules/re2js/'))).toEqual([]);
    const commands = files.filter((f) => /^(console|restore)-[A-Z0-9]+\.js$/.test(f));
    expect(commands).toHaveLength(2);
    const script = `import { createRequire } from 'node:module';
for (const f of ${JSON.stringify(commands.map((f) => pathToFileURL(join(dist, f)).href))}) await import(f);
const req = createRequire(${JSON.stringify(pathToFileURL(join(dist, 'x.js')).href)});
const before = Object.keys(req.cache).filter((k) => k.includes('/node_modules/re2js/')).length;
process.stdout.write(JSON.stringify({ before }));`;
    expect(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }))).toEqual({ before: 0 });
    // And it loads on demand, with the API the rules and filters use.
    expect(re2().compile('^N[0-9]+$').matcher('N42').find()).toBe(true);
  });

  it('loads string-width without building its \\p{RGI_Emoji} regex, which its first emoji builds (same widths)', () => {
    const dist = resolve('dist/chunks');
    const chunk = readdirSync(dist).find((f) => f.endsWith('.js') && readFileSync(join(dist, f), 'utf8').includes('// node_modules/string-width/index.js'));
    expect(chunk).toBeDefined();
    // Every RegExp the module builds is recorded (esbuild writes the /v literal as `new RegExp`).
    const script = `const made = [];
globalThis.RegExp = new Proxy(RegExp, { construct: (t, a) => (made.push(String(a[0])), Reflect.construct(t, a)) });
const m = await import(${JSON.stringify(pathToFileURL(join(dist, chunk ?? '')).href)});
const rgi = () => made.filter((p) => p.includes('RGI_Emoji')).length;
const loaded = rgi();
const widths = [m.stringWidth('ok'), m.stringWidth('\u{1F44D}'), m.stringWidth('\u{1F1E9}\u{1F1EA}'), m.stringWidth('a\u{1F44D}b')];
process.stdout.write(JSON.stringify({ loaded, used: rgi(), widths }));`;
    expect(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }))).toEqual({ loaded: 0, used: 1, widths: [2, 2, 2, 4] });
  });
});
