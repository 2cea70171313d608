// Over 300 lines, knowingly: the demo workspace's whole life (create, its processes, its config,
// its container, stop) in one file, so `opsdeck demo --stop` cannot forget what `demo` started.

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ExitError } from '../domain/errors.js';
import { ok, type Result } from '../domain/result.js';
import { DockerService, resolveDockerEndpoint } from '../services/docker.js';
import { CRITICAL_TABLES, NORMAL_TABLES, seedTradingDb } from './seed.js';
import { alive } from '../services/process.js';

/** What a running demo consists of; saved as demo.json in the workspace. */
export interface DemoState {
  dir: string;
  config: string;
  db: string;
  startedAt: number;
  apiPort: number;
  apiPid?: number;
  writerPid?: number;
  redis?: { port: number; pidFile: string };
  container?: { name: string; id: string; image: string; dockerHost: string };
  /** Plain sentences: what runs and what does not, and why. */
  notes: string[];
  /** Health check interval written into the demo config. */
  interval: string;
  drills: DrillRecord[];
}

/** One drill run, for `opsdeck drill score`. */
export interface DrillRecord {
  scenario: string;
  startedAt: number;
  /** Highest trade id and trade count when the drill started. */
  maxTradeId: number;
  tradeCount: number;
  /** Highest trade id in the newest backup when the drill started (writes after it are counted apart). */
  backupMaxTradeId?: number;
  /** Trades with an id up to backupMaxTradeId when the drill started. */
  backupTradeCount?: number;
  restore?: Record<string, unknown>;
  /** Trades committed during this drill, how many were gone when the next drill started (a later drill's restore counts its own losses), and (`present*`) those committed before it present then. */
  during?: { committed: number; missing: number; present?: number; presentBeforeBackup?: number };
}

export const CONTAINER_NAME = 'opsdeck-demo-worker';
const PREFERRED_IMAGES = ['busybox', 'alpine', 'debian', 'ubuntu', 'opsdeck-test/busybox'];

/** The demo workspace: --dir, else $XDG_DATA_HOME/opsdeck/demo. */
export function demoDir(dir?: string, env: NodeJS.ProcessEnv = process.env): string {
  return dir ?? join(env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local/share'), 'opsdeck', 'demo');
}

/** Reads demo.json; undefined when there is no demo in the folder. */
export function readDemoState(dir: string): DemoState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as DemoState;
  } catch {
    return undefined;
  }
}

/** Saves demo.json. */
export function writeDemoState(s: DemoState): void {
  writeFileSync(join(s.dir, 'demo.json'), `${JSON.stringify(s, null, 2)}\n`);
}

/** True when a process with this pid exists (the one definition: src/services/process.ts). */
export { alive };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function hasBinary(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts one of the demo's own processes (the CLI's hidden commands), detached, logging to a file. */
export function spawnDemoProcess(dir: string, name: string, args: string[]): number {
  const log = openSync(join(dir, 'logs', `${name}.log`), 'a');
  const child = spawn(process.execPath, [process.argv[1] ?? 'opsdeck', ...args], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  if (!child.pid) throw new ExitError(1, 'demo', `could not start the demo ${name} process`);
  return child.pid;
}

/** Starts the demo API; returns its pid. */
export function startApi(s: DemoState): number {
  return spawnDemoProcess(s.dir, 'api', ['__demo-api', '--port', String(s.apiPort), '--db', s.db, '--control', join(s.dir, 'control.json')]);
}

/** Starts the demo writer (commits a trade every 250 ms); returns its pid. */
export function startWriter(s: DemoState): number {
  return spawnDemoProcess(s.dir, 'writer', ['__demo-writer', '--db', s.db, '--api', `http://127.0.0.1:${s.apiPort}`]);
}

/**
 * Stops or starts the demo writer: the demo's stand-in for `systemctl stop|start trading-engine`,
 * named by the generated config as the writer service's stop_command and start_command, so a
 * restore stops it first. Both are idempotent.
 */
export async function controlWriter(s: DemoState, action: 'stop' | 'start'): Promise<string> {
  if (action === 'stop') {
    if (!running(s.writerPid)) return 'the writer was not running';
    const pid = s.writerPid;
    await killAndWait(pid);
    return `stopped the writer (pid ${String(pid)})`;
  }
  if (running(s.writerPid)) return `the writer already runs (pid ${String(s.writerPid)})`;
  s.writerPid = startWriter(s);
  writeDemoState(s);
  return `started the writer (pid ${s.writerPid})`;
}

/** Starts redis-server for the demo on its port. */
export function startRedis(dir: string, port: number): { port: number; pidFile: string } {
  const pidFile = join(dir, 'redis', 'redis.pid');
  execFileSync('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes',
    '--pidfile', pidFile, '--logfile', join(dir, 'logs', 'redis.log'), '--dir', join(dir, 'redis'), '--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru',
  ]);
  return { port, pidFile };
}

