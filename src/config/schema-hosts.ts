import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../domain/errors.js';
import { duration, DURATION_RANGES, httpUrl, name } from './fields.js';

// `hosts:` (issue #25, part C): other machines' Docker engines watched from one console. Each host
// names the services whose containers live there; every other service stays on the local `docker:`
// engine. Check ids on a host carry it: `container:web@db1`, `docker:engine@db1`.

/** The name the console uses for its own engine in the host filter; no host may take it. */
export const LOCAL_HOST = 'local';

const tlsSchema = z.strictObject({
  /** The CA that signed the engine's certificate, and this client's certificate and key (files; `docker --tlsverify`'s). */
  ca: z.string().min(1, 'expected the path of the CA certificate (ca.pem)'),
  cert: z.string().min(1, 'expected the path of the client certificate (cert.pem)'),
  key: z.string().min(1, 'expected the path of the client key (key.pem)'),
});

const sshSchema = z.strictObject({
  /** A private key file; else the ssh agent ($SSH_AUTH_SOCK), else ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
  identity_file: z.string().min(1).optional(),
  /** The known_hosts file the host's key must be in; default ~/.ssh/known_hosts. An unknown key is refused. */
  known_hosts: z.string().min(1).optional(),
});

const ADDRESS = 'expected unix:///path/docker.sock, tcp://host:2376 or ssh://user@host[:port]';

const dockerAddress = z
  .string({ error: ADDRESS })
  .min(1, ADDRESS)
  .superRefine((v, ctx) => {
    const scheme = /^([a-z]+):\/\//.exec(v)?.[1];
    if (scheme !== 'unix' && scheme !== 'tcp' && scheme !== 'ssh') {
      ctx.addIssue({ code: 'custom', message: `${ADDRESS}, got ${JSON.stringify(v.replace(/\/\/[^@/]*@/, '//…@'))}` });
      return;
    }
    if (scheme === 'unix') {
      if (v.length <= 'unix://'.length) ctx.addIssue({ code: 'custom', message: `${ADDRESS} (the socket's path is missing)` });
      return;
    }
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${ADDRESS}, got an address that is not a URL` });
      return;
    }
    // A password in the address would show wherever the address does (messages, the process list):
    // refused, never echoed back (the message does not repeat the value).
    if (url.password) {
      ctx.addIssue({ code: 'custom', message: `a password in the address is refused (it would show in messages); use a key: ssh.identity_file or the ssh agent${scheme === 'tcp' ? ', or tls' : ''}` });
      return;
    }
    if (!url.hostname) ctx.addIssue({ code: 'custom', message: `${ADDRESS} (the host is missing)` });
    if (scheme === 'ssh' && !url.username) ctx.addIssue({ code: 'custom', message: 'expected ssh://user@host[:port] (the user is missing)' });
    if (url.pathname && url.pathname !== '/' && url.pathname !== '') ctx.addIssue({ code: 'custom', message: `${ADDRESS} (no path after the host)` });
  });

const hostSchema = z
  .strictObject({
    name: name.refine((n) => n.toLowerCase() !== LOCAL_HOST, { message: `"${LOCAL_HOST}" is the console's own engine (the host filter's name for it); pick another name` }),
    /** The engine: `unix:///…` (a socket on this machine), `tcp://h:2376` (TLS with `tls:`), `ssh://user@host[:port]`. */
    docker: dockerAddress,
    tls: tlsSchema.optional(),
    ssh: sshSchema.optional(),
    /** How long one call to this engine may take (an ssh connection per call included). */
    timeout: duration(5_000, DURATION_RANGES.timeout),
    /** When true, an unreachable engine is only noted, not reported as a failure (as docker.optional). */
    optional: z.boolean().default(false),
    /** Only containers of this compose project (label com.docker.compose.project). */
    compose_project: z.string().min(1).optional(),
    /** Check every container of this engine, not only the services listed. */
    all_containers: z.boolean().default(false),
    /** Services (by name, from `services:`) whose containers live on this host. */
    services: z.array(z.string().min(1)).default([]),
    /** That host's `opsdeck watch` metrics endpoint (its CPU, memory, disks for the console). */
    metrics: httpUrl.optional(),
  })
  .superRefine((h, ctx) => {
    const scheme = /^([a-z]+):\/\//.exec(h.docker)?.[1];
    if (h.tls && scheme !== 'tcp') ctx.addIssue({ code: 'custom', path: ['tls'], message: `tls is for a tcp:// engine (this one is ${scheme ?? 'not tcp'}://)` });
    if (h.ssh && scheme !== 'ssh') ctx.addIssue({ code: 'custom', path: ['ssh'], message: `ssh is for an ssh:// engine (this one is ${scheme ?? 'not ssh'}://)` });
  });

