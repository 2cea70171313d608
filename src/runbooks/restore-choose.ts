import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Failure } from '../domain/errors.js';
import { formatRanges, size } from '../domain/ranges.js';
import { listBackups, type BackupManifest } from '../services/backup.js';
import { extractVerified } from '../services/backup-restore.js';
import { rowsHeld, type MissingRows } from '../services/merge.js';
import type { Target } from '../cli/backup.js';
import type { RestoreOptions } from '../cli/restore.js';
import type { Engine } from './restore.js';

// Which backup a restore takes (issue #10, #22): the candidates, by content for a merge, which newer
// ones were passed over and why; and the question a terminal gets before replacing a file whose
// rows are missing. Moved out of restore.ts (its run: start, resume, rollback).

/**
 * The backups a restore may use, best first: the one named, else the verified ones (taken before
 * `before`, when given), those taken during a loss last.
 */
export function backupCandidates(t: Target, id: string | undefined, before?: number, duringLoss: (at: number) => boolean = () => false): BackupManifest[] {
  const all = listBackups(t.dir);
  if (id) {
    const m = all.find((x) => x.id === id);
    if (!m) throw new Failure('not-found', `backup ${id}: not found in ${t.dir} (${all.length ? `newest: ${all.slice(0, 3).map((x) => x.id).join(', ')}` : 'no backups there'})`);
    if (m.verify && !m.verify.ok) throw new Failure('corrupt', `backup ${id}: failed verification (${m.verify.message}); it cannot be restored`);
    return [m];
  }
  const usable = before === undefined ? all : all.filter((x) => Date.parse(x.createdAt) < before);
  // A backup taken while rows were missing (between a loss and its recovery) lacks them: a restore
  // from it would lose them again. Such backups come last (issue #10; seen in the demo test when a
  // scheduled backup ran during a rows-deleted drill and a later whole-file restore picked it).
  const clean = usable.filter((x) => !duringLoss(Date.parse(x.createdAt)));
  const order = [clean.filter((x) => x.verify?.ok), clean.filter((x) => !x.verify), usable.filter((x) => x.verify?.ok), usable.filter((x) => !x.verify), all.filter((x) => x.verify?.ok), all.filter((x) => !x.verify)].flat();
  const out = [...new Set(order)];
  if (!out.length) throw new Failure('not-found', `no restorable backup of ${t.name} in ${t.dir}`);
  return out;
}

/**
 * Why the backups newer than the chosen one were passed over ("; passed over 2 newer backups: 1
 * taken while rows were missing (shop-…), 1 not verified (shop-…)"), or '' when none is newer. An
 * operator who sees an older backup chosen must not have to guess why (an operator's trial).
 */
