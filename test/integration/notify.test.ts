import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { HttpReceiver, signatureValid, SmtpReceiver, until } from '../helpers/notify-receivers.js';
import { freePort } from '../helpers/redis.js';
import { Watcher } from '../helpers/watch.js';

// Issue #19 on the real CLI: `opsdeck watch --json` (1 s interval) watches ten endpoints on one real
// HTTP server that goes down and up again; its notifications reach a real HTTP receiver (Slack and a
// webhook, HMAC verified) and a real SMTP server (STARTTLS on a self-signed certificate, AUTH).

const HOOK_TOKEN = 'hook-t0ken-5ecret-81f3';
const SLACK_TOKEN = 'xoxb-sl4ck-5ecret-77a1';
const HMAC_SECRET = 'hm4c-5ecret-signing-93d0';
const SMTP_PASSWORD = 'smtp-pa55-5ecret-2c4e';
const SMS_TOKEN = 'sms-auth-t0ken-5ecret-6d2a';
const SECRETS = [HOOK_TOKEN, SLACK_TOKEN, HMAC_SECRET, SMTP_PASSWORD, SMS_TOKEN];

/** The ten endpoints' server: stopped and started again by the test. */
class Upstream {
  private server: Server | undefined;
  constructor(readonly port: number) {}
  async up(): Promise<void> {
    const s = createServer((_req, res) => res.writeHead(200).end('ok'));
    await new Promise<void>((r) => s.listen(this.port, '127.0.0.1', r));
    this.server = s;
  }
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

const noSecret = (text: string) => {
  for (const s of SECRETS) expect(text, `a secret leaked: ${s}`).not.toContain(s);
};

describe('notifications (real receivers on loopback)', () => {
  const http = new HttpReceiver();
  const smtp = new SmtpReceiver('opsdeck', SMTP_PASSWORD);
  let upstream: Upstream;
  let dir: string;
  let config: string;
  let watch: Watcher;
  const env = { HOOK_TOKEN, SLACK_TOKEN, HMAC_SECRET, SMTP_PASSWORD, SMS_TOKEN };
  const cli = (...args: string[]) => runCli(['--config', config, ...args], { env });

  beforeAll(async () => {
    await http.start();
    await smtp.start();
    upstream = new Upstream(await freePort());
    await upstream.up();
    dir = mkdtempSync(join(tmpdir(), 'opsdeck-notify-'));
    config = join(dir, 'opsdeck.yaml');
    const endpoints = Array.from({ length: 10 }, (_, i) => [`  - name: e${i}`, `    url: http://127.0.0.1:${upstream.port}/e${i}`, '    critical: true', '    timeout: 500ms']).flat();
    writeFileSync(
      config,
      [
        'name: nstack',
        'interval: 1s',
        'failure_threshold: 1',
        'recovery_threshold: 1',
        // System health never goes critical: the ten critical alerts open one P2 incident (no P1 system alert).
        'thresholds: {cpu: 100, memory: 100, disk: 100, system_health: 0}',
        `state_dir: ${join(dir, 'state')}`,
        'endpoints:',
        ...endpoints,
        'notify:',
        '  group_wait: 3s',
        '  retry_initial: 200ms',
        '  channels:',
        '    - name: hook',
        '      type: webhook',
        `      url: http://127.0.0.1:${http.port}/hook/\${HOOK_TOKEN}`,
        '      secret: ${HMAC_SECRET}',
        '    - name: slack',
        '      type: slack',
        `      url: http://127.0.0.1:${http.port}/slack/T000/B000/\${SLACK_TOKEN}`,
        '    - name: mail',
        '      type: email',
        '      host: 127.0.0.1',
        `      port: ${smtp.port}`,
        '      security: starttls',
        '      user: opsdeck',
        '      password: ${SMTP_PASSWORD}',
        '      from: opsdeck@example.test',
        '      to: [oncall@example.test]',
        '      tls_reject_unauthorized: false',
        // Twilio-style: a form POST to the account's Messages resource, basic auth SID:token.
        '    - name: sms',
        '      type: sms',
        `      url: http://127.0.0.1:${http.port}/2010-04-01/Accounts/AC0001/Messages.json`,
        '      user: AC0001',
        '      password: ${SMS_TOKEN}',
        '      form: {To: "+15550001111", From: "+15550002222", Body: "{{text}}"}',
        '      max_length: 60',
        '  routes:',
        '    - severity: [P1, P2]',
        '      channels: [hook, slack, mail, sms]',
        '    - alert: [warning]',
        '      checks: ["http:*"]',
        '      channels: [hook]',
        // app-update's notify step, alone in a runbook file of the operator's: it queues on hook.
        'apps:',
        '  - name: web',
        `    dir: ${dir}`,
        '    notify: "web is being updated; back in 5 minutes"',
        '    notify_channels: [hook]',
        `runbooks: {dir: ${join(dir, 'rb')}}`,
        '',
      ].join('\n'),
    );
    mkdirSync(join(dir, 'rb'), { mode: 0o700 });
    writeFileSync(
      join(dir, 'rb', 'notice.yaml'),
      ['name: notice', 'title: Tell the users', 'target: app', 'steps:', '  - id: notify', '    title: Tell the users', '    why: They know.', '    action: app.notify', '    params: { app: "{{app.name}}" }', ''].join('\n'),
      { mode: 0o600 },
    );
    // Slack's receiver fails the first delivery: it must arrive after a retry.
    http.script('/slack/', [500]);
    watch = new Watcher(config, env);
  });

  afterAll(async () => {
    await watch?.stop();
    await upstream?.down();
    await http.stop();
    await smtp.stop();
  });

  it('ten alerts firing together become one message per channel: webhook (HMAC verified), Slack after a 500, email over STARTTLS with AUTH, SMS as a Twilio-style form', async () => {
    await until(() => watch.lines.some((l) => l.includes('"lease":"notifier"')) && watch.lines.some((l) => l.includes('"lease":"incident-rules"')), 'the notifier and incident-rules leases', 20_000);
    await upstream.down();
    const hook = await until(() => http.delivered('/hook/').find((r) => (JSON.parse(r.body) as { kind: string }).kind === 'firing'), 'the webhook message', 30_000);
    const body = JSON.parse(hook.body) as { key: string; kind: string; subject: string; severity: string; alerts: { checkId: string }[]; title: string };
    expect(signatureValid(hook, HMAC_SECRET)).toBe(true);
    expect(signatureValid(hook, 'another-secret-entirely')).toBe(false);
    expect(hook.headers['idempotency-key']).toBe(body.key);
    expect(body.subject).toBe('INC-1');
    expect(body.severity).toBe('P2');
    expect(body.alerts.map((a) => a.checkId).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `http:e${i}`).sort());
    expect(body.title).toContain('10 alerts');

    // Slack: the first attempt got a 500, the second the same message with the same key.
    const slack = await until(() => http.delivered('/slack/')[0], 'the Slack message after a retry', 30_000);
    const attempts = http.requests.filter((r) => r.path.startsWith('/slack/'));
    expect(attempts[0]?.status).toBe(500);
    expect(attempts.map((r) => r.headers['idempotency-key'])).toEqual(attempts.map(() => slack.headers['idempotency-key']));
    expect((JSON.parse(slack.body) as { text: string }).text).toContain('INC-1 P2 FIRING: 10 alerts');

    const mail = await until(() => smtp.mails[0], 'the email', 30_000);
    expect(mail.secure).toBe(true);
    expect(mail.user).toBe('opsdeck');
    expect(mail.to).toEqual(['oncall@example.test']);
    expect(mail.raw).toMatch(/Idempotency-Key: opsdeck-[0-9a-f]{32}/);
    expect(mail.raw).toContain('INC-1 P2 FIRING: 10 alerts');

    // Exactly one firing message per channel for the ten alerts (grouped), after the group wait.
    await new Promise((r) => setTimeout(r, 2500));
    const firing = (prefix: string) => http.delivered(prefix).filter((r) => !r.body.includes('RESOLVED') && !r.body.includes('"kind":"resolved"'));
    expect(firing('/hook/')).toHaveLength(1);
    expect(firing('/slack/')).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.authFailures).toEqual([]);

    // SMS: one form POST, basic auth, the message cut to max_length.
    const sms = http.delivered('/2010-04-01/Accounts/AC0001/Messages.json');
    expect(sms).toHaveLength(1);
    const form = new URLSearchParams(sms[0]?.body);
    expect(form.get('To')).toBe('+15550001111');
    expect(form.get('From')).toBe('+15550002222');
    expect(form.get('Body')).toMatch(/^\[nstack\] INC-1 P2 FIRING: 10 alerts — .{10,}…$/);
    expect(form.get('Body')?.length).toBe(60);
    expect(sms[0]?.headers.authorization).toBe(`Basic ${Buffer.from(`AC0001:${SMS_TOKEN}`).toString('base64')}`);
    expect(sms[0]?.headers['idempotency-key']).toMatch(/^opsdeck-[0-9a-f]{32}$/);
  });

