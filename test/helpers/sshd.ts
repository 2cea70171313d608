import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './require.js';

/** A private sshd on loopback (issue #25's ssh:// engines): its own host key, one client key, DOCKER_HOST set for sessions. */
export interface PrivateSshd {
  port: number;
  user: string;
  /** The client's private key (identity_file). */
  identity: string;
  /** A known_hosts file holding this sshd's host key for [127.0.0.1]:port. */
  knownHosts: string;
  dir: string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts /usr/sbin/sshd on 127.0.0.1 as the current user (docs/TESTING.md: real parts): a fresh host
 * key and client key in a temp dir, `SetEnv DOCKER_HOST=…` so the session's `docker system dial-stdio`
 * reaches `dockerHost`. Fails loudly when sshd or ssh-keygen is missing (never skips).
 */
export async function startSshd(dockerHost: string): Promise<PrivateSshd> {
  const sshd = needOpenssh('sshd');
  needOpenssh('ssh-keygen');
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-sshd-'));
  const hostKey = join(dir, 'host_ed25519');
  const identity = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', identity]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${identity}.pub`));
  // sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const user = userInfo().username;
  let lastErr = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(config, [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`, 'StrictModes no', 'UsePAM no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes', `PermitRootLogin ${user === 'root' ? 'prohibit-password' : 'no'}`, `AllowUsers ${user}`,
      `SetEnv DOCKER_HOST=${dockerHost}`, 'LogLevel ERROR', '',
    ].join('\n'));
    const child: ChildProcess = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const up = await waitListening(port, child, 10_000);
    if (!up) {
      lastErr = stderr;
      child.kill('SIGKILL');
      continue;
    }
    const pub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${port} ${pub[0]} ${pub[1]}\n`);
    return {
      port, user, identity, knownHosts, dir,
      stop: async () => {
        if (child.exitCode === null) {
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await gone;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`sshd did not start on loopback: ${lastErr.trim() || 'no output'}`);
}

async function waitListening(port: number, child: ChildProcess, ms: number): Promise<boolean> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && child.exitCode === null) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** requireBinary, naming the package that brings sshd and ssh-keygen (fails loudly, never skips). */
function needOpenssh(name: string): string {
  try {
    return requireBinary(name);
  } catch {
    throw new Error(`${name} is not installed; the ssh:// tests of issue #25 need it. Run: apt-get install -y --no-install-recommends openssh-server (or bash .ci/run)`);
  }
}
