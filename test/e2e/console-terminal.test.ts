import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { docker, runContainer } from '../helpers/docker-engine.js';
import { freePort } from '../helpers/redis.js';
import { TmuxSession } from '../helpers/tmux.js';

// The console as a terminal program: it gives the terminal back exactly (q, ctrl-c, SIGTERM),
// re-lays out when the terminal is resized, runs without a keyboard, survives the Docker engine
// going away and coming back, and follows a configured log file. Real tmux, real Docker engine.

const host = inject('dockerHost');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-e2e-term-'));
const state = join(dir, 'state');
const logFile = join(dir, 'app.log');
const proxySocket = join(dir, 'docker-proxy.sock');
const sessions: TmuxSession[] = [];
let n = 0;

/**
 * A unix-socket proxy in front of the private engine: closing it (and its connections) is the
 * engine going away for opsdeck, without stopping the engine other tests share.
 */
class DockerProxy {
  private server: Server | undefined;
  private readonly conns = new Set<Socket>();
  constructor(
    private readonly listenOn: string,
    private readonly target: string,
  ) {}
  async start(): Promise<void> {
    rmSync(this.listenOn, { force: true });
    const server = createServer((c) => {
      const u = createConnection(this.target);
      this.conns.add(c).add(u);
      const drop = () => {
        c.destroy();
        u.destroy();
        this.conns.delete(c);
        this.conns.delete(u);
      };
      c.on('error', drop).on('close', drop);
      u.on('error', drop).on('close', drop);
      c.pipe(u).pipe(c);
    });
    await new Promise<void>((res) => server.listen(this.listenOn, res));
    this.server = server;
  }
  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
    this.server = undefined;
    rmSync(this.listenOn, { force: true });
  }
}
const proxy = new DockerProxy(proxySocket, host.replace(/^unix:\/\//, ''));

function writeConfig(name: string, dockerHost: string): string {
  const f = join(dir, `${name}.yaml`);
  writeFileSync(
    f,
    `name: ${name}
interval: 1s
refresh: 1s
thresholds: {cpu: 100, memory: 100, disk: 100}
docker:
  host: ${dockerHost}
  compose_project: e2eterm
services:
  - name: term
    container: e2e-term
logs:
  - name: app-log
    path: ${logFile}
`,
  );
  return f;
}

function open(config: string, size: { columns: number; rows: number }, opts: { stdin?: string; args?: string[] } = {}): TmuxSession {
  const s = TmuxSession.start(`opsdeck-term-${process.pid}-${n++}`, ['--config', config, ...(opts.args ?? [])], {
    ...size,
    env: { OPSDECK_STATE_DIR: state },
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
  });
  sessions.push(s);
  return s;
}

beforeAll(() => {
  writeFileSync(logFile, 'INFO boot\nWARN cache cold\n');
  // PID 1 ignores SIGTERM unless it traps it: trap it, so `docker stop` is quick.
  // Its own compose project, so the pane shows it alone: other test files share the engine, and a
  // sick container of theirs would sort first and be the selected row.
  runContainer(host, 'e2e-term', ['--network', 'none', '--label', 'com.docker.compose.project=e2eterm'], ['sh', '-c', "trap 'exit 0' TERM; while true; do echo tick; sleep 1; done"]);
});

afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
});

afterAll(async () => {
  await proxy.stop();
  docker(host, 'rm', '-f', 'e2e-term');
});

