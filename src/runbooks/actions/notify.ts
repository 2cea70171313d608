import type { AppConfig } from '../../config/schema.js';
import { Failure } from '../../domain/errors.js';
import type { GenericDeps } from '../../engine/actions.js';
import type { StepContext } from '../../engine/driver.js';
import { message } from '../../state/notifier.js';
import { Outbox } from '../../state/outbox.js';
import { openStateDb, stateDir } from '../../state/statedb.js';
import { configOf } from './config.js';

/**
 * app-update's `app.notify` with channels (issue #19): queues `apps[].notify` in the notification
 * outbox, one message per channel of `apps[].notify_channels`. Idempotent: the message's subject and
 * time are the run's (its id and start), so a step run again after a kill queues nothing new (same key).
 */
export async function queueAppNotice(x: StepContext<unknown, GenericDeps>, a: AppConfig): Promise<string> {
  const config = configOf(x, '(notify)');
  const channels = a.notify_channels ?? [];
  const missing = channels.filter((c) => !config.notify.channels.some((ch) => ch.name === c));
  if (missing.length) throw new Failure('params', `${a.name}: apps[].notify_channels names ${missing.join(', ')}, not in notify.channels`);
  const db = await openStateDb(x.deps.stateDir ?? stateDir(config.state_dir));
  try {
    const m = message(config, 'app', `app:${a.name}:${x.record.id}`, undefined, [{ checkId: `app:${a.name}`, status: 'ok', message: a.notify ?? '' }], x.record.startedAt);
    const queued = new Outbox(db).enqueue(channels.map((channel) => ({ channel, message: m })), Date.now());
    return `queued for ${channels.join(', ')}${queued.length < channels.length ? ` (${channels.length - queued.length} already queued by an earlier attempt)` : ''}: the notifier delivers it (opsdeck notify status)`;
  } finally {
    db.close();
  }
}
