import { mkdtempSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import { CgroupReader } from '../../src/services/cgroup.js';
import { Monitor } from '../../src/state/monitor.js';
import { buildSources } from '../../src/state/sources.js';
import { createAppStore } from '../../src/state/store.js';
import { docker, runContainer } from '../helpers/docker-engine.js';

// Issue #27: between health checks the console's Docker source lists the engine only when its events
// stream heard a change. Against the real private engine, reached through a unix-socket relay in this
// file (a real connection that can be cut on demand, and that counts the requests it carries).

const host = inject('dockerHost');
const PROJECT = 'evp';
const labels = ['--label', `com.docker.compose.project=${PROJECT}`];

/** A relay from a socket of our own to the engine's: counts requests by path prefix; can be cut and brought back. */
class Relay {
  private server: Server | undefined;
  private readonly conns = new Set<Socket>();
  readonly requests: string[] = [];
  constructor(
    readonly path: string,
    private readonly target: string,
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const up = createConnection(this.target);
      this.conns.add(client).add(up);
      client.on('data', (b: Buffer) => {
        for (const m of b.toString('latin1').matchAll(/^(GET|POST|DELETE|HEAD) (\S+) HTTP/gm)) this.requests.push(m[2] ?? '');
      });
      client.pipe(up).pipe(client);
      const drop = () => (client.destroy(), up.destroy(), this.conns.delete(client), this.conns.delete(up));
      client.on('error', drop).on('close', drop);
      up.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.path, resolve));
    this.server = server;
  }

  /** Stops listening and cuts every connection (the engine "goes away" for the client). */
  async cut(): Promise<void> {
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  count(prefix: string): number {
    return this.requests.filter((p) => p.replace(/^\/v[\d.]+/, '').startsWith(prefix)).length;
  }
}

async function until<T>(what: string, get: () => T | undefined | false, ms = 8_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the console's Docker source between checks: the events stream (issue #27)", () => {
  let relay: Relay;
  beforeAll(async () => {
    runContainer(host, 'ev-a', ['--network', 'none', ...labels], ['sleep', '3600']);
    relay = new Relay(join(mkdtempSync(join(tmpdir(), 'opsdeck-relay-')), 'docker.sock'), host.replace(/^unix:\/\//, ''));
    await relay.start();
  });
  afterAll(async () => {
    await relay?.cut();
    docker(host, 'rm', '-f', 'ev-a', 'ev-b');
  });

  it('lists only on a change: a container started, stopped or removed outside opsdeck shows within about a refresh; a lost stream is the engine error and resumes', async () => {
    // refresh 1 s, checks every 10 min: every run after the first is a refresh, not a check.
    const config = validate({ refresh: '1s', interval: '10m', docker: { host: `unix://${relay.path}`, all_containers: true, compose_project: PROJECT } }, 'test');
    const store = createAppStore();
    const sources = buildSources(config, store).filter((s) => s.id === 'docker');
    const mon = new Monitor({ config, store, sources });
    const names = () => new Map((store.getState().docker.data?.containers ?? []).map((c) => [c.name, c.state]));
    mon.start();
    try {
      await until('ev-a listed with its figures', () => names().get('ev-a') === 'running' && Object.keys(store.getState().docker.data?.stats ?? {}).length === 1);
      // Once the stream is open (its opening asks for one more list), refreshes read only the cgroup files.
      await until('the events stream open', () => relay.count('/events') === 1);
      const refreshes = async (n: number) => {
        const from = store.getState().docker.updatedAt ?? 0;
        await until(`${n} refreshes`, () => (store.getState().docker.updatedAt ?? 0) >= from + n * 900);
      };
      await refreshes(2);
      const lists = relay.count('/containers/json');
      const versions = relay.count('/version');
      await refreshes(3);
      expect(relay.count('/containers/json')).toBe(lists);
      expect(relay.count('/version')).toBe(versions);

      runContainer(host, 'ev-b', ['--network', 'none', ...labels], ['sleep', '3600']);
      await until('ev-b listed as running', () => names().get('ev-b') === 'running', 3_000);
      docker(host, 'stop', '-t', '0', 'ev-b');
      await until('ev-b listed as exited', () => names().get('ev-b') === 'exited', 3_000);

      // The engine goes away: the stream ends, the next refresh lists and finds it gone (the same error as before).
      await relay.cut();
      await until('the engine error in the store', () => store.getState().docker.error?.kind === 'unavailable', 5_000);
      docker(host, 'rm', '-f', 'ev-b');
      // It comes back: the stream is opened again, and changes are heard again.
      await relay.start();
      await until('the stream reopened', () => relay.count('/events') === 2, 5_000);
      await until('ev-b gone from the list', () => store.getState().docker.status === 'ok' && !names().has('ev-b'), 3_000);
      runContainer(host, 'ev-b', ['--network', 'none', ...labels], ['sleep', '3600']);
      await until('ev-b listed again', () => names().get('ev-b') === 'running', 3_000);
    } finally {
      mon.stop();
    }
  });

  it('a cgroup file kept open reads nothing once its container is gone (never its last figures)', async () => {
    runContainer(host, 'ev-gone', ['--network', 'none'], ['sleep', '3600']);
    const pid = Number(docker(host, 'inspect', '-f', '{{.State.Pid}}', 'ev-gone'));
    const reader = new CgroupReader();
    expect((await reader.read(pid))?.cpuNs).toBeGreaterThanOrEqual(0);
    expect((await reader.read(pid))?.memUsedBytes).toBeGreaterThan(0);
    docker(host, 'rm', '-f', 'ev-gone');
    expect(await reader.read(pid)).toBeUndefined();
    reader.close();
  });
});
