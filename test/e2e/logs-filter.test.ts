import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TmuxSession } from '../helpers/tmux.js';

// Issue #13: `(x+x+)+y` typed in the logs filter over a 3,000-character line froze the console at
// 100 % CPU, deaf to q, ctrl-c and SIGTERM. Real tmux, the built CLI, a real log file.

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-e2e-filter-'));
const sessions: TmuxSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
});

describe('the logs filter never freezes the console', () => {
  it('the pattern that froze it matches nothing at once and q still quits; lookahead is refused with a reason', async () => {
    const log = join(dir, 'long.log');
    writeFileSync(log, `INFO start\n${'x'.repeat(3000)}\nWARN the end\n`);
    const f = join(dir, 'opsdeck.yaml');
    writeFileSync(f, `name: filter\ninterval: 1s\nrefresh: 1s\nthresholds: {cpu: 100, memory: 100, disk: 100}\nlogs:\n  - name: long-log\n    path: ${log}\n`);
    const t = TmuxSession.start(`opsdeck-filter-${process.pid}`, ['--config', f], { columns: 120, rows: 30, env: { OPSDECK_STATE_DIR: join(dir, 'state') } });
    sessions.push(t);
    await t.waitFor(/health \d+%/);
    t.send('o');
    await t.waitFor(/Follow which log\?/);
    const m = /(\d)\) file\s+long-log/.exec(t.capture());
    t.send(m?.[1] ?? '1');
    await t.waitFor((s) => s.includes('Logs: long-log') && s.includes('WARN the end'));
    t.send('/');
    t.send('(?=a)');
    await t.waitFor(/\/\(\?=a\).*RE2 syntax: no backreferences, no lookahead/);
    t.send('Enter', false);
    await t.waitFor(/invalid regular expression: .*\(\?=.*\(RE2 syntax: no backreferences, no lookahead\)/);
    t.send('/');
    t.send('C-u', false);
    for (let i = 0; i < 6; i++) t.send('BSpace', false);
    t.send('(x+x+)+y');
    t.send('Enter', false);
    const screen = await t.waitFor(/filter \/\(x\+x\+\)\+y\/ 0 of 3 lines/, 15_000);
    expect(screen).toContain('no line matches the filter');
    t.send('q');
    const after = await t.waitFor(/TTY=/, 15_000);
    expect(after).toContain('EXIT=0');
    expect(after).toContain('TTY=restored');
  });
});
