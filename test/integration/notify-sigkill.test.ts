import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver, until } from '../helpers/notify-receivers.js';
import { freePort } from '../helpers/redis.js';
import { Watcher } from '../helpers/watch.js';

// Issue #19: delivery is durable and at least once. `opsdeck watch` sends an alert's messages to two
// webhook channels and is SIGKILLed at each point of its first send — before the send, after the
// send before the outbox marks it, after the mark — by fault injection
// (OPSDECK_FAULT_NOTIFY_KILL, src/state/notifier.ts: the process kills itself there). A new watch
// on the same state folder then delivers every queued message: each key at most twice, exactly once
// when the kill was outside the send→mark window. And two watches on one state folder: only the
// `notifier` lease holder sends.

const POINTS = ['before-send', 'after-send', 'after-mark'] as const;

describe('notifications survive a SIGKILL at each point of a send (fault injection)', () => {
  const http = new HttpReceiver();
  beforeAll(async () => void (await http.start()));
  afterAll(() => http.stop());

  for (const point of POINTS) {
    it(`killed ${point}: every queued message is delivered after a restart; each key at most twice, exactly once outside the send→mark window`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `opsdeck-notify-kill-${point}-`));
      const config = join(dir, 'opsdeck.yaml');
      // Nothing listens on the endpoint's port: its alert fires at the first check round.
      const down = await freePort();
      writeFileSync(
        config,
        [
          `name: kill-${point}`,
          'interval: 1s',
          'failure_threshold: 1',
          'recovery_threshold: 1',
          'thresholds: {cpu: 100, memory: 100, disk: 100}',
          `state_dir: ${join(dir, 'state')}`,
          'endpoints:',
          `  - {name: api, url: "http://127.0.0.1:${down}/", timeout: 500ms}`,
          'notify:',
          '  group_wait: 0s',
          '  retry_initial: 200ms',
          '  channels:',
          `    - {name: a, type: webhook, url: "http://127.0.0.1:${http.port}/${point}/a"}`,
          `    - {name: b, type: webhook, url: "http://127.0.0.1:${http.port}/${point}/b"}`,
          '',
        ].join('\n'),
      );
      const first = new Watcher(config, { OPSDECK_FAULT_NOTIFY_KILL: point });
      await until(() => !first.running, `the watch to kill itself ${point}`, 30_000);
      const db = () => new Database(join(dir, 'state', 'state.db'), { readonly: true });
      const rows = () => {
        const d = db();
        try {
          return d.prepare('SELECT key, channel, status, attempts FROM notify_outbox ORDER BY id').all() as { key: string; channel: string; status: string; attempts: number }[];
        } finally {
          d.close();
        }
      };
      // At the kill: a row marked sent left the send→mark window; a row never attempted never entered it;
      // a row attempted but not marked may have reached its receiver (the channels send side by side).
      const atKill = rows();
      expect(atKill.length).toBe(2);
      if (point === 'before-send') expect(atKill.every((r) => r.status === 'pending')).toBe(true);
      if (point === 'after-mark') expect(atKill.some((r) => r.status === 'sent')).toBe(true);

      const second = new Watcher(config);
      try {
        await until(() => rows().every((r) => r.status === 'sent'), 'every queued message delivered after the restart', 30_000);
        // More rounds of checks: nothing is sent again (the same outage, seen again by the new watch, is not told twice).
        // (A negative: two more check rounds at a 1 s interval give a duplicate its chance.)
        await new Promise((r) => setTimeout(r, 2000));
        const byKey = (k: string) => http.requests.filter((r) => r.path.startsWith(`/${point}/`) && r.headers['idempotency-key'] === k).length;
        const counts = atKill.map((r) => ({ ...r, delivered: byKey(r.key) }));
        for (const r of counts) {
          expect(r.delivered, `${r.key}`).toBeGreaterThanOrEqual(1);
          expect(r.delivered, `${r.key}`).toBeLessThanOrEqual(2);
          if (r.status === 'sent' || r.attempts === 0) expect(r.delivered, `${r.key} was outside the send→mark window`).toBe(1);
        }
        if (point === 'before-send') expect(counts.map((r) => r.delivered)).toEqual([1, 1]);
        // Killed after its receiver had it, before the mark: that message arrives twice, with one key.
        if (point === 'after-send') expect(counts.some((r) => r.delivered === 2)).toBe(true);
        expect(rows()).toHaveLength(2);
      } finally {
        await second.stop();
      }
    });
  }

  it('two watches on one state folder: only the notifier lease holder sends, so each message arrives once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-notify-two-'));
    const config = join(dir, 'opsdeck.yaml');
    const down = await freePort();
    writeFileSync(
      config,
      [
        'name: two',
        'interval: 1s',
        'failure_threshold: 1',
        'recovery_threshold: 1',
        'thresholds: {cpu: 100, memory: 100, disk: 100}',
        `state_dir: ${join(dir, 'state')}`,
        'endpoints:',
        `  - {name: api, url: "http://127.0.0.1:${down}/", timeout: 500ms}`,
        'notify:',
        '  group_wait: 0s',
        '  channels:',
        `    - {name: a, type: webhook, url: "http://127.0.0.1:${http.port}/two/a"}`,
        '',
      ].join('\n'),
    );
    const watches = [new Watcher(config), new Watcher(config)];
    try {
      await until(() => http.delivered('/two/a').length >= 1, 'the message', 30_000);
      // Both watches see the alert fire; a duplicate would arrive within a few rounds.
      await until(() => watches.every((w) => w.events.some((e) => e.event === 'fired')), 'both watches to see the alert', 10_000);
      await new Promise((r) => setTimeout(r, 2000));
      expect(http.delivered('/two/a')).toHaveLength(1);
      const holders = watches.filter((w) => w.lines.some((l) => l.includes('"lease":"notifier"') && l.includes('lease-taken')));
      expect(holders).toHaveLength(1);
    } finally {
      await Promise.all(watches.map((w) => w.stop()));
    }
  });
});
