import { appendFileSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DockerService, resolveDockerEndpoint } from '../../src/services/docker.js';
import { followContainerLogs, followFile, type LogFollow, type LogLine } from '../../src/services/logs.js';
import { docker, runContainer } from '../helpers/docker-engine.js';

// Log follows behind the console's logs view, against the real private Docker engine and real
// files: stdout/stderr demultiplexed for non-TTY containers, raw for TTY ones (FACTS §1.6).

const host = inject('dockerHost');
const svc = new DockerService(resolveDockerEndpoint(host));

beforeAll(() => {
  runContainer(host, 'lg-plain', ['--network', 'none'], ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "out $i"; echo "err $i" >&2; sleep 0.2; done']);
  runContainer(host, 'lg-tty', ['--network', 'none', '-t'], ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "tty $i"; sleep 0.2; done']);
});
afterAll(() => {
  docker(host, 'rm', '-f', 'lg-plain', 'lg-tty');
});

async function until(pred: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('followContainerLogs', () => {
  it('splits a non-TTY container into stdout and stderr lines with timestamps, live', async () => {
    const lines: LogLine[] = [];
    const f = await followContainerLogs(svc, 'lg-plain', { tail: 5, onLine: (l) => lines.push(l) });
    try {
      await until(() => lines.filter((l) => l.stream === 'stderr').length >= 8);
      expect(lines.filter((l) => l.stream === 'stdout').every((l) => /^out \d+$/.test(l.text))).toBe(true);
      expect(lines.filter((l) => l.stream === 'stderr').every((l) => /^err \d+$/.test(l.text))).toBe(true);
      // No frame headers leak into the text, and each line has Docker's timestamp.
      expect(lines.every((l) => !/[\x00-\x08]/.test(l.text))).toBe(true);
      expect(lines.every((l) => typeof l.at === 'number' && Math.abs((l.at ?? 0) - Date.now()) < 120_000)).toBe(true);
    } finally {
      f.stop();
    }
  });

  it('reads a TTY container raw (no multiplexing headers)', async () => {
    const lines: LogLine[] = [];
    const f = await followContainerLogs(svc, 'lg-tty', { tail: 5, onLine: (l) => lines.push(l) });
    try {
      await until(() => lines.length >= 6);
      expect(lines.every((l) => /^tty \d+$/.test(l.text) && l.stream === 'stdout')).toBe(true);
    } finally {
      f.stop();
    }
  });

  it('reports the end of the stream when the container stops, without throwing', async () => {
    runContainer(host, 'lg-short', ['--network', 'none'], ['sh', '-c', 'echo "ERROR going down"; sleep 1']);
    const lines: LogLine[] = [];
    let ended: string | undefined;
    let f: LogFollow | undefined;
    try {
      f = await followContainerLogs(svc, 'lg-short', { onLine: (l) => lines.push(l), onEnd: (why) => (ended = why) });
      await until(() => ended !== undefined);
      expect(lines.map((l) => l.text)).toContain('ERROR going down');
    } finally {
      f?.stop();
      docker(host, 'rm', '-f', 'lg-short');
    }
  });

  it('after docker restart the follow goes on: the new lines arrive, none twice, and the status says so', async () => {
    runContainer(host, 'lg-restart', ['--network', 'none'], ['sh', '-c', 'echo "boot $(cat /proc/uptime)"; i=0; while true; i=$((i+1)); do echo "tick $i"; sleep 0.2; done']);
    const lines: LogLine[] = [];
    const notes: string[] = [];
    let f: LogFollow | undefined;
    try {
      f = await followContainerLogs(svc, 'lg-restart', { onLine: (l) => lines.push(l), onEnd: (why) => notes.push(why), pollMs: 100 });
      await until(() => lines.some((l) => l.text === 'tick 3'));
      docker(host, 'restart', '-t', '0', 'lg-restart');
      await until(() => lines.filter((l) => l.text.startsWith('boot')).length >= 2, 20_000);
      await until(() => lines.filter((l) => l.text === 'tick 2').length >= 2, 20_000);
      expect(notes.join('\n')).toMatch(/lg-restart started again at .*; following its log/);
      const texts = lines.map((l) => `${l.at}:${l.text}`);
      expect(new Set(texts).size).toBe(texts.length);
    } finally {
      f?.stop();
      docker(host, 'rm', '-f', 'lg-restart');
    }
  });

  it('with a slow consumer (fault-injected: the test busy-waits per line) the follow reports how far behind it is; skipToNow drops the backlog', async () => {
    // ~2,000 lines a second: 100 lines every 50 ms (busybox sh, no fork per line).
    runContainer(host, 'lg-fast', ['--network', 'none'], ['sh', '-c', 'i=0; while true; do j=0; while [ $j -lt 100 ]; do j=$((j+1)); i=$((i+1)); echo "fast $i"; done; sleep 0.05; done']);
    let slow = true;
    const lines: LogLine[] = [];
    let f: LogFollow | undefined;
    try {
      f = await followContainerLogs(svc, 'lg-fast', {
        tail: 0,
        onLine: (l) => {
          // 2 ms a line: the consumer reads ~500 lines a second, a quarter of the rate.
          if (slow) for (const until = performance.now() + 2; performance.now() < until; );
          lines.push(l);
        },
      });
      const follow = f;
      // Behind by 2 s, and a rate measured: the rate needs 250 ms of Docker's timestamps, and on a
      // loaded machine (CI, 2 cores) the engine can deliver the first lines 2 s late, before that.
      await until(() => (follow.progress?.().lagMs ?? 0) >= 2000 && (follow.progress?.().rate ?? 0) > 0, 20_000);
      const behind = follow.progress?.();
      // Behind means old lines still arriving: the newest received is that old by Docker's clock.
      const newest = lines[lines.length - 1]?.at ?? 0;
      expect(Date.now() - newest).toBeGreaterThanOrEqual(2000);
      expect(behind?.rate).toBeGreaterThan(500); // the container's rate, from Docker's timestamps
      slow = false;
      const skippedAt = Date.now();
      await follow.skipToNow?.();
      const from = lines.length;
      await until(() => lines.length > from + 200);
      // After the skip: only lines written since (the tail of 10,000 lines is cut at `since`), and caught up.
      const after = lines.slice(from);
      expect(after.every((l) => (l.at ?? 0) >= skippedAt - 5)).toBe(true);
      await until(() => (follow.progress?.().lagMs ?? Infinity) < 500);
      // The lines skipped were never read: the sequence numbers jump.
      const n = (l: LogLine | undefined) => Number(/fast (\d+)/.exec(l?.text ?? '')?.[1]);
      expect(n(after[0]) - n(lines[from - 1])).toBeGreaterThan(1000);
    } finally {
      f?.stop();
      docker(host, 'rm', '-f', 'lg-fast');
    }
  });

  it('a container that does not exist is a rejected promise with the reason, not a crash', async () => {
    await expect(followContainerLogs(svc, 'lg-nope', { onLine: () => undefined })).rejects.toThrow(/no such container/i);
  });
});

describe('followFile', () => {
  it('a file growing faster than a poll reads (1 MB / 500 ms) is reported behind, with the lines left; skipToNow drops them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-logs-'));
    const file = join(dir, 'flood.log');
    writeFileSync(file, 'start\n');
    const lines: string[] = [];
    const f = await followFile(file, { onLine: (l) => lines.push(l.text) });
    try {
      // 8 MB at once: 100,000 lines of 80 bytes; the follow needs 4 s to read them.
      appendFileSync(file, Array.from({ length: 100_000 }, (_, i) => `flood ${String(i).padStart(6, '0')} ${'x'.repeat(66)}`).join('\n') + '\n');
      await until(() => (f.progress?.().lagMs ?? 0) >= 600);
      const p = f.progress?.();
      expect(p?.behindLines).toBeGreaterThan(10_000);
      expect(p?.behindLines).toBeLessThan(100_000);
      await f.skipToNow?.();
      expect(f.progress?.()).toMatchObject({ lagMs: 0, behindLines: 0 });
      appendFileSync(file, 'after skip\n');
      await until(() => lines.includes('after skip'));
      expect(lines.filter((l) => l.startsWith('flood')).length).toBeLessThan(100_000);
    } finally {
      f.stop();
    }
  });

  it('gives the last lines, then appended ones; follows a truncation in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-logs-'));
    const file = join(dir, 'app.log');
    writeFileSync(file, Array.from({ length: 300 }, (_, i) => `old ${i}`).join('\n') + '\n');
    const lines: string[] = [];
    const f = await followFile(file, { tail: 10, onLine: (l) => lines.push(l.text) });
    try {
      expect(lines).toEqual(Array.from({ length: 10 }, (_, i) => `old ${290 + i}`));
      appendFileSync(file, 'WARN new one\npartial');
      await until(() => lines.includes('WARN new one'));
      expect(lines).not.toContain('partial'); // an unfinished line waits for its newline
      appendFileSync(file, ' line\n');
      await until(() => lines.includes('partial line'));
      truncateSync(file, 0); // logrotate copytruncate
      appendFileSync(file, 'after rotate\n');
      await until(() => lines.includes('after rotate'));
    } finally {
      f.stop();
    }
  });
});
