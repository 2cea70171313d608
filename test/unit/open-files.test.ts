import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OpenFiles } from '../../src/services/cgroup.js';
import { changesList } from '../../src/services/docker/events.js';

// Issue #27: counter files kept open and read again from offset 0; the events that make a list stale.

describe('OpenFiles', () => {
  it('reads a kept file again from the start: a rewritten (shorter or longer) text is read whole; closed, it reads the old way and keeps nothing', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'opsdeck-of-')), 'usage');
    writeFileSync(f, '123456789\n');
    const files = new OpenFiles();
    expect(files.read(f)).toBe('123456789\n');
    writeFileSync(f, '42\n');
    expect(files.read(f)).toBe('42\n');
    const long = 'x'.repeat(40_000);
    writeFileSync(f, long);
    expect(files.read(f)).toBe(long);
    expect(files.size).toBe(1);
    files.close();
    expect(files.size).toBe(0);
    expect(files.read(f)).toBe(long);
    expect(files.size).toBe(0);
  });

  it('a file that cannot be read throws as readFileSync does, and is not kept', () => {
    const files = new OpenFiles();
    expect(() => files.read('/nonexistent/opsdeck/file')).toThrow(/ENOENT/);
    expect(files.size).toBe(0);
  });
});

describe('which container events make the list stale', () => {
  it.each([
    [{ Type: 'container', Action: 'start' }, true],
    [{ Type: 'container', Action: 'die' }, true],
    [{ Type: 'container', Action: 'destroy' }, true],
    [{ Type: 'container', Action: 'health_status: unhealthy' }, true],
    [{ Type: 'container', Action: 'exec_start: sh -c true' }, false],
    [{ Type: 'container', Action: 'exec_die' }, false],
    [{ Type: 'container', Action: 'top' }, false],
    [{ Type: 'network', Action: 'connect' }, false],
  ])('%j → %s', (e, stale) => {
    expect(changesList(e)).toBe(stale);
  });
});
