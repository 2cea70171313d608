// Where a Docker engine is and how it is reached (issue #15: one concern of the Docker facade).

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';

/** Where and how the engine is reached. */
export interface DockerEndpoint {
  /** For messages: `unix:///var/run/docker.sock`, `tcp://host:2376`. */
  display: string;
  options: Dockerode.DockerOptions;
  local: boolean;
  /** True when no address was given and the default socket is used. */
  isDefault: boolean;
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
