import { describe, expect, it } from 'vitest';
import { stepAlert, type Alert } from '../../src/domain/alerts.js';
import type { CheckResult, CheckStatus } from '../../src/domain/check.js';

const H = { failureThreshold: 3, recoveryThreshold: 2 };
const res = (status: CheckStatus, extra: Partial<CheckResult> = {}): CheckResult => ({
  id: 'redis:cache', kind: 'redis', target: 'r', status, message: status, ...extra,
});

/** Feeds a sequence of statuses; returns the states and the transitions seen. */
function run(seq: (CheckStatus | 'suppressed')[], start?: Alert) {
  let a = start;
  const states: string[] = [];
  const transitions: string[] = [];
  seq.forEach((s, i) => {
    const r = s === 'suppressed' ? res('unknown', { suppressedBy: 'docker:engine' }) : res(s);
    const out = stepAlert(a, r, 1000 * i, H);
    a = out.alert;
    states.push(a.state);
    if (out.transition) transitions.push(`${out.transition}@${i}`);
  });
  return { states, transitions, alert: a };
}

describe('alert hysteresis (failure threshold 3, recovery threshold 2)', () => {
  it('fires on the third failure in a row and resolves on the second success', () => {
    const r = run(['critical', 'critical', 'critical', 'ok', 'ok', 'ok']);
    expect(r.states).toEqual(['pending', 'pending', 'firing', 'resolving', 'resolved', 'ok']);
    expect(r.transitions).toEqual(['fired@2', 'resolved@4']);
  });

  it('a firing CRITICAL that eases to WARNING stays CRITICAL and says what it is now; back to CRITICAL or OK clears that', () => {
    const eased = run(['critical', 'critical', 'critical', 'warning']);
    expect(eased.alert).toMatchObject({ state: 'firing', status: 'critical', current: 'warning' });
    expect(run(['critical', 'critical', 'critical', 'warning', 'critical']).alert?.current).toBeUndefined();
    expect(run(['critical', 'critical', 'critical', 'warning', 'ok']).alert?.current).toBeUndefined();
    expect(run(['warning', 'warning', 'warning']).alert?.current).toBeUndefined();
  });

  it('does not fire when failures are not consecutive (flapping)', () => {
    const r = run(['critical', 'critical', 'ok', 'critical', 'critical', 'ok']);
    expect(r.transitions).toEqual([]);
    expect(r.states).toEqual(['pending', 'pending', 'ok', 'pending', 'pending', 'ok']);
  });

  it('a failure while resolving goes back to firing without a second notification', () => {
    const r = run(['warning', 'warning', 'warning', 'ok', 'warning', 'ok', 'ok']);
    expect(r.states).toEqual(['pending', 'pending', 'firing', 'resolving', 'firing', 'resolving', 'resolved']);
    expect(r.transitions).toEqual(['fired@2', 'resolved@6']);
  });

  it('records when the failure started and escalates the status while firing', () => {
    const r = run(['warning', 'warning', 'warning', 'critical']);
    expect(r.alert?.since).toBe(0);
    expect(r.alert?.firedAt).toBe(2000);
    expect(r.alert?.status).toBe('critical');
  });

  it('counts unknown (check could not run) as a failure', () => {
    expect(run(['unknown', 'unknown', 'unknown']).transitions).toEqual(['fired@2']);
  });
});

describe('dependency suppression', () => {
  it('a suppressed check never fires, however long the dependency is down', () => {
    const r = run(['suppressed', 'suppressed', 'suppressed', 'suppressed', 'suppressed']);
    expect(r.transitions).toEqual([]);
    expect(r.states.every((s) => s === 'ok')).toBe(true);
    expect(r.alert?.suppressedBy).toBe('docker:engine');
  });

  it('a firing alert stays firing under suppression and still resolves afterwards', () => {
    const r = run(['critical', 'critical', 'critical', 'suppressed', 'suppressed', 'ok', 'ok']);
    expect(r.states).toEqual(['pending', 'pending', 'firing', 'firing', 'firing', 'resolving', 'resolved']);
    expect(r.transitions).toEqual(['fired@2', 'resolved@6']);
  });
});