  it('an alert silenced after it was notified still gets its resolved message, on every channel told of it', async () => {
    // As a console silences it (AckStore writes alert_acks; here the same row written directly).
    const db = new Database(join(dir, 'state', 'state.db'));
    db.prepare('INSERT INTO alert_acks (check_id, silenced_until, actor) VALUES (?, ?, ?) ON CONFLICT(check_id) DO UPDATE SET silenced_until = excluded.silenced_until').run('http:e3', Date.now() + 3_600_000, 'test');
    db.close();
    await upstream.up();
    // The ten alerts resolve as the monitor sees each answer again: one resolved message, or a few
    // on a loaded machine; together they name all ten, the silenced one too, all about INC-1.
    const resolvedMessages = () => http.delivered('/hook/').map((r) => JSON.parse(r.body) as { kind: string; subject: string; alerts: { checkId: string }[] }).filter((b) => b.kind === 'resolved');
    const ids = await until(() => {
      const all = new Set(resolvedMessages().flatMap((b) => b.alerts.map((a) => a.checkId)));
      return all.size === 10 ? all : undefined;
    }, 'resolved messages naming all ten alerts', 30_000);
    expect(ids.has('http:e3')).toBe(true);
    expect(new Set(resolvedMessages().map((b) => b.subject))).toEqual(new Set(['INC-1']));
    await until(() => http.delivered('/slack/').find((r) => r.body.includes('RESOLVED')), 'the resolved Slack message', 30_000);
    await until(() => smtp.mails.find((m) => m.raw.includes('RESOLVED')), 'the resolved email', 30_000);
  });

