import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { ConfigError } from '../../src/domain/errors.js';
import { startOrder, stopOrder } from '../../src/domain/service-order.js';
import { fill, varsIn } from '../../src/runbooks/template.js';
import { parseRunbookFile } from '../../src/runbooks/spec.js';
import { renderSteps, resolveTarget } from '../../src/runbooks/render.js';

// Issue #17's configuration: apps (their services, database and writers), services[].depends_on
// (declared, no cycle) and the start order it gives; `{{name | default}}` in runbook values.

function load(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-appcfg-'));
  const file = join(dir, 'opsdeck.yaml');
  writeFileSync(file, text);
  return { file, dir, load: () => loadConfigFile(file) };
}

function error(text: string): string {
  try {
    load(text).load();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message.split('\n')).toHaveLength(1);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const services = 'services:\n  - name: db-proxy\n  - name: api\n    depends_on: [db-proxy]\n  - name: worker\n    depends_on: [api, db-proxy]\n';

describe('apps and depends_on', () => {
  it('an app gets the update defaults; its folder is made absolute from the config file', () => {
    const f = load(`${services}apps:\n  - name: shop\n    dir: app\n    services: [api]\n`);
    const a = f.load().config.apps[0];
    expect(a).toMatchObject({ name: 'shop', dir: join(f.dir, 'app'), revision: ['git', 'rev-parse', 'HEAD'], pull: ['git', 'pull', '--ff-only'], checkout: ['git', 'reset', '--keep', '{{revision}}'], timeout: 600_000, healthy_within: 60_000 });
  });

  it('names the field and what was expected: unknown service, unknown database, a writer outside the app, a command that is not a list', () => {
    expect(error(`${services}apps:\n  - name: shop\n    dir: .\n    services: [web]\n`)).toMatch(/apps\[0\]\.services\[0\]: service "web" is not in services \(expected one of: db-proxy, api, worker\)/);
    expect(error(`${services}apps:\n  - name: shop\n    dir: .\n    database: main\n`)).toMatch(/apps\[0\]\.database: database "main" is not in databases/);
    expect(error(`${services}databases:\n  - name: main\n    path: /tmp/x.db\n    writers: [api, worker]\napps:\n  - name: shop\n    dir: .\n    services: [api]\n    database: main\n`)).toMatch(/apps\[0\]\.services: expected worker \(writers of database main\) among the app's services/);
    expect(error(`apps:\n  - name: shop\n    dir: .\n    pull: git pull\n`)).toMatch(/apps\[0\]\.pull: expected array, got the text "git pull"/);
  });

  it('depends_on must name declared services and may not loop', () => {
    expect(error('services:\n  - name: api\n    depends_on: [cache]\n')).toMatch(/services\[0\]\.depends_on\[0\]: service "cache" is not in services/);
    expect(error('services:\n  - name: a\n    depends_on: [b]\n  - name: b\n    depends_on: [a]\n')).toMatch(/expected no cycle in depends_on, found a → b → a/);
  });

  it('start order puts dependencies first (ties in config order); stop order is its reverse; a subset keeps that order', () => {
    const list = load(services).load().config.services;
    expect(startOrder(list)).toEqual(['db-proxy', 'api', 'worker']);
    expect(stopOrder(list)).toEqual(['worker', 'api', 'db-proxy']);
    expect(startOrder(list, ['worker', 'db-proxy'])).toEqual(['db-proxy', 'worker']);
    expect(startOrder([{ name: 'web', depends_on: ['cache'] }, { name: 'cache', depends_on: [] }])).toEqual(['cache', 'web']);
  });
});

describe('{{name | default}}', () => {
  it('takes the value when there is one, the default otherwise; the name alone is what is checked', () => {
    const vars = new Map([['param.revision', '0003']]);
    expect(fill('{{param.revision | head}}', vars, 'x')).toBe('0003');
    expect(fill('{{ param.direction | upgrade }}', vars, 'x')).toBe('upgrade');
    expect(varsIn('{{param.direction | upgrade}} to {{app.name}}')).toEqual(['param.direction', 'app.name']);
    expect(() => fill('{{param.direction}}', vars, 'step')).toThrow(/pass it with --param direction=VALUE/);
  });
});

describe('app-update as rendered', () => {
  it('the notify step is put to a person who is there (a step only a person does is confirmed); no step after the look may be skipped', () => {
    const { config } = load(`${services}apps:\n  - name: shop\n    dir: .\n    services: [api]\n    notify: "back in 5 minutes"\n`).load();
    const spec = parseRunbookFile(join(import.meta.dirname, '../../runbooks/app-update.yaml'));
    const steps = renderSteps(spec, resolveTarget(spec, config, undefined, undefined, {}), 'app-update.yaml');
    expect(steps.find((s) => s.id === 'notify')).toMatchObject({ confirm: true, optional: true });
    expect(steps.filter((s) => s.optional).map((s) => s.id)).toEqual(['look', 'notify']);
  });
});
