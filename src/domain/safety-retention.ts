/** One restore's safety copy (the database as it was before the restore), as retention sees it. */
export interface SafetyCopyItem {
  id: string;
  /** The database it is a copy of; undefined when the run is not in the journal. */
  database?: string;
  /** When its run started (ms). */
  at: number;
  /** Its run is unfinished (open in the journal): it may still be rolled back to. */
  open: boolean;
}

/** How many safety copies are kept (config `backup.keep_safety_copies`, `backup.keep_safety_days`). */
export interface SafetyPolicy {
  /** The newest N of each database's finished runs. */
  keepLast: number;
  /** And any younger than N days. */
  keepDays: number;
}

/**
 * Which safety copies stay (issue #13: seven restores kept 1.4 GB forever). Kept, with the reason:
 * an unfinished run's copy (always: it is what `--rollback` puts back), one whose run the journal
 * does not know (not ours to judge), the newest `keepLast` finished ones of each database, and any
 * younger than `keepDays` days. The rest is removed.
 */
export function safetyRetention(items: readonly SafetyCopyItem[], policy: SafetyPolicy, now: number): { keep: Map<string, string>; remove: string[] } {
  const keep = new Map<string, string>();
  const remove: string[] = [];
  const rank = new Map<string, number>();
  for (const it of [...items].sort((a, b) => b.at - a.at)) {
    if (it.open) {
      keep.set(it.id, 'unfinished run');
      continue;
    }
    if (it.database === undefined) {
      keep.set(it.id, 'run not in the journal');
      continue;
    }
    const n = rank.get(it.database) ?? 0;
    rank.set(it.database, n + 1);
    if (n < policy.keepLast) keep.set(it.id, `newest ${policy.keepLast}`);
    else if (now - it.at < policy.keepDays * 86_400_000) keep.set(it.id, `under ${policy.keepDays}d`);
    else remove.push(it.id);
  }
  return { keep, remove };
}
