import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './require.js';

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** A real redis-server on loopback, daemonized, stopped by pid. */
export class RedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'opsdeck-redis-'));
  private constructor(
    readonly port: number,
    readonly password?: string,
  ) {}

  get url(): string {
    return this.password ? `redis://:${this.password}@127.0.0.1:${this.port}` : `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server on a free port (optionally with a password) and waits until it answers. */
  static async start(password?: string): Promise<RedisServer> {
    requireBinary('redis-server');
    const r = new RedisServer(await freePort(), password);
    await r.startAgain();
    return r;
  }

  /** (Re)starts the server on the same port. */
  async startAgain(): Promise<void> {
    execFileSync('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes',
      '--pidfile', join(this.dir, 'redis.pid'), '--logfile', join(this.dir, 'redis.log'), '--dir', this.dir,
      ...(this.password ? ['--requirepass', this.password] : []),
    ]);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        if (this.cli('PING') === 'PONG') return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server on port ${this.port} did not start`);
  }

  /** Runs a redis-cli command against it. */
  cli(...args: string[]): string {
    return execFileSync('redis-cli', ['-p', String(this.port), ...(this.password ? ['-a', this.password, '--no-auth-warning'] : []), ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  }

  /** Kills the server (SIGKILL) and waits until the port is closed. */
  async kill(): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(join(this.dir, 'redis.pid'), 'utf8').trim());
    } catch {
      return;
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
