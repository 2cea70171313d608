import type BetterSqlite3 from 'better-sqlite3';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { safetyRetention, type SafetyCopyItem, type SafetyPolicy } from '../domain/safety-retention.js';

/** A safety copy on disk with what the journal says about its run. */
export interface SafetyCopy extends SafetyCopyItem {
  dir: string;
  sizeBytes: number;
  /** The run's status in the journal, when it is there. */
  status?: string;
}

/** The folder restores put their safety copies in: `<state dir>/safety/<run id>`. */
export const safetyRoot = (stateDirPath: string) => join(stateDirPath, 'safety');

/** The safety copies in a state directory, with their runs (read from the engine's `runs`). */
export function listSafetyCopies(stateDirPath: string, db: BetterSqlite3.Database): SafetyCopy[] {
  const root = safetyRoot(stateDirPath);
  if (!existsSync(root)) return [];
  const runs = new Map(
    (db.prepare("SELECT id, subject AS database, status, started_at FROM runs WHERE kind = 'restore'").all() as { id: string; database: string; status: string; started_at: number }[]).map((r) => [r.id, r]),
  );
  const out: SafetyCopy[] = [];
  for (const id of readdirSync(root)) {
    const dir = join(root, id);
    let st;
    try {
      st = statSync(dir);
    } catch {
      continue;
    }
    if (!st.isDirectory()) continue;
    let sizeBytes = 0;
    for (const f of readdirSync(dir)) {
      try {
        sizeBytes += statSync(join(dir, f)).size;
      } catch {
        // removed meanwhile
      }
    }
    const run = runs.get(id);
    out.push({ id, dir, sizeBytes, at: run?.started_at ?? st.mtimeMs, open: run?.status === 'open', ...(run ? { database: run.database, status: run.status } : {}) });
  }
  return out.sort((a, b) => b.at - a.at);
}

/** The retention decision over a state directory's safety copies. */
export function planSafetyPrune(copies: readonly SafetyCopy[], policy: SafetyPolicy, now = Date.now()): { keep: Map<string, string>; remove: SafetyCopy[] } {
  const d = safetyRetention(copies, policy, now);
  return { keep: d.keep, remove: copies.filter((c) => d.remove.includes(c.id)) };
}

/** Removes the safety copies retention no longer keeps; returns them. */
export function pruneSafetyCopies(stateDirPath: string, db: BetterSqlite3.Database, policy: SafetyPolicy, now = Date.now()): SafetyCopy[] {
  const { remove } = planSafetyPrune(listSafetyCopies(stateDirPath, db), policy, now);
  for (const c of remove) rmSync(c.dir, { recursive: true, force: true });
  return remove;
}
