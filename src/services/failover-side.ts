import type { ServiceConfig } from '../config/schema.js';
import { Failure } from '../domain/errors.js';
import { probeHttp } from './http.js';
import { containerOf, dockerFor, runWriterCommand } from './writers.js';

// One side of a failover pair (issue #21): probed, started, stopped. Healthy is its `health_url`
// answering as `expect` says, else its container running (and healthy, when it has a HEALTHCHECK).
// A side with stop_command/start_command is started and stopped by those, as service-recovery does.

/** One probe of a side. */
export interface SideProbe {
  ok: boolean;
  detail: string;
}

const byCommands = (s: ServiceConfig) => !!(s.stop_command && s.start_command);

/** Probes a side once (never throws). */
export async function probeSide(s: ServiceConfig, dockerHost: string | undefined): Promise<SideProbe> {
  try {
    if (s.health_url) {
      const p = await probeHttp({ url: s.health_url, timeoutMs: s.timeout, expect: s.expect });
      return p.ok ? { ok: true, detail: `${s.name} healthy (${p.target} answered HTTP ${p.status ?? ''})` } : { ok: false, detail: `${s.name}: ${p.failure?.message ?? 'no answer'}` };
    }
    if (!s.container && !s.compose_service) return { ok: false, detail: `${s.name}: nothing to probe (expected services.${s.name}.health_url, container or compose_service)` };
    const d = dockerFor(dockerHost);
    const name = await containerOf(d, { service: s.name, ...(s.container ? { container: s.container } : {}), ...(s.compose_service ? { composeService: s.compose_service } : {}) });
    const i = await d.inspect(name);
    if (!i.ok) return { ok: false, detail: `${s.name}: container ${name}: ${i.error.message}` };
    const c = i.value;
    const ok = c.state === 'running' && (c.health === 'healthy' || c.health === 'none');
    return { ok, detail: `${s.name}: container ${name} ${c.state}${c.health !== 'none' ? `, ${c.health}` : ''}${c.state === 'exited' ? ` (exit code ${c.exitCode})` : ''}` };
  } catch (e) {
    return { ok: false, detail: `${s.name}: ${(e as Error).message}` };
  }
}

/** Starts or stops a side (its commands, else its container); throws a Failure naming it. */
export async function actOnSide(s: ServiceConfig, which: 'start' | 'stop', dockerHost: string | undefined): Promise<string> {
  if (byCommands(s)) {
    await runWriterCommand({ service: s.name, ...(s.stop_command ? { stopCommand: s.stop_command } : {}), ...(s.start_command ? { startCommand: s.start_command } : {}) }, which, s.name);
    return `${s.name}: ${which}_command succeeded`;
  }
  if (!s.container && !s.compose_service) throw new Failure('params', `service ${s.name}: no way to ${which} it is configured (expected container, compose_service, or stop_command and start_command)`);
  const d = dockerFor(dockerHost);
  const name = await containerOf(d, { service: s.name, ...(s.container ? { container: s.container } : {}), ...(s.compose_service ? { composeService: s.compose_service } : {}) });
  const r = which === 'start' ? await d.start(name) : await d.stop(name);
  if (!r.ok) throw new Failure('docker', `${which} ${name}: ${r.error.message}`);
  return `${name} ${which === 'start' ? 'started' : 'stopped'}`;
}

/** How long a side just started must stay healthy to count (a container that exits at once looks "running" first). */
export const STABLE_MS = 3000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((res) => {
    const t = setTimeout(res, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
  });

/**
 * Polls a side until it is healthy and still healthy STABLE_MS later, at most `ms` (or until
 * `signal`); the last probe. The test caught a backup that exits at once being switched to: its
 * first inspect said running.
 */
export async function waitSideHealthy(s: ServiceConfig, dockerHost: string | undefined, ms: number, signal: AbortSignal): Promise<SideProbe> {
  const deadline = Date.now() + ms;
  for (;;) {
    const p = await probeSide(s, dockerHost);
    if (p.ok) {
      await sleep(STABLE_MS, signal);
      const again = await probeSide(s, dockerHost);
      if (again.ok) return { ok: true, detail: `${again.detail}, still healthy after ${STABLE_MS / 1000} s` };
      if (Date.now() > deadline || signal.aborted) return again;
    } else if (Date.now() > deadline || signal.aborted) return p;
    await sleep(500, signal);
  }
}
