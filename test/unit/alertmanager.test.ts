import { describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import { amAlertsOf, externalAlerts, externalLabel, hostLabel, parseAmAlerts, parseAmSilences, type AmAlert } from '../../src/domain/alertmanager.js';
import type { NotifyMessage } from '../../src/domain/notify.js';

// Issue #25 (part B), the pure part: the alerts opsdeck posts to Alertmanager, the host label, and
// Alertmanager's alerts read back for the console (narrowed, de-duplicated, marked).

const T = Date.UTC(2026, 11, 3, 3, 0, 0);
const ch = { name: 'am', labels: { cluster: 'prod' }, generator_url: 'https://ops.example/c?id={{id}}' };
const facts = { kind: 'http', target: 'http://127.0.0.1/api?token=***', host: 'web1', severity: 'critical' as const, firedAt: T - 60_000, runbook: 'api-degraded' };
const msg = (kind: NotifyMessage['kind'], alerts: NotifyMessage['alerts'], at = T): NotifyMessage => ({ kind, subject: 'http:api', stack: 's', title: 't', alerts, at });

describe('amAlertsOf', () => {
  it('firing: opsdeck labels over the channel labels, started when it fired, ends 4 periods ahead', () => {
    const [a] = amAlertsOf(ch, msg('firing', [{ checkId: 'http:api', status: 'critical', message: 'HTTP 500', facts }]), T, 240_000, 'local');
    expect(a).toEqual({
      labels: { cluster: 'prod', alertname: 'opsdeck_http', id: 'http:api', kind: 'http', target: facts.target, severity: 'critical', host: 'web1', instance: 'web1' },
      annotations: { summary: 'HTTP 500', runbook: 'api-degraded' },
      startsAt: new Date(T - 60_000).toISOString(),
      endsAt: new Date(T + 240_000).toISOString(),
      generatorURL: 'https://ops.example/c?id=http%3Aapi',
    });
  });
  it('resolved: the same labels, ends when it resolved, its own message as summary', () => {
    const [a] = amAlertsOf(ch, msg('resolved', [{ checkId: 'http:api', status: 'ok', message: 'resolved (was CRITICAL: HTTP 500)', summary: 'HTTP 500', facts }], T + 5_000), T + 9_000, 240_000, 'local');
    expect(a?.labels.severity).toBe('critical');
    expect(a?.endsAt).toBe(new Date(T + 5_000).toISOString());
    expect(a?.annotations.summary).toBe('HTTP 500');
  });
  it("the channel's static labels it fired with, when kept with its facts, win over the configuration's current ones", () => {
    const [a] = amAlertsOf(ch, msg('repeat', [{ checkId: 'http:api', status: 'critical', message: 'HTTP 500', facts: { ...facts, labels: { cluster: 'staging' } } }]), T, 1000, 'local');
    expect(a?.labels.cluster).toBe('staging');
  });
  it('an alert without facts (an older opsdeck queued it) takes kind and target from its id', () => {
    const [a] = amAlertsOf(ch, msg('firing', [{ checkId: 'container:web', status: 'unknown', message: 'x' }]), T, 1000, 'local');
    expect(a?.labels).toMatchObject({ alertname: 'opsdeck_container', kind: 'container', target: 'web', severity: 'warning', host: 'local' });
  });
  it('a test alert ends in 5 minutes; announcements post nothing', () => {
    const [t] = amAlertsOf(ch, { ...msg('test', [{ checkId: 'test:am', status: 'ok', message: 'hello' }]), subject: 'test:am' }, T, 1000, 'box');
    expect(t?.labels).toMatchObject({ alertname: 'opsdeck_test', id: 'test:am', severity: 'info', host: 'box' });
    expect(t?.endsAt).toBe(new Date(T + 5 * 60_000).toISOString());
    expect(amAlertsOf(ch, msg('declared', [{ checkId: 'INC-1', status: 'critical', message: 'x' }]), T, 1000, 'box')).toEqual([]);
    expect(amAlertsOf(ch, msg('app', [{ checkId: 'app:x', status: 'ok', message: 'x' }]), T, 1000, 'box')).toEqual([]);
  });
});

describe('hostLabel', () => {
  it.each([
    [{}, 'http:api', 'box'],
    [{ metrics: { host: 'web1' } }, 'http:api', 'web1'],
    [{ hosts: [{ name: 'db1' }], metrics: { host: 'web1' } }, 'container:pg@db1', 'db1'],
    [{ hosts: [{ name: 'db1' }] }, 'container:pg@db9', 'box'],
    [{ metrics: { host: 'web1' } }, undefined, 'web1'],
  ])('%j %s → %s', (cfg, id, want) => expect(hostLabel(cfg, id, 'box')).toBe(want));
});

const amAlert = (over: Partial<AmAlert> & { labels: Record<string, string> }): AmAlert => ({ fingerprint: 'f0', annotations: {}, startsAt: T, state: 'active', silencedBy: [], inhibitedBy: [], ...over });

describe('externalAlerts', () => {
  it("leaves out opsdeck's own (same id and host), keeps another host's alert of the same check", () => {
    const list = [
      amAlert({ fingerprint: 'a1', labels: { alertname: 'opsdeck_http', id: 'http:api', host: 'box', severity: 'critical' } }),
      amAlert({ fingerprint: 'a2', labels: { alertname: 'opsdeck_http', id: 'http:api', host: 'web2', severity: 'critical' } }),
    ];
    const out = externalAlerts(list, [], new Set(['http:api']), () => 'box');
    expect(out.map((a) => a.checkId)).toEqual(['am:opsdeck_http@web2']);
  });
  it('two alerts of one name and instance get their fingerprint; severity maps to a status; silence named', () => {
    const list = [
      amAlert({ fingerprint: 'abcdef01', labels: { alertname: 'Up', instance: 'db1:9100', job: 'a', severity: 'page' } }),
      amAlert({ fingerprint: 'bcdef012', labels: { alertname: 'Up', instance: 'db1:9100', job: 'b' }, state: 'suppressed', silencedBy: ['s1'] }),
    ];
    const out = externalAlerts(list, [{ id: 's1', state: 'active', createdBy: 'bob', comment: 'deploy', endsAt: T + 3_600_000 }], new Set(), () => 'box');
    // No severity: informational, below every warning (an operator saw Watchdog sorted above real warnings as UNKNOWN).
    expect(out.map((a) => [a.checkId, a.status])).toEqual([['am:Up@db1#abcdef', 'critical'], ['am:Up@db1#bcdef0', 'ok']]);
    const sev = (severity: string) => externalAlerts([amAlert({ labels: { alertname: 'A', severity } })], [], new Set(), () => 'box')[0]?.status;
    expect(['info', 'none', 'warning', 'minor', 'error', 'critical'].map(sev)).toEqual(['ok', 'ok', 'warning', 'warning', 'critical', 'critical']);
    expect(out[1]?.message).toBe('instance=db1:9100 job=b — silenced by bob until 2026-12-03 04:00Z: deploy');
    expect(out.map((a) => externalLabel(a.external))).toEqual(['AM active', 'AM silenced']);
    // Silenced twice (a second s): the silence that ends last is the one named.
    const twice = externalAlerts([amAlert({ labels: { alertname: 'X' }, state: 'suppressed', silencedBy: ['s1', 's2', 'gone'] })], [{ id: 's1', state: 'active', createdBy: 'bob', comment: 'short', endsAt: T + 60_000 }, { id: 's2', state: 'active', createdBy: 'ann', comment: 'long', endsAt: T + 7_200_000 }], new Set(), () => 'box');
    expect(twice[0]?.external.silence).toMatchObject({ id: 's2', createdBy: 'ann' });
  });
});

describe("another sender's text", () => {
  it('is one printable line: escape sequences and newlines escaped', () => {
    const [a] = externalAlerts([amAlert({ labels: { alertname: 'X\x1b]0;pwn\x07' }, annotations: { summary: 'line1\nline2 \x1b[2J' } })], [], new Set(), () => 'box');
    expect(a?.checkId).not.toMatch(/[\x00-\x1f]/);
    expect(a?.message).not.toMatch(/[\x00-\x1f]/);
    expect(a?.message).toContain('line1');
  });
});

describe('parsing Alertmanager answers', () => {
  it('narrows what it can, drops what it cannot', () => {
    expect(parseAmAlerts({})).toBeUndefined();
    expect(parseAmSilences('x')).toBeUndefined();
    const a = parseAmAlerts([{ fingerprint: 'f', labels: { a: 'b', n: 3 }, startsAt: '2026-12-03T03:00:00Z', status: { state: 'active', silencedBy: ['x', 1] } }, { labels: {} }, null]);
    expect(a).toEqual([{ fingerprint: 'f', labels: { a: 'b' }, annotations: {}, startsAt: T, state: 'active', silencedBy: ['x'], inhibitedBy: [] }]);
  });
});

describe('configuration', () => {
  it('an alertmanager channel and the alertmanager key parse with their defaults', () => {
    const c = validate({ notify: { channels: [{ name: 'am', type: 'alertmanager', url: 'http://127.0.0.1:9093' }] }, alertmanager: { url: 'http://127.0.0.1:9093' } }, 'test');
    expect(c.notify.channels[0]).toMatchObject({ type: 'alertmanager', labels: {}, resend_every: 60_000 });
    expect(c.alertmanager).toEqual({ url: 'http://127.0.0.1:9093', timeout: 5000, interval: 15_000 });
  });
  it("refuses labels that would replace opsdeck's own, and a bad label name", () => {
    expect(() => validate({ notify: { channels: [{ name: 'am', type: 'alertmanager', url: 'http://x:9093', labels: { severity: 'x' } }] } }, 'test')).toThrow(/labels other than opsdeck's own/);
    expect(() => validate({ notify: { channels: [{ name: 'am', type: 'alertmanager', url: 'http://x:9093', labels: { '1x': 'y' } }] } }, 'test')).toThrow(/label name/);
    expect(() => validate({ alertmanager: { url: 'ftp://x' } }, 'test')).toThrow(/alertmanager\.url/);
  });
});