describe('giving the terminal back', () => {
  it.each([
    ['q', 'q', true],
    ['ctrl-c', 'C-c', false],
  ])('%s exits 0: alternate screen left, cursor shown, terminal modes as before', async (_label, key, literal) => {
    const t = open(writeConfig('restore', host), { columns: 100, rows: 30 });
    await t.waitFor(/e2e-term\s+running/);
    expect(t.info('#{alternate_on}')).toBe('1');
    t.send(key, literal);
    const after = await t.waitFor(/TTY=/);
    expect(after).toContain('EXIT=0');
    expect(after).toContain('TTY=restored');
    expect(t.info('#{alternate_on}')).toBe('0');
    expect(t.info('#{cursor_flag}')).toBe('1');
  });

  it('SIGTERM (an SSH session ending) restores the terminal and exits 143', async () => {
    const t = open(writeConfig('sigterm', host), { columns: 100, rows: 30 });
    await t.waitFor(/e2e-term\s+running/);
    const pid = t.opsdeckPid();
    expect(pid).toBeDefined();
    process.kill(pid as number, 'SIGTERM');
    const after = await t.waitFor(/TTY=/);
    expect(after).toContain('EXIT=143');
    expect(after).toContain('TTY=restored');
    expect(t.info('#{alternate_on}')).toBe('0');
    expect(t.info('#{cursor_flag}')).toBe('1');
  });

  it('the terminal going away (tmux kill-session, an SSH link dropped) ends the console quietly: no unhandled EIO, no abort from Node', async () => {
    // Ink's unmount wrote to the dead terminal (an unhandled EIO 'error' event), then Node's exit
    // tried to restore the terminal's modes and aborted (ResetStdio assertion, a native stack).
    const err = join(dir, 'hangup.err');
    const t = TmuxSession.start(`opsdeck-term-${process.pid}-${n++}`, ['--config', writeConfig('hangup', host)], { columns: 100, rows: 30, env: { OPSDECK_STATE_DIR: state, OPSDECK_TRACE_TIMING: '1' }, stderr: err });
    sessions.push(t);
    await t.waitFor(/e2e-term\s+running/);
    const pid = t.opsdeckPid() as number;
    expect(pid).toBeDefined();
    t.kill();
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (const end = Date.now() + 15_000; alive() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    expect(alive()).toBe(false);
    const text = readFileSync(err, 'utf8');
    expect(text).toMatch(/console: ended/); // it got as far as its own end (runs paused, state database closed)
    expect(text).not.toMatch(/EIO|Unhandled|Assertion failed|Native stack/);
  });

  it('stdin not a terminal (< /dev/null): the console still shows, says keys are off, and ctrl-c quits cleanly', async () => {
    const t = open(writeConfig('nostdin', host), { columns: 100, rows: 30 }, { stdin: '/dev/null' });
    await t.waitFor((s) => /e2e-term\s+running/.test(s) && s.includes('keys off: stdin is not a terminal'));
    t.send('C-c', false);
    const after = await t.waitFor(/TTY=/);
    expect(after).toContain('EXIT=0');
    expect(after).toContain('TTY=restored');
  });
});

describe('resizing', () => {
  it('re-lays out at once: side by side at 160×48, stacked at 80×24, "too small" at 50×12, back again', async () => {
    const t = open(writeConfig('resize', host), { columns: 160, rows: 48 });
    const sideBySide = (s: string) => s.split('\n').some((l) => /^cpu\s/.test(l) && l.includes('Datastores'));
    await t.waitFor((s) => sideBySide(s) && /e2e-term\s+running/.test(s));
    t.resize(80, 24);
    const stacked = await t.waitFor((s) => !sideBySide(s) && s.includes('Datastores') && /e2e-term\s+running/.test(s));
    expect(stacked.split('\n').every((l) => l.length <= 80)).toBe(true);
    t.resize(50, 12);
    await t.waitFor(/terminal too small \(need 60×16, have 50×12\)/);
    t.resize(160, 48);
    await t.waitFor((s) => sideBySide(s) && !s.includes('terminal too small'));
    t.send('q');
    await t.waitFor(/EXIT=0/);
  });
});

describe('the Docker engine going away', () => {
  it('the containers pane turns stale with the reason, the console keeps running, and it recovers', async () => {
    await proxy.start();
    const t = open(writeConfig('dockergone', `unix://${proxySocket}`), { columns: 120, rows: 40 });
    await t.waitFor(/e2e-term\s+running/);
    await proxy.stop();
    const stale = await t.waitFor(/stale: .*(docker|Docker|ENOENT|ECONNREFUSED|connect)/, 30_000);
    // The last rows stay, so the operator still sees what was there.
    expect(stale).toMatch(/e2e-term\s+running/);
    await proxy.start();
    await t.waitFor((s) => !s.includes('stale:') && /e2e-term\s+running/.test(s), 30_000);
    t.send('q');
    await t.waitFor(/EXIT=0/);
  });

  it('an engine that is not there at all: the pane says why; q still exits 0', async () => {
    const t = open(writeConfig('nodocker', `unix://${join(dir, 'nothing-here.sock')}`), { columns: 120, rows: 40 });
    await t.waitFor((s) => s.includes('Containers') && s.includes('nothing-here.sock'), 30_000);
    t.send('q');
    await t.waitFor(/EXIT=0/);
  });
});

describe('a configured log file', () => {
  it('o picks it; its lines show, WARN among them; appended lines follow live', async () => {
    const t = open(writeConfig('logfile', host), { columns: 120, rows: 40 });
    await t.waitFor(/e2e-term\s+running/);
    t.send('o');
    await t.waitFor(/Follow which log\?/);
    // The file comes after the containers in the picker.
    const picker = t.capture();
    const m = /(\d)\) file\s+app-log/.exec(picker);
    expect(m).not.toBeNull();
    t.send(m?.[1] ?? '9');
    await t.waitFor((s) => s.includes('Logs: app-log') && s.includes('WARN cache cold'));
    appendFileSync(logFile, 'ERROR disk full on /var\n');
    await t.waitFor(/ERROR disk full on \/var/);
    t.send('q');
    await t.waitFor(/EXIT=0/);
  });
});