/** Waits until a URL answers 200, or the deadline passes. */
export async function waitHttp(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await r.body?.cancel();
      if (r.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Picks an image that is already present locally (no registry may be reachable). */
async function pickImage(docker: DockerService): Promise<Result<string | undefined>> {
  const tags = await docker.imageTags();
  if (!tags.ok) return tags;
  for (const want of PREFERRED_IMAGES) {
    const hit = tags.value.find((t) => t.split(':')[0] === want || t.split(':')[0]?.endsWith(`/${want}`));
    if (hit) return ok(hit);
  }
  return ok(undefined);
}

/** Whether the worker container runs; `note` is the sentence for the demo's notes either way. */
export type ContainerStart = { started: true; note: string } | { started: false; note: string };

/** Runs the demo's worker container, from a local image; says whether it runs, never throws. */
export async function startContainer(s: DemoState, env: NodeJS.ProcessEnv, command: string[] = ['sleep', '86400'], restart = 'no'): Promise<ContainerStart> {
  const none = (why: string): ContainerStart => ({ started: false, note: `no container: ${why}` });
  // A drill replaces the worker on the engine the demo started it on, whatever DOCKER_HOST says now.
  const endpoint = resolveDockerEndpoint(s.container?.dockerHost, env);
  const docker = new DockerService(endpoint, 5000);
  const v = await docker.version();
  if (!v.ok) return none(v.error.message);
  let image = s.container?.image;
  if (!image) {
    const picked = await pickImage(docker);
    if (!picked.ok) return none(picked.error.message);
    image = picked.value;
  }
  if (!image) return none(`none of the images ${PREFERRED_IMAGES.join(', ')} is present locally and no registry is used`);
  // A leftover worker (a drill's crash-looping one, or one a killed demo left) goes first; none is fine.
  await docker.remove(CONTAINER_NAME, { force: true });
  const created = await docker.create({
    name: CONTAINER_NAME,
    image,
    cmd: command,
    labels: { 'opsdeck.demo': '1', 'com.docker.compose.project': 'opsdeck-demo', 'com.docker.compose.service': 'worker' },
    network: 'none',
    restart,
  });
  if (!created.ok) return none(`starting ${image} failed: ${created.error.message}`);
  const started = await docker.start(created.value);
  // Not left "Created" when it cannot start (an image without the command): --stop knows only a started worker.
  if (!started.ok) await docker.remove(created.value, { force: true });
  if (!started.ok) return none(`starting ${image} failed: ${started.error.message}`);
  s.container = { name: CONTAINER_NAME, id: created.value, image, dockerHost: endpoint.display };
  return { started: true, note: `container ${CONTAINER_NAME} runs image ${image} (found locally) on ${endpoint.display}` };
}

/** A word for /bin/sh, single-quoted. */
export const shellWord = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
/** A YAML double-quoted scalar (JSON strings are valid YAML). */
const yamlString = (v: string) => JSON.stringify(v);

/**
 * The shell command that runs `opsdeck drill VERB` on this demo (the node binary and the CLI
 * spelled out: `opsdeck` need not be on PATH), each word single-quoted for /bin/sh.
 */
export function drillShellCommand(s: DemoState, verb: string, cli = process.argv[1] ?? 'opsdeck'): string {
  return `${shellWord(process.execPath)} ${shellWord(cli)} drill ${verb} --config ${shellWord(s.config)}`;
}

/** A service's (or a Redis entry's) stop_command and start_command lines, YAML, at `indent`. */
function commandLines(s: DemoState, what: string, cli: string | undefined, indent = '    '): string[] {
  return [
    `${indent}stop_command: ${yamlString(drillShellCommand(s, `stop-${what}`, cli))}`,
    `${indent}start_command: ${yamlString(drillShellCommand(s, `start-${what}`, cli))}`,
  ];
}

/**
 * Writes the demo's opsdeck.yaml. Every part a drill breaks has a way for a runbook (issue #16) to
 * stop and start it: stop_command / start_command naming `opsdeck drill stop-X|start-X` (the
 * demo's stand-ins for `systemctl`, `docker compose stop|up -d --force-recreate`), and the API's
 * log under `logs:` (disk-pressure removes its rotations). `cli` is the opsdeck entry the commands
 * run (default: this process's).
 */
export function writeDemoConfig(s: DemoState, cli: string | undefined = process.argv[1]): void {
  const lines = [
    '# Generated by `opsdeck demo`: a real stack to practise on. Drills act only on this workspace.',
    'name: demo',
    'demo: true',
    `interval: ${s.interval}`,
    'refresh: 2s',
    'failure_threshold: 3',
    'recovery_threshold: 2',
    'state_dir: state',
    ...(s.container ? ['docker:', `  host: ${s.container.dockerHost}`, '  compose_project: opsdeck-demo'] : []),
    'services:',
    // A host process: its commands stop it and start it again (a start clears the injected fault:
    // the demo's stand-in for a restart that clears a leak or a stuck pool).
    '  - name: api',
    `    health_url: http://127.0.0.1:${s.apiPort}/api/v1/health`,
    '    expect: { status: 200, json_path: status, equals: ok }',
    '    timeout: 5s',
    '    critical: true',
    ...commandLines(s, 'api', cli),
    // The commands win over compose_service: they stand in for `docker compose stop worker` and
    // `docker compose up -d --force-recreate worker` (the worker recreated from its healthy definition).
    ...(s.container ? ['  - name: worker', '    compose_service: worker', '    critical: false', ...commandLines(s, 'worker', cli)] : []),
    // The writer is a host process, not a container: stopped and started by commands.
    '  - name: writer',
    ...commandLines(s, 'writer', cli),
    'endpoints:',
    '  - name: metrics',
    `    url: http://127.0.0.1:${s.apiPort}/metrics`,
    '    timeout: 5s',
    'databases:',
    '  - name: trading',
    '    path: data/trading.db',
    '    critical: true',
    `    critical_tables: [${CRITICAL_TABLES.join(', ')}]`,
    `    normal_tables: [${NORMAL_TABLES.join(', ')}]`,
    '    writers: [writer]',
    ...(s.redis ? ['redis:', '  - name: cache', `    url: redis://127.0.0.1:${s.redis.port}`, '    critical: true', ...commandLines(s, 'redis', cli)] : []),
    // The API logs here (spawnDemoProcess); disk-pressure's ballast is a rotation of it (api.log.1).
    'logs:',
    '  - name: api',
    '    path: logs/api.log',
    'backup:',
    '  dir: backups',
    '  rpo: 1h',
    // One verified backup a minute (issue #10): the demo's RPO holds by construction, and a drill
    // finds a backup minutes old, not only the start-up one.
    '  schedule: 1m',
    // Self-healing (issue #20) off: the drills are for a person to practise on; a healer would fix
    // them before anyone looked. Set it to true to watch opsdeck heal the demo's faults itself.
    'heal:',
    '  enabled: false',
  ];
  writeFileSync(s.config, `${lines.join('\n')}\n`);
}

/** Creates the workspace and starts the demo stack. */
export async function startDemo(opts: { dir: string; env?: NodeJS.ProcessEnv; marketRows?: number; interval?: string }): Promise<DemoState> {
  const env = opts.env ?? process.env;
  const prev = readDemoState(opts.dir);
  if (prev && (alive(prev.apiPid) || alive(prev.writerPid))) {
    throw new ExitError(1, 'demo', `a demo is already running in ${opts.dir} (stop it with: opsdeck demo --stop)`);
  }
  if (prev) await stopDemo(opts.dir, env);
  rmSync(opts.dir, { recursive: true, force: true });
  for (const sub of ['data', 'logs', 'redis', 'backups', 'state']) mkdirSync(join(opts.dir, sub), { recursive: true });
  const s: DemoState = {
    dir: opts.dir,
    config: join(opts.dir, 'opsdeck.yaml'),
    db: join(opts.dir, 'data', 'trading.db'),
    startedAt: Date.now(),
    apiPort: await freePort(),
    notes: [],
    drills: [],
    interval: opts.interval ?? '5s',
  };
  writeDemoState(s);
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(s.db);
  seedTradingDb(db, opts.marketRows !== undefined ? { marketRows: opts.marketRows } : {});
  db.close();
  writeFileSync(join(opts.dir, 'control.json'), '{"mode":"normal"}\n');

  s.apiPid = startApi(s);
  writeDemoState(s);
  s.writerPid = startWriter(s);
  s.notes.push(`API (a Node process, pid ${s.apiPid}) on http://127.0.0.1:${s.apiPort}; a writer (pid ${s.writerPid}) commits a trade every 250 ms`);
  writeDemoState(s);

  if (hasBinary('redis-server')) {
    try {
      s.redis = startRedis(s.dir, await freePort());
      s.notes.push(`redis-server on 127.0.0.1:${s.redis.port}`);
    } catch (e) {
      s.notes.push(`no Redis: redis-server failed to start: ${(e as Error).message.split('\n')[0] ?? ''}`);
    }
  } else {
    s.notes.push('no Redis: redis-server is not installed (apt-get install redis-server)');
  }
  writeDemoState(s);
  s.notes.push((await startContainer(s, env)).note);
  writeDemoConfig(s);
  writeDemoState(s);
  if (!(await waitHttp(`http://127.0.0.1:${s.apiPort}/api/v1/health`, 15_000))) {
    await stopDemo(opts.dir, env);
    throw new ExitError(1, 'demo', `the demo API did not start; see ${join(opts.dir, 'logs', 'api.log')}`);
  }
  return s;
}

/** Alive and not a zombie (killed, not reaped yet: a parent that never reaps keeps it forever). */
export function running(pid: number | undefined): boolean {
  if (!alive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    return !/^ Z /.test(stat.slice(stat.lastIndexOf(')') + 1));
  } catch {
    return true; // no /proc (not Linux): alive is all we know
  }
}

/**
 * SIGTERM, then SIGKILL after 5 s; resolves once the process is gone and reaped (its pid free: a
 * restore checks that the writer is gone), or at most 5 s after the SIGKILL (a zombie whose parent
 * never reaps it runs no more: given up on, bounded).
 */
export async function killAndWait(pid: number | undefined): Promise<void> {
  if (!running(pid)) return;
  try {
    process.kill(pid as number, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 5000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!alive(pid)) return;
  try {
    if (running(pid)) process.kill(pid as number, 'SIGKILL');
  } catch {
    return;
  }
  const killDeadline = Date.now() + 5000;
  while (alive(pid) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 20));
}

/** Stops every demo process and container and removes the workspace. Returns what it stopped. */
export async function stopDemo(dir: string, env: NodeJS.ProcessEnv = process.env, opts: { keepFiles?: boolean } = {}): Promise<string[]> {
  const s = readDemoState(dir);
  if (!s) return [];
  const stopped: string[] = [];
  if (alive(s.writerPid)) stopped.push(`writer (pid ${s.writerPid})`);
  await killAndWait(s.writerPid);
  if (alive(s.apiPid)) stopped.push(`API (pid ${s.apiPid})`);
  await killAndWait(s.apiPid);
  if (s.redis && existsSync(s.redis.pidFile)) {
    const pid = Number(readFileSync(s.redis.pidFile, 'utf8').trim());
    if (alive(pid)) stopped.push(`redis-server (pid ${pid})`);
    await killAndWait(pid);
  }
  if (s.container) {
    const docker = new DockerService(resolveDockerEndpoint(s.container.dockerHost, env), 5000);
    // Not removed (already gone, or the engine is down): nothing left to stop.
    if ((await docker.remove(s.container.name, { force: true })).ok) stopped.push(`container ${s.container.name}`);
  }
  if (!opts.keepFiles) rmSync(dir, { recursive: true, force: true });
  return stopped;
}
