import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeSqlite } from '../../src/services/sqlite.js';
import { stepAlert, type Alert } from '../../src/domain/alerts.js';
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import { exitCodeFor, overallStatus, type CheckResult, type CheckStatus } from '../../src/domain/check.js';
import { containerStatus, evaluateBackupAge, evaluateHost, evaluateHttp, evaluateRedis, evaluateSqlite, systemHealth } from '../../src/domain/evaluate.js';
import { ok } from '../../src/domain/result.js';
import { ProbeWindow } from '../../src/domain/window.js';
import type { ContainerInfo } from '../../src/domain/observations.js';
import { fromListEntry, listSignature } from '../../src/services/docker/containers.js';
import type { HostSample } from '../../src/services/host.js';
import { healthFromInfo, parseInfo } from '../../src/services/redis.js';
import { checkBody } from '../../src/services/http.js';
import { cpuPercentBetween, parseMeminfo, parseMounts, parseNetDev, parseProcStat } from '../../src/services/host.js';

const t = validate({}, 'test').thresholds;
const r = (status: CheckStatus, extra: Partial<CheckResult> = {}): CheckResult => ({ id: `x:${Math.random()}`, kind: 'host', target: 't', status, message: '', ...extra });

describe('overall status and exit codes', () => {
  it.each([
    [['ok', 'ok'], 'ok', 0],
    [['ok', 'warning'], 'warning', 1],
    [['warning', 'unknown'], 'unknown', 3],
    [['unknown', 'critical', 'warning'], 'critical', 2],
    [[], 'ok', 0],
  ] as const)('%j → %s (exit %i)', (statuses, expected, code) => {
    const s = overallStatus(statuses.map((x) => r(x)));
    expect(s).toBe(expected);
    expect(exitCodeFor(s)).toBe(code);
  });
  it('ignores suppressed checks', () => {
    expect(overallStatus([r('ok'), r('unknown', { suppressedBy: 'docker:engine' })])).toBe('ok');
  });
});

const host = (over: Partial<HostSample>): HostSample => ({
  hostname: 'h', takenAt: 0, cpuCount: 2, cpuPercent: 10, load: [0, 0, 0],
  memory: { totalBytes: 100, usedBytes: 50, percent: 50 }, filesystems: [], network: { rxBytes: 0, txBytes: 0 }, uptimeSec: 1, source: 'proc', ...over,
});

describe('host thresholds (CPU > 80 %, memory > 90 %, disk > 85 % are warnings)', () => {
  it.each([
    ['host:cpu', host({ cpuPercent: 80 }), 'ok'],
    ['host:cpu', host({ cpuPercent: 80.5 }), 'warning'],
    ['host:memory', host({ memory: { totalBytes: 100, usedBytes: 91, percent: 91 } }), 'warning'],
    ['host:disk:/data', host({ filesystems: [{ mount: '/data', device: 'd', type: 'ext4', sizeBytes: 100, usedBytes: 86, percent: 86 }] }), 'warning'],
    ['host:disk:/data', host({ filesystems: [{ mount: '/data', device: 'd', type: 'ext4', sizeBytes: 100, usedBytes: 85, percent: 85 }] }), 'ok'],
  ])('%s %#', (id, sample, status) => {
    expect(evaluateHost(ok(sample), t).find((c) => c.id === id)?.status).toBe(status);
  });
  it('an optional critical level makes a breach critical', () => {
    const t2 = { ...t, disk_critical: 95 };
    const s = host({ filesystems: [{ mount: '/', device: 'd', type: 'ext4', sizeBytes: 100, usedBytes: 97, percent: 97 }] });
    expect(evaluateHost(ok(s), t2).find((c) => c.id === 'host:disk:/')?.status).toBe('critical');
  });
});

const container = (over: Partial<ContainerInfo>): ContainerInfo => ({
  id: 'i', name: 'c', image: 'img', state: 'running', health: 'none', restartCount: 0, exitCode: 0, pid: 1, tty: false, labels: {}, ...over,
});

