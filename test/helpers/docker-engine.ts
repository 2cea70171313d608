import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './require.js';

/** The image every test container runs: Debian's static busybox, imported (no registry is reachable). */
export const TEST_IMAGE = 'opsdeck-test/busybox:1';
/** Label on every test container, so teardown can remove them all. */
export const TEST_LABEL = 'opsdeck.test=1';

export interface PrivateEngine {
  socket: string;
  host: string;
  dataDir: string;
  pidFile: string;
  stop(): Promise<void>;
}

/** GET /_ping on a unix socket; resolves true on 200. */
export function ping(socket: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

/** Starts a private dockerd (recipe in docs/TESTING.md) and imports the busybox test image. */
export async function startEngine(dataDir?: string, extraHosts: string[] = []): Promise<PrivateEngine> {
  const dockerd = requireBinary('dockerd');
  requireBinary('docker');
  const busybox = requireBinary('busybox');
  const d = dataDir ?? mkdtempSync(join(tmpdir(), 'opsdeck-dockerd-'));
  mkdirSync(d, { recursive: true });
  const e = mkdtempSync('/tmp/ode-');
  const socket = join(d, 'docker.sock');
  const pidFile = join(d, 'dockerd.pid');
  const child = spawn(
    dockerd,
    ['--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=vfs', '--data-root', join(d, 'data'),
      '--exec-root', e, '--pidfile', pidFile, '-H', `unix://${socket}`, ...extraHosts.flatMap((h) => ['-H', h])],
    { stdio: ['ignore', 'ignore', 'ignore'], detached: true },
  );
  child.unref();
  const deadline = Date.now() + 30_000;
  while (!(await ping(socket))) {
    if (Date.now() > deadline) throw new Error(`private dockerd did not become ready at ${socket} within 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const host = `unix://${socket}`;
  const images = execFileSync('docker', ['-H', host, 'images', '-q', TEST_IMAGE], { encoding: 'utf8' }).trim();
  if (!images) {
    const root = mkdtempSync(join(tmpdir(), 'opsdeck-bb-'));
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'tmp'));
    mkdirSync(join(root, 'www'));
    copyFileSync(busybox, join(root, 'bin/busybox'));
    for (const app of ['sh', 'sleep', 'echo', 'httpd', 'wget', 'cat', 'ls', 'true', 'false', 'kill', 'date', 'yes', 'head', 'seq', 'touch', 'rm', 'nc', 'mkdir', 'printf', 'dd']) {
      if (!existsSync(join(root, 'bin', app))) symlinkSync('busybox', join(root, 'bin', app));
    }
    execFileSync('sh', ['-c', `tar -C ${root} -c . | docker -H ${host} import - ${TEST_IMAGE}`]);
    rmSync(root, { recursive: true, force: true });
  }
  return {
    socket,
    host,
    dataDir: d,
    pidFile,
    stop: async () => {
      await stopEngine(pidFile, socket);
      rmSync(e, { recursive: true, force: true });
    },
  };
}

/** Stops a private dockerd by its pid file and waits until it has exited. */
export async function stopEngine(pidFile: string, socket: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  void socket;
}

/** Runs the docker CLI against an engine; returns stdout. */
export function docker(host: string, ...args: string[]): string {
  return execFileSync('docker', ['-H', host, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Starts a labelled test container from the busybox image; returns its id. */
export function runContainer(host: string, name: string, args: string[], cmd: string[]): string {
  return docker(host, 'run', '-d', '--name', name, '--label', TEST_LABEL, ...args, TEST_IMAGE, ...cmd);
}

/** Removes every test container of an engine. */
export function removeTestContainers(host: string): void {
  const ids = docker(host, 'ps', '-aq', '--filter', `label=${TEST_LABEL}`);
  if (ids) docker(host, 'rm', '-f', ...ids.split('\n'));
}
