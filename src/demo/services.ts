// The demo's stand-ins for `systemctl stop|start` and `docker compose stop|up -d --force-recreate`
// (issue #16): the generated config names them as stop_command / start_command of the API, the
// worker and Redis, so a runbook recovers every drill the way it would recover a real service.
// Each is idempotent (stopping what is stopped, starting what runs, both succeed) and returns only
// once the effect is real (the process gone / the port answering), within a bound; else it throws.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitError } from '../domain/errors.js';
import { DockerService, resolveDockerEndpoint } from '../services/docker.js';
import { alive, CONTAINER_NAME, killAndWait, startApi, startContainer, startRedis, waitHttp, writeDemoState, type DemoState } from './workspace.js';

/** The parts of the demo a runbook stops and starts through `opsdeck drill stop-X|start-X`. */
export const DEMO_SERVICES = ['api', 'worker', 'redis', 'writer'] as const;
export type DemoService = (typeof DEMO_SERVICES)[number];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `done()` holds or `ms` pass; whether it held. */
async function until(done: () => boolean | Promise<boolean>, ms: number, pollMs = 100): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
}

/** Writes the API's control file atomically: the API must never read it half-written. */
export function writeControl(s: DemoState, c: object): void {
  const file = join(s.dir, 'control.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(c)}\n`);
  renameSync(`${file}.tmp`, file);
}

/**
 * The demo API's pid when that process lives and is the demo API: a pid in demo.json outlives its
 * process, and the number may be reused by another one by now (never stopped by mistake).
 */
function apiPid(s: DemoState): number | undefined {
  const pid = s.apiPid;
  if (pid === undefined || !alive(pid)) return undefined;
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('__demo-api')) return undefined;
  } catch {
    // no /proc (not Linux): demo.json is taken at its word
  }
  return pid;
}

const apiHealth = (s: DemoState) => `http://127.0.0.1:${s.apiPort}/api/v1/health`;

/** Whether anything accepts a TCP connection on 127.0.0.1:port. */
async function portAnswers(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port, timeout: 1000 });
    const end = (v: boolean) => {
      sock.destroy();
      resolve(v);
    };
    sock.once('connect', () => end(true));
    sock.once('error', () => end(false));
    sock.once('timeout', () => end(false));
  });
}

/**
 * Stops or starts the demo API. Starting puts its control file back to normal: the demo's stand-in
 * for what a real restart clears (a leak, a stuck pool), so api-slow and api-errors are recovered
 * by the restart api-degraded runs.
 */
export async function controlApi(s: DemoState, action: 'stop' | 'start'): Promise<string> {
  if (action === 'stop') {
    const pid = apiPid(s);
    const was = pid !== undefined;
    await killAndWait(pid);
    if (!(await until(async () => !(await portAnswers(s.apiPort)), 5000))) throw new ExitError(1, 'drill', `the API is stopped but port ${s.apiPort} still answers (another process holds it?)`);
    return was ? `stopped the API (pid ${String(pid)})` : 'the API was not running';
  }
  writeControl(s, { mode: 'normal' });
  if (apiPid(s) !== undefined) {
    if (await waitHttp(apiHealth(s), 10_000)) return `the API already runs (pid ${String(s.apiPid)}); its injected fault is cleared`;
    throw new ExitError(1, 'drill', `the API runs (pid ${String(s.apiPid)}) but ${apiHealth(s)} did not answer 200 within 10 s`);
  }
  s.apiPid = startApi(s);
  writeDemoState(s);
  if (!(await waitHttp(apiHealth(s), 15_000))) throw new ExitError(1, 'drill', `the API (pid ${s.apiPid}) did not answer ${apiHealth(s)} within 15 s; see ${join(s.dir, 'logs', 'api.log')}`);
  return `started the API (pid ${s.apiPid}) on port ${s.apiPort}`;
}

