import type { ServiceConfig } from '../../config/schema.js';
import { Failure } from '../../domain/errors.js';
import { num, type GenericDeps } from '../../engine/actions.js';
import type { Action, StepContext } from '../../engine/driver.js';
import type { DockerService } from '../../services/docker.js';
import { probeHttp } from '../../services/http.js';
import { containerOf, dockerForService, runWriterCommand, waitHealthy } from '../../services/writers.js';
import { configOf, namedEntry } from './config.js';

// A configured service stopped, started and restarted (issue #16: service-recovery, api-degraded).
// How is the configuration's: a service with `stop_command`/`start_command` is stopped and started
// by those, run through /bin/sh exactly as written (they are the operator's own shell text, like a
// crontab line; nothing is templated into them) — they win over `container`/`compose_service`, so
// `docker compose up -d --force-recreate worker` can be the way a worker starts. Otherwise its
// container is stopped and started through the Docker facade. "Healthy" is its `health_url`
// answering as `expect` says, else its container running (and healthy, when it has a health
// check) and still running 3 s later — a crash-looping container is caught, not reported started.

type X = StepContext<unknown, GenericDeps>;

/** How long a started container must keep running to count as up (a crash loop restarts within it). */
const STABLE_MS = 3000;

const serviceOf = (x: X): ServiceConfig => namedEntry(x, configOf(x, '(services)').services, 'service', 'service');

const byCommands = (s: ServiceConfig): boolean => !!(s.stop_command && s.start_command);

/** How a service is stopped or started, in words; a `params` failure when no way is configured. */
export function how(s: ServiceConfig, which: 'stop' | 'start'): string {
  if (byCommands(s)) return `its ${which}_command: ${which === 'stop' ? s.stop_command ?? '' : s.start_command ?? ''}`;
  if (s.container) return `docker ${which} ${s.container}`;
  if (s.compose_service) return `docker ${which} the container of compose service ${s.compose_service}`;
  throw new Failure('params', `service ${s.name}: no way to ${which} it is configured (expected services.${s.name}.container, compose_service, or stop_command and start_command)`);
}

async function containerName(s: ServiceConfig, d: DockerService): Promise<string> {
  return containerOf(d, { service: s.name, ...(s.container ? { container: s.container } : {}), ...(s.compose_service ? { composeService: s.compose_service } : {}) });
}

