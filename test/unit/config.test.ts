import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoveryConfig, loadConfig, loadConfigFile } from '../../src/config/load.js';
import { reloadConfig } from '../../src/config/reload.js';
import { ConfigError } from '../../src/domain/errors.js';

function tmpConfig(text: string, name = 'opsdeck.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-cfg-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).exitCode).toBe(78);
    const msg = (e as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    return msg;
  }
  throw new Error('expected a ConfigError');
}

describe('config defaults', () => {
  it('uses the source documents numbers', () => {
    const { config } = loadConfigFile(tmpConfig('name: x\n'));
    expect(config.interval).toBe(30_000);
    expect(config.failure_threshold).toBe(3);
    expect(config.recovery_threshold).toBe(2);
    expect(config.thresholds).toMatchObject({ cpu: 80, memory: 90, disk: 85, response_time: 2000, error_rate: 5, failure_rate: 10, window: 20 });
  });

  it('gives databases 10 s and services 5 s timeouts, parses durations', () => {
    const { config } = loadConfigFile(
      tmpConfig('interval: 1m\nservices:\n  - name: api\n    health_url: http://127.0.0.1:1/\ndatabases:\n  - name: db\n    path: data/x.db\n'),
    );
    expect(config.interval).toBe(60_000);
    expect(config.services[0]?.timeout).toBe(5_000);
    expect(config.databases[0]?.timeout).toBe(10_000);
  });

  it('schedules no backups unless asked; keeps the last 24 and 48 hourly (issue #10)', () => {
    const { config } = loadConfigFile(tmpConfig('databases:\n  - name: a\n    path: a.db\n  - name: b\n    path: b.db\n    backup_schedule: off\n  - name: c\n    path: c.db\n    backup_schedule: 5m\nbackup:\n  schedule: 15m\n'));
    expect(config.backup).toMatchObject({ schedule: 900_000, keep_last: 24, keep_hourly: 48, keep_daily: 7 });
    expect(config.databases.map((d) => d.backup_schedule)).toEqual([undefined, 'off', 300_000]);
    expect(loadConfigFile(tmpConfig('name: x\n')).config.backup.schedule).toBeUndefined();
  });

  it('resolves relative paths against the config file folder', () => {
    const file = tmpConfig('databases:\n  - name: db\n    path: data/x.db\n');
    const { config } = loadConfigFile(file);
    expect(config.databases[0]?.path).toBe(join(file, '..', 'data/x.db'));
  });

  it.each(['examples/aetim.yaml', 'examples/trading.yaml'])('ships a valid %s', (f) => {
    const { config } = loadConfigFile(f, { REDIS_PASSWORD: 'pw-123456' });
    expect(config.services.length).toBeGreaterThan(0);
  });
});

describe('config discovery', () => {
  it('takes $OPSDECK_CONFIG before ./opsdeck.yaml', () => {
    const a = tmpConfig('name: from-env\n');
    const cwd = mkdtempSync(join(tmpdir(), 'opsdeck-cwd-'));
    writeFileSync(join(cwd, 'opsdeck.yaml'), 'name: from-cwd\n');
    expect(loadConfig({ cwd, env: { OPSDECK_CONFIG: a } }).config.name).toBe('from-env');
    expect(loadConfig({ cwd, env: {} }).config.name).toBe('from-cwd');
  });

  it('falls back to $XDG_CONFIG_HOME/opsdeck/config.yaml, then to built-in discovery', () => {
    const xdg = mkdtempSync(join(tmpdir(), 'opsdeck-xdg-'));
    const cwd = mkdtempSync(join(tmpdir(), 'opsdeck-cwd-'));
    expect(loadConfig({ cwd, env: { XDG_CONFIG_HOME: xdg } }).file).toBeUndefined();
    mkdirSync(join(xdg, 'opsdeck'));
    writeFileSync(join(xdg, 'opsdeck', 'config.yaml'), 'name: from-xdg\n');
    expect(loadConfig({ cwd, env: { XDG_CONFIG_HOME: xdg } }).config.name).toBe('from-xdg');
  });

  it('without config checks all containers and REDIS_URL (critical) or 127.0.0.1 (only noted)', () => {
    const none = discoveryConfig({});
    expect(none.config.docker.all_containers).toBe(true);
    expect(none.config.docker.optional).toBe(true);
    expect(none.config.redis[0]).toMatchObject({ url: 'redis://127.0.0.1:6379', optional: true });
    const set = discoveryConfig({ REDIS_URL: 'redis://:s3cretpw@10.0.0.1:6380', DOCKER_HOST: 'tcp://10.0.0.2:2375' });
    expect(set.config.redis[0]).toMatchObject({ optional: false, critical: true });
    expect(set.config.docker).toMatchObject({ optional: false, host: 'tcp://10.0.0.2:2375' });
    expect(set.secrets.redact('redis://:s3cretpw@10.0.0.1:6380 s3cretpw')).not.toContain('s3cretpw');
  });
});

