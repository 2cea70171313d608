// Over 300 lines, knowingly: finding, reading, interpolating and validating a configuration, and
// saying what is wrong in one line, belong together; runbook files reuse readYamlFile and describeIssue.

import { closeSync, constants as fsConstants, existsSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { homedir } from 'node:os';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../domain/errors.js';
import { configSchema, RESERVED_CONFIG_KEYS, type Config } from './schema.js';
import { checkIntegrity } from './schema-integrity.js';
import { resolveHostFiles } from './schema-hosts.js';
import { notifySecrets } from './schema-notify.js';
import { alertmanagerSecrets } from './schema-alertmanager.js';
import { credentialParams, registerSecrets, SecretRegistry } from './secrets.js';

/** A loaded configuration and what was learned while loading it. */
export interface LoadedConfig {
  config: Config;
  /** The file it came from; undefined when opsdeck runs with built-in discovery (no config). */
  file?: string;
  secrets: SecretRegistry;
  /** Plain remarks for the operator (e.g. "no config found; checking the local host"). */
  notes: string[];
}

/** Where the configuration is looked for, in order (docs/DESIGN.md §3). */
export function configCandidates(env: NodeJS.ProcessEnv, cwd: string): { path: string; explicit: boolean }[] {
  const out: { path: string; explicit: boolean }[] = [];
  if (env.OPSDECK_CONFIG) out.push({ path: resolve(cwd, env.OPSDECK_CONFIG), explicit: true });
  out.push({ path: join(cwd, 'opsdeck.yaml'), explicit: false });
  const xdg = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  out.push({ path: join(xdg, 'opsdeck', 'config.yaml'), explicit: false });
  return out;
}

/**
 * Finds and loads the configuration: `--config`, `$OPSDECK_CONFIG`, `./opsdeck.yaml`,
 * `$XDG_CONFIG_HOME/opsdeck/config.yaml`; with none, the built-in discovery of the local stack.
 * Throws ConfigError (exit 78) with one line naming file, field and expectation.
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (opts.file) return loadConfigFile(resolve(cwd, opts.file), env);
  for (const c of configCandidates(env, cwd)) {
    if (c.explicit || existsSync(c.path)) return loadConfigFile(c.path, env);
  }
  return discoveryConfig(env);
}

/** Loads and validates one configuration file (YAML or JSON). */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const raw = readYamlFile(file);
  if (raw === null || raw === undefined) {
    // An empty or comment-only file is a mistake (a truncated write, the wrong file), not "no checks" (issue #13).
    throw new ConfigError(`${file}: the file is empty or only comments (expected settings such as name, services, databases)`);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${file}: (top level): expected a mapping of settings (name, services, databases, …)`);
  }
  const secrets = new SecretRegistry();
  const substituted = new Map<string, string>();
  const interpolated = interpolateEnv(raw, env, secrets, file, [], substituted);
  const config = validate(interpolated, file, substituted, secrets);
  resolvePaths(config, dirname(file));
  resolveHostFiles(config.hosts, dirname(file), file);
  registerConfigSecrets(config, secrets);
  registerSecrets(secrets);
  return { config, file, secrets, notes: [] };
}

/**
 * Reads and parses a YAML (or JSON) file with the configuration's protections (issue #13): never
 * blocking, at most MAX_CONFIG_BYTES, unique keys, aliases bounded. Runbook files use it too.
 * Throws ConfigError naming the file (and line:column for a syntax error).
 */
export function readYamlFile(file: string, what = 'config file'): unknown {
  const text = readConfigText(file, what);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = yamlError.linePos?.[0] ?? lineCounter.linePos(yamlError.pos[0]);
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    const msg = yamlError.message.split('\n')[0] ?? 'syntax error';
    throw new ConfigError(`${where}: malformed YAML: ${msg}`);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // The yaml package refuses an alias that expands too far ("billion laughs"): a config error, not a crash.
    throw new ConfigError(`${file}: YAML aliases expand too far (${(e as Error).message.split('\n')[0] ?? 'resource limit'}); write the values out instead`);
  }
}

/** A config file is small: anything bigger is not one (issue #13: /dev/zero as --config hung). */
export const MAX_CONFIG_BYTES = 1 << 20;

/**
 * Reads a config file without ever blocking: opened non-blocking (a FIFO with no writer would block
 * a plain open forever), refused unless it is a regular file, read up to MAX_CONFIG_BYTES.
 */
function readConfigText(file: string, what = 'config file'): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new ConfigError(`${file}: is a directory (expected a YAML or JSON ${what})`);
    if (!st.isFile()) throw new ConfigError(`${file}: is not a regular file (a ${fileKind(st)}; expected a YAML or JSON ${what})`);
    if (st.size > MAX_CONFIG_BYTES) throw new ConfigError(`${file}: is ${st.size} bytes (expected a ${what} of at most ${MAX_CONFIG_BYTES} bytes)`);
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let n = 0;
    for (let r = -1; r !== 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_CONFIG_BYTES) throw new ConfigError(`${file}: is over ${MAX_CONFIG_BYTES} bytes (expected a ${what} of at most ${MAX_CONFIG_BYTES} bytes)`);
    return buf.subarray(0, n).toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String((err as Error).message);
    throw new ConfigError(`${file}: cannot read ${what === 'config file' ? 'config' : what}: ${why} (expected a readable YAML or JSON ${what})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'named pipe';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSocket()) return 'socket';
  return 'special file';
}

