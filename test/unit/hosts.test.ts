import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostGauges, parseMetrics } from '../../src/services/host-metrics.js';
import { hostEndpoint, knownHostKey } from '../../src/services/docker.js';
import { containerGroups, containerOfCheck, groupedContainers, hostChoices, nextHostFilter } from '../../src/ui/console/hosts.js';
import type { ContainerInfo } from '../../src/domain/observations.js';
import { evaluateDocker } from '../../src/domain/evaluate.js';
import { targetOfCheck } from '../../src/domain/runbook-map.js';

// Issue #25 (part C), the pure parts: the metrics page parser, known_hosts matching, the host filter.

describe('parseMetrics / hostGauges', () => {
  const page = [
    '# HELP opsdeck_host_cpu_usage_ratio Busy share of all cores.',
    '# TYPE opsdeck_host_cpu_usage_ratio gauge',
    'opsdeck_host_cpu_usage_ratio 0.25',
    'opsdeck_host_memory_used_bytes 2048',
    'opsdeck_host_memory_total_bytes 4096 1764730000000',
    'opsdeck_host_filesystem_used_bytes{mount="/"} 30',
    'opsdeck_host_filesystem_size_bytes{mount="/"} 100',
    'opsdeck_host_filesystem_used_bytes{mount="/data",device="sd\\"b"} 1',
    'opsdeck_host_filesystem_size_bytes{ mount = "/data" , } 4',
    'opsdeck_host_filesystem_used_bytes{mount="/half"} 1',
    'opsdeck_host_load1 NaN',
    'opsdeck_check_status{id="container:web",kind="container",target="web",host="db1"} 2',
    'garbage line {{{',
    'opsdeck_host_load1{broken="} 3',
    '',
  ].join('\n');

  it('reads the host gauges, skips comments, other names and malformed lines', () => {
    const g = hostGauges(parseMetrics(page));
    expect(g).toEqual({
      cpuRatio: 0.25,
      memUsedBytes: 2048,
      memTotalBytes: 4096,
      filesystems: [{ mount: '/', usedBytes: 30, sizeBytes: 100 }, { mount: '/data', usedBytes: 1, sizeBytes: 4 }],
    });
  });

  it('keeps labels with escapes', () => {
    const s = parseMetrics(page, new Set(['opsdeck_host_filesystem_used_bytes'])).find((x) => x.labels.mount === '/data');
    expect(s?.labels.device).toBe('sd"b');
  });
});

describe('knownHostKey', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-kh-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
  const [type, b64] = readFileSync(join(dir, 'k.pub'), 'utf8').trim().split(/\s+/) as [string, string];
  const key = Buffer.from(b64, 'base64');
  const other = randomBytes(51);
  const file = (text: string) => {
    const f = join(dir, `kh-${Math.random()}`);
    writeFileSync(f, text);
    return f;
  };

  it.each([
    ['plain name, port 22', `db1 ${type} ${b64}\n`, 'db1', 22, true],
    ['[host]:port', `[127.0.0.1]:2222 ${type} ${b64}\n`, '127.0.0.1', 2222, true],
    ['the port must match', `[127.0.0.1]:2222 ${type} ${b64}\n`, '127.0.0.1', 2223, false],
    ['a list and a pattern', `web,db* ${type} ${b64}\n`, 'db7', 22, true],
    ['a negated pattern', `db*,!db7 ${type} ${b64}\n`, 'db7', 22, false],
    ['another host', `web ${type} ${b64}\n`, 'db1', 22, false],
    ['revoked', `@revoked db1 ${type} ${b64}\ndb1 ${type} ${b64}\n`, 'db1', 22, false],
  ])('%s', (_n, text, host, port, expected) => {
    expect(knownHostKey(file(text), host, port, key)).toBe(expected);
  });

  it('a hashed name (ssh-keygen -H)', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[db1]:2200').digest('base64');
    const f = file(`|1|${salt.toString('base64')}|${hash} ${type} ${b64}\n`);
    expect(knownHostKey(f, 'db1', 2200, key)).toBe(true);
    expect(knownHostKey(f, 'db1', 2200, other)).toBe(false);
  });

  it('a missing file refuses', () => {
    expect(knownHostKey(join(dir, 'none'), 'db1', 22, key)).toBe(false);
  });

  it('ssh endpoints are never local and never show a password', () => {
    const e = hostEndpoint({ docker: 'ssh://ops@db1:2200', timeout: 5000, ssh: { known_hosts: join(dir, 'none') } }, { HOME: dir });
    expect(e).toMatchObject({ display: 'ssh://ops@db1:2200', local: false });
    const t = hostEndpoint({ docker: 'tcp://db1', timeout: 5000 }, {});
    expect(t).toMatchObject({ display: 'tcp://db1:2375', local: false });
    expect(hostEndpoint({ docker: 'unix:///tmp/x.sock', timeout: 5000 }, {}).local).toBe(false);
  });
});

