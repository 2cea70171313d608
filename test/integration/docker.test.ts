import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CgroupReader } from '../../src/services/cgroup.js';
import Docker from 'dockerode';
import { DockerService, resolveDockerEndpoint } from '../../src/services/docker.js';
import { toContainerInfo } from '../../src/services/docker/containers.js';
import { docker, runContainer, TEST_IMAGE } from '../helpers/docker-engine.js';

// The Docker adapter against the real private engine.

const host = inject('dockerHost');

beforeAll(() => {
  runContainer(host, 'dk-busy', ['--network', 'none', '--memory', '64m'], ['sh', '-c', 'yes > /dev/null']);
  runContainer(host, 'dk-idle', ['--network', 'none', '--label', 'com.docker.compose.service=idle', '--label', 'com.docker.compose.project=dkp'], ['sleep', '3600']);
});
afterAll(() => {
  docker(host, 'rm', '-f', 'dk-busy', 'dk-idle');
});

/** Figures for one container from two samples a moment apart. */
async function twoSamples(svc: DockerService, name: string) {
  const list = await svc.containers();
  if (!list.ok) throw new Error(list.error.message);
  const c = list.value.find((x) => x.name === name);
  if (!c) throw new Error(`${name} not listed`);
  await svc.stats([c]);
  await new Promise((r) => setTimeout(r, 600));
  return (await svc.stats([c])).get(c.id);
}

describe('DockerService', () => {
  it('lists containers with state, compose labels, restart count and start time', async () => {
    const svc = new DockerService(resolveDockerEndpoint(host));
    const r = await svc.containers({ composeProject: 'dkp' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.map((c) => c.name)).toEqual(['dk-idle']);
    expect(r.value[0]).toMatchObject({ state: 'running', health: 'none', composeService: 'idle', composeProject: 'dkp', restartCount: 0 });
    expect(r.value[0]?.startedAt).toBeGreaterThan(Date.now() - 600_000);
  });

  it('reads CPU % and memory from the cgroup files of a local engine', async () => {
    const s = await twoSamples(new DockerService(resolveDockerEndpoint(host)), 'dk-busy');
    expect(s?.source).toBe('cgroup');
    // `yes` keeps about one core busy; allow for a loaded 2-core machine.
    expect(s?.cpuPercent).toBeGreaterThan(20);
    expect(s?.memLimitBytes).toBe(64 * 1024 * 1024);
    expect(s?.memUsedBytes).toBeGreaterThan(0);
  });

  it('finds a container\'s cgroup by id alone (the light listing of check knows no pid)', async () => {
    const id = docker(host, 'inspect', '-f', '{{.Id}}', 'dk-busy');
    const c = await new CgroupReader().readById(id);
    expect(c?.memLimitBytes).toBe(64 * 1024 * 1024);
    expect(c?.cpuNs).toBeGreaterThan(0);
  });

  it('remembers a memory limit for limitTtlMs, then sees a new one (docker update); a gone pid reads nothing', async () => {
    const pid = Number(docker(host, 'inspect', '-f', '{{.State.Pid}}', 'dk-busy'));
    const reader = new CgroupReader('/proc', 1500);
    expect((await reader.read(pid))?.memLimitBytes).toBe(64 * 1024 * 1024);
    docker(host, 'update', '--memory', '96m', 'dk-busy');
    try {
      // Within the TTL the remembered limit is given (documented: a limit changes only with docker update).
      expect((await reader.read(pid))?.memLimitBytes).toBe(64 * 1024 * 1024);
      await new Promise((r) => setTimeout(r, 1600));
      expect((await reader.read(pid))?.memLimitBytes).toBe(96 * 1024 * 1024);
      expect((await reader.read(pid))?.cpuNs).toBeGreaterThan(0);
    } finally {
      docker(host, 'update', '--memory', '64m', 'dk-busy');
    }
    expect(await reader.read(2 ** 22 + 12345)).toBeUndefined();
    reader.retain(new Set());
    expect((await reader.read(pid))?.memLimitBytes).toBe(64 * 1024 * 1024);
  });

  it('computes the same figures through one-shot API stats (the path for remote engines)', async () => {
    const endpoint = { ...resolveDockerEndpoint(host), local: false };
    const s = await twoSamples(new DockerService(endpoint), 'dk-busy');
    expect(s?.source).toBe('api');
    expect(s?.cpuPercent).toBeGreaterThan(20);
    expect(s?.memLimitBytes).toBe(64 * 1024 * 1024);
  });

  it('restarts a container (StartedAt changes) and reports a missing one as not-found', async () => {
    const svc = new DockerService(resolveDockerEndpoint(host));
    const before = docker(host, 'inspect', '-f', '{{.State.StartedAt}}', 'dk-idle');
    const r = await svc.restart('dk-idle', 1);
    expect(r.ok).toBe(true);
    expect(docker(host, 'inspect', '-f', '{{.State.StartedAt}}', 'dk-idle')).not.toBe(before);
    const missing = await svc.restart('dk-does-not-exist', 1);
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error.kind).toBe('not-found');
  });

  it('the polling path over node:http reads what dockerode reads; a missing container is not-found', async () => {
    const svc = new DockerService(resolveDockerEndpoint(host));
    const light = await svc.inspect('dk-idle');
    const viaDockerode = toContainerInfo(await new Docker(resolveDockerEndpoint(host).options).getContainer('dk-idle').inspect());
    expect(light).toEqual({ ok: true, value: viaDockerode });
    const missing = await svc.inspect('dk-does-not-exist');
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error).toMatchObject({ kind: 'not-found', message: expect.stringContaining('dk-does-not-exist') as unknown });
  });

  it('stop and start are idempotent: Docker\'s 304 (already stopped / started) is success, told by its status code', async () => {
    const svc = new DockerService(resolveDockerEndpoint(host));
    runContainer(host, 'dk-twice', ['--network', 'none'], ['sleep', '3600']);
    try {
      expect(await svc.start('dk-twice')).toEqual({ ok: true, value: undefined });
      expect(await svc.stop('dk-twice', 1)).toEqual({ ok: true, value: undefined });
      expect(docker(host, 'inspect', '-f', '{{.State.Status}}', 'dk-twice')).toBe('exited');
      expect(await svc.stop('dk-twice', 1)).toEqual({ ok: true, value: undefined });
      expect(await svc.start('dk-twice')).toEqual({ ok: true, value: undefined });
      expect(docker(host, 'inspect', '-f', '{{.State.Status}}', 'dk-twice')).toBe('running');
      const missing = await svc.stop('dk-does-not-exist', 1);
      expect(missing.ok || missing.error.kind).toBe('not-found');
    } finally {
      docker(host, 'rm', '-f', 'dk-twice');
    }
  });

  it('lists local image tags, creates a container from one, removes it; removing it again is not-found', async () => {
    const svc = new DockerService(resolveDockerEndpoint(host));
    const tags = await svc.imageTags();
    expect(tags.ok && tags.value).toContain(TEST_IMAGE);
    const created = await svc.create({ name: 'dk-made', image: TEST_IMAGE, cmd: ['sleep', '3600'], labels: { 'opsdeck.test': '1', x: 'y' }, network: 'none', restart: 'always' });
    try {
      expect(created.ok).toBe(true);
      if (!created.ok) return;
      expect((await svc.start(created.value)).ok).toBe(true);
      const info = await svc.inspect('dk-made');
      expect(info.ok && info.value).toMatchObject({ id: created.value, state: 'running', image: TEST_IMAGE, labels: { x: 'y' } });
      expect(docker(host, 'inspect', '-f', '{{.HostConfig.NetworkMode}} {{.HostConfig.RestartPolicy.Name}}', 'dk-made')).toBe('none always');
      expect(await svc.remove('dk-made', { force: true })).toEqual({ ok: true, value: undefined });
      const again = await svc.remove('dk-made', { force: true });
      expect(again.ok || again.error.kind).toBe('not-found');
      const clash = await svc.create({ name: 'dk-idle', image: TEST_IMAGE, cmd: ['true'] });
      expect(clash.ok || clash.error.kind).toBe('unknown');
    } finally {
      docker(host, 'rm', '-f', 'dk-made');
    }
  });

  it('opens the log of a container that prints nothing within the call time-out (the engine answers before the first line)', async () => {
    const svc = new DockerService(resolveDockerEndpoint(host), 1000);
    const r = await svc.followLogs('dk-idle', { tail: 0 });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.tty).toBe(false); // not a TTY: multiplexed, taken apart by LogDemuxer
      r.value.close();
    }
    const missing = await svc.followLogs('dk-does-not-exist');
    expect(missing.ok || missing.error.kind).toBe('not-found');
  });

  it('an engine that is not there is "unavailable" with the socket named, never a throw', async () => {
    const svc = new DockerService(resolveDockerEndpoint('unix:///tmp/opsdeck-no-such.sock'));
    const r = await svc.version();
    expect(r).toEqual({ ok: false, error: { kind: 'unavailable', source: 'docker', message: 'no Docker engine socket at unix:///tmp/opsdeck-no-such.sock (is dockerd running?)' } });
  });
});

