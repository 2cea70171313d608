import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun, type StepDef } from '../../src/domain/runbook.js';
import { Driver } from '../../src/engine/driver.js';
import { RunJournal, type RunRecord } from '../../src/engine/journal.js';
import { PolicyOperator, ProtocolOperator, TerminalOperator, type Operator } from '../../src/engine/operator.js';
import { decodeMessage, parseConfirmation } from '../../src/engine/protocol.js';
import { restoreRunbook, type RestoreCtx } from '../../src/runbooks/restore-steps.js';
import { RowLedger } from '../../src/state/row-ledger.js';
import { openStateDb } from '../../src/state/statedb.js';

// The restore's accept-loss step through the real driver, journal and row-loss ledger (a real
// state database): giving committed rows up is the one irreversible choice, so a reflex `y` is a
// no — only the database's name, typed, gives them up — at a terminal and over the console's
// protocol alike; --yes alone never does, --accept-loss still does.

let db: BetterSqlite3.Database;
beforeAll(async () => {
  db = await openStateDb(mkdtempSync(join(tmpdir(), 'opsdeck-accept-loss-')));
});
afterAll(() => db.close());

const acceptStep: StepDef = { id: 'accept-loss', title: 'rows still missing', detail: 'ask whether to give them up', confirm: true, optional: true, mutating: false };

let n = 0;
/** A run at its accept-loss step, database `shop<n>` missing orders 4–6 per the ledger. */
function atAcceptLoss(over: Partial<RestoreCtx> = {}): { run: RunRecord<RestoreCtx>; journal: RunJournal; ledger: RowLedger; audit: string[]; database: string } {
  const database = `shop${++n}`;
  const ledger = new RowLedger(db);
  ledger.observe(database, 'orders', 'id', { lostNow: [], added: [[1, 10]], count: 10 });
  ledger.observe(database, 'orders', 'id', { lostNow: [[4, 6]], added: [], count: 7 });
  const journal = new RunJournal(db);
  const ctx = { database, criticalTables: ['orders'], ...over } as RestoreCtx;
  const run = journal.create<RestoreCtx>({ id: `restore-accept-${n}`, kind: 'restore', subject: database, targetKey: `/tmp/${database}.db`, hint: 'restore --resume', run: createRun([acceptStep]), ctx, startedAt: Date.now() });
  return { run, journal, ledger, audit: [], database };
}

async function drive(s: ReturnType<typeof atAcceptLoss>, op: Operator) {
  const book = restoreRunbook((action, _target, outcome, detail) => s.audit.push(`${action} ${outcome} ${detail ?? ''}`));
  const o = await new Driver(book, s.journal, op, { ledger: s.ledger }).drive(s.run);
  op.close();
  return o;
}

/** A person at a terminal who types `answer` once the prompt shows; what the terminal showed. */
function terminal(answer: string): { op: TerminalOperator; shown: () => string } {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d: Buffer) => {
    shown += d.toString();
    if (/\]\s*$/.test(shown)) input.write(`${answer}\n`);
  });
  return { op: new TerminalOperator((t) => (shown += `${t}\n`), { input, output }), shown: () => shown };
}

/** The console's end of the protocol: answers the question with the typed text; the messages the run sent. */
function console_(typed: string): { op: ProtocolOperator; sent: () => unknown[] } {
  const input = new PassThrough();
  const output = new PassThrough();
  const sent: unknown[] = [];
  output.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      const m = decodeMessage(line);
      sent.push(m);
      if (m && 'ask' in m) input.write(`${typed}\n`);
    }
  });
  return { op: new ProtocolOperator(input, output), sent: () => sent };
}

