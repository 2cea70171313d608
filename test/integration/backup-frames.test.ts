import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressFrames, FRAMES_FORMAT, FRAMES_HEADER, GZ_FRAMES_FORMAT, GZ_FRAMES_HEADER, type FramesFormat } from '../../src/services/backup-frames.js';
import { extractVerified } from '../../src/services/backup-restore.js';
import { createBackup, verifyBackup, type BackupManifest } from '../../src/services/backup.js';
import { quickCheckInChild } from '../../src/services/sqlite-worker.js';
import { runCli } from '../helpers/cli.js';

// Issue #27: backups stored as independent frames — gzip members (`gz-frames-1`, the default) or
// brotli streams (`br-frames-1`, the first framed format) — decompressed side by side; one-stream
// backups (every backup made before) still verify and restore. Real SQLite files, the built CLI,
// the system's gunzip. Frames of 64 KiB (OPSDECK_TEST_FRAME_KIB) make a 3 MB database many frames.

const dir = mkdtempSync(join(tmpdir(), 'opsdeck-frames-'));
const dbPath = join(dir, 'trading.db');
const env = { XDG_CONFIG_HOME: dir, OPSDECK_STATE_DIR: join(dir, 'state'), OPSDECK_TEST_FRAME_KIB: '64' };

/** A digest of every row: equal digests, equal data. */
function digest(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT id, qty, note FROM trades ORDER BY id').all();
    return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
  } finally {
    db.close();
  }
}

beforeAll(() => {
  const db = new Database(dbPath);
  db.exec('CREATE TABLE trades (id INTEGER PRIMARY KEY, qty INT, note TEXT)');
  const ins = db.prepare('INSERT INTO trades (qty, note) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 20_000; i++) ins.run(i, `note ${(i * 2654435761) % 100000} ${'x'.repeat(i % 90)}`);
  })();
  db.close();
  process.env.OPSDECK_TEST_FRAME_KIB = '64';
});
afterAll(() => {
  delete process.env.OPSDECK_TEST_FRAME_KIB;
  rmSync(dir, { recursive: true, force: true });
});

/** Rewrites a backup in the format before issue #27 (one brotli stream, no `format` in its manifest), as that code wrote it. */
function toOneStream(bdir: string, m: BackupManifest, raw: string): BackupManifest {
  const stored = brotliCompressSync(readFileSync(raw));
  writeFileSync(join(bdir, `${m.id}.db.br`), stored);
  const { format: _f, frameBytes: _b, frames: _s, verify: _v, ...rest } = m;
  const old = { ...rest, sizeBytes: stored.length, sha256: createHash('sha256').update(stored).digest('hex') };
  writeFileSync(join(bdir, `${m.id}.json`), JSON.stringify(old, null, 2));
  return old;
}

/** Rewrites a backup in `br-frames-1` (the first framed format, the default before gz-frames-1), as that code wrote it. */
async function toBrFrames(bdir: string, m: BackupManifest, raw: string): Promise<BackupManifest> {
  const file = join(bdir, `${m.id}.db.br`);
  const { sha256, size, layout } = await compressFrames(raw, file, 0o600, FRAMES_FORMAT);
  const { verify: _v, ...rest } = m;
  const br = { ...rest, ...layout, sizeBytes: size, sha256 };
  writeFileSync(join(bdir, `${m.id}.json`), JSON.stringify(br, null, 2));
  return br;
}

/** A backup of the test database in `format`, and the raw database it holds. */
async function backupIn(bdir: string, format: FramesFormat): Promise<BackupManifest> {
  const m = await createBackup({ db: dbPath, name: 'trading', dir: bdir, tables: ['trades'] });
  if (format === GZ_FRAMES_FORMAT) return m;
  const raw = join(bdir, 'raw.db');
  await extractVerified(join(bdir, `${m.id}.db.br`), m.sha256, raw, 'raw');
  const br = await toBrFrames(bdir, m, raw);
  rmSync(raw);
  return br;
}