describe('resolveDockerEndpoint', () => {
  it.each([
    ['unix:///run/x.sock', { display: 'unix:///run/x.sock', local: true }],
    ['tcp://10.0.0.5:2375', { display: 'tcp://10.0.0.5:2375', local: false }],
    ['tcp://10.0.0.5:2376', { display: 'tcp://10.0.0.5:2376', local: false }],
    ['ssh://ops@db1', { display: 'ssh://db1:22', local: false }],
  ])('%s', (addr, expected) => {
    expect(resolveDockerEndpoint(addr, {})).toMatchObject(expected);
  });
  it('uses TLS on port 2376', () => {
    expect(resolveDockerEndpoint('tcp://h:2376', {}).options.protocol).toBe('https');
  });
});

describe('after a restart, the container is watched a few seconds', () => {
  afterAll(() => {
    docker(host, 'rm', '-f', 'dk-crash');
  });
  it('a crash-looping container is "restarted, but it exited again (code N)", not "done"; a healthy one is running', async () => {
    runContainer(host, 'dk-crash', ['--network', 'none', '--restart', 'always'], ['sh', '-c', 'sleep 0.3; exit 3']);
    const svc = new DockerService(resolveDockerEndpoint(host));
    expect((await svc.restart('dk-crash', 1)).ok).toBe(true);
    const r = await svc.settle('dk-crash', 3000, 100);
    expect(r.ok && r.value.note).toMatch(/^restarted, but it exited again (\(code 3\)|and its restart policy started it)/);
    expect(r.ok && r.value.exitedAgain).toBe(true);
    expect((await svc.restart('dk-idle', 1)).ok).toBe(true);
    const idle = await svc.settle('dk-idle', 1500);
    expect(idle).toEqual({ ok: true, value: { note: 'dk-idle is running 2 s after', exitedAgain: false } });
  });
});
