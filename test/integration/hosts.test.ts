import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HealStore, type HealAction } from '../../src/state/heal-store.js';
import { openStateDb } from '../../src/state/statedb.js';
import { runCli } from '../helpers/cli.js';
import { docker, removeTestContainers, runContainer, startEngine, type PrivateEngine } from '../helpers/docker-engine.js';
import { freePort, startSshd, type PrivateSshd } from '../helpers/sshd.js';
import { TmuxSession } from '../helpers/tmux.js';
import { Watcher } from '../helpers/watch.js';

// Issue #25 (part C): several Docker engines in one console. A SECOND private engine (its own
// socket and data root, vfs, the same busybox image) reached over ssh:// through a real sshd on
// loopback (docker-modem's ssh transport runs `docker system dial-stdio` there), and over plain
// tcp:// on loopback; the global setup's engine is the local one.

const local = inject('dockerHost');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-hosts-'));
let second: PrivateEngine;
let sshd: PrivateSshd;
let tcpPort: number;

interface Report {
  status: string;
  checks: { id: string; kind: string; target: string; status: string; message: string; suppressedBy?: string }[];
}

/** Writes a config: calm host thresholds (the test machine is busy), the local engine, plus `body`. */
function config(name: string, body: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ninterval: 1s\nrefresh: 1s\nthresholds:\n  cpu: 100\n  disk: 100\n  memory: 100\ndocker:\n  host: ${local}\n${body}`);
  return file;
}

const sshHost = (name = 'remote', extra = '') =>
  `  - name: ${name}\n    docker: ssh://${sshd.user}@127.0.0.1:${sshd.port}\n    ssh:\n      identity_file: ${sshd.identity}\n      known_hosts: ${sshd.knownHosts}\n    timeout: 5s\n    services: [x]\n${extra}`;

const services = `services:\n  - name: web\n    container: fleet-local\n  - name: x\n    container: fleet-remote\n`;

async function check(file: string) {
  const r = await runCli(['check', '--json', '--config', file], { timeoutMs: 40_000 });
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`not JSON: ${r.stdout}\n${r.stderr}`);
  }
  const byId = (id: string) => {
    const c = report.checks.find((x) => x.id === id);
    if (!c) throw new Error(`no check ${id} in ${report.checks.map((x) => x.id).join(', ')}`);
    return c;
  };
  return { ...r, report, byId };
}

