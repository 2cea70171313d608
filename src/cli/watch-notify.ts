import { describeHolder } from '../domain/lease.js';
import { NOTIFY_LEASE, type NotifierEvent } from '../state/notifier.js';
import { err, out, outJsonLine, type GlobalOptions } from './output.js';

/** `watch`'s line for what the notifier did (issue #19): NOTIFY queued / sent / failed, and its lease. */
export function onNotify(g: GlobalOptions, e: NotifierEvent): void {
  const at = new Date(e.at).toISOString();
  switch (e.kind) {
    case 'queued':
      if (g.json) outJsonLine({ at, event: 'notify-queued', channel: e.channel, key: e.key, kind: e.messageKind, subject: e.subject });
      else out(`${at} NOTIFY   ${e.channel} queued ${e.messageKind} ${e.subject} (${e.key})`);
      return;
    case 'sent':
      if (g.json) outJsonLine({ at, event: 'notify-sent', channel: e.channel, key: e.key, attempts: e.attempts });
      else out(`${at} NOTIFY   ${e.channel} sent ${e.key}${e.attempts > 1 ? ` after ${e.attempts} attempts` : ''}`);
      return;
    case 'failed':
      if (g.json) outJsonLine({ at, event: 'notify-failed', channel: e.channel, key: e.key, error: e.error, final: e.final });
      else out(`${at} NOTIFY   ${e.channel} ${e.final ? 'FAILED (given up)' : 'failed (will retry)'} ${e.key}: ${e.error}`);
      return;
    case 'error':
      if (g.json) outJsonLine({ at, event: 'notify-error', message: e.message });
      else err(`opsdeck: ${e.message}`);
      return;
    case 'lease-taken':
      if (g.json) outJsonLine({ at, event: 'lease-taken', lease: NOTIFY_LEASE, reason: e.reason });
      else out(`${at} LEASE    ${NOTIFY_LEASE} taken (${e.reason}): this watch sends the notifications`);
      return;
    case 'lease-lost':
      if (g.json) outJsonLine({ at, event: 'lease-lost', lease: NOTIFY_LEASE, ...(e.holder ? { holder: describeHolder(e.holder) } : {}), ...(e.error ? { error: e.error } : {}) });
      else out(`${at} LEASE    ${NOTIFY_LEASE} lost${e.holder ? ` to ${describeHolder(e.holder)}` : ''}${e.error ? `: ${e.error}` : ''}`);
      return;
  }
}
