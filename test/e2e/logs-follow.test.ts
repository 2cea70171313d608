import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { docker, runContainer } from '../helpers/docker-engine.js';
import { TmuxSession } from '../helpers/tmux.js';

// Issue #26 in a real terminal: the built console in tmux against the private Docker engine.
// (1) Docker added by a configuration reload: `l` follows a container without a restart.
// (2) A view that cannot keep up says "BEHIND by ~N lines / T s" (never "following"), and G skips to
// now. The slowness is fault-injected (OPSDECK_FAULT_LOG_SLOW_US: the console's consumer spends that
// long on each line), so the view falls behind on any machine.

const host = inject('dockerHost');
const dir = mkdtempSync(join(tmpdir(), 'opsdeck-e2e-logfollow-'));
const sessions: TmuxSession[] = [];
let n = 0;

function open(config: string, env: Record<string, string> = {}): TmuxSession {
  const s = TmuxSession.start(`opsdeck-lf-${process.pid}-${n++}`, ['--config', config], { columns: 140, rows: 30, env: { OPSDECK_STATE_DIR: join(dir, `state${n}`), ...env } });
  sessions.push(s);
  return s;
}

beforeAll(() => {
  runContainer(host, 'lf-slow', ['--network', 'none', '--label', 'com.docker.compose.project=lfslow'], ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "INFO tick $i"; sleep 0.2; done']);
  // ~5,000 lines a second at most (50 every 10 ms); the injected consumer reads ~2,000.
  runContainer(host, 'lf-flood', ['--network', 'none', '--label', 'com.docker.compose.project=lfflood'], ['sh', '-c', 'i=0; while true; do j=0; while [ $j -lt 50 ]; do j=$((j+1)); i=$((i+1)); echo "INFO flood $i"; done; sleep 0.01; done']);
});
afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
});
afterAll(() => {
  docker(host, 'rm', '-f', 'lf-slow', 'lf-flood');
});

const base = 'interval: 1s\nrefresh: 1s\nthresholds: {cpu: 100, memory: 100, disk: 100}\n';

describe('logs that keep up (issue #26)', () => {
  it('Docker added by a reload: the container is listed and l follows its log, no restart', async () => {
    const config = join(dir, 'reload.yaml');
    writeFileSync(config, `name: lf-reload\n${base}`);
    const t = open(config);
    await t.waitFor(/health \d+%/);
    // watchFile polls every second; a later mtime is what it looks at.
    await new Promise((r) => setTimeout(r, 1100));
    writeFileSync(config, `name: lf-reload\n${base}docker:\n  host: ${host}\n  compose_project: lfslow\n  all_containers: true\n`);
    await t.waitFor(/configuration reloaded/, 15_000);
    await t.waitFor(/lf-slow\s+running/, 15_000);
    if (!/^▶ Containers/m.test(t.capture())) t.send('Tab', false);
    await t.waitFor(/^▶ Containers/m);
    t.send('l');
    const screen = await t.waitFor((s) => s.includes('Logs: lf-slow') && /INFO tick \d+/.test(s), 15_000);
    expect(screen).not.toContain('no Docker engine configured');
    // The status: following, how many lines and how far back the buffer reaches.
    expect(screen).toMatch(/following · [\d,]+ lines, [\d.]+ of 32 MB · back to \d\d:\d\d:\d\d/);
    t.send('q');
    await t.waitFor(/EXIT=0/);
  });

  it('a view that cannot keep up (fault-injected slow consumer) says BEHIND, not following; G skips to now', async () => {
    const config = join(dir, 'flood.yaml');
    writeFileSync(config, `name: lf-flood\n${base}docker:\n  host: ${host}\n  compose_project: lfflood\n  all_containers: true\n`);
    const t = open(config, { OPSDECK_FAULT_LOG_SLOW_US: '500' });
    await t.waitFor(/lf-flood\s+running/, 15_000);
    if (!/^▶ Containers/m.test(t.capture())) t.send('Tab', false);
    await t.waitFor(/^▶ Containers/m);
    t.send('l');
    const behind = await t.waitFor(/BEHIND by ~[\d,]+ lines \/ [\d.]+ s · G skip to now/, 30_000);
    const header = behind.split('\n').find((l) => l.includes('Logs: lf-flood')) ?? '';
    expect(header).not.toContain('following');
    t.send('G');
    // Right after the skip the view is caught up (the consumer is still slow: it falls behind again later).
    const skipped = await t.waitFor(/skipped ~[\d,]+ lines \([\d.]+ s\) at \d\d:\d\d:\d\d/, 15_000);
    expect(skipped.split('\n').find((l) => l.includes('Logs: lf-flood'))).toMatch(/following/);
    t.send('q');
    await t.waitFor(/EXIT=0/, 15_000);
  });
});