  it('notify status --json shows every channel delivering; notify test sends now; read-only refuses; nothing secret anywhere', async () => {
    const st = await cli('notify', 'status', '--json');
    expect(st.code, st.stderr).toBe(0);
    const doc = JSON.parse(st.stdout) as { sender: string; channels: { channel: string; failing: number; sentLastDay: number; type: string }[] };
    expect(doc.sender).toMatch(/^watch \(pid \d+/);
    expect(doc.channels.map((c) => [c.channel, c.type, c.failing])).toEqual([['hook', 'webhook', 0], ['slack', 'slack', 0], ['mail', 'email', 0], ['sms', 'sms', 0]]);
    expect(doc.channels.every((c) => c.sentLastDay >= 2)).toBe(true);

    const t = await cli('notify', 'test', 'hook', '--yes');
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/hook: test message delivered \(Idempotency-Key opsdeck-[0-9a-f]{32}\)/);
    expect(http.delivered('/hook/').some((r) => (JSON.parse(r.body) as { kind: string }).kind === 'test')).toBe(true);
    const ro = await runCli(['--config', config, '--read-only', 'notify', 'test', 'hook', '--yes'], { env });
    expect(ro.code).toBe(1);
    expect(ro.stderr).toContain('refused');
    const unknown = await cli('notify', 'test', 'pager');
    expect(unknown.code).toBe(64);
    expect(unknown.stderr.trim()).toBe('opsdeck: notify test: no channel "pager" in notify.channels (expected one of: hook, slack, mail, sms)');
    const human = await cli('notify', 'status');
    expect(human.stdout).toContain('hook (webhook):');

    // No secret in any message, header but the signature's and auth's own, log line, or stored row.
    for (const r of http.requests) noSecret(`${r.body}${JSON.stringify({ ...r.headers, 'x-opsdeck-signature': undefined, authorization: undefined })}`);
    for (const m of smtp.mails) noSecret(m.raw);
    noSecret(`${st.stdout}${human.stdout}${t.stdout}${ro.stderr}${watch.lines.join('\n')}${watch.errors}`);
    const db = new Database(join(dir, 'state', 'state.db'), { readonly: true });
    noSecret(JSON.stringify(db.prepare('SELECT * FROM notify_outbox').all()) + JSON.stringify(db.prepare('SELECT * FROM audit').all()));
    db.close();
  });

