import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { docker, runContainer } from '../helpers/docker-engine.js';
import { TestHttpServer } from '../helpers/http.js';
import { TmuxSession } from '../helpers/tmux.js';

// Issue #27 point 4: the console's first full frame shows what has arrived — the host and the
// containers — without waiting for a slow check, and the health figure does not claim the check that
// has not answered yet: the header says it is still checking, the endpoint's row says "checking…".
// Real parts: the private Docker engine, an HTTP server on loopback that answers after 6 s, tmux.

const host = inject('dockerHost');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-e2e-first-'));
const config = join(dir, 'opsdeck.yaml');
let http: TestHttpServer;
let t: TmuxSession | undefined;
let h: TmuxSession | undefined;

beforeAll(async () => {
  http = await TestHttpServer.start();
  // Its own compose project, so the pane shows it alone (other test files share the engine).
  runContainer(host, 'e2e-first-web', ['--network', 'none', '--label', 'com.docker.compose.project=e2efirst'], ['sleep', '600']);
  writeFileSync(
    config,
    `name: first-frame
interval: 30s
refresh: 1s
thresholds: {cpu: 100, memory: 100, disk: 100}
docker:
  host: ${host}
  compose_project: e2efirst
services:
  - name: web
    container: e2e-first-web
    critical: true
endpoints:
  - name: api
    url: ${http.url}/slow?ms=6000
    timeout: 10s
    critical: true
`,
  );
});

afterAll(async () => {
  t?.kill();
  h?.kill();
  await http?.close();
  docker(host, 'rm', '-f', 'e2e-first-web', 'e2e-first-dead');
});

describe('the console’s first full frame', () => {
  it('shows the host and containers before a slow check answers, and that check as still checking — not OK', async () => {
    t = TmuxSession.start(`opsdeck-e2e-first-${process.pid}`, ['--config', config], { columns: 160, rows: 48, env: { OPSDECK_STATE_DIR: join(dir, 'state') } });
    // The endpoint answers after 6 s: a frame with the containers and a health figure comes well before.
    const first = await t.waitFor((s) => /health \d+%/.test(s) && /Containers \(\d+\/\d+ running\)/.test(s), 5_000);
    expect(first).toMatch(/e2e-first-web\s+running/);
    // The health figure counts what ran and says one source is still being checked; the endpoint's
    // row is pending, never shown as answered.
    expect(first).toMatch(/health \d+% checking \d+…/); // sources not answered yet: the endpoint, and any other still starting
    expect(first).toMatch(/http api\s+checking…/);
    // Not "OK" and not "every check passes" while something is still being checked (an operator's trial).
    expect(first).not.toMatch(/checking \d+… OK/);
    expect(first).not.toContain('every check passes');
    expect(first).not.toMatch(/http api\s+HTTP 200/);
    // Once it answers, the figure counts it (slower than the 2 s response-time threshold: a warning,
    // counted half) and the header stops saying it is checking.
    const later = await t.waitFor((s) => /http api\s+HTTP 200/.test(s) && /health \d+% WARNING/.test(s), 20_000);
    expect(later).not.toMatch(/checking \d+…/);
  });

  // Self-healing, the notifier, the incident rules and the runbook catalog load after the first frame
  // (src/cli/console-later.ts): the healer must still act, and its pane's key work from the first frame.
  it('heals a container that exited although the healer loads after the first frame; H pressed at once opens its pane', async () => {
    // Exits on its first start; after a restart (same container, the marker file kept) it keeps running.
    runContainer(host, 'e2e-first-dead', ['--network', 'none', '--label', 'com.docker.compose.project=e2efirstheal'], ['sh', '-c', 'if [ -e /tmp/started ]; then exec sleep 600; fi; touch /tmp/started; exit 1']);
    await until(() => docker(host, 'inspect', '-f', '{{.State.Status}}', 'e2e-first-dead') === 'exited');
    const healConfig = join(dir, 'heal.yaml');
    writeFileSync(
      healConfig,
      `name: first-heal
interval: 1s
refresh: 1s
failure_threshold: 1
recovery_threshold: 1
thresholds: {cpu: 100, memory: 100, disk: 100}
docker:
  host: ${host}
  compose_project: e2efirstheal
services:
  - name: dead
    container: e2e-first-dead
heal:
  backoff: {base: 1s, factor: 2, cap: 10s}
  start_grace: 1s
`,
    );
    h = TmuxSession.start(`opsdeck-e2e-first-heal-${process.pid}`, ['--config', healConfig], { columns: 160, rows: 48, env: { OPSDECK_STATE_DIR: join(dir, 'state-heal') } });
    await h.waitFor((s) => /health \d+%/.test(s) && /Containers \(\d+\/\d+ running\)/.test(s), 10_000);
    // At once, most likely before the deferred parts loaded: the pane opens (saying it is still
    // loading, or already the healer's state), and fills in with the healer's state.
    h.send('H');
    const pane = await h.waitFor(/healer: this console/, 15_000);
    expect(pane).not.toMatch(/EXIT=/);
    // The exited container's alert fired at the first results; the healer (loaded later) restarted it.
    await until(() => docker(host, 'inspect', '-f', '{{.State.Status}}', 'e2e-first-dead') === 'running', 30_000);
    await h.waitFor(/dead restart/, 15_000);
    h.send('Escape', false);
    await h.waitFor((s) => !/healer: this console/.test(s), 5_000);
    h.send('q');
    await h.waitFor(/EXIT=0/, 15_000);
  });
});

async function until(f: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${f.toString()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
