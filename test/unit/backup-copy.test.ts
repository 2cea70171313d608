import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { fillCopyArgv, offHostStatus, unknownCopyValues } from '../../src/domain/copy-template.js';
import { evaluateBackupAge, evaluateFilesBackup } from '../../src/domain/evaluate.js';
import { ConfigError } from '../../src/domain/errors.js';
import { writeTar } from '../../src/services/tar.js';

// Off-host copies and files backups (issue #17): the copy templates, their configuration errors,
// what the RPO check says about a failed copy, and the tar archive a files set is copied as.

const values = { 'backup.path': '/b/trading-1.db.br', 'backup.file': 'trading-1.db.br', 'backup.id': 'trading-1', 'backup.sha256': 'ab'.repeat(32), 'backup.database': 'trading' };

describe('copy templates', () => {
  it.each([
    [['cp', '{{backup.path}}', '/mnt/offsite/'], ['cp', '/b/trading-1.db.br', '/mnt/offsite/']],
    [['rsync', '{{ backup.path }}', 'host:/x/{{backup.database}}/{{backup.file}}'], ['rsync', '/b/trading-1.db.br', 'host:/x/trading/trading-1.db.br']],
    [['sha256sum', '/mnt/{{backup.id}}.db.br'], ['sha256sum', '/mnt/trading-1.db.br']],
  ])('%j → %j', (argv, want) => expect(fillCopyArgv(argv, values)).toEqual(want));

  it('a value stays one element, whatever it holds', () => {
    expect(fillCopyArgv(['cp', '{{backup.path}}', 'x'], { ...values, 'backup.path': '/b/a b; rm -rf / $(x)' })).toEqual(['cp', '/b/a b; rm -rf / $(x)', 'x']);
  });

  it.each([
    ['{{backup.path}}', []],
    ['{{backup.pth}}', ['backup.pth']],
    ['{{ param.x }}/{{backup.file}}/{{}}', ['param.x', '']],
    ['plain', []],
  ])('unknown values in %j: %j', (arg, want) => expect(unknownCopyValues(arg)).toEqual(want));

  it.each([
    [undefined, 'none'],
    [{ at: '', ok: true, verified: true, message: '' }, 'verified'],
    [{ at: '', ok: true, verified: false, message: '' }, 'unverified'],
    [{ at: '', ok: false, verified: false, message: '' }, 'FAILED'],
  ] as const)('offHostStatus(%j) = %s', (c, want) => expect(offHostStatus(c)).toBe(want));
});

function configError(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-cfg-'));
  const file = join(dir, 'opsdeck.yaml');
  writeFileSync(file, text);
  try {
    loadConfigFile(file);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message.split('\n')).toHaveLength(1);
    return (e as Error).message.replace(`${file}: `, '');
  }
  throw new Error('expected a ConfigError');
}

describe('backup config (issue #17)', () => {
  it('defaults: no files, weekly files schedule, no copy, 10m copy timeout', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-cfg-'));
    writeFileSync(join(dir, 'opsdeck.yaml'), 'name: x\n');
    const { backup } = loadConfigFile(join(dir, 'opsdeck.yaml')).config;
    expect(backup).toMatchObject({ files: [], files_schedule: 7 * 86_400_000, copy_timeout: 600_000 });
    expect(backup.copy_command).toBeUndefined();
    writeFileSync(join(dir, 'opsdeck.yaml'), 'backup:\n  files: ["reports/**"]\n  files_schedule: off\n  copy_command: [cp, "{{backup.path}}", /mnt/]\n  copy_timeout: 30s\n');
    expect(loadConfigFile(join(dir, 'opsdeck.yaml')).config.backup).toMatchObject({ files: ['reports/**'], files_schedule: 'off', copy_command: ['cp', '{{backup.path}}', '/mnt/'], copy_timeout: 30_000 });
  });

  it.each([
    ['an empty copy_command', 'backup:\n  copy_command: []\n', /^backup\.copy_command: expected a non-empty list of strings \(an argv, run without a shell\)/],
    ['a number in copy_command', 'backup:\n  copy_command: [cp, 3]\n', /^backup\.copy_command\[1\]: /],
    ['an empty program', 'backup:\n  copy_command: ["", x]\n', /^backup\.copy_command\[0\]: expected the program to run as the first element, got ""$/],
    ['an unknown value', 'backup:\n  copy_command: [cp, "{{backup.pth}}", /x/]\n', /^backup\.copy_command\[1\]: unknown value \{\{backup\.pth\}\} \(expected one of: \{\{backup\.path\}\}, \{\{backup\.file\}\}, \{\{backup\.id\}\}, \{\{backup\.sha256\}\}, \{\{backup\.database\}\}\)$/],
    ['an unknown value in the verify command', 'backup:\n  copy_command: [cp, "{{backup.path}}", /x/]\n  copy_verify_command: [sha256sum, "/x/{{file}}"]\n', /^backup\.copy_verify_command\[1\]: unknown value \{\{file\}\}/],
    ['a verify command without a copy command', 'backup:\n  copy_verify_command: [sha256sum, x]\n', /^backup\.copy_verify_command: expected copy_command too/],
    ['a bad files schedule', 'backup:\n  files_schedule: weekly\n', /^backup\.files_schedule: expected a backup schedule such as "15m", "1h" or off, got "weekly"$/],
    ['a copy timeout of 0', 'backup:\n  copy_timeout: 0\n', /^backup\.copy_timeout: expected a duration from 1s to 1d \(how long an off-host copy may take\), got 0$/],
    ['an empty glob', 'backup:\n  files: [""]\n', /^backup\.files\[0\]: expected a glob such as "reports\/\*\*\/\*\.csv"$/],
  ])('%s', (_name, text, want) => expect(configError(text)).toMatch(want));
});

