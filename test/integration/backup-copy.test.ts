import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStateDb } from '../../src/state/statedb.js';
import { runCli } from '../helpers/cli.js';
import { seedTrading } from '../helpers/restore-fixture.js';

// Off-host copies (issue #17): `backup.copy_command` runs after a backup verified (no shell), the
// copy is checked by `copy_verify_command` or by re-reading the path it printed, and the outcome is
// in the manifest, `backup list`, the audit log and — when it failed — the RPO check. Real `cp`,
// `sha256sum`, `sh` and `tar`, a second folder as the "other host".

const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const yamlList = (argv: string[]) => `[${argv.map((a) => JSON.stringify(a)).join(', ')}]`;

function setup(copy: { command: string[]; verify?: string[]; extra?: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-bcopy-'));
  const off = join(dir, 'offsite');
  mkdirSync(off);
  seedTrading(join(dir, 'trading.db'), 20);
  const fill = (argv: string[]) => argv.map((a) => a.replaceAll('OFF', off));
  const config = join(dir, 'opsdeck.yaml');
  writeFileSync(
    config,
    `state_dir: state\ndatabases:\n  - name: trading\n    path: trading.db\nbackup:\n  dir: backups\n  copy_command: ${yamlList(fill(copy.command))}\n${copy.verify ? `  copy_verify_command: ${yamlList(fill(copy.verify))}\n` : ''}${copy.extra ?? ''}`,
  );
  const run = (args: string[]) => runCli(['--config', config, ...args], { cwd: dir });
  return { dir, off, config, run, bdir: join(dir, 'backups', 'trading') };
}

interface Listed { id: string; database: string; offHost: string; offHostMessage?: string }
const listed = async (run: (a: string[]) => ReturnType<typeof runCli>) => (JSON.parse((await run(['backup', 'list', '--json'])).stdout) as { backups: Listed[] }).backups;
const manifestOf = (bdir: string, id: string) => JSON.parse(readFileSync(join(bdir, `${id}.json`), 'utf8')) as { sha256: string; verify?: { ok: boolean }; offHost?: { ok: boolean; verified: boolean; message: string; where?: string; sha256?: string } };

async function auditOf(dir: string): Promise<{ target: string; outcome: string; detail: string }[]> {
  const db = await openStateDb(join(dir, 'state'));
  try {
    return db.prepare("SELECT target, outcome, detail FROM audit WHERE action = 'backup.copy' ORDER BY id").all() as { target: string; outcome: string; detail: string }[];
  } finally {
    db.close();
  }
}

describe.concurrent('off-host copies (issue #17)', () => {
  it('cp + sha256sum: the database backup and the files set (one tar archive) are copied and verified; list shows verified; audited', async () => {
    const { dir, off, run, bdir } = setup({ command: ['cp', '{{backup.path}}', 'OFF/'], verify: ['sha256sum', 'OFF/{{backup.file}}'], extra: '  files: ["reports/*"]\n' });
    mkdirSync(join(dir, 'reports'));
    writeFileSync(join(dir, 'reports', 'q4.csv'), 'q,pnl\n4,99\n');
    const r = await run(['backup', 'create', '--verify', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as { created: { id: string }[]; filesBackup: { id: string }; copies: { id: string; ok: boolean; verified: boolean; sha256?: string }[]; warnings: string[] };
    const id = doc.created[0]!.id;
    const fid = doc.filesBackup.id;
    expect(doc.warnings).toEqual([]);
    expect(doc.copies.map((c) => [c.id, c.ok, c.verified])).toEqual([[id, true, true], [fid, true, true]]);
    // The copies are byte-identical: the backup file, and the set's archive (removed locally after the copy).
    expect(sha256(join(off, `${id}.db.br`))).toBe(manifestOf(bdir, id).sha256);
    expect(sha256(join(off, `${fid}.tar`))).toBe(doc.copies[1]!.sha256);
    expect(existsSync(join(dir, 'backups', '_files', `${fid}.tar`))).toBe(false);
    const out = join(dir, 'untar');
    mkdirSync(out);
    execFileSync('tar', ['-xf', join(off, `${fid}.tar`), '-C', out]);
    expect(readFileSync(join(out, fid, 'reports', 'q4.csv'), 'utf8')).toBe('q,pnl\n4,99\n');
    expect(manifestOf(bdir, id).offHost).toMatchObject({ ok: true, verified: true });
    const list = await listed(run);
    expect(list.map((b) => [b.id, b.offHost])).toEqual([[id, 'verified'], [fid, 'verified']]);
    expect((await run(['backup', 'list'])).stdout).toMatch(new RegExp(`^${id} .* off-host: verified$`, 'm'));
    expect((await auditOf(dir)).map((a) => [a.target, a.outcome])).toEqual([[id, 'ok'], [fid, 'ok']]);
    // Without --verify nothing is copied.
    await new Promise((res) => setTimeout(res, 1100));
    const plain = JSON.parse((await run(['backup', 'create', '--db', 'trading', '--json'])).stdout) as { created: { id: string }[] };
    expect(existsSync(join(off, `${plain.created[0]!.id}.db.br`))).toBe(false);
    expect((await listed(run))[0]).toMatchObject({ id: plain.created[0]!.id, offHost: 'none' });
  });

  it('the manifest goes along: with the backups folder and the database gone, restore --dir <copies> brings the database back from the off-host copy', async () => {
    const { dir, off, run, bdir } = setup({ command: ['cp', '{{backup.path}}', 'OFF/'], verify: ['sha256sum', 'OFF/{{backup.file}}'] });
    const r = await run(['backup', 'create', '--db', 'trading', '--verify', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const id = (JSON.parse(r.stdout) as { created: { id: string }[] }).created[0]!.id;
    expect(manifestOf(bdir, id).offHost?.message).toMatch(/; its manifest too \(verified\)$/);
    expect(readdirSync(off).sort()).toEqual([`${id}.db.br`, `${id}.json`]);
    const want = execFileSync('sqlite3', [join(dir, 'trading.db'), 'SELECT count(*), sum(id) FROM trades'], { encoding: 'utf8' });
    execFileSync('rm', ['-rf', join(dir, 'backups'), join(dir, 'trading.db')]);
    const back = await run(['restore', '--db', 'trading', '--dir', off, '--yes', '--accept-loss']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(execFileSync('sqlite3', [join(dir, 'trading.db'), 'SELECT count(*), sum(id) FROM trades'], { encoding: 'utf8' })).toBe(want);
  });

  it('a copy command that prints the destination path: the copy is read back; a different file there is FAILED; no path: copied, unverified', async () => {
    const printing = ['sh', '-c', 'cp "$1" "$2" && echo "copied to:" && echo "$2"', 'sh', '{{backup.path}}', 'OFF/{{backup.id}}.copy'];
    const ok = setup({ command: printing });
    expect((await ok.run(['backup', 'create', '--verify'])).code).toBe(0);
    const [good] = await listed(ok.run);
    expect(good?.offHost).toBe('verified');
    expect(manifestOf(ok.bdir, good!.id).offHost).toMatchObject({ ok: true, verified: true, where: join(ok.off, `${good!.id}.copy`) });

    const wrong = setup({ command: ['sh', '-c', 'echo garbage > "$1" && echo "$1"', 'sh', 'OFF/{{backup.file}}'] });
    const w = await wrong.run(['backup', 'create', '--verify']);
    expect(w.code, w.stderr).toBe(0);
    const [bad] = await listed(wrong.run);
    expect(bad?.offHost).toBe('FAILED');
    expect(bad?.offHostMessage).toMatch(new RegExp(`^the copy at ${join(wrong.off, `${bad!.id}.db.br`)} differs: sha256 [0-9a-f]{12}…, the backup's [0-9a-f]{12}…$`));

    const silent = setup({ command: ['cp', '{{backup.path}}', 'OFF/'] });
    expect((await silent.run(['backup', 'create', '--verify'])).code).toBe(0);
    expect((await listed(silent.run))[0]).toMatchObject({ offHost: 'unverified', offHostMessage: 'copied; not verified (no copy_verify_command, and the copy command printed no local file path last); its manifest too' });
    // A command naming its destination by {{backup.id}} would write the manifest over the copy: not copied.
    expect(manifestOf(ok.bdir, good!.id).offHost?.message).toMatch(/its manifest was not copied: copy_command names \{\{backup.id\}\}/);
    expect(readdirSync(ok.off)).toEqual([`${good!.id}.copy`]);
  });

  it('a failing copy command: the backup is still created and verified (exit 0), a warning on stderr and in --json, FAILED in list, a warning of the RPO check; secrets redacted', async () => {
    const { dir, run, config, bdir } = setup({ command: ['sh', '-c', 'echo "rsync: https://backup:hunter2@offsite.example/ refused" >&2; exit 3'] });
    const r = await run(['backup', 'create', '--verify', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { created: { id: string }[]; verified: { ok: boolean }[]; warnings: string[] };
    const id = doc.created[0]!.id;
    expect(doc.verified.map((v) => v.ok)).toEqual([true]);
    expect(doc.warnings).toEqual([expect.stringMatching(new RegExp(`^off-host copy of ${id} failed: copy_command sh exited 3: rsync: https://backup:\\S+@offsite\\.example/ refused$`))]);
    expect(r.stderr).toMatch(new RegExp(`^opsdeck: warning: off-host copy of ${id} failed: copy_command sh exited 3: `));
    for (const text of [r.stdout, r.stderr, readFileSync(join(bdir, `${id}.json`), 'utf8'), JSON.stringify(await auditOf(dir))]) expect(text).not.toContain('hunter2');
    expect(manifestOf(bdir, id).verify?.ok).toBe(true);
    const text = await run(['backup', 'list']);
    expect(text.stdout).toMatch(new RegExp(`^${id} .* verified .* off-host: FAILED \\(copy_command sh exited 3: .*\\)$`, 'm'));
    expect((await listed(run))[0]).toMatchObject({ id, offHost: 'FAILED' });
    const check = await runCli(['check', '--json', '--config', config], { cwd: dir });
    const rpo = (JSON.parse(check.stdout) as { checks: { id: string; status: string; message: string }[] }).checks.find((c) => c.id === 'backup:trading');
    expect(rpo?.status).toBe('warning');
    expect(rpo?.message).toMatch(new RegExp(`^off-host copy of ${id} failed: copy_command sh exited 3: .*; last verified backup \\d+s ago \\(RPO 24h\\); no backup scheduled$`));
    expect((await auditOf(dir)).map((a) => [a.target, a.outcome])).toEqual([[id, 'failed']]);
  });

  it('a verify command that prints another hash is FAILED; a copy past copy_timeout is killed and FAILED; --read-only copies nothing', async () => {
    const other = setup({ command: ['cp', '{{backup.path}}', 'OFF/'], verify: ['sh', '-c', 'echo 0000000000000000000000000000000000000000000000000000000000000000  "$1"', 'sh', 'OFF/{{backup.file}}'] });
    expect((await other.run(['backup', 'create', '--verify'])).code).toBe(0);
    const [b] = await listed(other.run);
    expect(b?.offHost).toBe('FAILED');
    expect(b?.offHostMessage).toMatch(/^the copy differs: copy_verify_command's output has no sha256 [0-9a-f]{12}… \(it printed "0{64} .*"\)$/);

    // The copy command's own child (a backgrounded sleep) goes too: the whole process group is killed.
    const slow = setup({ command: ['sh', '-c', 'sleep 30 & echo $! > "$1"; wait', 'sh', 'OFF/child.pid'], extra: '  copy_timeout: 1s\n' });
    const started = Date.now();
    const r = await slow.run(['backup', 'create', '--verify']);
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.stderr).toMatch(/off-host copy of trading-\S+ failed: copy_command sh ran out of time after 1s/);
    const child = Number(readFileSync(join(slow.off, 'child.pid'), 'utf8'));
    // Gone, or a zombie waiting for its reaper (this container's init may not reap at once).
    const state = () => {
      try {
        return /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${child}/stat`, 'utf8'))?.[1];
      } catch {
        return 'gone';
      }
    };
    expect(['gone', 'Z']).toContain(state());

    const ro = setup({ command: ['cp', '{{backup.path}}', 'OFF/'] });
    const refused = await ro.run(['--read-only', 'backup', 'create', '--verify']);
    expect(refused.code).toBe(1);
    expect(readdirSync(ro.off)).toEqual([]);
  });
});