describe('container status', () => {
  it.each([
    [container({}), true, true, 'ok'],
    [container({ health: 'unhealthy' }), true, true, 'critical'],
    [container({ health: 'unhealthy' }), false, true, 'warning'],
    [container({ health: 'starting' }), true, true, 'warning'],
    [container({ state: 'restarting', restartCount: 7 }), true, true, 'critical'],
    [container({ state: 'exited', exitCode: 137 }), true, true, 'critical'],
    [container({ state: 'exited', exitCode: 0 }), false, false, 'ok'],
    [container({ state: 'exited', exitCode: 1 }), false, false, 'warning'],
    [container({ state: 'paused' }), true, true, 'critical'],
    [container({ state: 'paused' }), false, true, 'warning'],
  ])('%o critical=%s declared=%s → %s', (c, critical, declared, status) => {
    expect(containerStatus(c, critical, declared).status).toBe(status);
  });
});

describe('HTTP rates over the sliding window', () => {
  const cfgProbe = (okv: boolean, status: number, latencyMs = 10) => ({
    at: 0, target: 'http://x', status, latencyMs, ok: okv, ...(okv ? {} : { failure: { kind: 'status' as const, message: `HTTP ${status}` } }),
  });
  it('warns when the error rate over the last 20 probes exceeds 5 %', () => {
    const w = new ProbeWindow(20);
    for (let i = 0; i < 20; i++) w.push({ ok: i !== 10 && i !== 17, errorAnswer: i === 10 || i === 17, latencyMs: 10 });
    const res = evaluateHttp('http:a', false, cfgProbe(true, 200), w.stats(), t);
    expect(res.status).toBe('warning');
    expect(res.message).toMatch(/error rate 10% above 5%/);
  });
  it('warns on failure rate > 10 % even when failures are timeouts (not error answers)', () => {
    const w = new ProbeWindow(20);
    for (let i = 0; i < 20; i++) w.push({ ok: ![5, 12, 18].includes(i), errorAnswer: false, latencyMs: 10 });
    const res = evaluateHttp('http:a', false, cfgProbe(true, 200), w.stats(), t);
    expect(res.message).toMatch(/failure rate 15% above 10%/);
    expect(res.message).not.toMatch(/error rate \d+% above/);
  });
  it.each([
    [2, 5, 5],
    [6, 5, 6],
    [1, 3, 3],
  ])('an alert raised by the rate resolves after max(recovery_threshold %i, rate_recovery %i) = %i successes in a row; a 1-in-3 flap keeps firing', (recovery, rateRecovery, expected) => {
    const th = { ...t, rate_recovery: rateRecovery };
    const h = { failureThreshold: 3, recoveryThreshold: recovery };
    const w = new ProbeWindow(20);
    let alert: Alert | undefined;
    const probe = (okv: boolean, i: number) => {
      w.push({ ok: okv, errorAnswer: !okv, latencyMs: 10 });
      const r = evaluateHttp('http:a', false, cfgProbe(okv, okv ? 200 : 500), w.stats(), th);
      const step = stepAlert(alert, r, i, h);
      alert = step.alert;
      return step.transition;
    };
    let i = 0;
    for (; i < 12; i++) probe(i % 3 !== 0, i); // one in three fails
    expect(alert?.state).toBe('firing');
    for (; i < 30; i++) probe(i % 3 !== 0, i);
    expect(alert?.state).toBe('firing'); // the flap never earns the streak
    probe(false, i++); // the last failure: the streak of successes starts after it
    const transitions: (string | undefined)[] = [];
    for (let k = 1; k <= 8; k++) transitions.push(probe(true, i++));
    expect(transitions.indexOf('resolved') + 1).toBe(expected);
  });

  it('an alert raised by the service being down resolves within recovery_threshold answers, though the window still holds the failures', () => {
    const w = new ProbeWindow(20);
    let alert: Alert | undefined;
    const h = { failureThreshold: 3, recoveryThreshold: 2 };
    const probe = (okv: boolean, i: number) => {
      w.push({ ok: okv, errorAnswer: false, latencyMs: 10 });
      const step = stepAlert(alert, evaluateHttp('http:a', true, okv ? cfgProbe(true, 200) : { at: 0, target: 'http://x', latencyMs: 1, ok: false, failure: { kind: 'refused' as const, message: 'refused' } }, w.stats(), t), i, h);
      alert = step.alert;
      return step.transition;
    };
    for (let i = 0; i < 10; i++) probe(true, i);
    for (let i = 10; i < 16; i++) probe(false, i);
    expect(alert?.state).toBe('firing');
    expect(probe(true, 16)).toBeUndefined();
    expect(probe(true, 17)).toBe('resolved');
  });

  it('keeps only the window size and computes p95', () => {
    const w = new ProbeWindow(20);
    for (let i = 1; i <= 40; i++) w.push({ ok: true, errorAnswer: false, latencyMs: i });
    expect(w.stats()).toMatchObject({ count: 20, p95LatencyMs: 39, lastLatencyMs: 40, errorRate: 0 });
  });
});

