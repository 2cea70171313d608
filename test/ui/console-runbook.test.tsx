import { describe, expect, it } from 'vitest';
import { validate } from '../../src/config/load.js';
import type { Alert } from '../../src/domain/alerts.js';
import { ok, type Result } from '../../src/domain/result.js';
import type { ContainerOutcome } from '../../src/domain/observations.js';
import type { Progress, ProgressStep, RunListener } from '../../src/engine/protocol.js';
import { createAppStore } from '../../src/state/store.js';
import { App, type ConsoleActions } from '../../src/ui/App.js';
import type { RunbookEntry, RunbookStart } from '../../src/ui/console/runbook-wizard.js';
import { KEY_TABLE } from '../../src/ui/keys.js';
import { createHostHistory } from '../../src/ui/useHostHistory.js';
import { renderApp } from '../helpers/render.js';

// The runbook wizard inside the console (issue #16), drawn from a sequence of protocol messages
// (progress, say, ask) as a driven child sends them, at 80×24: the step list with each step's state
// and times, the question word for word, the answers the keys send; esc never answers.

const entry = (name: string, target: RunbookEntry['target'], source: RunbookEntry['source'] = 'built-in', replaces = false): RunbookEntry => ({ name, title: `${name}: what it does`, description: `${name} in one sentence`, target, source, replaces });
const CATALOG = [entry('service-recovery', 'service'), entry('restore-database', 'database'), entry('redis-recovery', 'redis', 'user', true), entry('recovery-verify', 'none')];

function setup(opts: { readOnly?: boolean; columns?: number; rows?: number; extra?: Record<string, unknown>; catalog?: RunbookEntry[] } = {}) {
  const config = validate({ name: 'trading', redis: [{ name: 'cache', url: 'redis://127.0.0.1:6379' }], services: [{ name: 'api', container: 'api' }, { name: 'web', container: 'web' }], ...opts.extra }, 'test');
  const store = createAppStore();
  const { actions } = store.getState();
  actions.setChecks([
    { id: 'redis:cache', kind: 'redis', target: 'cache', status: 'critical', message: 'refused' },
    { id: 'system:health', kind: 'system', target: 'stack', status: 'ok', value: 75, message: '' },
  ]);
  const alert: Alert = { checkId: 'redis:cache', state: 'firing', failStreak: 3, passStreak: 0, status: 'critical', message: 'Redis at 127.0.0.1:6379 refused the connection', since: Date.now() - 60_000, firedAt: Date.now() - 30_000 };
  actions.setAlerts([alert]);
  const calls: string[] = [];
  const runs: { start: RunbookStart; events: RunListener }[] = [];
  const consoleActions: ConsoleActions = {
    containerAction: (): Promise<Result<ContainerOutcome>> => Promise.resolve(ok({ note: 'done', exitedAgain: false })),
    follow: () => Promise.resolve({ stop: () => undefined }),
    refresh: () => undefined,
    ack: () => undefined,
    silence: () => undefined,
    acks: () => ({ acknowledged: false }),
    audit: (action, target, outcome) => calls.push(`audit:${action}:${target}:${outcome}`),
    history: () => [],
    restore: () => ({ answer: () => undefined }),
    runbook: (start, events) => {
      runs.push({ start, events });
      calls.push(`runbook:${start.runbook}:${start.target.name}:${start.check ?? '-'}`);
      return { answer: (a) => calls.push(`answer:${a}`) };
    },
    keyPressed: () => calls.push('key'),
  };
  const { history } = createHostHistory(store, 2000);
  const r = renderApp(<App store={store} config={config} keys={KEY_TABLE} readOnly={!!opts.readOnly} history={history} actions={consoleActions} hostname="box" runbooks={{ entries: opts.catalog ?? CATALOG }} />, {
    columns: opts.columns ?? 80,
    rows: opts.rows ?? 24,
  });
  return { ...r, calls, runs, store };
}