/**
 * Validates a raw object against the schema; the first problem becomes a one-line ConfigError.
 * A field filled from the environment is described by what the file says (`${REDIS_PW}`), never by
 * its value (issue #12: `interval: ${REDIS_PW}` printed the password).
 */
export function validate(raw: unknown, file: string, substituted: ReadonlyMap<string, string> = new Map(), secrets?: SecretRegistry): Config {
  // zod's JIT off (issue #27): a configuration is parsed once per start or reload, and compiling each
  // object schema's parser (`new Function`) costs more than it saves on a single parse.
  const parsed = configSchema.safeParse(raw, { jitless: true });
  // `integrity:` names databases (issue #22): checked here, once the whole file parsed, so that
  // schema.ts gains one line for it (its sections are edited by others at the same time).
  const unknownDb = parsed.success ? checkIntegrity(parsed.data) : undefined;
  if (parsed.success && !unknownDb) return parsed.data;
  const first = parsed.success ? ({ code: 'custom', input: raw, ...unknownDb } as z.core.$ZodIssue) : parsed.error.issues[0];
  // A required field missing beside an unknown key of the same mapping is most likely that key
  // misspelt (`alertmanager: {ulr: …}`): the unknown key is named (an operator's trial).
  const typo =
    !parsed.success && first?.code === 'invalid_type' && getAt(raw, first.path) === undefined
      ? parsed.error.issues.find((i) => i.code === 'unrecognized_keys' && formatPath(i.path) === formatPath(first.path.slice(0, -1)))
      : undefined;
  const issue = typo ?? first;
  const message = `${file}: ${describeIssue(issue, raw, substituted)}`;
  throw new ConfigError(secrets ? secrets.redact(message) : message);
}

export function describeIssue(issue: z.core.$ZodIssue | undefined, raw: unknown, substituted: ReadonlyMap<string, string>): string {
  if (!issue) return 'invalid configuration';
  const path = formatPath(issue.path);
  const template = substituted.get(path);
  if (template !== undefined && issue.code !== 'unrecognized_keys') {
    // The value came from the environment: say what the file says (`${REDIS_PW}`), not the value.
    const what = `${JSON.stringify(template)} (from the environment; its value is not shown)`;
    if (issue.code === 'invalid_type') return `${path}: expected ${issue.expected}, got ${what}`;
    const value = getAt(raw, issue.path);
    let msg = issue.message.replace(/^Invalid input: /, '');
    if (typeof value === 'string' && value) {
      msg = msg.split(JSON.stringify(value)).join(what);
      if (value.length >= 4) msg = msg.split(value).join(template);
    }
    return `${path}: ${msg}`;
  }
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
    const at = path ? `${path}: ` : '';
    const reserved = issue.path.length === 0 ? issue.keys.find((k) => Object.hasOwn(RESERVED_CONFIG_KEYS, k)) : undefined;
    if (reserved !== undefined) return `${reserved}: reserved for ${RESERVED_CONFIG_KEYS[reserved]}, which this version of opsdeck does not have yet; remove it (README "Configuration")`;
    return `${at}unknown key ${keys}${suggestKeys(issue.path)}`;
  }
  if (issue.code === 'invalid_type') {
    const got = describeValue(getAt(raw, issue.path));
    if (got === 'missing') return `${path}: required field is missing (expected ${issue.expected})`;
    return `${path}: expected ${issue.expected}, got ${got}`;
  }
  const msg = issue.message.replace(/^Invalid input: /, '');
  const value = getAt(raw, issue.path);
  // Say what was written when the message does not (`interval: .nan`: "got not a number").
  const got = issue.code === 'invalid_union' && value !== undefined && !/\bgot\b/.test(msg) ? `, got ${describeValue(value)}` : '';
  return `${path || '(top level)'}: ${msg}${got}`;
}

/** The keys a mapping at `path` may have, from the schema (`databases[0]` too: an operator's trial got none there); undefined when not a plain mapping. */
function suggestKeys(path: PropertyKey[]): string {
  let s: unknown = configSchema;
  for (const p of path) {
    const d = defOf(unwrapSchema(s));
    s = typeof p === 'number' ? (d?.type === 'array' ? d.element : undefined) : d?.type === 'object' ? d.shape?.[String(p)] : undefined;
    if (s === undefined) return '';
  }
  const d = defOf(unwrapSchema(s));
  const known = d?.type === 'object' && d.shape ? Object.keys(d.shape) : [];
  return known.length ? ` (expected one of: ${known.join(', ')})` : '';
}