describe('Redis INFO', () => {
  const info = parseInfo('# Memory\r\nused_memory:950\r\nmaxmemory:1000\r\nmaxmemory_policy:noeviction\r\nevicted_keys:5\r\nkeyspace_hits:3\r\nkeyspace_misses:1\r\nrdb_last_bgsave_status:ok\r\nrole:master\r\n');
  it('parses memory against maxmemory, hit ratio and eviction delta', () => {
    const h = healthFromInfo(info, 1.5, 2);
    expect(h).toMatchObject({ usedMemoryBytes: 950, maxMemoryBytes: 1000, memoryPercent: 95, hitRatio: 0.75, evictedDelta: 3, role: 'master' });
  });
  it('≥ 90 % of maxmemory is a warning; a failed RDB save is critical', () => {
    const cfg = validate({ redis: [{ name: 'r', url: 'redis://x' }] }, 't').redis[0]!;
    expect(evaluateRedis(cfg, 'redis://x', ok(healthFromInfo(info, 1)), t).status).toBe('warning');
    const bad = healthFromInfo(parseInfo('used_memory:1\nrdb_last_bgsave_status:err\n'), 1);
    expect(evaluateRedis(cfg, 'redis://x', ok(bad), t)).toMatchObject({ status: 'critical', message: expect.stringMatching(/MISCONF/) as string });
  });
});

describe('system health composite', () => {
  it.each([
    [['ok', 'ok'], 100, 'ok'],
    [['ok', 'warning'], 75, 'ok'],
    [['ok', 'critical'], 50, 'ok'],
    [['ok', 'critical', 'critical'], 33, 'critical'],
  ] as const)('%j → %i%% %s', (statuses, pct, status) => {
    const h = systemHealth(statuses.map((s) => r(s, { critical: true })), 50);
    expect(h.value).toBe(pct);
    expect(h.status).toBe(status);
  });
});