/** Stops or starts a configured service (its commands, else its container); the note says what happened. */
export async function act(x: X, s: ServiceConfig, which: 'stop' | 'start'): Promise<string> {
  how(s, which); // refuses a service with no way configured
  if (byCommands(s)) {
    await runWriterCommand({ service: s.name, ...(s.stop_command ? { stopCommand: s.stop_command } : {}), ...(s.start_command ? { startCommand: s.start_command } : {}) }, which, s.name);
    return `${s.name}: ${which}_command succeeded`;
  }
  const d = dockerForService(x.deps.config, s.name);
  const name = await containerName(s, d);
  const r = which === 'stop' ? await d.stop(name) : await d.start(name);
  if (!r.ok) throw new Failure('docker', `${which} ${name}: ${r.error.message}`);
  return `${name} ${which === 'stop' ? 'stopped' : 'started'}`;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((res) => {
    const t = setTimeout(res, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
  });

/**
 * "api already healthy" when the service has a health_url that answers as it should (a start is
 * then skipped: starting a running service by command would start it twice), else undefined.
 */
export async function alreadyHealthy(s: ServiceConfig): Promise<string | undefined> {
  if (!s.health_url) return undefined;
  const p = await probeHttp({ url: s.health_url, timeoutMs: Math.min(s.timeout, 2000), expect: s.expect });
  return p.ok ? `${s.name} already healthy (${p.target} answered HTTP ${p.status ?? ''}): not started again` : undefined;
}

/**
 * Starts services one after the other (the caller's order: dependencies first), each healthy before
 * the next; one already healthy is left running. The notes, one per service.
 */
export async function startInOrder(x: X, list: readonly ServiceConfig[], ms: number): Promise<string[]> {
  const notes: string[] = [];
  for (const s of list) {
    const up = await alreadyHealthy(s);
    if (up) {
      notes.push(up);
      continue;
    }
    x.say(await act(x, s, 'start'));
    notes.push(await waitServiceHealthy(x, s, ms));
  }
  return notes;
}

/** Waits until the service is healthy (see the header), at most `ms`; the note says what was seen. */
export async function waitServiceHealthy(x: X, s: ServiceConfig, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  if (s.health_url) {
    let last = '';
    for (;;) {
      const p = await probeHttp({ url: s.health_url, timeoutMs: Math.min(s.timeout, Math.max(500, deadline - Date.now())), expect: s.expect });
      if (p.ok) return `${s.name} healthy: ${p.target} answered HTTP ${p.status ?? ''} in ${Math.round(p.latencyMs)} ms`;
      last = p.failure?.message ?? 'no answer';
      if (Date.now() > deadline || x.signal.aborted) throw new Failure('unhealthy', `${s.name} not healthy after ${Math.round(ms / 1000)} s: ${last}`);
      await sleep(500, x.signal);
    }
  }
  if (!s.container && !s.compose_service) return `${s.name}: its start_command succeeded (no health_url or container to check; set services.${s.name}.health_url to have it checked)`;
  const d = dockerForService(x.deps.config, s.name);
  const name = await containerName(s, d);
  await waitHealthy(d, name, ms, x.signal);
  const first = await d.inspect(name);
  await sleep(STABLE_MS, x.signal);
  const again = await d.inspect(name);
  if (!first.ok || !again.ok) throw new Failure('docker', `${name}: ${(!again.ok ? again : first).ok ? '' : 'inspect failed'}`);
  if (again.value.state !== 'running' || again.value.restartCount !== first.value.restartCount || again.value.startedAt !== first.value.startedAt)
    throw new Failure('unhealthy', `${name} did not stay up: ${again.value.state}, restarted ${again.value.restartCount - first.value.restartCount} time(s) within ${STABLE_MS / 1000} s (exit code ${again.value.exitCode}); its logs say why`);
  return `${name} running${again.value.health === 'healthy' ? ', healthy' : ''} and still up after ${STABLE_MS / 1000} s`;
}

const healthText = (s: ServiceConfig, ms: number) =>
  `wait up to ${Math.round(ms / 1000)} s for ${s.health_url ? `${s.health_url} to answer${s.expect?.status ? ` HTTP ${s.expect.status}` : ' 2xx/3xx'}` : s.container || s.compose_service ? 'its container to run (and pass its health check) for 3 s' : 'nothing (no health_url or container configured)'}`;

/** The service actions by id. */
export const SERVICE_ACTIONS: Record<string, Action<unknown, GenericDeps>> = {
  'service.status': {
    dangerous: false,
    preview: (x) => `look at ${serviceOf(x).name}: ${serviceOf(x).health_url ? `its health_url ${serviceOf(x).health_url ?? ''}` : 'its container'}`,
    async execute(x) {
      const s = serviceOf(x);
      const ways = `stopped and started by ${byCommands(s) ? 'its stop_command/start_command' : s.container || s.compose_service ? 'Docker' : 'nothing configured'}`;
      if (s.health_url) {
        const p = await probeHttp({ url: s.health_url, timeoutMs: s.timeout, expect: s.expect });
        return `${s.name}: ${p.ok ? `healthy, ${p.target} answered HTTP ${p.status ?? ''} in ${Math.round(p.latencyMs)} ms` : `NOT healthy, ${p.failure?.message ?? 'no answer'}`} (${ways})`;
      }
      if (!s.container && !s.compose_service) return `${s.name}: no health_url or container to look at (${ways})`;
      const d = dockerForService(x.deps.config, s.name);
      const i = await d.inspect(await containerName(s, d));
      if (!i.ok) return `${s.name}: its container cannot be read: ${i.error.message} (${ways})`;
      const c = i.value;
      return `${s.name}: container ${c.name} is ${c.state}${c.health !== 'none' ? `, ${c.health}` : ''}, restarted ${c.restartCount} time(s), last exit code ${c.exitCode} (${ways})`;
    },
  },
  'service.stop': {
    dangerous: true,
    preview: (x) => `stop ${serviceOf(x).name}: ${how(serviceOf(x), 'stop')}`,
    execute: (x) => act(x, serviceOf(x), 'stop'),
    undo: (x) => act(x, serviceOf(x), 'start'),
  },
  'service.start': {
    dangerous: true,
    preview: (x) => `start ${serviceOf(x).name}: ${how(serviceOf(x), 'start')}; then ${healthText(serviceOf(x), num(x.step.params, 'healthy_within_ms', 30_000))}`,
    async execute(x) {
      const s = serviceOf(x);
      const started = await act(x, s, 'start');
      return `${started}; ${await waitServiceHealthy(x, s, num(x.step.params, 'healthy_within_ms', 30_000))}`;
    },
  },
  'service.restart': {
    // The DR plan's service recovery: stop, wait, start, wait for health. Its runbook retries it.
    dangerous: true,
    preview(x) {
      const s = serviceOf(x);
      return `stop ${s.name} (${how(s, 'stop')}), wait ${num(x.step.params, 'pause_ms', 5000) / 1000} s, start it (${how(s, 'start')}), then ${healthText(s, num(x.step.params, 'healthy_within_ms', 30_000))}`;
    },
    async execute(x) {
      const s = serviceOf(x);
      const stopped = await act(x, s, 'stop');
      x.say(stopped);
      await sleep(num(x.step.params, 'pause_ms', 5000), x.signal);
      if (x.signal.aborted) throw new Failure('cancelled', `${s.name}: restart cancelled after the stop; start it with this runbook's resume`);
      const started = await act(x, s, 'start');
      x.say(started);
      return waitServiceHealthy(x, s, num(x.step.params, 'healthy_within_ms', 30_000));
    },
    // A restart that failed half-way leaves the service stopped: undoing it starts the service.
    undo: (x) => act(x, serviceOf(x), 'start'),
  },
};
