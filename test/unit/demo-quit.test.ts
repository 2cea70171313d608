import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keptForUnfinished, unfinishedRuns } from '../../src/cli/demo.js';
import { createRun, type StepDef } from '../../src/domain/runbook.js';
import { RunJournal } from '../../src/engine/journal.js';
import { openStateDb } from '../../src/state/statedb.js';

// Quitting `opsdeck demo`'s console removes the workspace — unless a run is unfinished there: its
// journal and safety copies live in that workspace (operator trial: `q` with a restore paused at a
// question deleted both).
describe('quitting the demo with a run unfinished', () => {
  it('a state folder with an open run keeps the demo and says why; one without lets it go', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-demo-quit-'));
    expect(await unfinishedRuns(dir)).toEqual([]); // no state database yet: nothing unfinished
    const db = await openStateDb(dir);
    try {
      expect(await unfinishedRuns(dir)).toEqual([]);
      const step: StepDef = { id: 'swap', title: 'swap in the restored file', detail: 'rename the copy over trading.db', confirm: true, optional: false, mutating: true };
      new RunJournal(db).create<unknown>({ id: 'restore-quit-1', kind: 'restore', subject: 'trading', targetKey: '/tmp/trading.db', hint: 'opsdeck restore --resume restore-quit-1', run: createRun([step]), ctx: { stopped: ['command:writer'] }, startedAt: Date.now() });
    } finally {
      db.close();
    }
    const open = await unfinishedRuns(dir);
    expect(open).toEqual([expect.stringMatching(/restore restore-quit-1 of trading is unfinished.*--resume restore-quit-1/)]);
    // The writer it stopped is still down: said (operator trial: quitting at a question left it stopped, silently).
    expect(open[0]).toMatch(/writers still stopped: writer \(its stop_command\)/);
    const lines = keptForUnfinished(open, '/ws', '/ws/opsdeck.yaml', '/ws');
    expect(lines[0]).toMatch(/the demo keeps running in \/ws/);
    expect(lines.join('\n')).toMatch(/restore-quit-1/);
    expect(lines.at(-1)).toMatch(/opsdeck demo --stop --dir \/ws .*deletes the workspace and its safety copies/);
    expect(keptForUnfinished([], '/ws', '/ws/opsdeck.yaml')).toEqual([]);
  });
});