beforeAll(async () => {
  tcpPort = await freePort();
  second = await startEngine(join(dir, 'second'), [`tcp://127.0.0.1:${tcpPort}`]);
  sshd = await startSshd(second.host);
  runContainer(local, 'fleet-local', ['--network', 'none'], ['sleep', '3600']);
  runContainer(second.host, 'fleet-remote', ['--network', 'none'], ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "remote-line $i"; sleep 0.3; done']);
}, 60_000);

afterAll(async () => {
  try {
    docker(local, 'rm', '-f', 'fleet-local');
  } catch {
    // already gone
  }
  try {
    removeTestContainers(second.host);
  } catch {
    // the second engine was stopped by a test
  }
  await sshd?.stop();
  await second?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('hosts: several Docker engines', () => {
  it('check --json lists the remote host\'s container (over ssh://) next to the local one', async () => {
    const { report, byId } = await check(config('ssh', `${services}hosts:\n${sshHost()}`));
    expect(byId('container:x@remote')).toMatchObject({ status: 'ok', target: 'fleet-remote' });
    expect(byId('docker:engine@remote')).toMatchObject({ kind: 'docker', status: 'ok' });
    expect(byId('docker:engine@remote').message).toContain('host remote');
    expect(byId('container:web')).toMatchObject({ status: 'ok', target: 'fleet-local' });
    expect(byId('docker:engine').status).toBe('ok');
    // The service on the host is checked there only: no local `container:x`.
    expect(report.checks.find((c) => c.id === 'container:x')).toBeUndefined();
  });

  it('the same engine over plain tcp:// on loopback', async () => {
    const { byId } = await check(config('tcp', `${services}hosts:\n  - name: db1\n    docker: tcp://127.0.0.1:${tcpPort}\n    services: [x]\n`));
    expect(byId('container:x@db1')).toMatchObject({ status: 'ok', target: 'fleet-remote' });
    expect(byId('docker:engine@db1').message).toContain(`tcp://127.0.0.1:${tcpPort}`);
  });

  it('a bad hosts entry is a one-line config error naming the field', async () => {
    const bad = [
      [`hosts:\n  - name: local\n    docker: tcp://127.0.0.1:1\n`, 'hosts[0].name'],
      [`${services}hosts:\n  - name: a\n    docker: tcp://127.0.0.1:1\n    services: [nope]\n`, 'hosts[0].services[0]: service "nope" is not in services'],
      [`${services}hosts:\n  - name: a\n    docker: tcp://127.0.0.1:1\n    services: [x]\n  - name: b\n    docker: tcp://127.0.0.1:2\n    services: [x]\n`, 'hosts[1].services[0]: service "x" is already on host "a"'],
      [`hosts:\n  - name: a\n    docker: tcp://127.0.0.1:1\n  - name: a\n    docker: tcp://127.0.0.1:2\n`, 'hosts[1].name: duplicate host name "a"'],
      [`hosts:\n  - name: a\n    docker: ssh://ops:hunter2pw@127.0.0.1\n`, 'hosts[0].docker: a password in the address is refused'],
      [`hosts:\n  - name: a\n    docker: tcp://127.0.0.1:2376\n    tls:\n      ca: ${dir}/none-ca.pem\n      cert: ${dir}/none-cert.pem\n      key: ${dir}/none-key.pem\n`, 'hosts[0].tls.ca: no such file'],
      [`hosts:\n  - name: a\n    docker: http://127.0.0.1:2375\n`, 'hosts[0].docker: expected unix:///path/docker.sock'],
    ] as const;
    for (const [body, expected] of bad) {
      const r = await runCli(['check', '--config', config('bad', body)]);
      expect(r.code, r.stderr).toBe(78);
      expect(r.stderr).toContain(expected);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toContain('hunter2pw');
    }
  });

  it('console: both hosts\' containers grouped, h filters by host, l follows a remote container\'s log', async () => {
    // That host's `opsdeck watch` metrics page (engineer A's exporter), served here with the shared names.
    const page = createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end('# HELP opsdeck_host_cpu_usage_ratio x\nopsdeck_host_cpu_usage_ratio 0.42\nopsdeck_host_memory_used_bytes 1073741824\nopsdeck_host_memory_total_bytes 4294967296\nopsdeck_host_filesystem_used_bytes{mount="/"} 50\nopsdeck_host_filesystem_size_bytes{mount="/"} 100\nsomething_else{a="b"} 7\n');
    });
    await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
    const port = (page.address() as AddressInfo).port;
    const file = config('console', `${services}hosts:\n${sshHost('remote', `    metrics: http://127.0.0.1:${port}/metrics\n`)}  - name: db1\n    docker: tcp://127.0.0.1:${tcpPort}\n`);
    const t = TmuxSession.start(`hosts-${process.pid}`, ['--config', file], { columns: 80, rows: 30, env: { OPSDECK_NO_ALT_SCREEN: '1' } });
    try {
      await t.waitFor((s) => s.includes('fleet-local') && s.includes('fleet-remote') && s.includes('cpu 42'), 30_000);
      const all = t.capture();
      expect(all).toContain('hosts: all');
      expect(all).toContain('▸ local');
      expect(all).toMatch(/▸ remote · 1\/1 running · cpu 42 ?% mem 1\.0 GiB\/4\.0 GiB \/ 50 ?%/);
      expect(all).toContain('no metrics: configured for db1');
      t.send('h'); // all → local
      await t.waitFor((s) => s.includes('hosts: local') && s.includes('fleet-local') && !s.includes('fleet-remote'), 5_000);
      t.send('h'); // local → remote
      await t.waitFor((s) => s.includes('hosts: remote') && s.includes('fleet-remote') && !s.includes('fleet-local'), 5_000);
      // S on the remote container goes to the remote engine: it is running there, so "start" succeeds
      // (the local engine has no such container and would answer not-found).
      t.send('S');
      await t.waitFor((s) => s.includes('Start container fleet-remote on host remote'), 5_000);
      t.send('y');
      const started = await t.waitFor(/start fleet-remote(:| failed)/, 20_000);
      expect(started).not.toMatch(/start fleet-remote failed/);
      t.send('l');
      await t.waitFor((s) => /remote-line \d+/.test(s) && s.includes('fleet-remote@remote'), 20_000);
      t.send('Escape', false);
      await t.waitFor((s) => s.includes('hosts: remote'), 5_000);
      t.send('h'); // remote → db1
      await t.waitFor((s) => s.includes('hosts: db1'), 5_000);
      t.send('h'); // db1 → all
      await t.waitFor((s) => s.includes('hosts: all'), 5_000);
      t.send('q');
      await t.waitFor((s) => s.includes('EXIT=0'), 10_000);
    } finally {
      t.kill();
      page.close();
    }
  }, 90_000);

  it('self-healing reaches the host: a killed remote container is started again on ITS engine (over ssh://), the local one untouched', async () => {
    // The built-in service-recovery without its 5 s pause (CI time); the healer and the actions are the real ones.
    const rb = join(dir, 'rb');
    mkdirSync(rb, { recursive: true, mode: 0o700 });
    const builtIn = readFileSync(resolve(import.meta.dirname, '../../runbooks/service-recovery.yaml'), 'utf8').replace('pause_ms: 5000, healthy_within_ms: 30000', 'pause_ms: 0, healthy_within_ms: 15000');
    expect(builtIn).toContain('pause_ms: 0');
    writeFileSync(join(rb, 'service-recovery.yaml'), builtIn, { mode: 0o600 });
    const state = join(dir, 'heal-state');
    const file = config('heal', `failure_threshold: 1\nrecovery_threshold: 1\nstate_dir: ${state}\nrunbooks:\n  dir: ${rb}\n${services}hosts:\n${sshHost()}heal:\n  attempts: 2\n  start_grace: 1s\n`);
    const localStarted = docker(local, 'inspect', '-f', '{{.State.StartedAt}}', 'fleet-local');
    const w = new Watcher(file);
    try {
      for (const end = Date.now() + 30_000; !w.lines.some((l) => l.includes('"lease":"healer"') && l.includes('lease-taken')); ) {
        if (Date.now() > end) throw new Error(`the watch took no healer lease; stderr: ${w.errors}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      docker(second.host, 'kill', 'fleet-remote');
      await w.waitFor('fired', 'container:x@remote', 30_000);
      const deadline = Date.now() + 60_000;
      let healed: HealAction | undefined;
      while (!healed) {
        if (Date.now() > deadline) throw new Error(`x not healed within 60 s; watch stderr: ${w.errors}`);
        await new Promise((r) => setTimeout(r, 500));
        const db = await openStateDb(state);
        try {
          healed = new HealStore(db).recent(50).find((a) => a.subject === 'x' && a.kind === 'restart' && a.outcome !== 'running');
        } finally {
          db.close();
        }
      }
      expect(healed, JSON.stringify(healed)).toMatchObject({ outcome: 'ok', runbook: 'service-recovery' });
      expect(docker(second.host, 'inspect', '-f', '{{.State.Running}}', 'fleet-remote')).toBe('true');
      await w.waitFor('resolved', 'container:x@remote', 30_000);
      // The local engine's container of the same test was not restarted.
      expect(docker(local, 'inspect', '-f', '{{.State.StartedAt}}', 'fleet-local')).toBe(localStarted);
    } finally {
      await w.kill('SIGTERM');
    }
  }, 120_000);

  it('a runbook\'s container.start with `host:` acts on that host\'s engine (over tcp://); an unknown host is one line naming the known ones', async () => {
    const rb = join(dir, 'rb-host');
    mkdirSync(rb, { recursive: true, mode: 0o700 });
    const step = (h: string) => `target: none\nsteps:\n  - id: bounce\n    title: Start fleet-remote\n    why: a test.\n    action: container.start\n    params: { container: fleet-remote, host: ${h} }\n`;
    writeFileSync(join(rb, 'bounce.yaml'), `name: bounce\ntitle: bounce a remote container\n${step('db1')}`, { mode: 0o600 });
    writeFileSync(join(rb, 'bounce-nowhere.yaml'), `name: bounce-nowhere\ntitle: bounce on an unknown host\n${step('nowhere')}`, { mode: 0o600 });
    const file = config('bounce', `state_dir: ${join(dir, 'bounce-state')}\nrunbooks:\n  dir: ${rb}\n${services}hosts:\n  - name: db1\n    docker: tcp://127.0.0.1:${tcpPort}\n    services: [x]\n`);
    // Killed there (the local engine has no fleet-remote: started there, the step would fail "no such container").
    docker(second.host, 'kill', 'fleet-remote');
    const r = await runCli(['--config', file, 'runbook', 'run', 'bounce', '--yes'], { timeoutMs: 60_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('fleet-remote started on host db1');
    expect(docker(second.host, 'inspect', '-f', '{{.State.Running}}', 'fleet-remote')).toBe('true');
    const bad = await runCli(['--config', file, 'runbook', 'run', 'bounce-nowhere', '--yes'], { timeoutMs: 60_000 });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain('host nowhere is not configured (expected one of hosts[].name: db1)');
  }, 90_000);

  it('the second engine gone: ONE docker:engine@remote alert, its container suppressed, the local one still ok', async () => {
    // Its container removed first: dockerd would otherwise wait its shutdown timeout for it.
    docker(second.host, 'rm', '-f', 'fleet-remote');
    await second.stop();
    const { byId } = await check(config('down', `${services}hosts:\n${sshHost()}`));
    const engine = byId('docker:engine@remote');
    expect(engine.status).toBe('warning');
    expect(engine.message).toContain('host remote');
    // What the host's docker said, not a bare "socket hang up".
    expect(engine.message).toMatch(/dial-stdio on the host exited \d+: .*docker\.sock/);
    expect(byId('container:x@remote')).toMatchObject({ status: 'unknown', suppressedBy: 'docker:engine@remote' });
    expect(byId('container:web').status).toBe('ok');
    expect(byId('docker:engine').status).toBe('ok');
  });
});