interface SchemaDef {
  type?: string;
  innerType?: unknown;
  in?: unknown;
  element?: unknown;
  shape?: Record<string, unknown>;
}
const defOf = (s: unknown): SchemaDef | undefined => (s as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;

/** Through optional, default, nullable and pipe (a transform) to the schema that holds the shape. */
function unwrapSchema(s: unknown): unknown {
  for (let i = 0; i < 16; i++) {
    const d = defOf(s);
    if (d?.innerType !== undefined && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type ?? '')) s = d.innerType;
    else if (d?.type === 'pipe' && d.in !== undefined) s = d.in;
    else break;
  }
  return s;
}

function formatPath(path: PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function getAt(raw: unknown, path: PropertyKey[]): unknown {
  let cur = raw;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number' && Number.isNaN(v)) return 'not a number (.nan)';
  if (typeof v === 'number' && !Number.isFinite(v)) return 'infinity';
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${JSON.stringify(v) ?? 'value'}`;
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string; a missing variable is a config error.
 * Records in `substituted` each field filled from the environment, with the file's text for it.
 */
function interpolateEnv(v: unknown, env: NodeJS.ProcessEnv, secrets: SecretRegistry, file: string, path: PropertyKey[], substituted: Map<string, string>): unknown {
  if (typeof v === 'string') {
    if (v.includes('${')) substituted.set(formatPath(path), v);
    return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, def: string | undefined) => {
      const value = env[name];
      if (value !== undefined && value !== '') {
        secrets.add(value);
        return value;
      }
      if (def !== undefined) return def;
      throw new ConfigError(
        `${file}: ${formatPath(path) || '(top level)'}: environment variable ${name} is not set (expected \${${name}} to be defined)`,
      );
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => interpolateEnv(x, env, secrets, file, [...path, i], substituted));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = interpolateEnv(x, env, secrets, file, [...path, k], substituted);
    return out;
  }
  return v;
}

/** Relative paths in a config resolve against the config file's folder. */
function resolvePaths(config: Config, base: string): void {
  for (const db of config.databases) if (!isAbsolute(db.path)) db.path = resolve(base, db.path);
  for (const a of config.apps) if (!isAbsolute(a.dir)) a.dir = resolve(base, a.dir);
  if (config.state_dir && !isAbsolute(config.state_dir)) config.state_dir = resolve(base, config.state_dir);
  if (config.backup.dir && !isAbsolute(config.backup.dir)) config.backup.dir = resolve(base, config.backup.dir);
  config.backup.config_files = config.backup.config_files.map((f) => resolve(base, f));
  config.capacity.paths = config.capacity.paths.map((p) => resolve(base, p));
  for (const l of config.logs) {
    l.path = resolve(base, l.path);
    if (l.glob) l.glob = l.glob.map((g) => (isAbsolute(g) ? g : `${base.split(sep).join('/')}/${g}`));
    if (l.archive_dir) l.archive_dir = resolve(base, l.archive_dir);
  }
  if (config.runbooks.dir && !isAbsolute(config.runbooks.dir)) config.runbooks.dir = resolve(base, config.runbooks.dir);
}

function registerConfigSecrets(config: Config, secrets: SecretRegistry): void {
  notifySecrets(config.notify, secrets);
  alertmanagerSecrets(config.alertmanager, secrets);
  const urls = [
    ...config.redis.map((r) => r.url),
    ...config.endpoints.map((e) => e.url),
    ...config.services.flatMap((s) => (s.health_url ? [s.health_url] : [])),
  ];
  for (const u of urls) {
    try {
      const parsed = new URL(u);
      secrets.add(decodeURIComponent(parsed.password));
      // A credential in the query (`?token=…`) is a secret like a password (issue #12).
      for (const v of credentialParams(parsed)) secrets.add(v);
    } catch {
      // Invalid URLs were already rejected by the schema.
    }
  }
}

/**
 * The configuration used when no file is found: the local host, every container of the engine
 * at DOCKER_HOST or the default socket, and Redis at REDIS_URL (or 127.0.0.1:6379, only noted when absent).
 */
export function discoveryConfig(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const secrets = new SecretRegistry();
  const notes = ['no config file found: checking the local host, the Docker engine and Redis (see README: Configuration)'];
  const redisUrl = env.REDIS_URL;
  if (redisUrl) secrets.add(safePassword(redisUrl));
  const config = validate(
    {
      name: 'local',
      docker: { all_containers: true, optional: !env.DOCKER_HOST, ...(env.DOCKER_HOST ? { host: env.DOCKER_HOST } : {}) },
      redis: [
        redisUrl && /^rediss?:\/\//.test(redisUrl)
          ? { name: 'redis', url: redisUrl, critical: true }
          : { name: 'redis', url: 'redis://127.0.0.1:6379', critical: true, optional: true },
      ],
    },
    'built-in discovery',
  );
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    // Not echoed: a malformed URL still holds its password, and no rule finds it there (issue #12).
    throw new ConfigError('REDIS_URL: expected a redis:// or rediss:// URL (its value is not shown: it may hold a password)');
  }
  registerSecrets(secrets);
  return { config, secrets, notes };
}

function safePassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
