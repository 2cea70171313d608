import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { ConfigError } from '../../src/domain/errors.js';
import { decideFailover, decideLoad, type PairMemory } from '../../src/domain/failover.js';
import { consoleHeal } from '../../src/cli/console-heal.js';
import { num } from '../../src/engine/actions.js';
import { EventBus } from '../../src/engine/events.js';
import { renderSteps, resolveTarget } from '../../src/runbooks/render.js';
import { parseRunbookFile } from '../../src/runbooks/spec.js';
import { FailoverStore } from '../../src/state/failover.js';
import { openStateDb } from '../../src/state/statedb.js';
import { createAppStore } from '../../src/state/store.js';

// Failover (issue #21): the pure decisions, and the config's one-line errors.

const rules = { failures: 3, holdDownMs: 60_000 };
const T = 1_000_000;

describe('decideFailover', () => {
  it.each<[string, PairMemory, boolean, string, number?]>([
    ['healthy: failures start from 0', { active: 'primary', fails: 2 }, true, 'ok'],
    ['1st failure: wait', { active: 'primary', fails: 0 }, false, 'failing', 1],
    ['2nd failure: still no switch', { active: 'primary', fails: 1 }, false, 'failing', 2],
    ['3rd failure: switch to the backup', { active: 'primary', fails: 2 }, false, 'switch', 3],
    ['3rd failure within the hold-down: held', { active: 'backup', fails: 2, switchedAt: T - 59_000 }, false, 'held', 3],
    ['3rd failure after the hold-down: switch to the other side', { active: 'backup', fails: 2, switchedAt: T - 60_000 }, false, 'switch', 3],
  ])('%s', (_n, m, healthy, kind, fails) => {
    const d = decideFailover(m, healthy, rules, T);
    expect(d.kind).toBe(kind);
    if (fails !== undefined) expect(d.fails).toBe(fails);
    if (d.kind === 'switch') expect(d.to).toBe(m.active === 'primary' ? 'backup' : 'primary');
    if (d.kind === 'held') expect(d.until).toBe((m.switchedAt ?? 0) + rules.holdDownMs);
  });
});

describe('decideLoad', () => {
  const r = { cpu: 80, forMs: 60_000, cooldownMs: 600_000, limit: 3, windowMs: 1_800_000 };
  it.each<[string, Parameters<typeof decideLoad>[0], number | undefined, number, string]>([
    ['below the threshold', {}, 50, 0, 'idle'],
    ['just above: counting starts', {}, 90, 0, 'wait'],
    ['above, not long enough', { aboveSince: T - 30_000 }, 90, 0, 'wait'],
    ['above long enough: run', { aboveSince: T - 60_000 }, 90, 0, 'run'],
    ['within the cooldown: wait', { aboveSince: T - 600_000, lastRunAt: T - 300_000 }, 90, 1, 'wait'],
    ['budget spent: wait', { aboveSince: T - 600_000, lastRunAt: T - 700_000 }, 90, 3, 'wait'],
    ['no figure yet', {}, undefined, 0, 'idle'],
  ])('%s', (_n, m, cpu, spent, kind) => {
    expect(decideLoad(m, cpu, r, spent, T).kind).toBe(kind);
  });
});

describe('failover config: one line naming the field', () => {
  const base = 'services:\n  - {name: a, container: a}\n  - {name: b, container: b}\n';
  it.each([
    ['an unknown service', `${base}failover:\n  pairs:\n    - {name: p, primary: a, backup: c}\n`, /failover\.pairs\[0\]\.backup: service "c" is not in services \(expected one of: a, b\)/],
    ['the same service twice', `${base}failover:\n  pairs:\n    - {name: p, primary: a, backup: a}\n`, /failover\.pairs\[0\]\.backup: /],
    ['a switch step as a shell line', `${base}failover:\n  pairs:\n    - {name: p, primary: a, backup: b, switch: "nginx -s reload"}\n`, /failover\.pairs\[0\]\.switch: expected array, got the text "nginx -s reload"/],
    ['a check_every too short', `${base}failover:\n  pairs:\n    - {name: p, primary: a, backup: b, check_every: 10ms}\n`, /failover\.pairs\[0\]\.check_every: expected a duration from/],
    ['a load rule without a runbook', 'failover:\n  load: {cpu: 80}\n', /failover\.load\.runbook: /],
  ])('%s', (_n, text, pattern) => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-fo-'));
    const file = join(dir, 'opsdeck.yaml');
    writeFileSync(file, text);
    let msg = '';
    try {
      loadConfigFile(file, {});
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      msg = (e as Error).message;
    }
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toMatch(pattern);
  });

  it('defaults: the DR plan (10 s probes, 3 failures), pairs optional', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-fo-'));
    const file = join(dir, 'opsdeck.yaml');
    writeFileSync(file, `${base}failover:\n  pairs:\n    - {name: p, primary: a, backup: b}\n`);
    const c = loadConfigFile(file, {}).config;
    expect(c.failover.pairs[0]).toMatchObject({ check_every: 10_000, failures: 3, hold_down: 600_000, healthy_within: 60_000 });
    expect(c.failover.load).toBeUndefined();
  });

  it("failback waits for the primary as long as the pair's healthy_within says (it waited a fixed 60 s)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-fo-'));
    const file = join(dir, 'opsdeck.yaml');
    writeFileSync(file, `${base}failover:\n  pairs:\n    - {name: p, primary: a, backup: b, healthy_within: 20s}\n`);
    const c = loadConfigFile(file, {}).config;
    const spec = parseRunbookFile(join(import.meta.dirname, '../../runbooks/failback.yaml'));
    const step = renderSteps(spec, resolveTarget(spec, c, 'a', undefined, {}), 'failback.yaml').find((s) => s.id === 'start-primary');
    expect(num(step?.params, 'healthy_within_ms', 60_000)).toBe(20_000);
  });
});

describe("the console's H pane (issue #21)", () => {
  it('heads with each pair: which side is active, since when, what its check says (a real state database)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-fo-'));
    const file = join(dir, 'opsdeck.yaml');
    writeFileSync(file, `state_dir: ${join(dir, 'state')}\nservices:\n  - {name: a, container: a}\n  - {name: b, container: b}\nfailover:\n  pairs:\n    - {name: p, primary: a, backup: b}\n`);
    const loaded = loadConfigFile(file, {});
    const db = await openStateDb(join(dir, 'state'));
    try {
      const h = consoleHeal({ db, bus: new EventBus(), store: createAppStore(), readOnly: true, loaded: () => loaded });
      expect(h.actions.healing().subjects[0]).toMatchObject({ subject: 'failover:p', stopped: false, text: expect.stringMatching(/^PRIMARY a active; probed every 10 s/) as unknown });
      const at = Date.parse('2026-12-02T03:12:09Z');
      new FailoverStore(db).put({ pair: 'p', active: 'backup', fails: 0, switchedAt: at, status: 'warning', message: 'failed over', updatedAt: at });
      expect(h.actions.healing().subjects[0]?.text).toBe('BACKUP b active since 03:12:09Z; failed over');
    } finally {
      db.close();
    }
  });
});