describe('bad config input: exit 78, one line naming file, field and expectation', () => {
  it.each([
    ['malformed YAML', 'services:\n  - name: [unclosed\n', /opsdeck\.yaml:\d+:\d+: malformed YAML/],
    ['unknown top-level key', 'nmae: x\n', /opsdeck\.yaml: unknown key "nmae" \(expected one of: name, interval/],
    ['unknown key in a list item', 'databases:\n  - name: x\n    pth: x.db\n', /databases\[0\]: unknown key "pth" \(expected one of: name, type, path, /],
    ['unknown key in a mapping', 'backup:\n  dri: x\n', /backup: unknown key "dri" \(expected one of: dir, schedule, /],
    ['unknown nested key', 'services:\n  - name: a\n    contaner: a\n', /services\[0\]: unknown key "contaner"/],
    ['a required key misspelt is named, not "missing"', 'alertmanager:\n  ulr: http://127.0.0.1:9093\n', /alertmanager: unknown key "ulr"/],
    ['a host that is not a mapping (issue #25: hosts is no longer reserved)', 'hosts:\n  - x\n', /opsdeck\.yaml: hosts\[0\]: expected object, got the text "x"/],
    ['a host named local', 'hosts:\n  - name: local\n    docker: tcp://db1:2375\n', /opsdeck\.yaml: hosts\[0\]\.name: "local" is the console's own engine/],
    ['tls on an ssh host', 'hosts:\n  - name: db1\n    docker: ssh://ops@db1\n    tls: {ca: a, cert: b, key: c}\n', /opsdeck\.yaml: hosts\[0\]\.tls: tls is for a tcp:\/\/ engine/],
    ['an ssh host without a user', 'hosts:\n  - name: db1\n    docker: ssh://db1:22\n', /opsdeck\.yaml: hosts\[0\]\.docker: expected ssh:\/\/user@host/],
    ['wrong type', 'failure_threshold: three\n', /failure_threshold: expected number, got the text "three"/],
    ['missing required field', 'databases:\n  - name: db\n', /databases\[0\]\.path: required field is missing \(expected string\)/],
    ['bad duration', 'interval: soon\n', /interval: expected a duration/],
    ['a heal backoff cap past its range (issue #20)', 'heal:\n  backoff: {cap: 30d}\n', /heal\.backoff\.cap: expected a duration from .* to 6h \(the longest wait between two attempts/],
    ['a heal rule without a runbook name', 'heal:\n  rules:\n    - {check: "http:*", runbook: "Not A Name"}\n', /heal\.rules\[0\]\.runbook: expected a runbook name/],
    ['bad backup schedule', 'databases:\n  - name: d\n    path: d.db\n    backup_schedule: hourly\n', /databases\[0\]\.backup_schedule: expected a backup schedule such as "15m", "1h" or off, got "hourly"/],
    ['backup schedule under a second', 'backup:\n  schedule: 500ms\n', /backup\.schedule: expected at least 1s between scheduled backups \(backups are named by the second\), got "500ms"/],
    ['bad redis url', 'redis:\n  - name: r\n    url: http://x\n', /redis\[0\]\.url: expected a redis:\/\/ or rediss:\/\/ URL/],
    ['missing env secret', 'redis:\n  - name: r\n    url: redis://:${NOPE_NOT_SET}@127.0.0.1:6379\n', /redis\[0\]\.url: environment variable NOPE_NOT_SET is not set/],
  ])('%s', (_name, text, pattern) => {
    const file = tmpConfig(text);
    expect(configError(() => loadConfigFile(file, {}))).toMatch(pattern);
  });

  it('an unreadable file names the file', () => {
    expect(configError(() => loadConfigFile('/nonexistent/opsdeck.yaml'))).toMatch(/\/nonexistent\/opsdeck\.yaml: cannot read config: no such file/);
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-dir-'));
    expect(configError(() => loadConfigFile(dir))).toMatch(/is a directory/);
  });

  it('never repeats a secret in an error', () => {
    const file = tmpConfig('redis:\n  - name: r\n    url: redis://:${PW}@127.0.0.1:6379\n    timeout: [1]\n');
    const msg = configError(() => loadConfigFile(file, { PW: 'hunter2-secret' }));
    expect(msg).not.toContain('hunter2-secret');
  });

  it('registers env-substituted secrets for redaction', () => {
    const file = tmpConfig('redis:\n  - name: r\n    url: redis://:${PW}@127.0.0.1:6379\n');
    const { secrets } = loadConfigFile(file, { PW: 'hunter2-secret' });
    expect(secrets.redact('failed: redis://:hunter2-secret@127.0.0.1:6379 (pw hunter2-secret)')).toBe('failed: redis://:***@127.0.0.1:6379 (pw ***)');
  });
});

describe('bad input that cannot hurt (issue #13)', () => {
  it.each([
    ['interval: 0 (watch spun at 73 % CPU)', 'interval: 0\n', /opsdeck\.yaml: interval: expected a duration from 1s to 1d \(how often every check runs\), got 0$/],
    ['refresh: 0 (the console spun at 75 %)', 'refresh: 0\n', /refresh: expected a duration from 500ms to 1h .*got 0$/],
    ['interval: 30d (TimeoutOverflowWarning)', 'interval: 30d\n', /interval: expected a duration from 1s to 1d .*got "30d"/],
    ['a 25d timeout (Node fires it after 1 ms)', 'endpoints:\n  - name: api\n    url: http://127.0.0.1:1/\n    timeout: 25d\n', /endpoints\[0\]\.timeout: expected a duration from 100ms to 10m \(how long one probe may take\), got "25d"/],
    ['a database timeout of 0', 'databases:\n  - name: d\n    path: d.db\n    timeout: 0\n', /databases\[0\]\.timeout: expected a duration from 100ms to 10m/],
    ['docker.timeout above 2^31-1 ms', 'docker:\n  timeout: 2147484s\n', /docker\.timeout: expected a duration from 100ms to 10m/],
    ['a backup schedule above a month', 'backup:\n  schedule: 40d\n', /backup\.schedule: expected at most 31d between scheduled backups, got "40d"/],
    ['rpo: 0', 'backup:\n  rpo: 0\n', /backup\.rpo: expected a duration from 1m to 400d, got 0/],
    ['an empty file', '', /opsdeck\.yaml: the file is empty or only comments/],
    ['a comment-only file', '# opsdeck config\n# services: []\n---\n', /opsdeck\.yaml: the file is empty or only comments/],
    ['duplicate service names', 'services:\n  - name: api\n    container: a\n  - name: api\n    container: b\n', /services\[1\]\.name: duplicate service name "api", also at services\[0\]\.name/],
    ['duplicate database names', 'databases:\n  - name: d\n    path: a.db\n  - name: d\n    path: b.db\n', /databases\[1\]\.name: duplicate database name "d", also at databases\[0\]\.name/],
    ['duplicate Redis names', 'redis:\n  - name: r\n    url: redis://127.0.0.1:1\n  - name: r\n    url: redis://127.0.0.1:2\n', /redis\[1\]\.name: duplicate Redis name "r", also at redis\[0\]\.name/],
    ['duplicate endpoint names', 'endpoints:\n  - name: e\n    url: http://a/\n  - name: e\n    url: http://b/\n', /endpoints\[1\]\.name: duplicate endpoint name "e", also at endpoints\[0\]\.name/],
    ['a service health_url and an endpoint of one name (both http:<name>)', 'services:\n  - name: api\n    health_url: http://a/\nendpoints:\n  - name: api\n    url: http://b/\n', /endpoints\[0\]\.name: duplicate HTTP check .* name "api", also at services\[0\]\.name/],
    ['an ftp:// health URL', 'services:\n  - name: api\n    health_url: ftp://files.example.com/\n', /services\[0\]\.health_url: expected an http:\/\/ or https:\/\/ URL/],
    ['a file:// endpoint', 'endpoints:\n  - name: e\n    url: file:///etc/passwd\n', /endpoints\[0\]\.url: expected an http:\/\/ or https:\/\/ URL/],
    ['a writer that is not a service', 'services:\n  - name: api\n    container: a\ndatabases:\n  - name: d\n    path: d.db\n    writers: [api, unknown-service]\n', /databases\[0\]\.writers\[1\]: service "unknown-service" is not in services \(expected one of: api\)/],
    ['cpu: .nan', 'thresholds:\n  cpu: .nan\n', /thresholds\.cpu: expected number, got not a number \(\.nan\)/],
    ['interval: .nan', 'interval: .nan\n', /interval: expected a duration such as .*, got not a number/],
  ])('%s → 78 naming the field', (_name, text, pattern) => {
    const file = tmpConfig(text);
    expect(configError(() => loadConfigFile(file, {}))).toMatch(pattern);
  });

  it('takes a YAML alias bomb as a configuration error naming the file, not a crash', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const file = tmpConfig(`${lines.join('\n')}\n`);
    expect(configError(() => loadConfigFile(file, {}))).toMatch(/opsdeck\.yaml: YAML aliases expand too far/);
  });

  it('refuses a FIFO and /dev/zero at once (a plain read of either never returns)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-fifo-'));
    const fifo = join(dir, 'opsdeck.yaml');
    execFileSync('mkfifo', [fifo]);
    expect(configError(() => loadConfigFile(fifo, {}))).toBe(`${fifo}: is not a regular file (a named pipe; expected a YAML or JSON config file)`);
    expect(configError(() => loadConfigFile('/dev/zero', {}))).toBe('/dev/zero: is not a regular file (a character device; expected a YAML or JSON config file)');
  });

  it('refuses a file over 1 MiB', () => {
    const file = tmpConfig(`name: big\n# ${'x'.repeat(1 << 20)}\n`);
    expect(configError(() => loadConfigFile(file, {}))).toMatch(/opsdeck\.yaml: is \d+ bytes \(expected a config file of at most 1048576 bytes\)/);
  });

  it('accepts the edges of each range', () => {
    const { config } = loadConfigFile(tmpConfig('interval: 1s\nrefresh: 500ms\nendpoints:\n  - name: e\n    url: https://a/\n    timeout: 10m\nbackup:\n  schedule: 31d\n  rpo: 400d\n'), {});
    expect(config).toMatchObject({ interval: 1000, refresh: 500, backup: { schedule: 31 * 86_400_000, rpo: 400 * 86_400_000 } });
    expect(config.endpoints[0]?.timeout).toBe(600_000);
  });
});

describe('reloading an edited config (issue #13)', () => {
  it('refuses an edit that would remove every check; the running config stays', () => {
    const file = tmpConfig('endpoints:\n  - name: api\n    url: http://127.0.0.1:1/\n');
    const running = loadConfigFile(file, {}).config;
    writeFileSync(file, 'name: half-written\n');
    expect(configError(() => reloadConfig(file, running, {}))).toMatch(/opsdeck\.yaml: the edit would remove every check \(1 running: endpoints\.api\)/);
    writeFileSync(file, '');
    expect(configError(() => reloadConfig(file, running, {}))).toMatch(/the file is empty or only comments/);
    writeFileSync(file, 'endpoints:\n  - name: web\n    url: http://127.0.0.1:2/\n');
    expect(reloadConfig(file, running, {}).config.endpoints[0]?.name).toBe('web');
    // A config that declared nothing may be edited into another that declares nothing.
    expect(reloadConfig(file, loadConfigFile(tmpConfig('name: a\n'), {}).config, {}).config.name).toBe('opsdeck');
  });
});
