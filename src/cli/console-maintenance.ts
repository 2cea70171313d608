import type BetterSqlite3 from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import { printable } from '../domain/printable.js';
import { reviewLogs, type ReviewedSource } from '../state/log-review.js';
import { ProbeValues } from '../state/probes.js';
import type { AppStore } from '../state/store.js';
import type { MaintSource, MaintView, ReviewRow } from '../ui/dialogs/MaintenanceDialog.js';
import { redact } from './output.js';

// The console's maintenance view (issue #23, M): the daily log review and the probes, computed here,
// off the render path — the review reads a day of logs (it may take a while: the view says
// "reviewing…" and keys keep working), the probes' recorded values are read from the state database
// when the view opens and every interval while it is open, never while a frame is drawn. A review is
// recorded (the next one, the console's or `opsdeck logs review`, compares with it) unless --read-only.

/** The window of the console's review: the daily review's. */
export const REVIEW_WINDOW_MS = 24 * 3_600_000;
/** The most frequent patterns shown per source (and up to two new ones beyond them). */
const TOP = 3;
/** Recorded values per probe for the sparkline (the view shows at most 30). */
const HISTORY = 30;

/** A text from a log line or an error, safe for the frame: secrets redacted, control characters escaped. */
const safe = (text: string): string => printable(redact(text));

/** One reviewed source as the view shows it. */
export function reviewRow(s: ReviewedSource): ReviewRow {
  const head = `${s.kind === 'service' ? 'service' : 'log'} ${s.name}`;
  if (!s.review) return { head: safe(head), from: safe(s.from), error: safe(s.error ?? 'unknown error'), top: [], patterns: 0, fresh: 0, first: false };
  const fresh = new Set(s.fresh.map((g) => `${g.level}\t${g.pattern}`));
  const isNew = (g: { level: string; pattern: string }) => fresh.has(`${g.level}\t${g.pattern}`);
  // The most frequent first; a new pattern outside the top still shows, after them.
  const most = s.review.groups.slice(0, TOP);
  const top = [...most, ...s.fresh.filter((g) => !most.includes(g)).slice(0, 2)];
  return {
    head: safe(head),
    from: safe(s.from),
    errors: s.review.errors,
    warnings: s.review.warnings,
    lines: s.review.lines,
    top: top.map((g) => ({ level: g.level, pattern: safe(g.pattern), count: g.count, fresh: isNew(g) })),
    patterns: s.review.groups.length,
    fresh: s.fresh.length,
    first: s.previous === undefined,
  };
}

/** The maintenance view's source for the console (App's `actions.maintenance`). */
export function consoleMaintenance(o: { db: BetterSqlite3.Database; store: AppStore; readOnly: boolean; config: () => Config; now?: () => number }): MaintSource {
  const now = o.now ?? Date.now;
  let view: MaintView = { review: { state: 'idle' }, probes: [] };
  const listeners = new Set<() => void>();
  const set = (next: Partial<MaintView>) => {
    view = { ...view, ...next };
    for (const l of listeners) l();
  };
  let reviewing = false;
  const review = () => {
    if (reviewing) return;
    reviewing = true;
    set({ review: { state: 'reviewing', since: now() } });
    reviewLogs(o.config(), o.db, { windowMs: REVIEW_WINDOW_MS, record: !o.readOnly, now: now() })
      .then(
        (r) => set({ review: { state: 'done', at: r.at, windowMs: REVIEW_WINDOW_MS, recorded: !o.readOnly, sources: r.sources.map(reviewRow) } }),
        (e: unknown) => set({ review: { state: 'failed', error: safe(e instanceof Error ? e.message : String(e)) } }),
      )
      .finally(() => {
        reviewing = false;
      });
  };
  const values = new ProbeValues(o.db);
  const readProbes = () => {
    const checks = o.store.getState().checks;
    set({
      probes: o.config().probes.map((p) => {
        const c = checks[`probe:${p.name}`];
        let history: number[] = [];
        try {
          history = values.last(p.name, HISTORY);
        } catch {
          // a busy state database costs the sparkline this time, never the view
        }
        return { name: p.name, unit: p.unit, status: c?.status, value: typeof c?.value === 'number' ? c.value : undefined, message: c ? safe(c.message) : undefined, history };
      }),
    });
  };
  return {
    open: () => {
      // After the frame that opened the view: nothing here runs while it is drawn.
      const first = setTimeout(() => {
        if (view.review.state === 'idle') review();
        readProbes();
      }, 0);
      const every = setInterval(readProbes, Math.max(1000, o.config().interval));
      return () => {
        clearTimeout(first);
        clearInterval(every);
      };
    },
    again: review,
    get: () => view,
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}
