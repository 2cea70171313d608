import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { CLI, runCli as runCliAt, type CliResult } from './cli.js';

// Fixtures for the restore tests: a trading database with critical (strategies, trades) and normal
// (market_data) tables, one backup of it (the "backup set"), then changes made by a process that
// is SIGKILLed, so the live database has a hot -wal (the "old set" lives partly in the WAL).

const require = createRequire(import.meta.url);
const SQLITE = require.resolve('better-sqlite3');

let privateCli: Promise<string> | undefined;

/**
 * A private copy of the built CLI for this test file (under the ignored .tmp/): the shared dist/
 * is rebuilt (emptied first) whenever any vitest run starts, which would make a long fault-injection
 * run fail with "Cannot find module" when several runs share one work tree.
 */
export function cliPath(): Promise<string> {
  privateCli ??= (async () => {
    const dist = dirname(CLI);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const dst = join(dist, '..', '.tmp', `dist-${process.pid}-${Date.now()}`);
      try {
        cpSync(dist, dst, { recursive: true });
        if (!existsSync(join(dst, 'cli.js')) || !existsSync(join(dst, 'main.js'))) throw new Error('incomplete build');
        return join(dst, 'cli.js');
      } catch (e) {
        rmSync(dst, { recursive: true, force: true });
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  return privateCli;
}

/** runCli (helpers/cli.ts) against this file's private copy of the CLI. */
export async function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return runCliAt(args, { timeoutMs: 60_000, ...opts, bin: await cliPath() });
}

/** Removes this file's private copy of the CLI (call in afterAll). */
export async function removePrivateCli(): Promise<void> {
  if (privateCli) rmSync(dirname(await privateCli), { recursive: true, force: true });
  privateCli = undefined;
}

/** Every row of every table, in rowid order: what "exactly the same rows" compares. */
export type Rows = Record<string, unknown[]>;

/** Reads all rows of a database without touching it: a copy (with its -wal) is opened instead. */
export function rowsOf(dbPath: string): Rows {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-rows-'));
  const copy = join(dir, 'c.db');
  copyFileSync(dbPath, copy);
  if (existsSync(`${dbPath}-wal`)) copyFileSync(`${dbPath}-wal`, `${copy}-wal`);
  const db = new Database(copy);
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    const out: Rows = {};
    for (const t of tables) out[t] = db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all();
    return out;
  } finally {
    db.close();
  }
}

/** integrity_check of a database, opened for real (as the application would after a crash). */
export function integrityOf(dbPath: string): string {
  const db = new Database(dbPath);
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

/** Creates the backup-set database. */
export function seedTrading(dbPath: string, trades = 300, filler = 0): void {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE strategies (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE trades (id INTEGER PRIMARY KEY, strategy_id INTEGER NOT NULL REFERENCES strategies(id), qty INTEGER, note TEXT);
    CREATE TABLE market_data (id INTEGER PRIMARY KEY, symbol TEXT, price REAL, blob TEXT);
    CREATE INDEX trades_strategy ON trades(strategy_id);`);
  db.transaction(() => {
    for (let s = 1; s <= 5; s++) db.prepare('INSERT INTO strategies VALUES (?, ?)').run(s, `s${s}`);
    const t = db.prepare('INSERT INTO trades (strategy_id, qty, note) VALUES (?, ?, ?)');
    for (let i = 0; i < trades; i++) t.run((i % 5) + 1, i, `t${i}`);
    const m = db.prepare('INSERT INTO market_data (symbol, price, blob) VALUES (?, ?, ?)');
    for (let i = 0; i < 200 + filler; i++) m.run(`S${i % 7}`, i * 1.5, 'm'.repeat(filler ? 100 : 10));
  })();
  db.close();
}

/** Changes made after the backup by a process killed with SIGKILL: they stay in a hot -wal. */
export async function divergeWithHotWal(dbPath: string): Promise<void> {
  const code = `
    const D = require(${JSON.stringify(SQLITE)});
    const db = new D(${JSON.stringify(dbPath)});
    db.pragma('wal_autocheckpoint = 0');
    db.exec("DELETE FROM trades WHERE id % 3 = 0; INSERT INTO strategies VALUES (6, 'new'); INSERT INTO trades (strategy_id, qty, note) VALUES (6, 999, 'after backup'); UPDATE market_data SET price = -1 WHERE id < 50; DELETE FROM market_data WHERE id > 150;");
    process.kill(process.pid, 'SIGKILL');`;
  await new Promise<void>((resolve) => spawn(process.execPath, ['-e', code], { stdio: 'ignore' }).on('exit', () => resolve()));
  if (!existsSync(`${dbPath}-wal`)) throw new Error('fixture: expected a hot -wal');
}

/** A prepared scenario: database, backup folder, config, state dir. */
export interface Scenario {
  dir: string;
  db: string;
  config: string;
  env: NodeJS.ProcessEnv;
  backupSet: Rows;
  oldSet: Rows;
}

/** A template made once: seeded, backed up (and verified) through the CLI, then diverged. */
export async function makeTemplate(extraConfig = ''): Promise<Scenario> {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-restore-'));
  const s = scenarioPaths(dir, extraConfig);
  seedTrading(s.db);
  const c = await runCli(['--config', s.config, 'backup', 'create', '--db', 'trading'], { env: s.env, cwd: dir });
  if (c.code !== 0) throw new Error(`fixture backup failed: ${c.stderr}`);
  const v = await runCli(['--config', s.config, 'backup', 'verify', '--db', 'trading'], { env: s.env, cwd: dir });
  if (v.code !== 0) throw new Error(`fixture verify failed: ${v.stderr}${v.stdout}`);
  const backupSet = rowsOf(s.db);
  await divergeWithHotWal(s.db);
  return { ...s, backupSet, oldSet: rowsOf(s.db) };
}

function scenarioPaths(dir: string, extraConfig: string, writers: string[] = []): Omit<Scenario, 'backupSet' | 'oldSet'> {
  const db = join(dir, 'data', 'trading.db');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'opsdeck.yaml');
  writeFileSync(
    config,
    `databases:
  - name: trading
    path: ${db}
    critical_tables: [strategies, trades]
    normal_tables: [market_data]
    writers: [${writers.join(', ')}]
${extraConfig}backup:
  dir: ${join(dir, 'backups')}
`,
  );
  return { dir, db, config, env: { XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir, OPSDECK_STATE_DIR: join(dir, 'state') } };
}

/** A fresh copy of a template in its own folder (its own state dir and journal). */
export function cloneScenario(t: Scenario, extraConfig = '', writers: string[] = []): Scenario {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-restore-'));
  const s = scenarioPaths(dir, extraConfig, writers);
  for (const f of ['', '-wal']) if (existsSync(`${t.db}${f}`)) copyFileSync(`${t.db}${f}`, `${s.db}${f}`);
  cpSync(join(t.dir, 'backups'), join(dir, 'backups'), { recursive: true });
  return { ...s, backupSet: t.backupSet, oldSet: t.oldSet };
}

/**
 * Runs the CLI with a pause point and SIGKILLs it once it paused there; `whilePaused` runs first,
 * with the paused process still alive.
 */
export async function killAt(point: string, args: string[], s: Scenario, whilePaused?: () => Promise<void>): Promise<{ paused: boolean; stderr: string }> {
  const bin = await cliPath();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: s.dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...s.env, OPSDECK_TEST_PAUSE_AT: point },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let paused = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`never paused at ${point}: ${stderr}`));
    }, 90_000);
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!paused && stderr.includes(`paused at ${point}\n`)) {
        paused = true;
        void (whilePaused ?? (() => Promise.resolve()))().finally(() => child.kill('SIGKILL'));
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve({ paused, stderr });
    });
  });
}

/** `opsdeck --config C <args>` in a scenario. */
export function cli(s: Scenario, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return runCli(['--config', s.config, ...args], { env: s.env, cwd: s.dir, timeoutMs });
}
