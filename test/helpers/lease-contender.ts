// A process that contends for one lease in a loop (test/integration/lease.test.ts bundles it with
// esbuild and runs several at once on one state database). While it believes it holds the lease it
// counts itself into a shared `probe` table; a second holder at the same time would show as
// max_seen > 1. Prints one JSON line: how often it held the lease and how often an attempt errored.
import { openStateDb } from '../../src/state/statedb.js';
import { Lease, processIdentity } from '../../src/state/lease.js';

const [dir = '', roundsText = '100'] = process.argv.slice(2);
const db = await openStateDb(dir);
const lease = new Lease(db, 'contended', processIdentity('watch'), 60_000);
let held = 0;
let errors = 0;
for (let i = 0; i < Number(roundsText); i++) {
  const st = lease.acquire();
  if (st.error) errors++;
  if (st.held) {
    held++;
    db.prepare('UPDATE probe SET active = active + 1').run();
    db.prepare('UPDATE probe SET max_seen = max(max_seen, active)').run();
    await new Promise((r) => setTimeout(r, 1));
    db.prepare('UPDATE probe SET active = active - 1').run();
    lease.release();
  }
  await new Promise((r) => setTimeout(r, Math.random() * 2));
}
db.close();
process.stdout.write(`${JSON.stringify({ held, errors })}\n`);
