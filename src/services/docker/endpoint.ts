// Where a Docker engine is and how it is reached (issue #15: one concern of the Docker facade).

import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { SshDialer } from './ssh.js';

/** Where and how the engine is reached. */
export interface DockerEndpoint {
  /** For messages: `unix:///var/run/docker.sock`, `tcp://host:2376`. */
  display: string;
  options: Dockerode.DockerOptions;
  local: boolean;
  /** True when no address was given and the default socket is used. */
  isDefault: boolean;
  /** An ssh:// engine (issue #25): its kept ssh connection. */
  ssh?: SshDialer;
}

/** Resolves the engine address: explicit host, then $DOCKER_HOST, then the default socket (docker-modem's order, docs/FACTS.md §2). */
export function resolveDockerEndpoint(host: string | undefined, env: NodeJS.ProcessEnv = process.env): DockerEndpoint {
  const addr = host ?? env.DOCKER_HOST;
  if (!addr) {
    const desktop = join(env.HOME || homedir(), '.docker/run/docker.sock');
    const socketPath = existsSync(desktop) ? desktop : '/var/run/docker.sock';
    return { display: `unix://${socketPath}`, options: { socketPath }, local: true, isDefault: true };
  }
  if (addr.startsWith('unix://')) {
    const socketPath = addr.slice('unix://'.length);
    return { display: addr, options: { socketPath }, local: true, isDefault: false };
  }
  if (addr.startsWith('/')) return { display: `unix://${addr}`, options: { socketPath: addr }, local: true, isDefault: false };
  const url = new URL(addr.includes('://') ? addr : `tcp://${addr}`);
  const port = url.port || (url.protocol === 'ssh:' ? '22' : '2375');
  const tls = env.DOCKER_TLS_VERIFY === '1' || port === '2376';
  const protocol = url.protocol === 'ssh:' ? 'ssh' : tls ? 'https' : 'http';
  return {
    display: `${url.protocol}//${url.hostname}:${port}`,
    options: { host: url.hostname, port, protocol, ...(url.username ? { username: url.username } : {}) },
    local: false,
    isDefault: false,
  };
}

/** What a remote host's engine needs from its configuration (`hosts[]`, issue #25). */
export interface HostEndpointConfig {
  docker: string;
  timeout: number;
  tls?: { ca: string; cert: string; key: string } | undefined;
  ssh?: { identity_file?: string | undefined; known_hosts?: string | undefined } | undefined;
}

/**
 * The engine of a configured host (issue #25). Never `local`: its container figures come from API
 * stats (the cgroup files here are this machine's). `tcp://` speaks TLS with `tls:` (else plain HTTP);
 * `ssh://` runs `docker system dial-stdio` on the host over ssh2 (docker-modem's ssh transport, one
 * ssh connection per request: docs/FACTS.md §2), authenticated by `ssh.identity_file`, else the ssh
 * agent ($SSH_AUTH_SOCK), else ~/.ssh/id_ed25519, id_ecdsa, id_rsa; the host's key must be in
 * `ssh.known_hosts` (default ~/.ssh/known_hosts) — an unknown or changed key is refused.
 */
export function hostEndpoint(h: HostEndpointConfig, env: NodeJS.ProcessEnv = process.env): DockerEndpoint {
  if (h.docker.startsWith('unix://')) {
    const socketPath = h.docker.slice('unix://'.length);
    return { display: h.docker, options: { socketPath }, local: false, isDefault: false };
  }
  const url = new URL(h.docker);
  if (url.protocol === 'ssh:') {
    const port = url.port || '22';
    const home = env.HOME || homedir();
    const identity = h.ssh?.identity_file ?? (env.SSH_AUTH_SOCK ? undefined : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(home, '.ssh', f)).find((f) => existsSync(f)));
    const privateKey = identity ? readOrUndefined(identity) : undefined;
    const knownHosts = h.ssh?.known_hosts ?? join(home, '.ssh', 'known_hosts');
    // One kept ssh connection, each HTTP connection a `docker system dial-stdio` channel on it
    // (./ssh.ts): to dockerode and the raw GET it is a plain-HTTP engine with its own agent.
    const dialer = new SshDialer({
      host: url.hostname,
      port: Number(port),
      username: decodeURIComponent(url.username),
      readyTimeout: h.timeout,
      ...(privateKey ? { privateKey } : env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {}),
      hostVerifier: (key: Buffer) => knownHostKey(knownHosts, url.hostname, Number(port), key),
    });
    return {
      display: `ssh://${url.username}@${url.hostname}:${port}`,
      options: { host: url.hostname, port, protocol: 'http', agent: dialer.agent } as Dockerode.DockerOptions, // docker-modem takes `agent` (modem.js)
      local: false,
      isDefault: false,
      ssh: dialer,
    };
  }
  const port = url.port || (h.tls ? '2376' : '2375');
  const tls = h.tls ? { ca: readOrUndefined(h.tls.ca), cert: readOrUndefined(h.tls.cert), key: readOrUndefined(h.tls.key) } : undefined;
  return {
    display: `tcp://${url.hostname}:${port}`,
    options: { host: url.hostname, port, protocol: tls ? 'https' : 'http', ...(tls ? tls : {}) },
    local: false,
    isDefault: false,
  };
}

function readOrUndefined(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Whether `key` (the raw public key blob ssh2 hands to hostVerifier) is the key of host:port in a
 * known_hosts file (OpenSSH's format: plain or hashed `|1|salt|hash` names, `[host]:port` for a port
 * other than 22, `*`/`?` patterns, `!` negations; `@revoked` refuses, `@cert-authority` lines are
 * not used). Read at every connection, so a fixed file needs no restart.
 */
export function knownHostKey(file: string, host: string, port: number, key: Buffer): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  const name = port === 22 ? host : `[${host}]:${port}`;
  let found = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    const marker = parts[0]?.startsWith('@') ? parts.shift() : undefined;
    if (marker === '@cert-authority') continue;
    const [names = '', , blob = ''] = parts;
    if (!namesMatch(names, name)) continue;
    if (Buffer.from(blob, 'base64').equals(key)) {
      if (marker === '@revoked') return false;
      found = true;
    }
  }
  return found;
}

function namesMatch(list: string, name: string): boolean {
  if (list.startsWith('|1|')) {
    const [, , salt = '', hash = ''] = list.split('|');
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let match = false;
  for (const p of list.split(',')) {
    const neg = p.startsWith('!');
    const pat = neg ? p.slice(1) : p;
    const re = new RegExp(`^${pat.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    if (re.test(name)) {
      if (neg) return false;
      match = true;
    }
  }
  return match;
}
