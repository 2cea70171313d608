/** A backup as retention sees it. */
export interface RetentionItem {
  id: string;
  createdAt: number;
  verified: boolean;
}

/** Keep-rules: the newest backup of each of the last N days / ISO weeks / months (restic's meaning). */
export interface RetentionPolicy {
  daily: number;
  weekly: number;
  monthly: number;
}

/** Why a backup is kept (several reasons may apply). */
export interface RetentionDecision {
  keep: Map<string, string[]>;
  remove: string[];
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local-time day, ISO week and month buckets of a timestamp. */
export function buckets(ms: number): { day: string; week: string; month: string } {
  const d = new Date(ms);
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  // ISO week: the Thursday of this week decides the year.
  const t = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const dow = (t.getDay() + 6) % 7;
  t.setDate(t.getDate() - dow + 3);
  const firstThursday = new Date(t.getFullYear(), 0, 4);
  const week = 1 + Math.round(((t.getTime() - firstThursday.getTime()) / 86_400_000 - 3 + ((firstThursday.getDay() + 6) % 7)) / 7);
  return { day, week: `${t.getFullYear()}-W${pad(week)}`, month: `${d.getFullYear()}-${pad(d.getMonth() + 1)}` };
}

/**
 * Grandfather-father-son retention with restic's keep-daily/weekly/monthly semantics: walking from
 * the newest, each rule keeps a backup when its bucket differs from the last bucket that rule kept,
 * until the rule's count is used up; one backup may count for several rules. Safety: the newest
 * verified backup, and every unverified backup newer than it, are always kept.
 */
export function applyRetention(items: readonly RetentionItem[], policy: RetentionPolicy): RetentionDecision {
  const sorted = [...items].sort((a, b) => b.createdAt - a.createdAt);
  const keep = new Map<string, string[]>();
  const add = (id: string, why: string) => keep.set(id, [...(keep.get(id) ?? []), why]);
  const rules: { name: keyof ReturnType<typeof buckets>; label: string; left: number; last?: string }[] = [
    { name: 'day', label: 'daily', left: policy.daily },
    { name: 'week', label: 'weekly', left: policy.weekly },
    { name: 'month', label: 'monthly', left: policy.monthly },
  ];
  for (const b of sorted) {
    const bk = buckets(b.createdAt);
    for (const r of rules) {
      if (r.left > 0 && bk[r.name] !== r.last) {
        r.last = bk[r.name];
        r.left--;
        add(b.id, `${r.label} ${bk[r.name]}`);
      }
    }
  }
  const newestVerified = sorted.find((b) => b.verified);
  for (const b of sorted) {
    if (newestVerified && b.createdAt < newestVerified.createdAt) break;
    if (b === newestVerified) add(b.id, 'newest verified');
    else if (!b.verified) add(b.id, 'unverified, newer than the newest verified');
  }
  return { keep, remove: sorted.filter((b) => !keep.has(b.id)).map((b) => b.id) };
}
