// npm run bench:fleet — `opsdeck check` over 4 Docker engines (issue #25, part C): the local one, a
// second engine over tcp://, the same engine over ssh:// (a private sshd on loopback running
// `docker system dial-stdio`), and one that hangs (a TCP listener that accepts and never answers).
// Wall time of the whole check next to each healthy engine alone, measured in the same run; the
// target is ≤ 1.2× the slowest healthy engine alone (engines are polled in parallel, each with its
// own time-out, so a hanging host costs its time-out, never the sum). The hanging host's timeout is
// printed: a check cannot end before it.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { median, startEngine, timeCommand, IMAGE } from './lib.mjs';

const CLI = resolve('dist/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bench-fleet-'));
const RUNS = 5;
const HANG_TIMEOUT = process.env.FLEET_HANG_TIMEOUT ?? '2s';

const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

async function startSshd(dockerHost) {
  const d = join(dir, 'sshd');
  mkdirSync(d);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'host')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'id')]);
  writeFileSync(join(d, 'authorized_keys'), readFileSync(join(d, 'id.pub')));
  mkdirSync('/run/sshd', { recursive: true });
  const port = await freePort();
  const user = userInfo().username;
  writeFileSync(join(d, 'config'), [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(d, 'host')}`, `AuthorizedKeysFile ${join(d, 'authorized_keys')}`,
    `PidFile ${join(d, 'pid')}`, 'StrictModes no', 'UsePAM no', 'PasswordAuthentication no', `PermitRootLogin ${user === 'root' ? 'prohibit-password' : 'no'}`,
    `SetEnv DOCKER_HOST=${dockerHost}`, 'LogLevel ERROR', ''].join('\n'));
  const child = spawn(existsSync('/usr/sbin/sshd') ? '/usr/sbin/sshd' : 'sshd', ['-D', '-e', '-f', join(d, 'config')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((r) => connect(port, '127.0.0.1').once('connect', function () { this.destroy(); r(true); }).once('error', () => r(false)));
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const pub = readFileSync(join(d, 'host.pub'), 'utf8').trim().split(/\s+/);
  writeFileSync(join(d, 'known_hosts'), `[127.0.0.1]:${port} ${pub[0]} ${pub[1]}\n`);
  return { port, user, identity: join(d, 'id'), knownHosts: join(d, 'known_hosts'), stop: () => child.kill('SIGTERM') };
}

const run = (host, name, cmd) => execFileSync('docker', ['-H', host, 'run', '-d', '--network', 'none', '--name', name, IMAGE, ...cmd], { stdio: 'ignore' });

const local = await startEngine();
const tcpPort = await freePort();
const second = await startEngine([`tcp://127.0.0.1:${tcpPort}`]);
const sshd = await startSshd(second.host);
// A host that accepts the connection and never answers: the worst kind of unreachable.
const hang = createServer((s) => s.on('error', () => undefined)).listen(0, '127.0.0.1');
await new Promise((r) => hang.once('listening', r));
const hangPort = hang.address().port;
const sockets = [];
hang.on('connection', (s) => sockets.push(s));

try {
  for (let i = 0; i < 3; i++) run(local.host, `l${i}`, ['sleep', '86400']);
  for (let i = 0; i < 3; i++) run(second.host, `t${i}`, ['sleep', '86400']);
  for (let i = 0; i < 3; i++) run(second.host, `s${i}`, ['sleep', '86400']);
  await new Promise((r) => setTimeout(r, 2000));
  const svc = (p) => [0, 1, 2].map((i) => `  - name: ${p}${i}\n    container: ${p}${i}\n`).join('');
  const hosts = {
    tcp: `  - name: tcp\n    docker: tcp://127.0.0.1:${tcpPort}\n    services: [t0, t1, t2]\n`,
    ssh: `  - name: ssh\n    docker: ssh://${sshd.user}@127.0.0.1:${sshd.port}\n    ssh:\n      identity_file: ${sshd.identity}\n      known_hosts: ${sshd.knownHosts}\n    services: [s0, s1, s2]\n`,
    hang: `  - name: hang\n    docker: tcp://127.0.0.1:${hangPort}\n    timeout: ${HANG_TIMEOUT}\n`,
  };
  const cfg = (name, withLocal, hostNames) => {
    const f = join(dir, `${name}.yaml`);
    const services = `${withLocal ? svc('l') : ''}${hostNames.includes('tcp') ? svc('t') : ''}${hostNames.includes('ssh') ? svc('s') : ''}`;
    writeFileSync(f, `thresholds: {cpu: 100, memory: 100, disk: 100}\n${withLocal ? `docker:\n  host: ${local.host}\n` : ''}${services ? `services:\n${services}` : ''}${hostNames.length ? `hosts:\n${hostNames.map((h) => hosts[h]).join('')}` : ''}`);
    return f;
  };
  const measure = (file) => {
    const walls = [];
    for (let i = 0; i < RUNS; i++) walls.push(timeCommand(process.execPath, [CLI, 'check', '--json', '--config', file]).wall);
    return median(walls);
  };
  const rows = [
    ['local engine alone (unix socket, cgroup stats)', measure(cfg('local', true, []))],
    ['tcp:// engine alone (API stats)', measure(cfg('tcp', false, ['tcp']))],
    ['ssh:// engine alone (API stats, one kept ssh connection)', measure(cfg('ssh', false, ['ssh']))],
    [`hanging engine alone (timeout ${HANG_TIMEOUT})`, measure(cfg('hang', false, ['hang']))],
  ];
  const all = measure(cfg('all', true, ['tcp', 'ssh', 'hang']));
  const slowestHealthy = Math.max(...rows.slice(0, 3).map((r) => r[1]));
  console.log(`opsdeck check --json, median of ${RUNS} runs each, 3 declared containers per engine (${new Date().toISOString()})\n`);
  for (const [label, wall] of rows) console.log(`${label.padEnd(52)} ${wall.toFixed(2)} s`);
  console.log(`${'all 4 engines (local, tcp, ssh, hanging)'.padEnd(52)} ${all.toFixed(2)} s`);
  console.log(`\nall 4 / slowest healthy engine alone: ${(all / slowestHealthy).toFixed(2)}× (target ≤ 1.2×)`);
  console.log(`(a check cannot end before the hanging host's timeout, ${HANG_TIMEOUT}; the engines' polls overlap, so it is not added to the others)`);
  const metrics = resolve('bench/fleet-metrics.mjs');
  if (existsSync(metrics)) {
    console.log('\n--- bench/fleet-metrics.mjs ---');
    execFileSync(process.execPath, [metrics], { stdio: 'inherit' });
  } else {
    console.log('\nThe metrics side of issue #25 (the exporter) is measured by bench/fleet-metrics.mjs (engineer A), when present.');
  }
} finally {
  for (const s of sockets) s.destroy();
  hang.close();
  sshd.stop();
  await second.stop();
  await local.stop();
  rmSync(dir, { recursive: true, force: true });
}
