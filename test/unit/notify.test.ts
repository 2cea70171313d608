import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import type { Alert } from '../../src/domain/alerts.js';
import { backoffMs, channelsFor, globMatch, messageKey, rateLimitedUntil, type NotifyMessage, type Route } from '../../src/domain/notify.js';
import { EventBus } from '../../src/engine/events.js';
import { deliver } from '../../src/services/notify-send.js';
import { notifierRunner } from '../../src/state/notifier.js';
import { Outbox } from '../../src/state/outbox.js';
import { openStateDb } from '../../src/state/statedb.js';
import { HttpReceiver, SmtpReceiver, until } from '../helpers/notify-receivers.js';

// Notifications (issue #19): the routing table, keys, backoff and rate limits (pure), then the
// notifier in-process on a real state database and a real HTTP receiver on loopback (rate limit,
// a receiver that refuses for good, repeats while still firing, a `notify:<channel>` check).

describe('routing', () => {
  it.each([
    ['http:*', 'http:api', true],
    ['http:*', 'redis:cache', false],
    ['*:trading', 'sqlite:trading', true],
    ['sqlite:trad*g', 'sqlite:trading', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['http:api', 'http:api', true],
  ])('glob %s against %s: %s', (p, t, want) => expect(globMatch(p, t)).toBe(want));

  const routes: Route[] = [
    { severity: ['P1'], channels: ['sms', 'slack', 'mail'] },
    { severity: ['P2', 'P3'], channels: ['slack'] },
    { alert: ['critical'], checks: ['sqlite:*'], channels: ['mail'] },
    { alert: ['warning'], channels: ['hook'] },
  ];
  const all = ['sms', 'slack', 'mail', 'hook'];
  it.each([
    ['P1 → SMS, Slack and email', 'P1' as const, { checkId: 'http:api', status: 'critical' }, ['sms', 'slack', 'mail']],
    ['P3 → Slack', 'P3' as const, { checkId: 'http:api', status: 'critical' }, ['slack']],
    ['P2 + a database alert → Slack and (by check) email', 'P2' as const, { checkId: 'sqlite:trading', status: 'critical' }, ['slack', 'mail']],
    ['in no incident: by alert status only (a severity route never takes it)', undefined, { checkId: 'host:cpu', status: 'warning' }, ['hook']],
    ['in no incident, critical, not a database: nobody', undefined, { checkId: 'http:api', status: 'critical' }, []],
  ])('%s', (_name, severity, alert, want) => expect(channelsFor(routes, all, severity, alert)).toEqual(want));
  it('no routes: every channel gets every message', () => expect(channelsFor([], all, undefined, { checkId: 'x', status: 'warning' })).toEqual(all));

  it('keys are stable per channel, subject, transition, time and alerts', () => {
    const m = { kind: 'firing' as const, subject: 'INC-1', at: 1000, alerts: [{ checkId: 'b', status: 'critical', message: '' }, { checkId: 'a', status: 'critical', message: '' }] };
    expect(messageKey('slack', m)).toBe(messageKey('slack', { ...m, alerts: [...m.alerts].reverse() }));
    expect(messageKey('slack', m)).not.toBe(messageKey('mail', m));
    expect(messageKey('slack', m)).not.toBe(messageKey('slack', { ...m, kind: 'resolved' }));
    expect(messageKey('slack', m)).toMatch(/^opsdeck-[0-9a-f]{32}$/);
  });

  it('backoff doubles up to its cap; a rate limit waits for the oldest send to leave the window', () => {
    expect([1, 2, 3, 4, 10].map((n) => backoffMs(n, 1000, 5000))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(rateLimitedUntil(100, { count: 2, perMs: 60 }, 1, 50)).toBe(100);
    expect(rateLimitedUntil(100, { count: 2, perMs: 60 }, 2, 50)).toBe(110);
    expect(rateLimitedUntil(100, undefined, 99, 0)).toBe(100);
  });

  it('configuration: a rate limit is N/duration; a channel name is checked where used', () => {
    const c = validate({ notify: { channels: [{ name: 'h', type: 'webhook', url: 'http://127.0.0.1:9/x', rate_limit: '20/1m' }] } }, 't');
    expect(c.notify.channels[0]?.rate_limit).toEqual({ count: 20, perMs: 60_000 });
    expect(c.notify.group_wait).toBe(30_000);
    expect(c.notify.repeat_interval).toBe(4 * 3_600_000);
    expect(() => validate({ notify: { channels: [{ name: 'h', type: 'webhook', url: 'http://127.0.0.1:9/x', rate_limit: 'often' }] } }, 't')).toThrow('notify.channels[0].rate_limit: expected a rate limit such as "20/1m" (messages per duration), got "often"');
    expect(() => validate({ notify: { channels: [{ name: 's', type: 'sms', url: 'http://127.0.0.1:9/x', form: { To: '1' } }] } }, 't')).toThrow('{{text}}');
    expect(() => validate({ apps: [{ name: 'web', dir: '/srv/web', notify: 'down for 5 min', notify_channels: ['pager'] }] }, 't')).toThrow('apps[0].notify_channels[0]: channel "pager" is not in notify.channels');
  });
});

const firing = (checkId: string, at: number, status: Alert['status'] = 'warning'): Alert => ({ checkId, state: 'firing', failStreak: 1, passStreak: 0, status, message: `${checkId} is down`, since: at, firedAt: at });

describe('the notifier on a real state database and receiver', () => {
  const http = new HttpReceiver();
  beforeAll(async () => void (await http.start()));
  afterAll(() => http.stop());

  async function setup(channels: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
    const db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-notifier-')));
    const bus = new EventBus();
    const config = validate({ name: 'unit', interval: 1, notify: { group_wait: 0, retry_initial: '100ms', channels, ...extra } }, 't');
    let clock = Date.now();
    const runner = notifierRunner({ bus, stateDb: db, owner: 'watch', config: () => config, now: () => clock });
    const source = runner.source();
    return { db, bus, runner, source, outbox: new Outbox(db), advance: (ms: number) => (clock += ms), now: () => clock };
  }

  it('a rate limit of 2/1h sends two messages and holds the third (pending, not dropped)', async () => {
    const s = await setup([{ name: 'rl', type: 'webhook', url: `http://127.0.0.1:${http.port}/rl`, rate_limit: '2/1h' }]);
    const rows = () => s.db.prepare('SELECT count(*) FROM notify_outbox').pluck().get() as number;
    for (const [i, c] of ['a', 'b', 'c'].entries()) {
      s.bus.emit({ type: 'alert.fired', at: s.now(), alert: firing(`http:${c}`, s.now()) });
      await until(() => rows() === i + 1, `message ${c} queued`, 5000);
      s.advance(10);
    }
    await until(() => s.outbox.status(s.now())[0]?.sentLastDay === 2 && s.outbox.status(s.now())[0]?.pending === 1, 'two sent, one held', 5000).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(s.db.prepare('SELECT * FROM notify_outbox').all())}`);
    });
    expect(http.delivered('/rl')).toHaveLength(2);
    const held = s.db.prepare("SELECT next_at FROM notify_outbox WHERE status = 'pending'").pluck().get() as number;
    expect(held).toBeGreaterThan(s.now() + 3_500_000);
    s.runner.off();
    s.db.close();
  });

  it('a receiver answering 400 is given up at once: failed in the outbox, a notify:<channel> WARNING naming the error, never the URL', async () => {
    http.script('/gone', [400]);
    const s = await setup([{ name: 'gone', type: 'slack', url: `http://127.0.0.1:${http.port}/gone/T1/B1/s3cr3t-token-in-path` }]);
    s.bus.emit({ type: 'alert.fired', at: s.now(), alert: firing('http:x', s.now()) });
    await until(() => s.outbox.status(s.now())[0]?.failed === 1, 'the message given up', 5000);
    const checks = await s.source.run();
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ id: 'notify:gone', kind: 'notify', status: 'warning' });
    expect(checks[0]?.message).toBe('notify: 1 failed (gone): HTTP 400: receiver says no — opsdeck notify status');
    expect(JSON.stringify(s.db.prepare('SELECT * FROM notify_outbox').all())).not.toContain('s3cr3t-token-in-path');
    s.runner.off();
    s.db.close();
  });

  it('a resolved message waits behind its firing message being retried: the receiver gets FIRING, then RESOLVED', async () => {
    http.script('/order', [500]);
    const s = await setup([{ name: 'ord', type: 'webhook', url: `http://127.0.0.1:${http.port}/order` }], { retry_initial: '10s' });
    s.bus.emit({ type: 'alert.fired', at: s.now(), alert: firing('http:o', s.now()) });
    await until(() => s.outbox.status(s.now())[0]?.retrying === 1, 'the firing message failed once', 5000);
    s.advance(10);
    s.bus.emit({ type: 'alert.resolved', at: s.now(), alert: { ...firing('http:o', s.now()), state: 'resolved', status: 'ok' } });
    await until(() => (s.db.prepare('SELECT count(*) FROM notify_outbox').pluck().get() as number) === 2, 'the resolved message queued', 5000);
    s.advance(11_000); // the firing message's retry is due
    await until(() => http.delivered('/order').length === 2, 'both delivered', 5000);
    expect(http.delivered('/order').map((r) => (JSON.parse(r.body) as { kind: string }).kind)).toEqual(['firing', 'resolved']);
    s.runner.off();
    s.db.close();
  });

  it('a failed test message is said by notify test, and the channel is not failing for it (no alert, no exit 1 from status)', async () => {
    const s = await setup([{ name: 't', type: 'webhook', url: `http://127.0.0.1:${http.port}/t` }]);
    const m: NotifyMessage = { kind: 'test', subject: 'test:t', stack: 'unit', at: s.now(), title: 'test', alerts: [{ checkId: 'test:t', status: 'ok', message: 'a test' }] };
    const [q] = s.outbox.enqueue([{ channel: 't', message: m }], s.now(), s.now() + 60_000);
    const row = s.outbox.byKey(q?.key ?? '');
    s.outbox.markFailed(row?.id ?? -1, 'HTTP 500', undefined);
    expect(s.outbox.status(s.now())[0]).toMatchObject({ channel: 't', failed: 1, failing: 0 });
    expect((await s.source.run())[0]).toMatchObject({ id: 'notify:t', status: 'ok' });
    s.runner.off();
    s.db.close();
  });

  it('repeats while still firing after repeat_interval, not once acknowledged; a resolve after that goes to the channel told', async () => {
    const s = await setup([{ name: 'rep', type: 'webhook', url: `http://127.0.0.1:${http.port}/rep` }], { repeat_interval: '1m' });
    s.bus.emit({ type: 'alert.fired', at: s.now(), alert: firing('http:r', s.now()) });
    await until(() => http.delivered('/rep').length === 1, 'the firing message', 5000);
    s.advance(61_000);
    await s.source.run();
    await until(() => http.delivered('/rep').length === 2, 'the repeat', 5000);
    expect((JSON.parse(http.delivered('/rep')[1]?.body ?? '{}') as { kind: string }).kind).toBe('repeat');
    s.db.prepare('INSERT INTO alert_acks (check_id, acknowledged_at, actor) VALUES (?, ?, ?)').run('http:r', s.now(), 'test');
    // The ack store re-reads the table at most once a second (as another console's ack is seen).
    await new Promise((r) => setTimeout(r, 1100));
    s.advance(61_000);
    await s.source.run();
    s.bus.emit({ type: 'alert.resolved', at: s.now(), alert: { ...firing('http:r', s.now()), state: 'resolved', status: 'ok' } });
    await until(() => http.delivered('/rep').length === 3, 'the resolved message', 5000);
    expect((JSON.parse(http.delivered('/rep')[2]?.body ?? '{}') as { kind: string }).kind).toBe('resolved');
    s.runner.off();
    s.db.close();
  });

  it('an alert told firing by an earlier process that resolved meanwhile: its first passing result here sends the resolved message', async () => {
    const s = await setup([{ name: 'old', type: 'webhook', url: `http://127.0.0.1:${http.port}/old` }]);
    // What an earlier opsdeck queued (and delivered) before it stopped.
    s.outbox.enqueue([{ channel: 'old', message: { kind: 'firing', subject: 'http:gone', stack: 'unit', title: 't', alerts: [{ checkId: 'http:gone', status: 'critical', message: 'down' }], at: s.now() - 60_000 } }], s.now() - 60_000);
    s.db.prepare("UPDATE notify_outbox SET status = 'sent', sent_at = ?").run(s.now() - 59_000);
    await s.source.run();
    s.bus.emit({ type: 'check.result', at: s.now(), result: { id: 'http:gone', kind: 'http', target: 'x', status: 'ok', message: 'answered HTTP 200' } });
    const got = await until(() => http.delivered('/old')[0], 'the resolved message', 5000);
    expect(JSON.parse(got.body)).toMatchObject({ kind: 'resolved', subject: 'http:gone' });
    expect(s.outbox.allNotified()).toEqual([]);
    s.runner.off();
    s.db.close();
  });

  it('a phone call through the sms type: the message is XML-escaped into its TwiML, said and never obeyed', async () => {
    const ch = validate({ notify: { channels: [{ name: 'phone', type: 'sms', url: `http://127.0.0.1:${http.port}/Calls.json`, form: { Twiml: '<Response><Say>{{text}}</Say></Response>' }, escape: 'xml' }] } }, 't').notify.channels[0];
    if (ch?.type !== 'sms') throw new Error('expected an sms channel');
    const d = await deliver(ch, { kind: 'firing', subject: 'http:x', stack: 's', title: 'api </Say><Dial>+1555</Dial> & more', alerts: [], at: 0 }, 'opsdeck-k');
    expect(d).toEqual({ ok: true });
    const form = new URLSearchParams(http.delivered('/Calls.json')[0]?.body);
    expect(form.get('Twiml')).toBe('<Response><Say>api &#60;/Say&#62;&#60;Dial&#62;+1555&#60;/Dial&#62; &#38; more</Say></Response>');
  });

  it('email: a self-signed certificate is refused by default (tls_reject_unauthorized: true); a wrong password is given up, its error without the password', async () => {
    const smtp = await new SmtpReceiver('opsdeck', 'right-pa55word').start();
    try {
      const mail = (extra: Record<string, unknown>) => {
        const ch = validate({ notify: { channels: [{ name: 'mail', type: 'email', host: '127.0.0.1', port: smtp.port, from: 'o@example.test', to: ['p@example.test'], user: 'opsdeck', password: 'right-pa55word', timeout: '5s', ...extra }] } }, 't').notify.channels[0];
        if (ch?.type !== 'email') throw new Error('expected an email channel');
        return deliver(ch, { kind: 'test', subject: 'test:mail', stack: 's', title: 't', alerts: [], at: 0 }, 'opsdeck-k');
      };
      const strict = await mail({});
      expect(strict.ok).toBe(false);
      expect(!strict.ok && strict.error).toMatch(/certificate/i);
      expect(!strict.ok && strict.retry).toBe(true);
      const wrong = await mail({ tls_reject_unauthorized: false, password: 'wrong-pa55word' });
      expect(wrong).toMatchObject({ ok: false, retry: false });
      expect(!wrong.ok && wrong.error).toMatch(/^SMTP authentication refused \(535\)/);
      expect(!wrong.ok && wrong.error).not.toContain('wrong-pa55word');
      expect(await mail({ tls_reject_unauthorized: false })).toEqual({ ok: true });
      expect(smtp.mails).toHaveLength(1);
      expect(smtp.mails[0]?.secure).toBe(true);
    } finally {
      await smtp.stop();
    }
  });
});
