import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/check.js';
import { matchesPattern, runbookForCheck } from '../../src/domain/runbook-map.js';
import { fill, shellQuote } from '../../src/runbooks/template.js';

// Which runbook answers which alert (issue #16's table), and how values are filled into steps.

const names = { services: ['api', 'worker', 'api-b'], endpoints: ['metrics'], redis: ['cache'], databases: ['trading'], pairs: { api: 'api' } };
const r = (id: string, kind: CheckResult['kind'], status: CheckResult['status'] = 'critical', value?: number): CheckResult => ({ id, kind, target: id, status, message: '', ...(value !== undefined ? { value } : {}) });

describe('alert → runbook', () => {
  it.each([
    ['a container down', r('container:worker', 'container'), 'service-recovery', { kind: 'service', name: 'worker' }],
    ['an HTTP service that does not answer', r('http:api', 'http'), 'service-recovery', { kind: 'service', name: 'api' }],
    ['an HTTP service answering 500', r('http:api', 'http', 'critical', 500), 'api-degraded', { kind: 'service', name: 'api' }],
    ['an HTTP service too slow (a warning)', r('http:api', 'http', 'warning', 2500), 'api-degraded', { kind: 'service', name: 'api' }],
    ['a non-critical HTTP service that does not answer (a warning, no value): down, not degraded', r('http:api', 'http', 'warning'), 'service-recovery', { kind: 'service', name: 'api' }],
    ['Redis', r('redis:cache', 'redis'), 'redis-recovery', { kind: 'redis', name: 'cache' }],
    ['a corrupt database', r('sqlite:trading', 'sqlite'), 'restore-database', { kind: 'database', name: 'trading' }],
    ['rows lost', r('sqlite:trading:rows', 'sqlite'), 'restore-database', { kind: 'database', name: 'trading' }],
    ['a full disk', r('host:disk:/var', 'host', 'warning'), 'disk-pressure', { kind: 'host', name: '/var' }],
    ['a failover pair serving from its backup: failback on the primary (F; never the healer)', r('failover:api', 'failover', 'warning'), 'failback', { kind: 'service', name: 'api' }],
  ])('%s', (_what, result, runbook, target) => {
    expect(runbookForCheck(result, names)).toEqual({ runbook, target, check: result.id });
  });

  it('has none for CPU, the engine, system health, or a target that is not configured', () => {
    expect(runbookForCheck(r('host:cpu', 'host'), names)).toBeUndefined();
    expect(runbookForCheck(r('docker:engine', 'docker'), names)).toBeUndefined();
    expect(runbookForCheck(r('system:health', 'system'), names)).toBeUndefined();
    expect(runbookForCheck(r('container:ghost', 'container'), names)).toBeUndefined();
    expect(runbookForCheck(r('failover:api', 'failover', 'ok'), names)).toBeUndefined(); // the primary serves
    expect(runbookForCheck(r('failover:nopair', 'failover', 'warning'), names)).toBeUndefined();
    // Merge conflicts wait for a review (the message says how), not for another restore.
    expect(runbookForCheck({ ...r('sqlite:trading:rows', 'sqlite', 'warning'), message: 'merge conflicts kept for review: 39 rows of trades in _opsdeck_conflicts_trades' }, names)).toBeUndefined();
    // An endpoint has no service behind it to restart: only runbooks.map gives it one.
    expect(runbookForCheck(r('http:metrics', 'http', 'warning', 2500), names)).toBeUndefined();
    expect(runbookForCheck(r('http:metrics', 'http'), names, { 'http:metrics': 'recovery-verify' })).toMatchObject({ target: { kind: 'endpoint', name: 'metrics' } });
  });

  it('runbooks.map overrides per check id pattern, first match in the order written', () => {
    const map = { 'http:api': 'my-api-fix', 'container:*': 'recreate', '*': 'catch-all' };
    expect(runbookForCheck(r('http:api', 'http'), names, map)?.runbook).toBe('my-api-fix');
    expect(runbookForCheck(r('container:worker', 'container'), names, map)).toMatchObject({ runbook: 'recreate', target: { kind: 'service', name: 'worker' } });
    expect(runbookForCheck(r('host:cpu', 'host'), names, map)).toEqual({ runbook: 'catch-all', target: { kind: 'none', name: '' }, check: 'host:cpu' });
    expect(matchesPattern('http:a.i', 'http:api')).toBe(false);
  });
});

describe('values in steps', () => {
  const vars = new Map([
    ['service.name', 'api'],
    ['param.evil', `a'b; $(x) \`y\`\nz`],
  ]);
  it('fills a value as it is for an argument, single-quoted for a shell line', () => {
    expect(fill('restart {{ service.name }}', vars, 'w')).toBe('restart api');
    expect(fill('{{param.evil}}', vars, 'w')).toBe(`a'b; $(x) \`y\`\nz`);
    expect(fill('echo {{param.evil}}', vars, 'w', true)).toBe(`echo 'a'\\''b; $(x) \`y\`\nz'`);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
  it('a value without a source is a params failure naming it and where it would come from', () => {
    expect(() => fill('{{service.container}}', vars, 'file: steps[0]')).toThrow('file: steps[0]: {{service.container}} has no value (the target\'s configuration has no container: set services[].container)');
    expect(() => fill('{{param.prefix}}', vars, 'w')).toThrow('(pass it with --param prefix=VALUE)');
  });
});