/** `hosts:` — other Docker engines watched from here (issue #25). */
export const hostsSchema = z.array(hostSchema).default([]);

/** One configured host. */
export type HostConfig = z.output<typeof hostSchema>;

/**
 * The cross-checks of `hosts:` against the rest of the file (called from the schema's superRefine):
 * duplicate host names, unknown service names, a service on two hosts, a service without a container.
 */
export function checkHosts(c: { hosts: readonly HostConfig[]; services: readonly { name: string; container?: string | undefined; compose_service?: string | undefined }[] }, ctx: z.RefinementCtx): void {
  const names = new Map<string, number>();
  const placed = new Map<string, string>();
  const known = c.services.map((s) => s.name);
  c.hosts.forEach((h, i) => {
    const first = names.get(h.name);
    if (first !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['hosts', i, 'name'], message: `duplicate host name ${JSON.stringify(h.name)}, also at hosts[${first}].name (each host needs its own name: its checks are named after it)` });
      return;
    }
    names.set(h.name, i);
    h.services.forEach((s, j) => {
      const svc = c.services.find((x) => x.name === s);
      if (!svc) {
        ctx.addIssue({ code: 'custom', path: ['hosts', i, 'services', j], message: `service ${JSON.stringify(s)} is not in services (expected one of: ${known.join(', ') || 'none declared'})` });
        return;
      }
      if (!svc.container && !svc.compose_service) {
        ctx.addIssue({ code: 'custom', path: ['hosts', i, 'services', j], message: `service ${JSON.stringify(s)} names no container or compose_service (a host only checks containers)` });
        return;
      }
      const other = placed.get(s);
      if (other !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['hosts', i, 'services', j], message: `service ${JSON.stringify(s)} is already on host ${JSON.stringify(other)} (a service lives on one engine)` });
        return;
      }
      placed.set(s, h.name);
    });
  });
}

/** The host a service lives on, or undefined for the local engine. */
export function hostOfService(hosts: readonly HostConfig[], service: string): HostConfig | undefined {
  return hosts.find((h) => h.services.includes(service));
}

/**
 * Resolves the hosts' key and certificate files (`~/` and paths relative to the configuration's
 * folder) and checks each exists, so a typo is a one-line error at load, not an engine error at 3 a.m.
 * A key's path is not a secret; its content is never read here.
 */
export function resolveHostFiles(hosts: HostConfig[], base: string, file: string): void {
  const home = process.env.HOME || homedir();
  const at = (p: string) => (p.startsWith('~/') ? resolve(home, p.slice(2)) : isAbsolute(p) ? p : resolve(base, p));
  const mustExist = (p: string, field: string, what: string) => {
    let ok = false;
    try {
      ok = existsSync(p) && statSync(p).isFile();
    } catch {
      ok = false;
    }
    if (!ok) throw new ConfigError(`${file}: ${field}: no such file ${p} (expected ${what})`);
  };
  hosts.forEach((h, i) => {
    if (h.tls) {
      for (const k of ['ca', 'cert', 'key'] as const) {
        h.tls[k] = at(h.tls[k]);
        mustExist(h.tls[k], `hosts[${i}].tls.${k}`, k === 'ca' ? 'the CA certificate' : k === 'cert' ? 'the client certificate' : 'the client key');
      }
    }
    if (h.ssh?.identity_file) {
      h.ssh.identity_file = at(h.ssh.identity_file);
      mustExist(h.ssh.identity_file, `hosts[${i}].ssh.identity_file`, 'a private key file');
    }
    if (h.ssh?.known_hosts) {
      h.ssh.known_hosts = at(h.ssh.known_hosts);
      mustExist(h.ssh.known_hosts, `hosts[${i}].ssh.known_hosts`, 'a known_hosts file');
    }
  });
}