  it("app-update's notify step queues apps[].notify on apps[].notify_channels; the watch holding the lease delivers it", async () => {
    const dry = await cli('runbook', 'run', 'notice', '--target', 'web', '--dry-run');
    expect(dry.stdout).toContain('queue "web is being updated; back in 5 minutes" for hook');
    const r = await cli('runbook', 'run', 'notice', '--target', 'web', '--yes', '--json');
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    expect((JSON.parse(r.stdout) as { steps: { note?: string }[] }).steps[0]?.note).toContain('queued for hook');
    const got = await until(() => http.delivered('/hook/').find((x) => (JSON.parse(x.body) as { kind: string }).kind === 'app'), 'the app notice', 20_000);
    const body = JSON.parse(got.body) as { title: string; subject: string };
    expect(body.title).toBe('[nstack] NOTICE: web is being updated; back in 5 minutes');
    expect(body.subject).toMatch(/^app:web:notice-/);
    expect(signatureValid(got, HMAC_SECRET)).toBe(true);
  });

  it('an incident a person declares (another process) is announced once, to the channels its class routes to', async () => {
    expect((await cli('incident', 'resolve', 'INC-1')).code).toBe(0);
    const d = await cli('incident', 'declare', '--severity', 'P1', 'payments are failing');
    expect(d.code, d.stderr).toBe(0);
    const got = await until(() => http.delivered('/hook/').find((x) => (JSON.parse(x.body) as { kind: string }).kind === 'declared'), 'the announcement', 20_000);
    expect((JSON.parse(got.body) as { title: string }).title).toMatch(/^\[nstack\] INC-2 P1 DECLARED: payments are failing \(declared by /);
    await until(() => smtp.mails.find((m) => m.raw.includes('INC-2 P1 DECLARED')), 'the announcement by email', 20_000);
    await new Promise((r) => setTimeout(r, 2000));
    expect(http.delivered('/hook/').filter((x) => (JSON.parse(x.body) as { kind: string }).kind === 'declared')).toHaveLength(1);
  });

  it('a route naming an unknown channel is a one-line configuration error; a channel URL from the environment is never echoed', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, ['notify:', '  channels:', '    - {name: hook, type: webhook, url: "${HOOK_URL}"}', '  routes:', '    - {channels: [hook, pagerduty]}', ''].join('\n'));
    const r = await runCli(['--config', bad, 'notify', 'status'], { env: { HOOK_URL: `http://127.0.0.1:1/hook/${HOOK_TOKEN}` } });
    expect(r.code).toBe(78);
    expect(r.stderr.trim()).toBe(`opsdeck: ${bad}: notify.routes[0].channels[1]: channel "pagerduty" is not in notify.channels (expected one of: hook)`);
    const badUrl = join(dir, 'bad-url.yaml');
    writeFileSync(badUrl, ['notify:', '  channels:', '    - {name: hook, type: slack, url: "${HOOK_URL}"}', ''].join('\n'));
    const u = await runCli(['--config', badUrl, 'notify', 'status'], { env: { HOOK_URL: `ftp://example.test/${HOOK_TOKEN}` } });
    expect(u.code).toBe(78);
    expect(u.stderr).toContain('notify.channels[0].url');
    noSecret(u.stderr);
  });
});