describe('acks and silences through the console', () => {
  it('a acknowledges, s silences; both are still there after the console restarts', async () => {
    const port = await freePort(); // nothing listens: the endpoint is down
    const f = join(dir, 'acks.yaml');
    writeFileSync(f, `name: acks\ninterval: 1s\nrefresh: 1s\nthresholds: {cpu: 100, memory: 100, disk: 100}\nendpoints:\n  - name: gone\n    url: http://127.0.0.1:${port}/\n    critical: true\n`);
    const row = (label: RegExp) => new RegExp(`CRITICAL\\s+http:gone\\s+\\S+\\s+${label.source}`);
    const t1 = open(f, { columns: 120, rows: 40 });
    await t1.waitFor(row(/firing/));
    t1.send('A'); // jump to Alerts (without Docker in the config, Alerts is focused already)
    t1.send('a');
    await t1.waitFor(row(/acknowledged/));
    t1.send('q');
    await t1.waitFor(/EXIT=0/);

    const t2 = open(f, { columns: 120, rows: 40 });
    await t2.waitFor(row(/acknowledged/));
    t2.send('A');
    t2.send('s');
    await t2.waitFor(/Silence http:gone for:/);
    t2.send('2'); // 1h
    await t2.waitFor(row(/silenced (1h|59m)/));
    t2.send('q');
    await t2.waitFor(/EXIT=0/);

    const t3 = open(f, { columns: 120, rows: 40 });
    await t3.waitFor(row(/silenced (1h|59m)/));
    t3.send('q');
    await t3.waitFor(/EXIT=0/);
  });
});

describe('stop and start from the console', () => {
  it('x stops the real container after y; S starts it again after y; both audited', async () => {
    const t = open(writeConfig('stopstart', host), { columns: 120, rows: 40 });
    await t.waitFor(/e2e-term\s+running/);
    t.send('x');
    await t.waitFor(/Stop container e2e-term/);
    expect(docker(host, 'inspect', '-f', '{{.State.Running}}', 'e2e-term')).toBe('true');
    t.send('y');
    await t.waitFor(/stop e2e-term: done/, 40_000);
    expect(docker(host, 'inspect', '-f', '{{.State.Running}}', 'e2e-term')).toBe('false');
    await t.waitFor(/e2e-term\s+exited\(0\)/);
    t.send('S');
    await t.waitFor(/Start container e2e-term/);
    t.send('y');
    await t.waitFor(/start e2e-term: e2e-term is running 3 s after/, 40_000);
    expect(docker(host, 'inspect', '-f', '{{.State.Running}}', 'e2e-term')).toBe('true');
    await t.waitFor(/e2e-term\s+running/);
    t.send('q');
    await t.waitFor(/EXIT=0/);
    const db = new Database(join(state, 'state.db'), { readonly: true });
    const rows = db.prepare("SELECT action, target, outcome FROM audit WHERE target = 'e2e-term' AND action IN ('container.stop', 'container.start') ORDER BY id").all();
    db.close();
    expect(rows).toEqual([
      { action: 'container.stop', target: 'e2e-term', outcome: 'ok' },
      { action: 'container.start', target: 'e2e-term', outcome: 'ok' },
    ]);
  });
});

describe('the configuration file changes while the console runs', () => {
  it('a broken edit keeps the running configuration and says why; a good one is taken at once', async () => {
    const f = join(dir, 'reload.yaml');
    writeFileSync(f, 'name: before\ninterval: 1s\nrefresh: 1s\nthresholds: {cpu: 100, memory: 100, disk: 100}\n');
    const t = open(f, { columns: 120, rows: 40 });
    await t.waitFor(/ before .*health/);
    writeFileSync(f, 'name: before\ninterval: 1s\nrefresh: 1s\nthresholds: {cpu: 100, memory: 100, disk: 100}\nbogus: 1\n');
    await t.waitFor(/configuration not reloaded \(the running one stays\): .*reload\.yaml: .*bogus/, 15_000);
    expect(t.capture()).toMatch(/ before .*health/);
    // A good edit: the new name is on screen, and a lowered threshold fires its alert.
    writeFileSync(f, 'name: after\ninterval: 1s\nrefresh: 1s\nthresholds: {cpu: 100, memory: 100, disk: 1}\n');
    await t.waitFor(/ after .*health/, 15_000);
    await t.waitFor(/configuration reloaded from .*reload\.yaml/, 15_000);
    await t.waitFor(/WARNING\s+host:disk:\/\s+\S+\s+firing/, 30_000);
    t.send('q');
    await t.waitFor(/EXIT=0/);
  });
});
