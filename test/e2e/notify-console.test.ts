import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpReceiver } from '../helpers/notify-receivers.js';
import { freePort } from '../helpers/redis.js';
import { TmuxSession } from '../helpers/tmux.js';

// Issue #19 in a real terminal: the console sends notifications while it holds the `notifier`
// lease, and a channel whose receiver keeps failing shows as a `notify:<channel>` alert naming the
// error and `opsdeck notify status` — never the channel's URL (a secret as a whole).

const TOKEN = 'c0nsole-hook-5ecret-4b1e';

describe('notification failures in the console', () => {
  const http = new HttpReceiver();
  let tmux: TmuxSession | undefined;
  let config: string;

  beforeAll(async () => {
    await http.start();
    // The receiver fails every delivery: the message stays queued and is retried.
    http.script('/hook/', Array.from({ length: 500 }, () => 503));
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-notify-console-'));
    config = join(dir, 'opsdeck.yaml');
    writeFileSync(
      config,
      [
        'name: nconsole',
        'interval: 1s',
        'failure_threshold: 1',
        'recovery_threshold: 1',
        'thresholds: {cpu: 100, memory: 100, disk: 100}',
        `state_dir: ${join(dir, 'state')}`,
        'endpoints:',
        `  - {name: api, url: "http://127.0.0.1:${await freePort()}/", timeout: 500ms}`,
        'notify:',
        '  group_wait: 0s',
        '  retry_initial: 200ms',
        '  retry_max: 1s',
        '  channels:',
        `    - {name: hook, type: webhook, url: "http://127.0.0.1:${http.port}/hook/\${HOOK_TOKEN}"}`,
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    tmux?.kill();
    await http.stop();
  });

  it('shows "notify: N retrying (hook): HTTP 503 … — opsdeck notify status" as an alert; the URL never appears', async () => {
    tmux = TmuxSession.start(`notify-${process.pid}`, ['--config', config], { columns: 160, rows: 40, env: { HOOK_TOKEN: TOKEN } });
    // The alert row (cut to the pane's width), then its whole message below once selected.
    await tmux.waitFor(/WARNING\s+notify:hook\s.*notify: \d+ retry/, 40_000);
    const t = tmux;
    const screen = await t.waitFor((s) => {
      if (/▸ notify:hook: notify: \d+ retrying \(hook\): HTTP 503/.test(s)) return true;
      t.send('Down', false);
      return false;
    }, 20_000);
    expect(screen.replace(/\s+/g, ' ')).toContain('opsdeck notify status');
    expect(screen).not.toContain(TOKEN);
    expect(http.requests.filter((r) => r.path.startsWith('/hook/')).length).toBeGreaterThanOrEqual(2);
    // Every attempt was the same message: one idempotency key.
    expect(new Set(http.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1);
  });
});
