import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CgroupReader } from '../../src/services/cgroup.js';
import { OpenFiles, leadingNumber } from '../../src/services/kept-files.js';
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

  it('field(key) reads the number after "key " at a line start, as the regular expression over the text would, never from bytes past the end of this read', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'opsdeck-of-')), 'memory.stat');
    const files = new OpenFiles();
    const byRegex = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    const texts = [
      'cache 4096\nrss 8192\ninactive_file 123\ntotal_inactive_file 456789\n',
      'total_inactive_file 7\ninactive_file 9',
      'inactive_file x\ninactive_file 55\n',
      'rss 1\n',
      `usage_usec 18446744073\nuser_usec 5\n${'pad '.repeat(5000)}\nlast_key 31\n`,
      'inactive_file',
    ];
    for (const text of texts) {
      writeFileSync(f, text);
      for (const key of ['inactive_file', 'total_inactive_file', 'rss', 'usage_usec', 'last_key', 'cache']) expect(files.field(f, key), `${key} in ${JSON.stringify(text.slice(0, 40))}`).toBe(byRegex(text, key));
    }
    // A shorter text after a longer one: the old bytes still in the buffer are not read as the new file's.
    writeFileSync(f, 'rss 1\ninactive_file 2\nrss_huge 3\n');
    expect(files.field(f, 'rss_huge')).toBe(3);
    writeFileSync(f, 'rss 1\n');
    expect(files.field(f, 'inactive_file')).toBe(0);
    expect(files.field(f, 'rss_huge')).toBe(0);
    files.close();
    expect(files.field(f, 'rss')).toBe(1);
  });

  it('number() reads a counter file as Number(text.trim()) does, from the bytes (issue #27 point 2)', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'opsdeck-of-')), 'usage');
    const files = new OpenFiles();
    for (const text of ['123456789\n', '0\n', '42', ' 7 \n', '', '\n', '12 34\n', 'max\n', '18446744073709551615\n', '9x\n']) {
      writeFileSync(f, text);
      expect(files.number(f), JSON.stringify(text)).toBe(Number(text.trim()));
      expect(leadingNumber(Buffer.from(text), text.length), JSON.stringify(text)).toBe(Number(text.trim()));
    }
    files.close();
    writeFileSync(f, '5\n');
    expect(files.number(f)).toBe(5);
  });

  it('a file that cannot be read throws as readFileSync does, and is not kept', () => {
    const files = new OpenFiles();
    expect(() => files.read('/nonexistent/opsdeck/file')).toThrow(/ENOENT/);
    expect(files.size).toBe(0);
  });
});

/** A fake /proc (mountinfo, one process's cgroup) and a cgroup v1 tree for it under a temporary folder. */
function fakeCgroupV1(pid: number) {
  const root = mkdtempSync(join(tmpdir(), 'opsdeck-cg-'));
  const cpu = join(root, 'cg/cpuacct/docker/c1');
  const mem = join(root, 'cg/memory/docker/c1');
  mkdirSync(cpu, { recursive: true });
  mkdirSync(mem, { recursive: true });
  mkdirSync(join(root, `proc/self`), { recursive: true });
  mkdirSync(join(root, `proc/${pid}`), { recursive: true });
  writeFileSync(
    join(root, 'proc/self/mountinfo'),
    [`30 25 0:26 / ${root}/cg/cpuacct rw - cgroup cgroup rw,cpu,cpuacct`, `31 25 0:27 / ${root}/cg/memory rw - cgroup cgroup rw,memory`, ''].join('\n'),
  );
  writeFileSync(join(root, `proc/${pid}/cgroup`), '4:memory:/docker/c1\n3:cpu,cpuacct:/docker/c1\n');
  const set = (cpuNs: number, used: number, inactive: number) => {
    writeFileSync(join(cpu, 'cpuacct.usage'), `${cpuNs}\n`);
    writeFileSync(join(mem, 'memory.usage_in_bytes'), `${used}\n`);
    writeFileSync(join(mem, 'memory.stat'), `cache 0\nrss ${used}\ntotal_inactive_file ${inactive}\n`);
  };
  writeFileSync(join(mem, 'memory.limit_in_bytes'), `${64 * 1024 * 1024}\n`);
  return { proc: join(root, 'proc'), set, remove: () => rmSync(join(root, 'cg'), { recursive: true }) };
}

