import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

// Every trade the demo writer committed, on record outside the database (one line per trade: its
// id and executed_at), so a drill's score can say which committed trades a recovery lost — those
// written *during* the drill included. Before, the score counted only trades committed before the
// drill started: a whole-file restore that dropped the trades written between its backup and the
// restore scored "missing now: 0".

/** The writer's record of committed trades, beside the workspace's other logs (`<dir>/logs`). */
export function committedLogFor(db: string): string {
  return join(dirname(dirname(db)), 'logs', 'trades-committed.log');
}

/** Records one committed trade (after its INSERT returned). A record that cannot be written only means a score that counts less. */
export function recordCommitted(log: string, id: number | bigint, executedAt: string): void {
  try {
    appendFileSync(log, `${String(id)} ${executedAt}\n`);
  } catch {
    // the score then counts this trade neither way
  }
}

/**
 * Of the trades the writer committed at or after `fromIso` (up to `untilIso`, when given): how many,
 * and how many are in neither the trades table nor the merge's conflicts table now. A trade is
 * known by its executed_at (the writer commits one per tick, each with its own time): after a
 * restore new trades reuse ids, so an id alone would count a new trade as the lost one.
 */
export async function committedSince(db: BetterSqlite3.Database, log: string, fromIso: string, untilIso?: string): Promise<{ committed: number; missing: number }> {
  let text = '';
  try {
    text = await readFile(log, 'utf8');
  } catch {
    return { committed: 0, missing: 0 };
  }
  const times = text.split('\n').flatMap((l) => {
    const at = l.slice(l.indexOf(' ') + 1);
    return l.includes(' ') && at >= fromIso && (untilIso === undefined || at < untilIso) ? [at] : [];
  });
  if (!times.length) return { committed: 0, missing: 0 };
  const present = new Set((db.prepare('SELECT executed_at AS at FROM trades WHERE executed_at >= ?').all(fromIso) as { at: string }[]).map((r) => r.at));
  if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_opsdeck_conflicts_trades'").get()) {
    for (const r of db.prepare('SELECT executed_at AS at FROM _opsdeck_conflicts_trades WHERE executed_at >= ?').all(fromIso) as { at: string }[]) present.add(r.at);
  }
  return { committed: times.length, missing: times.filter((t) => !present.has(t)).length };
}

/**
 * Of the trades committed before a drill (an id up to `maxTradeId`, a time before its start), how
 * many are in the trades table or the merge's conflicts table now (a trade a merge kept there, a new
 * trade having taken its id, is kept, not lost — issue #10); and of those up to `backupMaxTradeId`,
 * when given. After a restore the writer reuses ids (INTEGER PRIMARY KEY takes max + 1), with new
 * times: the time tells them apart. Throws when the trades cannot be read (a corrupt file).
 */
export async function presentBeforeDrill(db: BetterSqlite3.Database, log: string, drill: { startedAt: number; maxTradeId: number; backupMaxTradeId?: number }): Promise<{ present: number; presentBeforeBackup?: number }> {
  const conflicts = !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_opsdeck_conflicts_trades'").get();
  const kept = conflicts
    ? ' + (SELECT count(DISTINCT c.id) FROM _opsdeck_conflicts_trades c WHERE c.id <= @max AND c.executed_at <= @before AND NOT EXISTS (SELECT 1 FROM trades t WHERE t.id = c.id AND t.executed_at = c.executed_at))'
    : '';
  const count = db.prepare(`SELECT (SELECT count(*) FROM trades WHERE id <= @max AND executed_at <= @before)${kept} AS n`);
  const before = new Date(drill.startedAt).toISOString();
  const present = (count.get({ max: drill.maxTradeId, before }) as { n: number }).n;
  // Trades re-entered under new ids (what the rows alert advises for those a merge kept aside): an id
  // above maxTradeId with a time before the drill that the writer did not commit (its log) and that
  // no trade counted above has. The writer's own trades of the drill's first instant are in its log.
  const late = db.prepare('SELECT id, executed_at AS at FROM trades WHERE id > ? AND executed_at <= ?').all(drill.maxTradeId, before) as { id: number; at: string }[];
  let reentered = 0;
  if (late.length) {
    let text = '';
    try {
      text = await readFile(log, 'utf8');
    } catch {
      // no log: every such row counts as re-entered
    }
    const written = new Set(text.split('\n'));
    const counted = new Set((db.prepare(`SELECT executed_at AS at FROM trades WHERE id <= ? AND executed_at <= ?${conflicts ? ' UNION SELECT executed_at FROM _opsdeck_conflicts_trades WHERE id <= ? AND executed_at <= ?' : ''}`).all(...(conflicts ? [drill.maxTradeId, before, drill.maxTradeId, before] : [drill.maxTradeId, before])) as { at: string }[]).map((r) => r.at));
    reentered = new Set(late.filter((r) => !written.has(`${r.id} ${r.at}`) && !counted.has(r.at)).map((r) => r.at)).size;
  }
  if (drill.backupMaxTradeId === undefined) return { present: present + reentered };
  return { present: present + reentered, presentBeforeBackup: (count.get({ max: drill.backupMaxTradeId, before }) as { n: number }).n + reentered };
}

/**
 * A drill's figures as its score keeps them once the next drill starts (runDrill): the trades
 * committed during it and how many of them are gone now, and of those committed before it how many
 * are present now — so a later drill's losses are that drill's (an operator's trial saw an earlier
 * score change after the fact). Unreadable trades (a corrupt file): the score counts them when it can.
 */
export async function countsAtNextDrill(db: BetterSqlite3.Database, log: string, drill: { startedAt: number; maxTradeId: number; backupMaxTradeId?: number }): Promise<{ committed: number; missing: number; present?: number; presentBeforeBackup?: number }> {
  let counted: Awaited<ReturnType<typeof presentBeforeDrill>> | undefined;
  try {
    counted = await presentBeforeDrill(db, log, drill);
  } catch {
    // left to the score
  }
  return { ...(await committedSince(db, log, new Date(drill.startedAt).toISOString())), ...counted };
}