const T0 = Date.now();
const step = (id: string, title: string, status: ProgressStep['status'], over: Partial<ProgressStep> = {}): ProgressStep => ({ id, title, status, ...over });
const progress = (cursor: number, steps: ProgressStep[]): Progress => ({ run: 'run-7', runbook: 'redis-recovery', subject: 'cache', cursor, steps });

describe('F on the selected alert', () => {
  it('the alert pane and the footer say what F runs; F starts it for the alert', async () => {
    const { press, waitFor, frame, calls } = setup();
    await waitFor((f) => f.includes('Alerts (1 firing)'));
    await press('A');
    const f = await waitFor((x) => x.includes('F: run redis-recovery for cache'));
    expect(f).toMatch(/F run redis-recovery for cache/); // the footer's hint, kept at 80 columns while it fires
    await press('\r');
    await waitFor((x) => x.includes('F: run redis-recovery for cache (from the alert list: esc, then F)'));
    await press('\x1b');
    await waitFor((x) => !x.includes('probe history'));
    await press('F');
    await waitFor((x) => x.includes('Runbook redis-recovery for cache (alert redis:cache)'));
    await waitFor(() => calls.includes('runbook:redis-recovery:cache:redis:cache'));
    expect(frame()).toContain('starting the runbook…');
  });

  it('under --read-only F is refused, said and audited; nothing starts', async () => {
    const { press, waitFor, calls } = setup({ readOnly: true });
    await waitFor((f) => f.includes('Alerts (1 firing)'));
    await press('A');
    await press('F');
    await waitFor((f) => f.includes('refused — opsdeck runs in --read-only mode'));
    expect(calls).toContain('audit:alert.runbook:redis:cache:refused');
    expect(calls.some((c) => c.startsWith('runbook:'))).toBe(false);
  });
});

