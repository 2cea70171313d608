import { describe, expect, it } from 'vitest';
import { restoreSteps } from '../../src/domain/restore-plan.js';
import type { Run, StepDef, StepState } from '../../src/domain/runbook.js';
import { DEFAULT_RATES, expectedSteps, expectedText, type PastRestore, type RestoreWork } from '../../src/domain/step-estimate.js';

// Issue #27: the expected duration of each byte-bound restore step, from this machine's past
// restores (median rate) or, before any, from the default rates.

const MB = 1e6;
const work: RestoreWork = { verify: 'checksum', mode: 'whole', rawBytes: 900 * MB, liveBytes: 1000 * MB };

function past(w: RestoreWork, times: Record<string, number>): PastRestore {
  const ids = Object.keys(times);
  const steps = ids.map((id) => ({ id, title: id, detail: '', confirm: false, optional: false, mutating: false }));
  const states = ids.map((id): StepState => ({ status: 'done', startedAt: 1000, endedAt: 1000 + (times[id] as number) }));
  const run: Pick<Run, 'steps' | 'states'> = { steps, states };
  return { work: w, run };
}

describe('expected step durations', () => {
  it('without past restores: the default rates, said to be typical', () => {
    const e = expectedSteps(work, []);
    expect(e.verify?.ms).toBeCloseTo((900 * MB) / (DEFAULT_RATES['verify:checksum'] as number) * 1000, 0);
    expect(e['safety-copy']?.from).toBe('default');
    expect(expectedText(e.verify as { ms: number; from: 'default' })).toMatch(/^expected ≈ \d+ s \(typical rate: no restore measured here yet\)$/);
  });

  it("the median of the past restores' rates of the same step and kind of check", () => {
    // 3 past checksum verifies of 900 MB at 3, 4 and 30 s (one slow outlier): median 4 s → 225 MB/s.
    const e = expectedSteps(work, [past(work, { verify: 3000 }), past(work, { verify: 30_000 }), past(work, { verify: 4000 })]);
    expect(e.verify).toEqual({ ms: 4000, from: 'past' });
    // A full verify is another rate: the checksum-only ones say nothing about it.
    const full = expectedSteps({ ...work, verify: 'full' }, [past(work, { verify: 3000 })]);
    expect(full.verify?.from).toBe('default');
    // The safety copy learns from its own bytes (the live file): 500 MB in 1 s → 1000 MB in 2 s.
    expect(expectedSteps(work, [past({ ...work, liveBytes: 500 * MB }, { 'safety-copy': 1000 })])['safety-copy']).toEqual({ ms: 2000, from: 'past' });
  });

  it('tiny steps (under 50 ms or 1 MB) teach nothing; steps not bound by bytes get no number', () => {
    const e = expectedSteps(work, [past(work, { verify: 10 }), past({ ...work, rawBytes: 1000 }, { verify: 5000 })]);
    expect(e.verify?.from).toBe('default');
    expect(Object.keys(expectedSteps(work, [])).sort()).toEqual(['check', 'safety-copy', 'verify']);
  });

  it("restoreSteps puts the expectation in the step's detail, and says it as the step starts only when it is a second or more", () => {
    const steps = restoreSteps({
      database: 'shop', dbPath: '/d/shop.db', backupId: 'b1', backupSummary: 's', writers: [], safetyDir: '/s', mode: { kind: 'whole' },
      verify: 'checksum', verifiedAt: '2026-12-03T06:00:00Z',
      expected: { verify: { ms: 4200, from: 'past' }, 'safety-copy': { ms: 300, from: 'default' } },
    });
    const by = (id: string) => steps.find((s) => s.id === id) as StepDef;
    expect(by('verify').detail).toMatch(/SHA-256.*not run again \(--full-verify runs them\); quick_check of the copy before anything is replaced — expected ≈ 4 s \(from the last restores here\)$/);
    expect(by('verify').expect).toBe('expected ≈ 4 s (from the last restores here)');
    expect(by('safety-copy').detail).toMatch(/expected under 1 s/);
    expect(by('safety-copy').expect).toBeUndefined();
    expect(by('check').detail).toMatch(/^the file in place is the checked copy \(its SQLite header, it opens\), foreign_key_check/);
  });

  it('a whole file checked before the swap (issue #27) learns from restores that did the same, not from those whose check step ran quick_check', () => {
    const now: RestoreWork = { ...work, checkBeforeSwap: true };
    const old = [past(work, { verify: 3000, check: 2000 })];
    const e = expectedSteps(now, old);
    expect(e.verify).toEqual({ ms: (900 * MB) / (DEFAULT_RATES['verify:checksum+quick'] as number) * 1000, from: 'default' });
    expect(e.check?.from).toBe('default');
    expect(e.check?.ms).toBeLessThan(expectedSteps(work, [])['check']?.ms as number);
    expect(expectedSteps(now, [past(now, { verify: 4500, check: 200 })])).toMatchObject({ verify: { ms: 4500, from: 'past' }, check: { ms: 200, from: 'past' } });
  });
});
