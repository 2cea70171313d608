import type { BackupConfig } from '../config/schema.js';

/** A backup as retention sees it. */
export interface RetentionItem {
  id: string;
  createdAt: number;
  verified: boolean;
}

/**
 * Keep-rules with restic's meaning: the N newest backups (`last`), and the newest backup of each of
 * the last N hours / days / ISO weeks / months that have one. `last` and `hourly` are optional here
 * (0 when absent); the configuration's defaults are 24 and 48.
 */
export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily: number;
  weekly: number;
  monthly: number;
}

/**
 * A time before which nothing is removed, and why: the start of an open `sqlite:*` alert. Backups
 * taken before the damage are the copies a restore needs; without this, a 15-minute schedule's
 * keep_last/keep_hourly would roll every good copy out within a day of an unnoticed loss (issue #10).
 */
export interface RetentionHold {
  before: number;
  reason: string;
}

/** Why a backup is kept (several reasons may apply). */
export interface RetentionDecision {
  keep: Map<string, string[]>;
  remove: string[];
}

/** The retention policy of the `backup:` configuration section. */
export function retentionPolicy(b: Pick<BackupConfig, 'keep_last' | 'keep_hourly' | 'keep_daily' | 'keep_weekly' | 'keep_monthly'>): Required<RetentionPolicy> {
  return { last: b.keep_last, hourly: b.keep_hourly, daily: b.keep_daily, weekly: b.keep_weekly, monthly: b.keep_monthly };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local-time hour, day, ISO week and month buckets of a timestamp. */
export function buckets(ms: number): { hour: string; day: string; week: string; month: string } {
  const d = new Date(ms);
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  // ISO week: the Thursday of this week decides the year.
  const t = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const dow = (t.getDay() + 6) % 7;
  t.setDate(t.getDate() - dow + 3);
  const firstThursday = new Date(t.getFullYear(), 0, 4);
  const week = 1 + Math.round(((t.getTime() - firstThursday.getTime()) / 86_400_000 - 3 + ((firstThursday.getDay() + 6) % 7)) / 7);
  return { hour: `${day}T${pad(d.getHours())}`, day, week: `${t.getFullYear()}-W${pad(week)}`, month: `${d.getFullYear()}-${pad(d.getMonth() + 1)}` };
}

/**
 * Retention with restic's keep-last/hourly/daily/weekly/monthly semantics: walking from the newest,
 * `last` keeps the first N backups, and each calendar rule keeps a backup when its bucket differs
 * from the last bucket that rule kept, until the rule's count is used up (so with one backup a day,
 * keep_hourly 48 keeps 48 days); one backup may count for several rules. Safety: the newest
 * verified backup, every unverified backup newer than it, and every backup taken before a hold's
 * time (an open `sqlite:*` alert) are always kept.
 */
export function applyRetention(items: readonly RetentionItem[], policy: RetentionPolicy, holds: readonly RetentionHold[] = []): RetentionDecision {
  const sorted = [...items].sort((a, b) => b.createdAt - a.createdAt);
  const keep = new Map<string, string[]>();
  const add = (id: string, why: string) => keep.set(id, [...(keep.get(id) ?? []), why]);
  const last = policy.last ?? 0;
  const rules: { name: keyof ReturnType<typeof buckets>; label: string; left: number; last?: string }[] = [
    { name: 'hour', label: 'hourly', left: policy.hourly ?? 0 },
    { name: 'day', label: 'daily', left: policy.daily },
    { name: 'week', label: 'weekly', left: policy.weekly },
    { name: 'month', label: 'monthly', left: policy.monthly },
  ];
  sorted.forEach((b, i) => {
    if (i < last) add(b.id, `last ${i + 1}/${last}`);
    const bk = buckets(b.createdAt);
    for (const r of rules) {
      if (r.left > 0 && bk[r.name] !== r.last) {
        r.last = bk[r.name];
        r.left--;
        add(b.id, `${r.label} ${bk[r.name]}`);
      }
    }
  });
  const newestVerified = sorted.find((b) => b.verified);
  for (const b of sorted) {
    if (newestVerified && b.createdAt < newestVerified.createdAt) break;
    if (b === newestVerified) add(b.id, 'newest verified');
    else if (!b.verified) add(b.id, 'unverified, newer than the newest verified');
  }
  for (const h of holds) for (const b of sorted) if (b.createdAt < h.before) add(b.id, h.reason);
  return { keep, remove: sorted.filter((b) => !keep.has(b.id)).map((b) => b.id) };
}

/** One row of the state database's alert history, as the prune hold needs it. */
export interface AlertEventRow {
  checkId: string;
  event: string;
  at: number;
}

/**
 * The holds an open `sqlite:<db>` or `sqlite:<db>:…` alert puts on a database's backups: an alert is
 * open when it fired with no `resolved` after it; it started at the first `fired` after its last
 * `resolved` (a restarted monitor that sees the same outage fires it again; the first time counts).
 */
export function openAlertHolds(events: readonly AlertEventRow[], database: string): RetentionHold[] {
  const open = new Map<string, number>();
  const sorted = [...events].sort((a, b) => a.at - b.at);
  for (const e of sorted) {
    if (e.checkId !== `sqlite:${database}` && !e.checkId.startsWith(`sqlite:${database}:`)) continue;
    if (e.event === 'fired' && !open.has(e.checkId)) open.set(e.checkId, e.at);
    else if (e.event === 'resolved') open.delete(e.checkId);
  }
  return [...open].map(([checkId, at]) => ({ before: at, reason: `taken before open alert ${checkId} (fired ${localMinute(at)})` }));
}

function localMinute(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The safety copies' retention from the config (`keep_safety_copies`, `keep_safety_days`): the one place it is built. */
export function safetyPolicy(b: Pick<BackupConfig, 'keep_safety_copies' | 'keep_safety_days'>): { keepLast: number; keepDays: number } {
  return { keepLast: b.keep_safety_copies, keepDays: b.keep_safety_days };
}
