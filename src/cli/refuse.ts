import { ExitError } from '../domain/errors.js';
import { recordAudit } from '../state/acks.js';
import { openStateDb } from '../state/statedb.js';
import { err } from './output.js';

/**
 * Refuses an action under --read-only: the refusal is recorded in the audit log of the state folder
 * `stateDir` (issue #12: every mutating path refuses and audits the refusal), then the command ends
 * with exit 1 and `message`. A state database that cannot be written is said on stderr; it never
 * turns the refusal into something else.
 */
export async function refuseReadOnly(stateDir: string, action: string, target: string, message: string): Promise<never> {
  try {
    const db = await openStateDb(stateDir);
    try {
      recordAudit(db, { action, target, outcome: 'refused', detail: '--read-only' });
    } finally {
      db.close();
    }
  } catch (e) {
    err(`opsdeck: warning: the refusal was not audited: ${(e as Error).message}`);
  }
  throw new ExitError(1, 'read-only', message);
}
