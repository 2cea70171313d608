import { spawn } from 'node:child_process';
import { Failure } from '../domain/errors.js';
import { DockerService, hostEndpoint, resolveDockerEndpoint } from './docker.js';
import { probeHttp } from './http.js';
import type { Config, ExpectConfig, ServiceConfig } from '../config/schema.js';

// The services that write to a database, as a runbook stops and starts them around a change of the
// file (issue #14: moved out of the restore command, so update, failover and repair runbooks use
// the same ones). A writer is a container (by name or compose service) or a pair of shell commands.

/** A writer service resolved to how it is stopped: a container (Docker) or stop/start commands. */
export interface Writer {
  service: string;
  container?: string;
  composeService?: string;
  stopCommand?: string;
  startCommand?: string;
}

/** How a list of stopped writers names a command writer (containers are named by their container name). */
export const COMMAND = 'command:';
export const isCommand = (name: string) => name.startsWith(COMMAND);

/** A Docker client for the writers' engine (10 s per call). */
export function dockerFor(host: string | undefined): DockerService {
  return new DockerService(resolveDockerEndpoint(host), 10_000);
}

/**
 * The Docker client of the engine a service's container lives on (issue #25): its host's (a service
 * listed under `hosts[].services`), else the local `docker:` engine. The one place the service
 * actions (service-recovery, diagnose) and the log review resolve a service's engine.
 */
export function dockerForService(config: Pick<Config, 'docker' | 'hosts'> | undefined, service: string): DockerService {
  const h = config?.hosts.find((x) => x.services.includes(service));
  return h ? hostDocker(h) : dockerFor(config?.docker.host);
}

/**
 * The Docker client of a configured host's engine by the host's name (issue #25: a runbook step's
 * `host` param), else the local engine (or `dockerHost`); an unknown name is a `params` failure naming the known ones.
 */
export function dockerForHost(config: Pick<Config, 'docker' | 'hosts'> | undefined, host: string | undefined, dockerHost?: string): DockerService {
  if (host === undefined) return dockerFor(dockerHost ?? config?.docker.host);
  const h = config?.hosts.find((x) => x.name === host);
  if (!h) throw new Failure('params', `host ${host} is not configured (expected one of hosts[].name: ${config?.hosts.map((x) => x.name).join(', ') || 'none configured'})`);
  return hostDocker(h);
}

/** A configured host's engine (10 s per call at least). */
const hostDocker = (h: Config['hosts'][number]) => new DockerService(hostEndpoint(h), Math.max(h.timeout, 10_000));