describe('the RPO check and off-host copies (issue #17)', () => {
  const db = { name: 'trading', path: '/d/trading.db' } as Parameters<typeof evaluateBackupAge>[0];
  const now = Date.parse('2026-12-02T12:00:00Z');
  const at = now - 60_000;

  it('a failed copy of the newest verified backup is a warning naming it and why; a good or no copy is not', () => {
    const failed = evaluateBackupAge(db, at, 86_400_000, now, { kind: 'none' }, { id: 'trading-1', offHost: { at: '', ok: false, verified: false, message: 'copy_command rsync exited 23: connection refused' } });
    expect(failed).toMatchObject({ status: 'warning', message: 'off-host copy of trading-1 failed: copy_command rsync exited 23: connection refused; last verified backup 1m ago (RPO 24h); no backup scheduled' });
    for (const offHost of [undefined, { at: '', ok: true, verified: false, message: 'copied' }]) {
      expect(evaluateBackupAge(db, at, 86_400_000, now, { kind: 'none' }, { id: 'trading-2', offHost }).status).toBe('ok');
    }
    // Beyond the RPO as well: both said, still a warning.
    expect(evaluateBackupAge(db, now - 2 * 86_400_000, 86_400_000, now, { kind: 'none' }, { id: 'trading-1', offHost: { at: '', ok: false, verified: false, message: 'x' } }).message).toMatch(/^off-host copy of trading-1 failed: x; newest verified backup of trading is 2d old, beyond the RPO/);
  });

  it('backup:_files: ok with a verified set; a warning after a failed scheduled run', () => {
    const due = { kind: 'due', dueAt: now + 3_600_000, overdue: false } as const;
    expect(evaluateFilesBackup({ id: 'files-1', createdAt: at }, now, due)).toMatchObject({ id: 'backup:_files', status: 'ok', message: 'last verified files backup 1m ago; next scheduled in 1h' });
    expect(evaluateFilesBackup(undefined, now, { ...due, failure: { at, message: 'backup.files: no file matches reports/*' } })).toMatchObject({ status: 'warning', message: 'scheduled files backup failed 1m ago: backup.files: no file matches reports/*; no verified files backup yet; retry in 1h' });
  });
});

describe('the tar archive of a files set', () => {
  it('GNU tar reads it back: names over 100 bytes (pax), modes, contents; the same entries give the same sha256', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-tar-'));
    writeFileSync(join(dir, 'src.bin'), Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251)));
    const long = `set/${'deep/'.repeat(30)}report.csv`;
    const entries = [
      { name: long, data: Buffer.from('long name\n'), mode: 0o600, mtime: 1_700_000_000 },
      { name: 'set/src.bin', file: join(dir, 'src.bin'), mode: 0o644, mtime: 1_700_000_000 },
    ];
    const a = await writeTar(join(dir, 'a.tar'), entries, 0o600);
    const b = await writeTar(join(dir, 'b.tar'), entries, 0o600);
    expect(a).toEqual(b);
    expect(a.size % 512).toBe(0);
    const listing = execFileSync('tar', ['-tvf', join(dir, 'a.tar')], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rw------- .* 10 .*set\/(deep\/){30}report\.csv$/m);
    expect(listing).toMatch(/^-rw-r--r-- .* 3000 .*set\/src\.bin$/m);
    execFileSync('tar', ['-xf', join(dir, 'a.tar'), '-C', dir]);
    expect(readFileSync(join(dir, long), 'utf8')).toBe('long name\n');
    expect(readFileSync(join(dir, 'set', 'src.bin'))).toEqual(readFileSync(join(dir, 'src.bin')));
  });
});
