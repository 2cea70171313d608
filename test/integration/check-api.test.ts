import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { docker, runContainer } from '../helpers/docker-engine.js';

// `opsdeck check` on the API stats path (`docker.stats_source: api`, what a remote engine uses)
// against the real private engine: one daemon sampling cycle per read, so declared services get a
// real two-read CPU %; the other running containers are listed but not read, and the JSON says so.

const host = inject('dockerHost');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-check-api-'));
const PROJECT = ['--label', 'com.docker.compose.project=capi'];

interface Check {
  id: string;
  status: string;
  message: string;
  value?: number;
  missing?: Record<string, string>;
}

function config(name: string, services: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `thresholds: {cpu: 100, disk: 100, memory: 100}\ndocker:\n  host: ${host}\n  stats_source: api\n  all_containers: true\n  compose_project: capi\nredis: []\n${services}`,
  );
  return file;
}

async function check(file: string) {
  const r = await runCli(['check', '--json', '--config', file]);
  const report = JSON.parse(r.stdout) as { status: string; checks: Check[] };
  const byId = (id: string): Check => {
    const c = report.checks.find((x) => x.id === id);
    if (!c) throw new Error(`no check ${id} in ${report.checks.map((x) => x.id).join(', ')}`);
    return c;
  };
  return { code: r.code, report, byId };
}

beforeAll(async () => {
  runContainer(host, 'capi-busy', ['--network', 'none', '--memory', '64m', ...PROJECT], ['sh', '-c', 'yes > /dev/null']);
  runContainer(host, 'capi-idle', ['--network', 'none', ...PROJECT], ['sleep', '3600']);
  runContainer(host, 'capi-sick', ['--network', 'none', '--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '1', ...PROJECT], ['sleep', '3600']);
  runContainer(host, 'capi-exited', ['--network', 'none', ...PROJECT], ['sh', '-c', 'exit 3']);
  const deadline = Date.now() + 30_000;
  while (docker(host, 'inspect', '-f', '{{.State.Health.Status}}', 'capi-sick') !== 'unhealthy') {
    if (Date.now() > deadline) throw new Error('capi-sick did not become unhealthy');
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(() => {
  docker(host, 'rm', '-f', 'capi-busy', 'capi-idle', 'capi-sick', 'capi-exited');
});

describe('opsdeck check over one-shot API stats', () => {
  it('declared services get a real CPU % from two reads; the others are not read and say why', async () => {
    const file = config('declared', 'services:\n  - name: busy\n    container: capi-busy\n  - name: sick\n    container: capi-sick\n');
    const { code, report, byId } = await check(file);
    const busy = byId('container:busy');
    expect(busy.status).toBe('ok');
    // `yes` keeps about one core busy, but a loaded 2-core CI machine gave it 18 %: assert a real
    // two-read figure that tells the busy container from the sleeping one, not a share of a core.
    expect(busy.value).toBeGreaterThan(5);
    expect(busy.missing).toBeUndefined();
    expect(busy.message).toMatch(/CPU \d+%, memory .* of 64(\.0)? MiB/);
    const sick = byId('container:sick');
    expect(sick.status).toBe('warning');
    expect(sick.message).toContain('capi-sick is unhealthy');
    expect(sick.missing).toBeUndefined();
    expect(typeof sick.value).toBe('number');
    expect(busy.value).toBeGreaterThan(sick.value ?? 0);
    const idle = byId('container:capi-idle');
    expect(idle.status).toBe('ok');
    expect(idle.value).toBeUndefined();
    expect(idle.message).toBe('capi-idle is running; CPU and memory not measured');
    expect(idle.missing?.cpuPercent).toMatch(/^not read: .*only for declared services/);
    expect(idle.missing?.memory).toBe(idle.missing?.cpuPercent);
    const exited = byId('container:capi-exited');
    expect(exited.status).toBe('warning');
    expect(exited.message).toContain('exit code 3');
    expect(exited.missing).toBeUndefined(); // not running: no stats at all, nothing to miss
    expect(report.status).toBe('warning');
    expect(code).toBe(1);
  });

  it('with no declared services no stats are read: state and health still right, figures marked missing', async () => {
    const { byId } = await check(config('sweep', ''));
    for (const id of ['container:capi-busy', 'container:capi-idle', 'container:capi-sick']) {
      const c = byId(id);
      expect(c.value).toBeUndefined();
      expect(c.missing?.cpuPercent).toMatch(/^not read: /);
      expect(c.message).toMatch(/; CPU and memory not measured$/);
    }
    expect(byId('container:capi-busy').status).toBe('ok');
    expect(byId('container:capi-sick')).toMatchObject({ status: 'warning' });
    expect(byId('container:capi-sick').message).toContain('unhealthy');
    expect(byId('container:capi-exited').missing).toBeUndefined();
});
});
