import { existsSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.js';
import { ConfigError, UsageError } from '../domain/errors.js';
import { parseRunbookFile, type RunbookSpec } from './spec.js';

// Which runbooks exist (issue #16): the built-ins shipped with opsdeck (`runbooks/*.yaml` in the
// package) and the user's, from `runbooks.dir` in the configuration; a user runbook with a
// built-in's name replaces it (marked in `runbook list`). A runbook is code run as opsdeck's user,
// so a user runbook file, or its folder, that the group or others may write, or that another user
// owns, is refused (exit 78). A sticky folder (/tmp) counts as safe: others cannot replace a file there.

/** One runbook as `runbook list` shows it. */
export interface CatalogEntry {
  name: string;
  title: string;
  description: string;
  target: RunbookSpec['target'];
  source: 'built-in' | 'user';
  file: string;
  /** A user runbook that replaces the built-in of the same name. */
  replaces: boolean;
}

/** The runbooks known to a configuration, each with its validated spec. */
export interface Catalog {
  entries: CatalogEntry[];
  spec(name: string): RunbookSpec | undefined;
}

/** The package's own folder of built-in runbooks, found from this module (src/ in tests, dist/ or dist/chunks/ when built). */
export function builtinDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && existsSync(join(dir, 'runbooks')) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'opsdeck') return join(dir, 'runbooks');
    dir = dirname(dir);
  }
  throw new ConfigError('the built-in runbooks were not found beside opsdeck (expected a runbooks/ folder next to its package.json); reinstall opsdeck');
}

const uid = () => (typeof process.getuid === 'function' ? process.getuid() : undefined);

/** Why a user runbook file or folder may not be trusted, or undefined. */
export function unsafeReason(path: string, st: Stats): string | undefined {
  const me = uid();
  if (me !== undefined && st.uid !== me) return `${path}: owned by uid ${st.uid}, not by the user running opsdeck (uid ${me}); a runbook runs commands as you: chown it to yourself`;
  const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o022) !== 0 && !sticky) return `${path}: writable by ${(st.mode & 0o020) !== 0 ? 'its group' : 'others'} (mode ${(st.mode & 0o777).toString(8).padStart(3, '0')}); a runbook runs commands as you, so anyone who can write it could: chmod go-w ${path}`;
  return undefined;
}

/** Refuses (ConfigError, 78) a user runbook file whose file or folder is unsafe. */
export function assertSafe(file: string): void {
  for (const p of [file, dirname(file)]) {
    let st: Stats;
    try {
      st = statSync(p);
    } catch (e) {
      throw new ConfigError(`${p}: cannot read runbook ${p === file ? 'file' : 'folder'}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message}`);
    }
    const why = unsafeReason(p, st);
    if (why) throw new ConfigError(why);
  }
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** A runbook file read and validated; its `name` must match the file name (so `list` and `run NAME` agree). */
function readOne(file: string): RunbookSpec {
  const spec = parseRunbookFile(file);
  const base = file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  if (spec.name !== base) throw new ConfigError(`${file}: name: expected ${JSON.stringify(base)} (the file's name), got ${JSON.stringify(spec.name)}`);
  return spec;
}

/** Loads the built-in and user runbooks of a configuration; any bad or unsafe file is a ConfigError (78). */
export function loadCatalog(config: Pick<Config, 'runbooks'>): Catalog {
  const specs = new Map<string, { spec: RunbookSpec; entry: CatalogEntry }>();
  for (const file of yamlFiles(builtinDir())) {
    const spec = readOne(file);
    specs.set(spec.name, { spec, entry: { name: spec.name, title: spec.title, description: spec.description, target: spec.target, source: 'built-in', file, replaces: false } });
  }
  const dir = config.runbooks.dir;
  if (dir) {
    let st: Stats;
    try {
      st = statSync(dir);
    } catch {
      throw new ConfigError(`runbooks.dir: ${dir}: no such folder (expected a folder of runbook files)`);
    }
    if (!st.isDirectory()) throw new ConfigError(`runbooks.dir: ${dir}: is not a folder (expected a folder of runbook files)`);
    const why = unsafeReason(dir, st);
    if (why) throw new ConfigError(`runbooks.dir: ${why}`);
    for (const file of yamlFiles(dir)) {
      assertSafe(file);
      const spec = readOne(file);
      const replaces = specs.get(spec.name)?.entry.source === 'built-in';
      specs.set(spec.name, { spec, entry: { name: spec.name, title: spec.title, description: spec.description, target: spec.target, source: 'user', file, replaces } });
    }
  }
  for (const [pattern, name] of Object.entries((config as Config).runbooks.map)) {
    if (!specs.has(name)) throw new ConfigError(`runbooks.map.${pattern}: no runbook named ${JSON.stringify(name)} (expected one of: ${[...specs.keys()].join(', ')})`);
  }
  return {
    entries: [...specs.values()].map((x) => x.entry).sort((a, b) => a.name.localeCompare(b.name)),
    spec: (name) => specs.get(name)?.spec,
  };
}

/** `run NAME|FILE`: a name from the catalog, or a path (it has a `/` or ends in .yaml) read and checked like a user runbook. */
export function findRunbook(catalog: Catalog, what: string): { spec: RunbookSpec; file?: string } {
  if (what.includes('/') || /\.ya?ml$/.test(what)) {
    const file = resolve(what);
    assertSafe(file);
    return { spec: parseRunbookFile(file), file };
  }
  const spec = catalog.spec(what);
  if (!spec) throw new UsageError(`runbook ${JSON.stringify(what)}: not found (expected one of: ${catalog.entries.map((e) => e.name).join(', ')}, or the path of a runbook file)`);
  return { spec };
}