describe('the runbook wizard, from the messages of a run (80×24)', () => {
  it('steps with their states and times, the why, the output, the question; y s n answer; esc never does', async () => {
    const { press, waitFor, frame, calls, runs } = setup();
    await waitFor((f) => f.includes('Alerts (1 firing)'));
    await press('A');
    await press('F');
    await waitFor(() => runs.length === 1);
    const ev = runs[0]?.events;
    if (!ev) throw new Error('no run');
    const steps = [
      step('inspect', 'look at the server', 'done', { startedAt: T0 - 9_000, endedAt: T0 - 7_000 }),
      step('restart', 'restart Redis', 'confirming', { why: 'a restart clears a wedged event loop' }),
      step('flush', 'flush the stale keys', 'pending'),
      step('verify', 'check it answers', 'pending'),
    ];
    ev.onProgress?.(progress(1, steps));
    ev.onSay('PING → timeout after 2 s \x1b]0;retitled\x07(no answer)');
    ev.onAsk('[2/4] restart Redis: docker restart cache (-t 10). Clients lose their connections. Run this step?', 'yns');
    let f = await waitFor((x) => x.includes('y yes, run it · n no, stop the runbook here · s skip this step'));
    expect(f).toMatch(/✓ 1\. look at the server\s+done in 2s/);
    expect(f).toMatch(/▶ \? 2\. restart Redis\s+waiting for your answer/);
    expect(f).toMatch(/· 3\. flush the stale keys\s+pending/);
    expect(f).toContain('why: a restart clears a wedged event loop');
    expect(f).toContain('PING → timeout after 2 s (no answer)'); // the OSC title sequence removed
    expect(f).toContain('[2/4] restart Redis: docker restart cache (-t 10).');
    expect(f.split('\n').length).toBeLessThan(24);
    expect(f.split('\n').every((l) => l.length <= 80)).toBe(true);

    await press('\x1b'); // esc answers nothing
    await waitFor((x) => x.includes('esc does not answer: press one of the keys above'));
    expect(calls.filter((c) => c.startsWith('answer:'))).toEqual([]);
    await press('q'); // nor does q leave a running runbook
    expect(frame()).toContain('Runbook redis-recovery');

    await press('y');
    await waitFor((x) => x.includes('→ yes'));
    expect(calls.filter((c) => c.startsWith('answer:'))).toEqual(['answer:y']);
    ev.onProgress?.(progress(1, [steps[0] as ProgressStep, step('restart', 'restart Redis', 'running', { startedAt: Date.now() - 4_000 }), ...steps.slice(2)]));
    await waitFor((x) => /▶ ▸ 2\. restart Redis\s+running [45]s/.test(x));

    // The step fails after its retries: y tries it again.
    // As the driver does: the last attempt is journaled (running, attempt 3), it says why, then asks.
    ev.onProgress?.(progress(1, [steps[0] as ProgressStep, step('restart', 'restart Redis', 'running', { attempt: 3, startedAt: Date.now() - 1000 }), ...steps.slice(2)]));
    ev.onSay('restart Redis FAILED: container not found');
    ev.onAsk('restart Redis failed. y tries it again · s skips it · n stops here (resume later)', 'yns');
    f = await waitFor((x) => x.includes('y try it again · n stop the runbook here · s skip it and go on'));
    expect(f).toMatch(/✗ 2\. restart Redis\s+failed \(attempt 3\): waiting for your answer/);
    expect(f).toContain('restart Redis FAILED: container not found');
    await press('y');
    await waitFor((x) => x.includes('→ try it again'));

    ev.onProgress?.(progress(2, [steps[0] as ProgressStep, step('restart', 'restart Redis', 'done', { startedAt: T0, endedAt: T0 + 3_000, attempt: 4 }), step('flush', 'flush the stale keys', 'confirming'), steps[3] as ProgressStep]));
    ev.onAsk('[3/4] flush the stale keys? (optional)', 'yns');
    await waitFor((x) => x.includes('[3/4] flush the stale keys?'));
    await press('s');
    await waitFor((x) => x.includes('→ SKIP'));
    ev.onProgress?.(progress(3, [steps[0] as ProgressStep, step('restart', 'restart Redis', 'done', { startedAt: T0, endedAt: T0 + 3_000, attempt: 4 }), step('flush', 'flush the stale keys', 'skipped', { note: 'skipped by the operator' }), step('verify', 'check it answers', 'confirming')]));
    ev.onAsk('[4/4] check it answers?', 'yn');
    await waitFor((x) => x.includes('[4/4] check it answers?') && x.includes('y yes, run it · n no, stop the runbook here') && !x.includes('s skip'));
    await press('s'); // not offered here: answers nothing
    await waitFor((x) => x.includes('esc does not answer'));
    await press('n');
    ev.onExit(1, 'redis-recovery stopped by the operator at verify');
    f = await waitFor((x) => x.includes('redis-recovery for cache did not finish: redis-recovery stopped by the operator'));
    expect(f).toMatch(/✓ 2\. restart Redis\s+done in 3s \(attempt 4\)/);
    expect(f).toMatch(/– 3\. flush the stale keys\s+skipped: skipped by the operator/);
    expect(f).toMatch(/■ 4\. check it answers\s+stopped here \(not run\)/);
    expect(f).toContain('esc back to the dashboard');
    expect(calls.filter((c) => c.startsWith('answer:'))).toEqual(['answer:y', 'answer:y', 'answer:s', 'answer:n']);
    await press('\x1b');
    await waitFor((x) => x.includes('Alerts (1 firing)'));
    expect(calls.filter((c) => c === 'key').length).toBeGreaterThan(8); // every key reaches the wiring's counter
  });

  it.each([
    [0, undefined, 'redis-recovery for cache: completed'],
    [3, undefined, 'redis-recovery for cache: finished with skipped steps — NOT complete'],
  ] as const)('exit %i says so', async (code, error, line) => {
    const { press, waitFor, runs } = setup();
    await waitFor((f) => f.includes('Alerts (1 firing)'));
    await press('A');
    await press('F');
    await waitFor(() => runs.length === 1);
    runs[0]?.events.onExit(code, error);
    await waitFor((x) => x.includes(line));
  });

  it('a long run fits 80×24: the step list is windowed around its cursor, the output keeps its last lines', async () => {
    const { press, waitFor, runs } = setup();
    await waitFor((f) => f.includes('Alerts (1 firing)'));
    await press('A');
    await press('F');
    await waitFor(() => runs.length === 1);
    const ev = runs[0]?.events;
    const many = Array.from({ length: 20 }, (_, i) => step(`s${i}`, `step number ${i + 1}`, i < 12 ? 'done' : i === 12 ? 'confirming' : 'pending', i < 12 ? { startedAt: T0, endedAt: T0 + 1000 } : {}));
    ev?.onProgress?.(progress(12, many));
    for (let i = 0; i < 40; i++) ev?.onSay(`output line ${i}`);
    ev?.onAsk('run step 13?', 'yn');
    const f = await waitFor((x) => x.includes('run step 13?'));
    expect(f.split('\n').length).toBeLessThan(24);
    expect(f).toMatch(/13\. step number 13/);
    expect(f).toMatch(/14\. step number 14/);
    expect(f).toMatch(/steps above · \+\d+ more below/);
    expect(f).toContain('output line 39');
    expect(f).not.toContain('output line 0\n');
  });

  it('a long step title is shown whole on a wide terminal (it was cut at 40 columns at every width)', async () => {
    const { press, waitFor, runs } = setup({ columns: 160, rows: 40 });
    await waitFor((f) => f.includes('Alerts (1 firing)'));
    await press('A');
    await press('F');
    await waitFor(() => runs.length === 1);
    const long = 'Restart the payments API and wait for its health check to pass';
    runs[0]?.events.onProgress?.(progress(0, [step('restart', long, 'confirming'), step('verify', 'check it answers', 'pending')]));
    runs[0]?.events.onAsk('run it?', 'yn');
    const f = await waitFor((x) => x.includes('run it?'));
    expect(f).toContain(`1. ${long}`);
  });
});