describe('/proc parsers', () => {
  it('CPU % from two /proc/stat samples', () => {
    const a = parseProcStat('cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 ...')!;
    const b = parseProcStat('cpu  150 0 150 900 0 0 0 0 0 0\n')!;
    expect(cpuPercentBetween(a, b)).toBe(50);
  });
  it('memory used = total − available', () => {
    expect(parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 250 kB\n')).toEqual({ totalBytes: 1024000, usedBytes: 768000, percent: 75 });
  });
  it('keeps real filesystems, one per device', () => {
    const m = parseMounts('/dev/vda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\ntmpfs /run tmpfs rw 0 0\n/dev/vda1 /var/lib/docker ext4 rw 0 0\noverlay /x overlay rw 0 0\n/dev/vdb /data xfs rw 0 0\n');
    expect(m.map((x) => x.mount)).toEqual(['/', '/data']);
  });
  it('sums network bytes without loopback', () => {
    const text = 'Inter-|...\n face |...\n    lo: 999 1 0 0 0 0 0 0 999 1 0 0 0 0 0 0\n  eth0: 100 1 0 0 0 0 0 0 200 1 0 0 0 0 0 0\n';
    expect(parseNetDev(text)).toEqual({ rx: 100, tx: 200 });
  });
});

describe('HTTP body expectations', () => {
  it.each([
    ['{"status":"ok"}', { json_path: 'status', equals: 'ok' }, undefined],
    ['{"status":"degraded"}', { json_path: 'status', equals: 'ok' }, 'JSON field status is "degraded" (expected "ok")'],
    ['{"a":{"b":1}}', { json_path: 'a.b', equals: 1 }, undefined],
    ['nope', { json_path: 'a' }, 'body is not JSON (expected field a)'],
    ['all good', { body_contains: 'good' }, undefined],
    ['all bad', { body_contains: 'good' }, 'body does not contain "good"'],
  ])('%s %o', (body, expect_, problem) => {
    expect(checkBody(body, expect_)).toBe(problem);
  });
});

describe('inspect cache signature', () => {
  const entry = (State: string, Status: string) => ({ Id: 'x', State, Status, Created: 1 }) as unknown as Parameters<typeof listSignature>[0];
  it.each([
    ['running', 'Up 5 minutes', 'running|||1'],
    ['running', 'Up 2 hours (healthy)', 'running|healthy||1'],
    ['exited', 'Exited (3) 5 minutes ago', 'exited||3|1'],
    ['running', 'Up 12 seconds', undefined],
    ['running', 'Up 5 minutes (unhealthy)', undefined],
    ['running', 'Up 5 minutes (health: starting)', undefined],
    ['restarting', 'Restarting (1) 3 minutes ago', undefined],
  ])('%s %s', (state, status, sig) => {
    expect(listSignature(entry(state, status))).toBe(sig);
  });
});

describe('container from a list entry', () => {
  it('reads state, health and exit code from the list', () => {
    const c = fromListEntry({ Id: 'abc', Names: ['/web'], Image: 'busybox', State: 'exited', Status: 'Exited (3) 2 hours ago', Labels: { 'com.docker.compose.service': 'web' } } as unknown as Parameters<typeof fromListEntry>[0]);
    expect(c).toMatchObject({ id: 'abc', name: 'web', state: 'exited', exitCode: 3, health: 'none', pid: 0, composeService: 'web' });
    expect(fromListEntry({ Id: 'x', Names: ['/a'], Image: 'i', State: 'running', Status: 'Up 2 hours (healthy)', Labels: {} } as unknown as Parameters<typeof fromListEntry>[0]).health).toBe('healthy');
  });
});

describe('RPO check wording', () => {
  it('a backup taken seconds ago says seconds, not "0m"', () => {
    const db = { name: 'shop', path: 'shop.db' } as Parameters<typeof evaluateBackupAge>[0];
    expect(evaluateBackupAge(db, 1_000, 86_400_000, 26_000).message).toBe('last verified backup 25s ago (RPO 24h); no backup scheduled');
  });
});

describe('a database that fails quick_check', () => {
  it('says so on one line: the first three lines of the answer and how many more (one answer can hold many lines)', () => {
    const db = validate({ databases: [{ name: 'x', path: 'x.db', critical: true }] }, 't').databases[0]!;
    const answer = `*** in database main ***\n${Array.from({ length: 100 }, (_, i) => `Page ${i + 10}: never used`).join('\n')}`;
    const r = evaluateSqlite(db, { ok: true, value: { quickCheck: [answer], latencyMs: 1, sizeBytes: 4096, walBytes: 0, pageCount: 1, freelistCount: 0, journalMode: 'wal' } as never });
    expect(r).toMatchObject({ status: 'critical', message: 'x.db failed quick_check: *** in database main ***; Page 10: never used; Page 11: never used (+98 more)' });
  });
});

describe('a database locked past its timeout (a real lock on a real file)', () => {
  it('is CRITICAL for a critical database, a warning for another', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'opsdeck-lock-')), 'x.db');
    const holder = new Database(path);
    holder.exec('CREATE TABLE t (id INTEGER PRIMARY KEY); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);');
    try {
      const r = await probeSqlite(path, 200);
      expect(r.ok).toBe(false);
      const [critical, normal] = [true, false].map((c) => validate({ databases: [{ name: 'x', path, critical: c }] }, 't').databases[0]!);
      expect(evaluateSqlite(critical!, r)).toMatchObject({ status: 'critical', message: expect.stringMatching(/stayed locked for 200 ms/) as unknown });
      expect(evaluateSqlite(normal!, r).status).toBe('warning');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });
});