describe('the host filter', () => {
  const c = (name: string, state: ContainerInfo['state'] = 'running'): ContainerInfo => ({ id: name, name, image: 'i', state, health: 'none', restartCount: 0, exitCode: 0, pid: 1, tty: false, labels: {} });
  const env = (names: string[]) => ({ status: 'ok' as const, data: { endpoint: 'x', containers: names.map((n) => c(n)), stats: {} } });
  const store = { docker: env(['web']), hosts: { db1: env(['pg', 'web']) }, hostGauges: {} };
  const layout = { local: true, hosts: [{ name: 'db1' }, { name: 'db2', metrics: 'http://db2:9464/metrics' }] };

  it('cycles all → local → each host → all', () => {
    const choices = hostChoices(layout);
    expect(choices).toEqual(['local', 'db1', 'db2']);
    const seen: (string | undefined)[] = [];
    let f: string | undefined;
    for (let i = 0; i < 4; i++) seen.push((f = nextHostFilter(f, choices)));
    expect(seen).toEqual(['local', 'db1', 'db2', undefined]);
  });

  it('groups by host, tags remote containers, and finds the container behind a host check', () => {
    const groups = containerGroups(store, layout, undefined);
    expect(groups.map((g) => [g.host, g.envelope.status, g.metrics])).toEqual([['local', 'ok', false], ['db1', 'ok', false], ['db2', 'loading', true]]);
    const list = groupedContainers(groups, 0);
    expect(list.map((x) => `${x.name}@${x.host ?? '-'}`)).toEqual(['web@-', 'pg@db1', 'web@db1']);
    expect(containerOfCheck('container:web@db1', 'web', list)?.host).toBe('db1');
    expect(containerOfCheck('container:web', 'web', list)?.host).toBeUndefined();
    expect(groupedContainers(containerGroups(store, layout, 'db1'), 0).map((x) => x.name)).toEqual(['pg', 'web']);
  });
});

describe('evaluateDocker on a host', () => {
  const svc = { name: 'web', container: 'web', timeout: 5000, critical: true, depends_on: [] };
  it('an unreachable host engine: one docker:engine@db1 alert, its containers suppressed by it', () => {
    const out = evaluateDocker(
      { endpoint: 'ssh://ops@db1:22', isDefault: false, optional: false, engine: { ok: false, error: { kind: 'timeout', source: 'docker', message: 'Docker engine at ssh://ops@db1:22 did not answer version in time' } }, stats: new Map() },
      { services: [svc], docker: { all_containers: false } },
      new Set(),
      'db1',
    );
    expect(out.map((r) => [r.id, r.status, r.suppressedBy])).toEqual([['docker:engine@db1', 'critical', undefined], ['container:web@db1', 'unknown', 'docker:engine@db1']]);
    expect(out[0]?.message).toMatch(/^host db1: Docker engine at ssh:\/\/ops@db1:22 did not answer/);
  });
});

describe('runbooks for a host container check', () => {
  it('container:<service>@<host> names the service (F runs service-recovery on the host engine)', () => {
    const names = { services: ['web'], endpoints: [], redis: [], databases: [] };
    expect(targetOfCheck({ id: 'container:web@db1', kind: 'container' }, names)).toEqual({ kind: 'service', name: 'web' });
    expect(targetOfCheck({ id: 'container:web', kind: 'container' }, names)).toEqual({ kind: 'service', name: 'web' });
  });
});