export function passedOver(all: readonly BackupManifest[], m: BackupManifest, before: number | undefined, duringLoss: (at: number) => boolean): string {
  const chosenAt = Date.parse(m.createdAt);
  const newer = all.filter((x) => x.id !== m.id && Date.parse(x.createdAt) > chosenAt);
  if (!newer.length) return '';
  const why = new Map<string, string[]>();
  for (const x of newer) {
    const at = Date.parse(x.createdAt);
    const reason =
      x.verify && !x.verify.ok
        ? 'failed verification'
        : before !== undefined && at >= before
          ? 'taken after the missing rows were first noticed'
          : duringLoss(at)
            ? 'taken while rows were missing (the row-loss ledger)'
            : !x.verify && m.verify?.ok
              ? 'not verified'
              : 'holding fewer of the missing rows';
    why.set(reason, [...(why.get(reason) ?? []), x.id]);
  }
  const parts = [...why].map(([reason, ids]) => `${ids.length} ${reason} (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''})`);
  return `; passed over ${newer.length} newer backup${newer.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/** How many backups a merge opens at most to find one that holds the missing rows. */
const MERGE_CANDIDATES = 8;

/**
 * The backup a merge restores from, chosen by what it holds: the first candidate that holds every
 * row the ledger misses, else the one holding most (the earlier candidate on a tie). Time alone
 * cannot decide: a scheduled backup taken between a DELETE and the monitor's next look is older
 * than the loss as the ledger dates it, yet lacks the rows (issue #10, seen in the demo test).
 */
export async function chooseByContent(t: Target, candidates: readonly BackupManifest[], wanted: readonly MissingRows[]): Promise<{ m: BackupManifest; held?: number; total?: number; opened: number }> {
  let best: { m: BackupManifest; held: number; total: number } | undefined;
  let opened = 0;
  const tmp = join(dirname(t.path), `.${basename(t.path)}.restore-choose-${randomBytes(3).toString('hex')}`);
  for (const m of candidates.slice(0, MERGE_CANDIDATES)) {
    try {
      await extractVerified(join(t.dir, `${m.id}.db.br`), m.sha256, tmp, `backup ${m.id}`);
      const r = rowsHeld(tmp, wanted);
      opened++;
      if (!best || r.held > best.held) best = { m, held: r.held, total: r.total };
      if (r.held === r.total) break;
    } catch {
      // A damaged or unreadable candidate is passed over; the verify step reports on the one chosen.
    } finally {
      for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
    }
  }
  return best ? { ...best, opened } : { m: candidates[0] as BackupManifest, opened };
}

/**
 * At a terminal, without --merge or --tables, while the row-loss ledger misses rows of this
 * database: replacing the whole file brings them back only by giving up everything written since
 * the backup, a merge loses nothing. The operator is asked, and Enter (n) takes the merge — the way
 * that cannot lose a committed row. Under --yes, --dry-run and in the console the mode stays as given.
 */
export async function mergeWhenRowsAreMissing(e: Engine, t: Target, g: RestoreOptions): Promise<RestoreOptions> {
  if (g.merge || g.tables || g.protocol || g.yes || g.dryRun || e.op.kind !== 'person') return g;
  const missing = e.deps.ledger.entries(t.name).filter((x) => x.missing.length && t.critical.concat(t.normal).includes(x.table));
  if (!missing.length) return g;
  const rows = missing.map((x) => `${size(x.missing)} rows of ${x.table} (${x.key ?? 'id'} ${formatRanges(x.missing)})`).join(', ');
  const a = await e.op.ask({
    skip: false,
    text: `${rows} of ${t.name} are missing. A merge (--merge) brings back those a backup holds (it counts them first) and never changes a live row; replacing the whole file also loses every row written since the backup. Replace the whole file anyway? y replaces it · n (Enter) merges the missing rows back instead`,
  });
  if (a === 'y') return g;
  e.op.say(`merging the missing rows back (opsdeck restore --db ${t.name} --merge)`);
  return { ...g, merge: true };
}

/**
 * The backup a merge takes, and what the choose step says when it holds none of the missing rows.
 * Only a backup taken before the loss was noticed can hold the lost rows: in a newer one the missing
 * ids may hold new rows that reused them (INTEGER PRIMARY KEY takes max + 1) — counted by id, such a
 * backup "held" every lost trade, the merge inserted none and the ledger called them back (an
 * operator's trial). None taken before: the merge brings nothing back, and says so first.
 */
export async function chooseForMerge(t: Target, candidates: readonly BackupManifest[], wanted: readonly MissingRows[], lostSince: number): Promise<{ m: BackupManifest; none: string }> {
  const before = Number.isFinite(lostSince) ? candidates.filter((x) => Date.parse(x.createdAt) < lostSince) : candidates;
  const total = wanted.reduce((n, w) => n + (w.key ? size(w.missing) : 0), 0);
  const chosen = before.length ? await chooseByContent(t, before, wanted) : { m: candidates[0] as BackupManifest, held: 0, total, opened: 0 };
  const where = before.length ? `${chosen.opened} backup${chosen.opened === 1 ? '' : 's'} looked at` : 'no backup was taken before the loss was noticed: in newer ones the missing ids hold new rows';
  return { m: chosen.m, none: chosen.held === 0 && chosen.total ? `; it holds NONE of the ${chosen.total} missing rows (${where}): the merge brings nothing back, and the last step asks whether to give them up` : '' };
}