describe('the accept-loss question wants the database name typed', () => {
  it('y at a terminal is a no: the rows stay missing, the step is skipped (exit 3 path), nothing audited as given up', async () => {
    const s = atAcceptLoss();
    const t = terminal('y');
    const o = await drive(s, t.op);
    expect(t.shown()).toMatch(new RegExp(`give up 3 rows of orders \\(id 4–6\\)\\?[^]*Type ${s.database} to record them as given up[^]*anything else, y included, keeps them missing[^]*\\[type ${s.database} to confirm, anything else skips\\] `));
    expect(o.kind).toBe('completed');
    expect(o.kind === 'completed' && o.skipped.map((x) => x.reason)).toEqual([`skipped by the operator: not given up (only typing ${s.database} gives them up): the rows stay missing; the row-loss alert keeps firing`]);
    expect(s.ledger.entry(s.database, 'orders')?.missing).toEqual([[4, 6]]);
    expect(s.audit.filter((a) => a.startsWith('restore.accept-loss'))).toEqual([]);
  });

  it('rows the safety copy still holds are named in the question, with its path (a whole-file restore replaced them: not gone)', async () => {
    const safetyDir = mkdtempSync(join(tmpdir(), 'opsdeck-accept-safety-'));
    const old = new Database(join(safetyDir, 'shop.db'));
    old.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT); INSERT INTO orders (id, item) VALUES (3, \'c\'), (4, \'d\'), (5, \'e\');');
    old.close();
    const s = atAcceptLoss({ safetyDir, dbPath: '/srv/shop.db' });
    const t = terminal('y');
    await drive(s, t.op);
    expect(t.shown()).toContain(`The safety copy ${join(safetyDir, 'shop.db')} (the database as it was before this restore) still holds 2 of the orders rows: giving them up does not delete it`);
    // Without a readable safety copy nothing is claimed.
    const none = atAcceptLoss({ safetyDir: join(safetyDir, 'missing'), dbPath: '/srv/shop.db' });
    const t2 = terminal('y');
    await drive(none, t2.op);
    expect(t2.shown()).not.toContain('The safety copy');
  });

  it('the database name typed at a terminal gives them up: ledger cleared, journaled and audited as a typed confirmation', async () => {
    const s = atAcceptLoss();
    const o = await drive(s, terminal(`  ${s.database} `).op);
    expect(o.kind === 'completed' && o.skipped).toEqual([]);
    expect(s.ledger.entry(s.database, 'orders')?.missing).toEqual([]);
    expect(s.audit).toEqual([`restore.accept-loss ok given up, recorded in the state database: orders: 3 rows given up (ids 4–6) (the operator typed "${s.database}" to confirm)`]);
    expect(s.journal.lines(s.run.id).find((l) => l.event === 'confirm')?.detail).toBe(`confirmed by typing "${s.database}"`);
  });

  it('over the protocol (the console): the question carries the word; y is a no, the typed name gives them up', async () => {
    const no = atAcceptLoss();
    const c = console_('y');
    await drive(no, c.op);
    expect(c.sent().find((m) => !!m && typeof m === 'object' && 'ask' in m)).toMatchObject({ choices: 'yns', confirm: no.database });
    expect(no.ledger.entry(no.database, 'orders')?.missing).toEqual([[4, 6]]);

    const yes = atAcceptLoss();
    await drive(yes, console_(yes.database).op);
    expect(yes.ledger.entry(yes.database, 'orders')?.missing).toEqual([]);
  });

  it('--yes never gives rows up; --accept-loss still does, audited as the flag', async () => {
    const policy = atAcceptLoss();
    const o = await drive(policy, new PolicyOperator(() => undefined));
    expect(o.kind === 'completed' && o.skipped[0]?.reason).toMatch(/^not given up without a person's answer \(--yes never gives up rows/);
    expect(policy.ledger.entry(policy.database, 'orders')?.missing).toEqual([[4, 6]]);

    const flag = atAcceptLoss({ acceptLoss: true });
    await drive(flag, new PolicyOperator(() => undefined));
    expect(flag.ledger.entry(flag.database, 'orders')?.missing).toEqual([]);
    expect(flag.audit[0]).toMatch(/^restore\.accept-loss ok given up, recorded in the state database: orders: 3 rows given up \(ids 4–6\) \(by --accept-loss\)$/);
  });

  it.each([
    ['shop', 'y'],
    [' shop\t', 'y'],
    ['y', 's'],
    ['yes', 's'],
    ['SHOP', 's'],
    ['', 's'],
    ['shop!', 's'],
  ] as const)('parseConfirmation(%j, "shop") → %s', (line, answer) => {
    expect(parseConfirmation(line, 'shop', true)).toBe(answer);
    expect(parseConfirmation(line, 'shop', false)).toBe(answer === 's' ? 'n' : 'y');
  });
});
