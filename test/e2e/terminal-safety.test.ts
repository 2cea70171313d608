import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { TmuxSession } from '../helpers/tmux.js';

// Values reach the terminal shown, never obeyed (issue #12 point 8): a stack name holding OSC 0
// retitled the tmux pane, `check` printed raw ESC and OSC 52 (a clipboard write) from names and
// paths, and a newline in a value split a table row. Real tmux, a real Docker engine.

const host = inject('dockerHost');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-tty-'));
const config = join(dir, 'opsdeck.yaml');
// YAML double-quoted escapes: \e is ESC, \a is BEL, \x9d is the 8-bit OSC (C1).
writeFileSync(
  config,
  `name: "st\\e]0;pwned-title\\aack"
interval: 1s
refresh: 1s
thresholds: {cpu: 100, memory: 100, disk: 100}
docker:
  host: ${host}
services:
  - name: web
    container: "web\\e]52;c;cHduZWQ=\\a"
databases:
  - name: db
    path: "/nonexistent/x\\e]52;c;cHduZWQ=\\a\\nCRITICAL fake-row\\x9d0;c1-title\\a.db"
`,
);
const sessions: TmuxSession[] = [];
afterAll(() => {
  for (const s of sessions) s.kill();
});

describe('control characters in values', () => {
  it('check (table): escaped, never raw; a newline never splits a row', async () => {
    const r = await runCli(['check', '--config', config]);
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(r.stdout).toContain('no container named web\\x1b]52;c;cHduZWQ=\\x07');
    expect(r.stdout).toMatch(/^CRITICAL\s+sqlite:db\s+database file \/nonexistent\/x\\x1b]52;c;cHduZWQ=\\x07\\nCRITICAL fake-row\\x9d0;c1-title\\x07\.db does not exist$/m);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('CRITICAL fake-row'))).toEqual([]);
  });

  it('check --json: JSON escapes, DEL and C1 included', async () => {
    const r = await runCli(['check', '--json', '--config', config]);
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    const report = JSON.parse(r.stdout) as { checks: { id: string; target: string }[] };
    expect(report.checks.find((c) => c.id === 'sqlite:db')?.target).toBe('/nonexistent/x\x1b]52;c;cHduZWQ=\x07\nCRITICAL fake-row\x9d0;c1-title\x07.db');
  });

  it('the console: the pane keeps its title, and no value adds a row', async () => {
    const t = TmuxSession.start(`opsdeck-tty-${process.pid}`, ['--config', config], { columns: 160, rows: 40, env: { OPSDECK_STATE_DIR: join(dir, 'state') } });
    sessions.push(t);
    const before = execFileSync('hostname', { encoding: 'utf8' }).trim();
    const screen = await t.waitFor((s) => /^ stack /m.test(s) && s.includes('Datastores') && /sqlite:db/.test(s), 30_000);
    // Give the terminal every frame's chance to act on an escape sequence.
    t.send('R');
    await t.waitFor(/running every check now/);
    expect(t.info('#{pane_title}')).toBe(before);
    expect(screen).not.toContain('pwned');
    expect(screen.split('\n').filter((l) => /^\s*CRITICAL fake-row/.test(l))).toEqual([]);
    t.send('q');
    await t.waitFor(/EXIT=0/);
  });
});
