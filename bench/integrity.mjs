// npm run bench:integrity — builds a ~1 GB SQLite database with a foreign key (BENCH_MB to change
// the size; BENCH_DIR to keep and reuse it) and prints, in one run on the same file, `opsdeck db
// check`'s integrity + foreign-key part (quick_check of the live file beside the snapshot copy, then
// integrity_check of the snapshot beside foreign_key_check) next to `sqlite3`'s `PRAGMA
// integrity_check; PRAGMA foreign_key_check` on the file. Target (issue #22): ≤ 1.2×. The extra rules
// (a unique key, a regex, a range, not null) are reported separately. Absolute times wander on a
// shared 2-core machine: read the ratio.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const CLI = resolve('dist/cli.js');
const MB = Number(process.env.BENCH_MB ?? 1024);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const dir = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'opsdeck-bench-integrity-'));
mkdirSync(dir, { recursive: true });
const db = join(dir, 'integrity.db');
const env = { ...process.env, OPSDECK_STATE_DIR: join(dir, 'state'), XDG_CONFIG_HOME: dir, XDG_DATA_HOME: join(dir, 'data') };

/** Wall seconds of a command; throws with its stderr when it fails (db check: exit 0–3 are results). */
function time(cmd, args, ok = [0]) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const s = (performance.now() - t0) / 1000;
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { s, stdout: r.stdout?.toString() ?? '' };
}

if (!existsSync(db) || statSync(db).size < MB * 0.85 * (1 << 20)) {
  rmSync(db, { force: true });
  const t0 = performance.now();
  const d = new Database(db);
  d.pragma('journal_mode = WAL');
  d.exec(`CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE trades (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id), sym TEXT, qty INTEGER, price REAL, note TEXT);
    CREATE INDEX trades_sym ON trades(sym); CREATE INDEX trades_account ON trades(account_id);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) INSERT INTO accounts SELECT i, 'account ' || i FROM n;`);
  const ins = d.prepare('INSERT INTO trades (account_id, sym, qty, price, note) VALUES (?, ?, ?, ?, ?)');
  // Realistic compressibility and page layout: the same rows as bench:backup, with an account each.
  const words = ['buy', 'sell', 'fill', 'partial', 'cancel', 'momentum', 'mean-revert', 'arb', 'hedge', 'rebalance'];
  const total = Math.round(MB * (1024 * 1024 / 540));
  let i = 0;
  while (i < total) {
    d.transaction(() => {
      for (let k = 0; k < 50_000 && i < total; k++, i++) {
        let note = '';
        while (note.length < 400) note += `${words[(i * 7 + note.length) % words.length]} ${(i * 2654435761) % 100000} `;
        ins.run(1 + (i % 1000), `S${i % 500}`, i % 1000, (i % 10000) / 7, note);
      }
    })();
  }
  d.pragma('wal_checkpoint(TRUNCATE)');
  d.close();
  console.log(`built ${db}: ${(statSync(db).size / (1 << 20)).toFixed(0)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const size = statSync(db).size;
console.log(`database: ${(size / (1 << 20)).toFixed(0)} MiB at ${db}; ${RUNS} runs each, median shown`);

const plain = join(dir, 'plain.yaml');
writeFileSync(plain, `databases:\n  - name: bench\n    path: ${db}\n    critical_tables: [trades, accounts]\n`);
const ruled = join(dir, 'rules.yaml');
writeFileSync(
  ruled,
  `databases:\n  - name: bench\n    path: ${db}\n    critical_tables: [trades, accounts]\nintegrity:\n  bench:\n    unique: { accounts: name }\n    rules:\n      "trades.sym": { regex: "^S[0-9]+$" }\n      "trades.qty": { min: 0, max: 1000 }\n      "trades.price": { not_null: true }\n`,
);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ref = [];
const same = [];
const ours = [];
// The Debian sqlite3 CLI may be an older SQLite than better-sqlite3's: the same PRAGMAs through
// better-sqlite3 (opsdeck's SQLite) are the like-for-like reference.
const sameLib = `const D = require(${JSON.stringify(require.resolve('better-sqlite3'))}); const d = new D(process.argv[1], { readonly: true }); d.pragma('integrity_check'); d.pragma('foreign_key_check'); d.close();`;
const version = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout.trim().split(' ')[0];
const cliVersion = version('sqlite3', ['--version']);
const libVersion = version('node', ['-e', `const D = require(${JSON.stringify(require.resolve('better-sqlite3'))}); console.log(new D(':memory:').prepare('SELECT sqlite_version() AS v').get().v)`]);
const phases = [];
for (let r = 0; r < RUNS; r++) {
  ref.push(time('sqlite3', [db, 'PRAGMA integrity_check; PRAGMA foreign_key_check;']).s);
  same.push(time('node', ['-e', sameLib, db]).s);
  // No rules and no backup: db check is its integrity + foreign-key part (plus node's start-up).
  const c = time('node', [CLI, '--config', plain, 'db', 'check', '--json'], [0, 1, 2, 3]);
  ours.push(c.s);
  phases.push(JSON.parse(c.stdout).databases[0].timings);
}
const withRules = time('node', [CLI, '--config', ruled, 'db', 'check', '--json'], [0, 1, 2, 3]);
const rulesMs = JSON.parse(withRules.stdout).databases[0].timings.rules;

const line = (label, s, extra = '') => console.log(`${label.padEnd(60)} ${s.toFixed(2).padStart(8)} s ${extra}`);
line(`sqlite3 ${cliVersion}: PRAGMA integrity_check; PRAGMA foreign_key_check`, median(ref));
line(`the same PRAGMAs through better-sqlite3 (SQLite ${libVersion}, opsdeck's)`, median(same));
line('opsdeck db check (integrity + foreign keys, whole command)', median(ours));
const p = phases[ours.indexOf(median(ours))];
line('  of which quick_check of the live file (beside the snapshot)', p.quickCheck / 1000);
line('  of which snapshot (backup API, scratch)', p.snapshot / 1000);
line('  of which integrity_check of the snapshot (beside fk)', p.integrityCheck / 1000);
line('  of which foreign_key_check of the snapshot', p.foreignKeyCheck / 1000);
line('extra rules (unique key, regex, range, not null over every row)', rulesMs / 1000, '(reported separately)');
console.log('');
console.log(`db check integrity+fk / sqlite3 ${cliVersion} integrity_check+foreign_key_check       ${(median(ours) / median(ref)).toFixed(2)}×  (target ≤ 1.2)`);
console.log(`db check integrity+fk / the same PRAGMAs on SQLite ${libVersion} (like for like)  ${(median(ours) / median(same)).toFixed(2)}×  (target ≤ 1.2)`);
console.log(`live file read for ${(Math.max(p.quickCheck, p.snapshot) / 1000).toFixed(2)} s (the WAL is held back that long), against ${median(same).toFixed(2)} s for the same PRAGMAs on the live file`);
if (!process.env.BENCH_DIR) rmSync(dir, { recursive: true, force: true });