/** Runs a writer's stop or start command (through /bin/sh, 60 s at most); a non-zero exit is an error. */
export async function runWriterCommand(w: Writer | undefined, which: 'stop' | 'start', service: string): Promise<void> {
  const cmd = which === 'stop' ? w?.stopCommand : w?.startCommand;
  if (!cmd) throw new Failure('writer', `writer ${service}: no ${which}_command recorded`);
  // detached: its own session, so what a start_command leaves running (`server &`) is not in
  // opsdeck's session and does not die with it (quitting a console in tmux hangs up its session).
  await new Promise<void>((res, rej) => {
    const child = spawn('/bin/sh', ['-c', cmd], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (stderr = `${stderr}${d.toString()}`.slice(-4096)));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      rej(new Failure('writer', `writer ${service}: ${which}_command could not run: ${e.message}`));
    });
    // On exit, not close: a process the command leaves running may hold stderr open for good; its
    // last lines get 200 ms to arrive.
    let done = false;
    const finish = (code: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (code === 0) res();
      else rej(new Failure('writer', `writer ${service}: ${which}_command failed (${killed ? 'timed out after 60 s' : `exit ${String(code)}`})${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1) ?? ''}` : ''}`));
    };
    child.on('close', (code) => finish(code));
    child.on('exit', (code) => setTimeout(() => finish(code), 200));
  });
}

/** The container name of a writer (a compose service is looked up by its label). */
export async function containerOf(d: DockerService, w: Writer): Promise<string> {
  if (w.container) return w.container;
  const r = await d.containers({ light: true });
  if (!r.ok) throw new Failure('docker', r.error.message);
  const c = r.value.find((x) => x.composeService === w.composeService);
  if (!c) throw new Failure('not-found', `writer ${w.service}: no container of compose service ${w.composeService ?? ''}`);
  return c.name;
}

/**
 * Stops the writers that run. `remember` is called with each name before it is stopped, so a run
 * killed right after still starts it again; a command writer's state is not known: it is stopped
 * (its command must be idempotent) and started again afterwards. Returns the names stopped.
 */
export async function stopWriters(writers: readonly Writer[], host: string | undefined, already: readonly string[], remember: (name: string) => void): Promise<string[]> {
  const stopped = [...already];
  let docker: DockerService | undefined;
  for (const w of writers) {
    if (w.stopCommand) {
      const name = `${COMMAND}${w.service}`;
      if (!stopped.includes(name)) {
        stopped.push(name);
        remember(name);
      }
      await runWriterCommand(w, 'stop', w.service);
      continue;
    }
    const d = (docker ??= dockerFor(host));
    const name = await containerOf(d, w);
    const info = await d.inspect(name);
    if (!info.ok) throw new Failure('docker', `writer ${w.service}: ${info.error.message}`);
    if (info.value.state !== 'running' && info.value.state !== 'restarting') continue;
    if (!stopped.includes(name)) {
      stopped.push(name);
      remember(name);
    }
    const s = await d.stop(name);
    if (!s.ok) throw new Failure('docker', `writer ${w.service}: ${s.error.message}`);
  }
  return stopped;
}

/** Stops every configured writer, running or not (a rollback: whatever runs now must not write). */
export async function stopAllWriters(writers: readonly Writer[], host: string | undefined): Promise<void> {
  let docker: DockerService | undefined;
  for (const w of writers) {
    if (w.stopCommand) {
      await runWriterCommand(w, 'stop', w.service);
      continue;
    }
    const d = (docker ??= dockerFor(host));
    const s = await d.stop(await containerOf(d, w));
    if (!s.ok) throw new Failure('docker', `writer ${w.service}: ${s.error.message}`);
  }
}

/** Starts what a run stopped: containers through Docker, command writers with their start_command. */
export async function startWriters(writers: readonly Writer[], host: string | undefined, stopped: readonly string[]): Promise<void> {
  let docker: DockerService | undefined;
  for (const name of stopped) {
    if (isCommand(name)) {
      const service = name.slice(COMMAND.length);
      await runWriterCommand(writers.find((w) => w.service === service), 'start', service);
      continue;
    }
    const s = await (docker ??= dockerFor(host)).start(name);
    if (!s.ok) throw new Failure('docker', `start ${name}: ${s.error.message}`);
  }
}

/** Polls a container until it runs and its health check (if any) passes; 60 s at most. */
export async function waitHealthy(d: DockerService, name: string, timeoutMs = 60_000, signal?: AbortSignal): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const i = await d.inspect(name);
    if (!i.ok) throw new Failure('docker', i.error.message);
    const c = i.value;
    if (c.state === 'running' && (c.health === 'healthy' || c.health === 'none')) return `${name} running${c.health === 'healthy' ? ', healthy' : ''}`;
    if (c.state === 'exited' || c.state === 'dead') throw new Failure('unhealthy', `${name} exited (code ${c.exitCode}) after it was started`);
    if (Date.now() > deadline) throw new Failure('unhealthy', `${name} is ${c.state}${c.health !== 'none' ? `, ${c.health}` : ''} after ${timeoutMs / 1000} s`);
    if (signal?.aborted) throw new Failure('cancelled', `waiting for ${name} to be healthy: cancelled`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** How a command writer shows it is healthy: its service's `health_url` (and `expect`). */
export interface WriterHealth {
  url: string;
  expect?: ExpectConfig | undefined;
  timeoutMs: number;
}

/** A command writer's health check from the configuration: its service's health_url, expect and timeout. */
export function writerHealthOf(services: readonly ServiceConfig[]): (service: string) => WriterHealth | undefined {
  return (service) => {
    const s = services.find((x) => x.name === service);
    return s?.health_url ? { url: s.health_url, expect: s.expect, timeoutMs: s.timeout } : undefined;
  };
}

/**
 * Waits until the writers a run started are healthy: a note per writer. A command writer whose
 * service has a `health_url` is probed until it answers healthy (60 s at most) — before, its
 * start_command's exit was taken for health (an operator's trial: the restore said "healthy" while
 * the API was still refusing connections).
 */
export async function writersHealthy(host: string | undefined, stopped: readonly string[], signal?: AbortSignal, healthOf: (service: string) => WriterHealth | undefined = () => undefined, timeoutMs = 60_000): Promise<string> {
  let docker: DockerService | undefined;
  const notes: string[] = [];
  for (const name of stopped) {
    if (!isCommand(name)) {
      notes.push(await waitHealthy((docker ??= dockerFor(host)), name, timeoutMs, signal));
      continue;
    }
    const service = name.slice(COMMAND.length);
    const h = healthOf(service);
    if (!h) {
      notes.push(`${service}: its start_command succeeded (no health_url configured for it to wait for)`);
      continue;
    }
    const t0 = Date.now();
    for (;;) {
      const p = await probeHttp({ url: h.url, timeoutMs: h.timeoutMs, expect: h.expect });
      if (p.ok) {
        notes.push(`${service}: ${p.target} answered HTTP ${p.status ?? ''} ${((Date.now() - t0) / 1000).toFixed(1)} s after its start_command`);
        break;
      }
      if (Date.now() - t0 > timeoutMs) throw new Failure('unhealthy', `${service}: not healthy ${Math.round(timeoutMs / 1000)} s after its start_command: ${p.failure?.message ?? 'no answer'}`);
      if (signal?.aborted) throw new Failure('cancelled', `waiting for ${service} to be healthy: cancelled`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return notes.join('; ');
}