describe('the runbook picker (:)', () => {
  it('lists the catalog (a user runbook replacing a built-in marked), asks the target, starts it', async () => {
    const { press, waitFor, calls } = setup({ columns: 100, rows: 30 });
    await waitFor((f) => f.includes('Alerts (1 firing)'));
    await press(':');
    const f = await waitFor((x) => x.includes('Run which runbook?'));
    expect(f).toMatch(/1\) service-recovery\s+service-recovery: what it does\s+built-in/);
    expect(f).toMatch(/3\) redis-recovery\s+.*user, replaces the built-in/);
    expect(f).toContain('service-recovery in one sentence');
    await press('j');
    await press('k');
    await press('\r'); // service-recovery: two services, which one?
    await waitFor((x) => x.includes('Run service-recovery on which service?') && x.includes('2) web'));
    await press('2');
    await waitFor((x) => x.includes('Runbook service-recovery for web'));
    await waitFor(() => calls.includes('runbook:service-recovery:web:-')); // started by an effect after that frame
  });

  it("failback is offered on the failover pairs' primaries only (it listed every service)", async () => {
    const services = [{ name: 'api', container: 'api' }, { name: 'api-b', container: 'api-b' }, { name: 'web', container: 'web' }];
    const { press, waitFor, calls } = setup({ extra: { services, failover: { pairs: [{ name: 'p', primary: 'api', backup: 'api-b' }] } }, catalog: [entry('failback', 'service')] });
    await waitFor((f) => f.includes('Alerts (1 firing)'));
    await press(':');
    await waitFor((x) => x.includes('Run which runbook?'));
    await press('\r'); // one primary: started on it, no list of three services
    await waitFor(() => calls.includes('runbook:failback:api:-'));
  });

  it('esc closes it and starts nothing', async () => {
    const { press, waitFor, calls } = setup();
    await waitFor((f) => f.includes('Alerts (1 firing)'));
    await press(':');
    await waitFor((x) => x.includes('Run which runbook?'));
    await press('\x1b');
    await waitFor((x) => !x.includes('Run which runbook?'));
    expect(calls.some((c) => c.startsWith('runbook:'))).toBe(false);
  });
});