describe('backups in frames', () => {
  it('a new backup is gz-frames-1: an empty first member whose gzip comment says what the file is, then one member per frame; plain gunzip gives the database', async () => {
    const bdir = join(dir, 'b0');
    const m = await createBackup({ db: dbPath, name: 'trading', dir: bdir, tables: ['trades'] });
    expect(m).toMatchObject({ format: GZ_FRAMES_FORMAT, frameBytes: 64 << 10 });
    const stored = readFileSync(join(bdir, `${m.id}.db.br`));
    expect(stored.subarray(0, m.frames?.[0]).toString('latin1')).toContain(GZ_FRAMES_HEADER);
    const raw = join(dir, 'r0.db');
    await extractVerified(join(bdir, `${m.id}.db.br`), m.sha256, raw, `backup ${m.id}`);
    // The system's gunzip, on the whole stored file: the database, byte for byte (the header member is empty).
    expect(execFileSync('gunzip', ['-c'], { input: stored, maxBuffer: 64 << 20 }).equals(readFileSync(raw))).toBe(true);
  });

  it.each([GZ_FRAMES_FORMAT, FRAMES_FORMAT] as const)('%s: the manifest records the frames; many frames decompress side by side into the same database', async (format) => {
    const bdir = join(dir, `b1-${format}`);
    const m = await backupIn(bdir, format);
    expect(m).toMatchObject({ format, frameBytes: 64 << 10 });
    // A header frame, then one frame per 64 KiB of the database.
    expect(m.frames).toHaveLength(1 + Math.ceil(m.rawBytes / (64 << 10)));
    expect(m.frames?.reduce((a, b) => a + b, 0)).toBe(statSync(join(bdir, `${m.id}.db.br`)).size);
    expect(m.sha256).toBe(createHash('sha256').update(readFileSync(join(bdir, `${m.id}.db.br`))).digest('hex'));
    if (format === FRAMES_FORMAT) {
      // The first frame is a text saying what the file is (what `brotli -d` or an older opsdeck finds).
      const head = brotliDecompressSync(readFileSync(join(bdir, `${m.id}.db.br`)).subarray(0, m.frames?.[0])).toString();
      expect(head.startsWith(FRAMES_HEADER)).toBe(true);
    }
    const out = join(dir, `r1-${format}.db`);
    await extractVerified(join(bdir, `${m.id}.db.br`), m.sha256, out, `backup ${m.id}`);
    expect(statSync(out).size).toBe(m.rawBytes);
    expect(digest(out)).toBe(digest(dbPath));
    expect((await verifyBackup(bdir, m)).verify).toMatchObject({ ok: true });
    // And the CLI restores it whole (its copy checked before the swap).
    const before = digest(dbPath);
    const w = new Database(dbPath);
    w.exec('DELETE FROM trades WHERE id > 19000');
    w.close();
    const r = await runCli(['restore', '--db', dbPath, '--dir', bdir, '--backup', m.id, '--yes'], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(digest(dbPath)).toBe(before);
  });

  it.each([GZ_FRAMES_FORMAT, FRAMES_FORMAT] as const)('%s: a damaged frame, a truncated file, a frame list that does not match and a manifest that lost its format are corrupt, never restored', async (format) => {
    const bdir = join(dir, `b2-${format}`);
    const m = await backupIn(bdir, format);
    const file = join(bdir, `${m.id}.db.br`);
    const good = readFileSync(file);
    const dst = join(dir, 'r2.db');
    const extract = () => extractVerified(file, m.sha256, dst, `backup ${m.id}`);
    // A flipped byte in the middle of a later frame.
    const fd = openSync(file, 'r+');
    const at = Math.floor(good.length * 0.7);
    writeSync(fd, Buffer.from([good[at]! ^ 0x5a]), 0, 1, at);
    closeSync(fd);
    await expect(extract()).rejects.toThrow(`backup ${m.id}: checksum mismatch (the stored file is damaged or truncated); it cannot be restored`);
    writeFileSync(file, good);
    truncateSync(file, good.length - 10);
    await expect(extract()).rejects.toThrow(/checksum mismatch/);
    writeFileSync(file, good);
    // The same bytes, a frame list moved by one byte: the file is intact, its manifest is not.
    const mf = join(bdir, `${m.id}.json`);
    const manifest = JSON.parse(readFileSync(mf, 'utf8')) as BackupManifest & { frames: number[] };
    writeFileSync(mf, JSON.stringify({ ...manifest, frames: [manifest.frames[0]! + 1, manifest.frames[1]! - 1, ...manifest.frames.slice(2)] }));
    await expect(extract()).rejects.toThrow(/does not match its manifest/);
    // Without its format the file would be read as one stream: Node's decoder stops after the first
    // frame and ignores the rest, so only the header would come out; it is refused instead.
    const { format: _f, frameBytes: _b, frames: _s, ...noFormat } = manifest;
    writeFileSync(mf, JSON.stringify(noFormat));
    await expect(extract()).rejects.toThrow(format === FRAMES_FORMAT ? /does not match its manifest \(it holds more than one brotli stream, and its manifest names no format\)/ : /does not match its manifest \(it is not one brotli stream, and its manifest names no format\)/);
    expect(existsSync(dst)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('a one-stream backup (the format before issue #27) still verifies, restores and extracts; damaged, it is corrupt', async () => {
    const bdir = join(dir, 'b3');
    const m0 = await createBackup({ db: dbPath, name: 'trading', dir: bdir, tables: ['trades'] });
    const raw = join(dir, 'raw3.db');
    await extractVerified(join(bdir, `${m0.id}.db.br`), m0.sha256, raw, 'raw');
    const m = toOneStream(bdir, m0, raw);
    expect((await verifyBackup(bdir, m)).verify).toMatchObject({ ok: true });
    const before = digest(dbPath);
    const w = new Database(dbPath);
    w.exec('DELETE FROM trades WHERE id > 15000');
    w.close();
    const r = await runCli(['restore', '--db', dbPath, '--dir', bdir, '--backup', m.id, '--yes'], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/check the result: quick_check of the copy ok before the swap/);
    expect(digest(dbPath)).toBe(before);
    const x = await runCli(['backup', 'extract', m.id, '--db', dbPath, '--dir', bdir, '--to', join(dir, 'x3.db'), '--read-only'], { env, cwd: dir });
    expect(x.code, x.stderr).toBe(0);
    expect(x.stdout).toMatch(/extracted backup .* \(one brotli stream, checksum ok\)/);
    expect(digest(join(dir, 'x3.db'))).toBe(before);
    truncateSync(join(bdir, `${m.id}.db.br`), 100);
    const bad = await runCli(['restore', '--db', dbPath, '--dir', bdir, '--backup', m.id, '--yes'], { env, cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/checksum mismatch \(the stored file is damaged or truncated\); it cannot be restored/);
  });

  it('backup extract writes a framed backup to a new file only, and refuses an existing one', async () => {
    const bdir = join(dir, 'b4');
    const c = await runCli(['backup', 'create', '--db', dbPath, '--dir', bdir, '--json'], { env, cwd: dir });
    expect(c.code, c.stderr).toBe(0);
    const id = (JSON.parse(c.stdout) as { created: { id: string }[] }).created[0]?.id as string;
    const to = join(dir, 'x4.db');
    const x = await runCli(['backup', 'extract', id, '--db', dbPath, '--dir', bdir, '--to', to, '--json'], { env, cwd: dir });
    expect(x.code, x.stderr).toBe(0);
    expect(JSON.parse(x.stdout)).toMatchObject({ extracted: { id, to, format: GZ_FRAMES_FORMAT } });
    expect(digest(to)).toBe(digest(dbPath));
    // README's recipe by hand for a br-frames-1 file (Node alone, no manifest) gives the same database.
    const m = JSON.parse(readFileSync(join(bdir, `${id}.json`), 'utf8')) as BackupManifest;
    await toBrFrames(bdir, m, to);
    const byHand = join(dir, 'x4-by-hand.db');
    const recipe = `const fs=require("fs"),z=require("zlib");const [f,o]=process.argv.slice(1);
      const b=fs.readFileSync(f);for(let at=0,i=0;at<b.length;i++){const r=z.brotliDecompressSync(b.subarray(at),{info:true});
      if(i>0)fs.appendFileSync(o,r.buffer);else process.stderr.write(r.buffer);at+=r.engine.bytesWritten;}`;
    execFileSync(process.execPath, ['-e', recipe, join(bdir, `${id}.db.br`), byHand], { stdio: 'pipe' });
    expect(readFileSync(byHand).equals(readFileSync(to))).toBe(true);
    const again = await runCli(['backup', 'extract', id, '--db', dbPath, '--dir', bdir, '--to', to], { env, cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`opsdeck: refused: ${to} exists; backup extract writes a new file only\n`);
  });

  it('a verified backup whose pages are damaged fails the check of its copy before the swap: exit 2, the database untouched, no copy left (the manifest is edited to say "verified": a fault the real thing cannot produce on demand)', async () => {
    const bdir = join(dir, 'b6');
    const bad = join(dir, 'bad6.db');
    writeFileSync(bad, readFileSync(dbPath));
    // Damage that still lets every table be read and counted (a header claiming 5 free pages where
    // there are none): only quick_check finds it — before issue #27's check it was found after the swap.
    const fd = openSync(bad, 'r+');
    const five = Buffer.alloc(4);
    five.writeUInt32BE(5);
    writeSync(fd, five, 0, 4, 36);
    closeSync(fd);
    const m = await createBackup({ db: bad, name: 'trading', dir: bdir, tables: [] });
    const mf = join(bdir, `${m.id}.json`);
    writeFileSync(mf, JSON.stringify({ ...m, verify: { at: new Date().toISOString(), ok: true, message: 'ok' } }));
    const before = digest(dbPath);
    const r = await runCli(['restore', '--db', dbPath, '--dir', bdir, '--backup', m.id, '--yes'], { env, cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`backup ${m.id}: quick_check failed \\(.*Freelist: size is 0 but should be 5\\); it cannot be restored`));
    expect(r.stdout).not.toMatch(/restore the whole file/);
    expect(digest(dbPath)).toBe(before);
    expect(readdirSync(dir).filter((f) => f.includes('.restore-'))).toEqual([]);
  });

  it('the post-swap quick_check in a child process: ok for a sound file, the damage for a damaged one, one line for no file', async () => {
    expect(await quickCheckInChild(dbPath)).toEqual(['ok']);
    const bad = join(dir, 'bad.db');
    writeFileSync(bad, readFileSync(dbPath));
    // Zero a page in the middle of the table's b-tree.
    const fd = openSync(bad, 'r+');
    writeSync(fd, Buffer.alloc(4096), 0, 4096, 4096 * 20);
    closeSync(fd);
    const lines = await quickCheckInChild(bad).catch((e: Error) => [e.message]);
    expect(lines).not.toEqual(['ok']);
    await expect(quickCheckInChild(join(dir, 'none.db'))).rejects.toThrow(/^quick_check of .*none\.db: /);
  });
});
