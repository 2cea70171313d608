// The log review's memory (issue #23): each review's counts per source and every ERROR/WARN pattern
// seen, in the state database (migration `maintenance-routines`), so a review can name the
// patterns that are new since the previous one.

import type BetterSqlite3 from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import { groupKey, newGroups, type LogGroup, type SourceReview } from '../domain/log-review.js';
import { reviewSources, type SourceOutcome } from '../services/log-review.js';
import { dockerFor } from '../services/writers.js';

/** Patterns kept per source and review (the most frequent first): bounds the table on a noisy service. */
export const PATTERNS_KEPT = 2_000;

/** Reads and records log reviews. */
export class LogReviewStore {
  constructor(private readonly db: BetterSqlite3.Database) {}

  /** When `source` was last reviewed, or undefined when never. */
  lastReview(source: string): number | undefined {
    const row = this.db.prepare('SELECT MAX(at) AS at FROM log_reviews WHERE source = ?').get(source) as { at: number | null } | undefined;
    return row?.at ?? undefined;
  }

  /** The patterns of every earlier review of `source` (`level\tpattern`), or undefined when it was never reviewed. */
  seen(source: string): Set<string> | undefined {
    if (this.lastReview(source) === undefined) return undefined;
    const rows = this.db.prepare('SELECT level, pattern FROM log_patterns WHERE source = ?').all(source) as { level: 'error' | 'warn'; pattern: string }[];
    return new Set(rows.map(groupKey));
  }

  /** Records a review: its counts, and its patterns (first seen now, or seen again). */
  record(review: SourceReview, sinceMs: number, at: number): void {
    const insert = this.db.prepare(`INSERT INTO log_patterns (source, level, pattern, first_seen, last_seen, last_count) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (source, level, pattern) DO UPDATE SET last_seen = excluded.last_seen, last_count = excluded.last_count`);
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO log_reviews (at, source, since, lines, errors, warnings) VALUES (?, ?, ?, ?, ?, ?)').run(at, review.source, sinceMs, review.lines, review.errors, review.warnings);
      for (const g of review.groups.slice(0, PATTERNS_KEPT)) insert.run(review.source, g.level, g.pattern, at, at, g.count);
    }).immediate();
  }
}

/** One source's review with what is new since the previous one. */
export interface ReviewedSource extends SourceOutcome {
  /** When it was last reviewed before this review; undefined: never. */
  previous?: number;
  /** The groups no earlier review saw (none on a first review). */
  fresh: LogGroup[];
}

/**
 * Reviews every source (or `only`) over the last `windowMs` and, when `record`, records the review
 * so the next one knows what is new: `opsdeck logs review` and the `logs.review` routine step.
 */
export async function reviewLogs(config: Config, db: BetterSqlite3.Database, o: { windowMs: number; only?: string; record: boolean; now?: number }): Promise<{ at: number; sinceMs: number; sources: ReviewedSource[] }> {
  const at = o.now ?? Date.now();
  const sinceMs = at - o.windowMs;
  const docker = config.services.some((s) => s.container || s.compose_service) ? dockerFor(config.docker.host) : undefined;
  const sources = await reviewSources(config, docker, sinceMs, o.only);
  const store = new LogReviewStore(db);
  return {
    at,
    sinceMs,
    sources: sources.map((s) => {
      if (!s.review) return { ...s, fresh: [] };
      const previous = store.lastReview(s.review.source);
      const fresh = newGroups(s.review, store.seen(s.review.source));
      if (o.record) store.record(s.review, sinceMs, at);
      return { ...s, ...(previous !== undefined ? { previous } : {}), fresh };
    }),
  };
}
