import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

// A small application for the update runbooks (issue #17), all real and local: a git "origin"
// (bare repository) and its checkout, a build step (build.sh copies VERSION into build/, fails when
// BREAK_BUILD exists), an HTTP server (server.mjs: /api/v1/health answers the built VERSION; it
// exits at once when VERSION says "crash"), started and stopped by shell commands with a pid file,
// and a migration tool (migrate.sh: a revision table in SQLite, migrations/NNNN.up.sql and
// .down.sql — current, history, heads, upgrade REV|head, downgrade REV|base). No network.

const SERVER = `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const version = readFileSync(new URL('./build/VERSION', import.meta.url), 'utf8').trim();
if (version === 'crash') { console.error('crash: this revision cannot start'); process.exit(3); }
createServer((req, res) => {
  if (req.url === '/api/v1/health') { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ status: 'ok', version })); return; }
  res.writeHead(404); res.end();
}).listen(Number(process.argv[2]), '127.0.0.1');
`;

const BUILD = `#!/bin/sh
set -e
if [ -f BREAK_BUILD ]; then echo "build failed: BREAK_BUILD is here" >&2; exit 1; fi
mkdir -p build
cp VERSION build/VERSION
echo "built $(cat VERSION)"
`;

const MIGRATE = `#!/bin/bash
set -euo pipefail
db=$1; cmd=$2; target=\${3:-head}
sqlite3 "$db" "CREATE TABLE IF NOT EXISTS schema_revision (rev TEXT NOT NULL)"
cur=$(sqlite3 "$db" "SELECT rev FROM schema_revision")
cur=\${cur:-0000}
all=$(ls migrations | sed -n 's/^\\([0-9]*\\)\\.up\\.sql$/\\1/p' | sort)
head=$(echo "$all" | tail -1)
set_rev() { echo "DELETE FROM schema_revision; INSERT INTO schema_revision VALUES ('$1');"; }
case $cmd in
  current) if [ "$cur" = 0000 ]; then echo base; else echo "$cur"; fi ;;
  history) for r in $all; do echo "$r"; done ;;
  heads) echo "$head (head)" ;;
  upgrade)
    [ "$target" = head ] && target=$head
    for r in $all; do
      if (( 10#$r > 10#$cur && 10#$r <= 10#$target )); then
        sqlite3 "$db" "BEGIN; $(cat migrations/$r.up.sql) $(set_rev $r) COMMIT;"
        echo "upgraded to $r"
      fi
    done ;;
  downgrade)
    [ "$target" = base ] && target=0000
    for r in $(echo "$all" | sort -r); do
      if (( 10#$r <= 10#$cur && 10#$r > 10#$target )); then
        prev=$(echo "$all" | awk -v r="$r" '$1 < r' | tail -1)
        sqlite3 "$db" "BEGIN; $(cat migrations/$r.down.sql) $(set_rev \${prev:-0000}) COMMIT;"
        echo "downgraded below $r"
      fi
    done ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
`;

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=opsdeck-test', '-c', 'user.email=test@opsdeck.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** The fixture: folders, and how to publish a new revision to origin. */
export interface AppFixture {
  root: string;
  /** The checkout opsdeck updates. */
  app: string;
  db: string;
  port: number;
  /** The stop and start commands of its service. */
  stop: string;
  start: string;
  /** Commits files to origin (through a second checkout) and returns the new revision. */
  publish(files: Record<string, string | null>, message: string): string;
  /** The checkout's HEAD. */
  head(): string;
  sql(statement: string): string;
}

/** Creates the fixture at revision v1 with migration 0001 applied and the service not running. */
export async function makeAppFixture(root: string): Promise<AppFixture> {
  const origin = join(root, 'origin.git');
  const work = join(root, 'publisher');
  const app = join(root, 'app');
  const db = join(root, 'shop.db');
  const port = await freePort();
  mkdirSync(origin, { recursive: true });
  git(origin, 'init', '--bare', '-q');
  git(root, 'clone', '-q', origin, work);
  const publish = (files: Record<string, string | null>, message: string): string => {
    for (const [f, body] of Object.entries(files)) {
      const p = join(work, f);
      if (body === null) rmSync(p, { force: true });
      else {
        mkdirSync(join(p, '..'), { recursive: true });
        writeFileSync(p, body, { mode: f.endsWith('.sh') ? 0o755 : 0o644 });
      }
    }
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', message);
    git(work, 'push', '-q', 'origin', 'HEAD:main');
    return git(work, 'rev-parse', 'HEAD');
  };
  publish(
    {
      'server.mjs': SERVER,
      'build.sh': BUILD,
      'migrate.sh': MIGRATE,
      VERSION: 'v1\n',
      '.gitignore': 'build/\n',
      'migrations/0001.up.sql': 'CREATE TABLE trades (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL);',
      'migrations/0001.down.sql': 'DROP TABLE trades;',
    },
    'v1',
  );
  git(root, 'clone', '-q', '-b', 'main', origin, app);
  execFileSync('sh', ['build.sh'], { cwd: app, stdio: 'ignore' });
  execFileSync('bash', ['migrate.sh', db, 'upgrade', 'head'], { cwd: app, stdio: 'ignore' });
  const pid = join(root, 'api.pid');
  const start = `cd ${app} && node server.mjs ${port} >> ${root}/api.log 2>&1 < /dev/null & echo $! > ${pid}`;
  const stop = `p=$(cat ${pid} 2>/dev/null) || exit 0; kill $p 2>/dev/null || true; while kill -0 $p 2>/dev/null; do sleep 0.1; done; rm -f ${pid}`;
  return {
    root,
    app,
    db,
    port,
    stop,
    start,
    publish,
    head: () => git(app, 'rev-parse', 'HEAD'),
    sql: (statement: string) => execFileSync('sqlite3', [db, statement], { encoding: 'utf8' }).trim(),
  };
}

/** The fixture's opsdeck.yaml: the service, the database, the app, and the extra text given. */
export function appConfig(f: AppFixture, extra = ''): string {
  return `name: t
state_dir: state
backup:
  dir: backups
services:
  - name: api
    health_url: http://127.0.0.1:${f.port}/api/v1/health
    timeout: 1s
    stop_command: "${f.stop.replace(/"/g, '\\"')}"
    start_command: "${f.start.replace(/"/g, '\\"')}"
databases:
  - name: shop
    path: ${f.db}
    critical_tables: [trades]
    writers: [api]
apps:
  - name: shop
    dir: app
    services: [api]
    database: shop
    health_url: http://127.0.0.1:${f.port}/api/v1/health
    healthy_within: 5s
    build: [sh, build.sh]
    migrate:
      current: [bash, migrate.sh, ${f.db}, current]
      history: [bash, migrate.sh, ${f.db}, history]
      heads: [bash, migrate.sh, ${f.db}, heads]
      upgrade: [bash, migrate.sh, ${f.db}, upgrade, "{{revision}}"]
      downgrade: [bash, migrate.sh, ${f.db}, downgrade, "{{revision}}"]
${extra}`;
}
