import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/redis.js';
import { Watcher } from '../helpers/watch.js';

// Bad configurations through the real CLI (issue #13): each is one line and exit 78, never a hang
// or an "internal error" (70).

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-badinput-'));

function file(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

async function check78(f: string): Promise<string> {
  const r = await runCli(['check', '--config', f], { timeoutMs: 15_000, env: { OPSDECK_STATE_DIR: dir } });
  expect(r.stdout).toBe('');
  expect(r.code, r.stderr).toBe(78);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r.stderr.trim();
}

describe('opsdeck check refuses bad input with exit 78', () => {
  it('a FIFO as --config (it hung) and /dev/zero (it hung)', async () => {
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    expect(await check78(fifo)).toBe(`opsdeck: ${fifo}: is not a regular file (a named pipe; expected a YAML or JSON config file)`);
    expect(await check78('/dev/zero')).toBe('opsdeck: /dev/zero: is not a regular file (a character device; expected a YAML or JSON config file)');
  });

  it('a YAML alias bomb (it exited 70 "internal error")', async () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const f = file('bomb.yaml', `${lines.join('\n')}\n`);
    expect(await check78(f)).toMatch(new RegExp(`^opsdeck: ${f}: YAML aliases expand too far`));
  });

  it('an empty and a comment-only config', async () => {
    const empty = file('empty.yaml', '');
    expect(await check78(empty)).toBe(`opsdeck: ${empty}: the file is empty or only comments (expected settings such as name, services, databases)`);
    expect(await check78(file('comments.yaml', '# nothing yet\n'))).toMatch(/the file is empty or only comments/);
  });

  it('keys the console would refuse: check validates them too', async () => {
    expect(await check78(file('keys-quit.yaml', 'name: k\nkeys:\n  app.quit: []\n'))).toMatch(/keys-quit\.yaml: keys\.app\.quit: expected at least one key/);
    expect(await check78(file('keys-tmux.yaml', 'name: k\nkeys:\n  app.help: [ctrl-B]\n'))).toMatch(/keys\.app\.help: "ctrl-B" is ctrl\+b, tmux's prefix key/);
    expect(await check78(file('keys-clash.yaml', 'name: k\nkeys:\n  logs.pause: [q]\n'))).toMatch(/keys\.logs\.pause: q is also bound to app\.quit/);
  });

  it('interval: 0 and interval: 30d name the field', async () => {
    expect(await check78(file('zero.yaml', 'interval: 0\n'))).toMatch(/zero\.yaml: interval: expected a duration from 1s to 1d/);
    expect(await check78(file('month.yaml', 'interval: 30d\n'))).toMatch(/month\.yaml: interval: expected a duration from 1s to 1d .*got "30d"/);
  });
});

describe('watch: an edit that would drop every check is refused like a broken one', () => {
  it('a truncated config is not "reloaded"; the running checks go on', async () => {
    const port = await freePort(); // nothing listens: the endpoint is down, so it fires
    const good = `name: trunc\ninterval: 1s\nthresholds: {cpu: 100, memory: 100, disk: 100}\nfailure_threshold: 1\nendpoints:\n  - name: gone\n    url: http://127.0.0.1:${port}/\n`;
    const f = file('trunc.yaml', good);
    const w = new Watcher(f, { OPSDECK_STATE_DIR: mkdtempSync(join(tmpdir(), 'opsdeck-trunc-state-')) });
    try {
      await w.waitFor('fired', 'http:gone', 30_000);
      writeFileSync(f, 'name: trunc\n');
      const deadline = Date.now() + 15_000;
      while (!w.lines.some((l) => l.includes('the edit would remove every check'))) {
        if (Date.now() > deadline) throw new Error(`no refusal; stdout: ${w.lines.join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(w.lines.join('\n')).toMatch(/trunc\.yaml: the edit would remove every check \(1 running: endpoints\.gone\)/);
      writeFileSync(f, '');
      while (!w.lines.some((l) => l.includes('the file is empty or only comments'))) {
        if (Date.now() > deadline + 15_000) throw new Error(`no refusal of the empty file; stderr: ${w.errors}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(w.running).toBe(true);
    } finally {
      await w.stop();
    }
  });
});