describe('CgroupReader.readKnown (issue #27: known containers read at once, without a promise)', () => {
  it('reads nothing until a read found the files; then each call reads the files afresh; a limit due again or a container forgotten sends the caller back to read()', async () => {
    const cg = fakeCgroupV1(4242);
    cg.set(1_000, 500_000, 100_000);
    const reader = new CgroupReader(cg.proc, 60_000);
    expect(reader.readKnown(4242)).toBeUndefined();
    expect(await reader.read(4242)).toEqual({ cpuNs: 1_000, memUsedBytes: 400_000, memLimitBytes: 64 * 1024 * 1024 });
    expect(reader.readKnown(4242)).toEqual({ cpuNs: 1_000, memUsedBytes: 400_000, memLimitBytes: 64 * 1024 * 1024 });
    // The figures of this refresh, never the last one's.
    cg.set(2_500, 700_000, 50_000);
    expect(reader.readKnown(4242)).toEqual({ cpuNs: 2_500, memUsedBytes: 650_000, memLimitBytes: 64 * 1024 * 1024 });
    // A container no longer running is forgotten: its files must be looked up again.
    reader.retain(new Set());
    expect(reader.readKnown(4242)).toBeUndefined();
    cg.remove();
    expect(await reader.read(4242)).toBeUndefined();
    reader.close();

    const due = fakeCgroupV1(4243);
    due.set(1, 2, 0);
    const quick = new CgroupReader(due.proc, 0);
    expect((await quick.read(4243))?.cpuNs).toBe(1);
    // limitTtlMs 0: the limit is always due again, so the known path never answers.
    expect(quick.readKnown(4243)).toBeUndefined();
    quick.close();
  });
});

describe('CgroupReader: memory.stat read again only when the memory usage moved, or after 10 s (issue #27 point 2)', () => {
  it('keeps the inactive file figure while the usage reads the same; a moved usage, or the figure’s age, reads memory.stat again', async () => {
    const cg = fakeCgroupV1(4244);
    cg.set(1_000, 500_000, 100_000);
    const reader = new CgroupReader(cg.proc, 60_000, 10_000);
    expect(await reader.read(4244)).toMatchObject({ memUsedBytes: 400_000 });
    const t0 = performance.now();
    // Only the page cache's lists changed (memory.stat), not the usage: the figure read before stands…
    cg.set(2_000, 500_000, 300_000);
    expect(reader.readKnown(4244, t0 + 1)).toMatchObject({ cpuNs: 2_000, memUsedBytes: 400_000 });
    // …until 10 s have passed since memory.stat was read.
    expect(reader.readKnown(4244, t0 + 10_001)).toMatchObject({ memUsedBytes: 200_000 });
    // A usage that moved reads memory.stat at once.
    cg.set(3_000, 600_000, 50_000);
    expect(reader.readKnown(4244, t0 + 10_002)).toMatchObject({ cpuNs: 3_000, memUsedBytes: 550_000 });
    reader.close();

    // inactiveTtlMs 0: memory.stat at every read, as before.
    const every = fakeCgroupV1(4245);
    every.set(1, 500_000, 100_000);
    const always = new CgroupReader(every.proc, 60_000, 0);
    expect(await always.read(4245)).toMatchObject({ memUsedBytes: 400_000 });
    every.set(2, 500_000, 300_000);
    expect(always.readKnown(4245)).toMatchObject({ memUsedBytes: 200_000 });
    always.close();
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