/** redis-server's pid from its pid file, when that process lives and is redis-server (a stale file's pid may be reused). */
export function redisPid(s: DemoState): number | undefined {
  if (!s.redis || !existsSync(s.redis.pidFile)) return undefined;
  const pid = Number(readFileSync(s.redis.pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  try {
    // /proc/PID/stat: "pid (comm) state …"; a zombie (killed, not reaped yet) runs no more.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (!/^\d+ \(redis/.test(stat) || / Z /.test(stat.slice(stat.lastIndexOf(')')))) return undefined;
  } catch {
    // no /proc (not Linux): the pid file is taken at its word
  }
  return pid;
}

/** Whether the demo's redis-server answers PING. */
export function redisAnswers(s: DemoState): boolean {
  if (!s.redis) return false;
  try {
    return execFileSync('redis-cli', ['-p', String(s.redis.port), 'PING'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'PONG';
  } catch {
    return false;
  }
}

/** Stops (by its pid file) or starts (with the demo's settings, as `opsdeck demo` does) the demo's redis-server. */
export async function controlRedis(s: DemoState, action: 'stop' | 'start'): Promise<string> {
  const r = s.redis;
  if (!r) throw new ExitError(1, 'drill', 'the demo has no Redis (redis-server is not installed)');
  const pid = redisPid(s);
  if (action === 'stop') {
    if (pid === undefined) return 'redis-server was not running';
    await killAndWait(pid);
    rmSync(r.pidFile, { force: true }); // gone after a SIGKILL too
    return `stopped redis-server (pid ${pid})`;
  }
  if (pid !== undefined) {
    // Running and answering, or on its way out (killed a moment ago): wait for either.
    await until(() => redisAnswers(s) || redisPid(s) === undefined, 5000, 200);
    if (redisAnswers(s)) return `redis-server already runs (pid ${pid})`;
    if (redisPid(s) !== undefined) throw new ExitError(1, 'drill', `redis-server runs (pid ${pid}) but does not answer PING on port ${r.port} within 5 s`);
  }
  try {
    startRedis(s.dir, r.port);
  } catch (e) {
    throw new ExitError(1, 'drill', `redis-server failed to start: ${(e as Error).message.split('\n')[0] ?? ''}`);
  }
  if (!(await until(() => redisAnswers(s), 10_000, 200))) throw new ExitError(1, 'drill', `redis-server did not answer PING on port ${r.port} within 10 s; see ${join(s.dir, 'logs', 'redis.log')}`);
  return `started redis-server (pid ${redisPid(s) ?? '?'}) on port ${r.port}`;
}

/**
 * Stops the worker container (`docker compose stop worker`), or recreates it from the demo's
 * healthy definition (`docker compose up -d --force-recreate worker`: whatever runs is replaced, a
 * crash-looping worker too), on the engine the demo runs on.
 */
export async function controlWorker(s: DemoState, action: 'stop' | 'start', env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (!s.container) throw new ExitError(1, 'drill', 'the demo has no container (no Docker engine or local image when it started)');
  const docker = new DockerService(resolveDockerEndpoint(s.container.dockerHost, env), 5000);
  const running = async () => {
    const i = await docker.inspect(CONTAINER_NAME);
    return i.ok && i.value.state === 'running';
  };
  if (action === 'stop') {
    const r = await docker.stop(CONTAINER_NAME, 1);
    if (!r.ok && r.error.kind !== 'not-found') throw new ExitError(1, 'drill', `stopping ${CONTAINER_NAME} failed: ${r.error.message}`);
    if (!(await until(async () => !(await running()), 15_000, 250))) throw new ExitError(1, 'drill', `${CONTAINER_NAME} still runs 15 s after the stop`);
    return r.ok ? `stopped ${CONTAINER_NAME}` : `${CONTAINER_NAME} was not there (nothing to stop)`;
  }
  const started = await startContainer(s, env);
  if (!started.started) throw new ExitError(1, 'drill', started.note);
  writeDemoState(s);
  if (!(await until(running, 15_000, 250))) throw new ExitError(1, 'drill', `${CONTAINER_NAME} was recreated but does not run after 15 s`);
  return `recreated ${CONTAINER_NAME} from the demo's healthy definition (${s.container.image})`;
}
