import { hostname } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { loadConfig } from '../config/load.js';
import { ExitError, UsageError } from '../domain/errors.js';
import { hostLabel } from '../domain/alertmanager.js';
import { describeHolder } from '../domain/lease.js';
import { deliver } from '../services/notify-send.js';
import { actor, recordAudit } from '../state/acks.js';
import { readLease } from '../state/lease.js';
import { message, NOTIFY_LEASE } from '../state/notifier.js';
import { Outbox } from '../state/outbox.js';
import { openStateDb, stateDir } from '../state/statedb.js';
import { out, outJson, useSecrets, type GlobalOptions } from './output.js';
import { refuseReadOnly } from './refuse.js';

/** Options of `opsdeck notify`. */
export interface NotifyOptions extends GlobalOptions {
  yes?: boolean;
}

const ACTIONS = ['status', 'test'] as const;

/**
 * `opsdeck notify status|test CHANNEL` (issue #19). status reads the outbox: per channel what is
 * pending, being retried, failed, delivered in the last day, and who sends (the `notifier` lease);
 * exit 0, or 1 when a message failed or is being retried. test sends one test message on a channel
 * now (asked first; --yes for scripts; refused and audited under --read-only): exit 0 delivered, 1 not.
 * 64 usage, 78 configuration. No URL, password or signing secret is ever printed.
 */
export async function notifyCommand(action: string, channel: string | undefined, g: NotifyOptions): Promise<number> {
  if (!(ACTIONS as readonly string[]).includes(action)) throw new UsageError(`notify: unknown action ${JSON.stringify(action)} (expected one of: ${ACTIONS.join(', ')})`);
  const loaded = loadConfig(g.config ? { file: g.config } : {});
  useSecrets(loaded.secrets);
  const { config } = loaded;
  const dir = stateDir(config.state_dir);
  const names = config.notify.channels.map((c) => c.name);
  if (action === 'test') {
    if (!channel) throw new UsageError(`notify test: expected a channel name (one of: ${names.join(', ') || 'none: notify.channels is empty'})`);
    const ch = config.notify.channels.find((c) => c.name === channel);
    if (!ch) throw new UsageError(`notify test: no channel ${JSON.stringify(channel)} in notify.channels (expected one of: ${names.join(', ') || 'none configured'})`);
    if (g.readOnly) await refuseReadOnly(dir, 'notify.test', channel, `notify test: refused: opsdeck runs in --read-only mode`);
    if (!(await confirm(g, `send a test message on ${channel} (${ch.type})?`))) {
      if (g.json) outJson({ channel, sent: false, cancelled: true });
      else out('nothing sent');
      return 1;
    }
    const db = await openStateDb(dir);
    try {
      const outbox = new Outbox(db);
      const now = Date.now();
      const m = message(config, 'test', `test:${channel}`, undefined, [{ checkId: `test:${channel}`, status: 'ok', message: `a test message from opsdeck, sent by ${actor()} at ${new Date(now).toISOString()}` }], now);
      // Queued not due for a minute: the lease holder's sender leaves it to this command (at least once either way: one key).
      const [q] = outbox.enqueue([{ channel, message: m }], now, now + 60_000);
      const row = q ? outbox.byKey(q.key) : undefined;
      if (!row) throw new ExitError(1, 'state', 'notify test: the message was not queued (state database)');
      outbox.beginAttempt(row.id, now + 60_000);
      const d = await deliver(ch, row.message, row.key, hostLabel(config, undefined, hostname()));
      if (d.ok) outbox.markSent(row.id, Date.now());
      else outbox.markFailed(row.id, d.error, undefined);
      recordAudit(db, { action: 'notify.test', target: channel, outcome: d.ok ? 'ok' : 'failed', ...(d.ok ? {} : { detail: d.error }) });
      if (g.json) outJson({ channel, type: ch.type, key: row.key, sent: d.ok, ...(d.ok ? {} : { error: d.error }) });
      else out(d.ok ? `${channel}: test message delivered (Idempotency-Key ${row.key})` : `${channel}: not delivered: ${d.error}`);
      return d.ok ? 0 : 1;
    } finally {
      db.close();
    }
  }
  const db = await openStateDb(dir);
  try {
    const outbox = new Outbox(db);
    const now = Date.now();
    const channels = outbox.status(now, names);
    const problems = outbox.problems(10);
    const lease = readLease(db, NOTIFY_LEASE);
    const sender = lease && lease.expiresAt > now ? describeHolder(lease) : undefined;
    const bad = channels.some((c) => c.failing > 0); // retrying, or given up since the channel last delivered one
    if (g.json) {
      outJson({
        sender: sender ?? null,
        channels: channels.map((c) => ({ ...c, type: config.notify.channels.find((x) => x.name === c.channel)?.type ?? 'removed', ...(c.lastSentAt ? { lastSentAt: new Date(c.lastSentAt).toISOString() } : {}) })),
        problems: problems.map((p) => ({ key: p.key, channel: p.channel, kind: p.kind, subject: p.subject, status: p.status, attempts: p.attempts, error: p.lastError ?? null, queuedAt: new Date(p.createdAt).toISOString(), ...(p.status === 'pending' ? { nextAttempt: new Date(p.nextAt).toISOString() } : {}) })),
      });
      return bad ? 1 : 0;
    }
    if (names.length === 0 && channels.length === 0) {
      out('no notification channels (notify.channels in the configuration; README "Notifications")');
      return 0;
    }
    out(`sender: ${sender ?? 'none (no opsdeck watch or console holds the notifier lease: queued messages wait)'}`);
    for (const c of channels) {
      const type = config.notify.channels.find((x) => x.name === c.channel)?.type ?? 'removed';
      out(`${c.channel} (${type}): ${c.sentLastDay} sent in 24 h, ${c.pending} pending${c.retrying ? ` (${c.retrying} retrying)` : ''}, ${c.failed} failed${c.lastSentAt ? `; last sent ${new Date(c.lastSentAt).toISOString()}` : ''}${c.lastError ? `; last error: ${c.lastError}` : ''}`);
    }
    for (const p of problems) out(`  ${p.status === 'failed' ? 'FAILED ' : 'RETRY  '} ${p.channel} ${p.kind} ${p.subject} after ${p.attempts} attempt${p.attempts === 1 ? '' : 's'}: ${p.lastError ?? ''}${p.status === 'pending' ? ` (next ${new Date(p.nextAt).toISOString()})` : ''}`);
    return bad ? 1 : 0;
  } finally {
    db.close();
  }
}

/** Asks in a terminal; `--yes` answers for scripts; no terminal and no --yes is a usage error. */
async function confirm(g: NotifyOptions, question: string): Promise<boolean> {
  if (g.yes) return true;
  if (!process.stdin.isTTY) throw new UsageError('notify test asks first: confirm in a terminal, or pass --yes');
  const rl = createInterface({ input: process.stdin, output: g.json ? process.stderr : process.stdout });
  try {
    return (await rl.question(`${question} [y/N] `)).trim().toLowerCase() === 'y';
  } finally {
    rl.close();
  }
}
