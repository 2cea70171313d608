import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';
import { externalAlerts, hostLabel, silenceMatchers, type ExternalAlert } from '../domain/alertmanager.js';
import type { CheckResult } from '../domain/check.js';
import { amHost, createAmSilence, readAlertmanager } from '../services/alertmanager.js';
import type { Source } from './sources.js';
import type { AppStore } from './store.js';

// Issue #25: the console reads a Prometheus Alertmanager's alerts and silences (`alertmanager:` in
// the configuration) every `interval` and shows them in its Alerts pane beside its own. What opsdeck
// itself sent (the same `id` label and the `host` label this console sends that check with) is left
// out. An Alertmanager that cannot be read is one check, `alertmanager:<host:port>` (kind
// `alertmanager`), WARNING — an alert like any other, never an exception; its alerts stay shown,
// marked stale, until it answers again.

/** The console's Alertmanager source, when `alertmanager:` is configured. */
export function alertmanagerSources(config: Config, store: AppStore, localHost: string = hostname()): Source[] {
  const am = config.alertmanager;
  if (!am) return [];
  const where = amHost(am.url);
  const id = `alertmanager:${where}`;
  const result = (status: CheckResult['status'], message: string, value?: number): CheckResult => ({ id, kind: 'alertmanager', target: where, status, message, ...(value !== undefined ? { value } : {}) });
  return [
    {
      id: 'alertmanager',
      refreshMs: am.interval,
      checkMs: am.interval,
      run: async () => {
        const r = await readAlertmanager(am.url, am.timeout);
        const { actions, amAlerts, checks } = store.getState();
        if (!r.ok) {
          if (amAlerts.some((a) => !a.external.stale)) actions.setAmAlerts(amAlerts.map((a) => ({ ...a, external: { ...a.external, stale: true } })));
          return [result('warning', `${r.error.message}: its alerts are not shown${amAlerts.length ? ` (the ${amAlerts.length} last read are marked stale)` : ''}`)];
        }
        const own = new Set(Object.keys(checks));
        const list = externalAlerts(r.value.alerts, r.value.silences, own, (checkId) => hostLabel(config, checkId, localHost));
        actions.setAmAlerts(list);
        const silenced = list.filter((a) => a.external.silence).length;
        return [result('ok', `Alertmanager at ${where}: ${list.length} alert${list.length === 1 ? '' : 's'} besides opsdeck's own${silenced ? ` (${silenced} silenced)` : ''}`, list.length)];
      },
    },
  ];
}

/**
 * Silences one Alertmanager alert in Alertmanager (the console's `s` on an `am:` row, asked first by
 * its dialog, which shows the matchers): every label of the alert, equal, from now for `ms`, created
 * by `actor`. What to say in the status line.
 */
export async function silenceInAlertmanager(config: Config, a: ExternalAlert, ms: number, actor: string, now: number = Date.now()): Promise<{ ok: boolean; text: string; silenceId?: string }> {
  const am = config.alertmanager;
  if (!am) return { ok: false, text: `${a.checkId}: no alertmanager: in the configuration (silence it in Alertmanager)` };
  const r = await createAmSilence(am.url, am.timeout, { matchers: silenceMatchers(a.external), startsAt: now, endsAt: now + ms, createdBy: actor, comment: `silenced from the opsdeck console (${config.name})` });
  return r.ok ? { ok: true, text: `${a.checkId} silenced in Alertmanager (silence ${r.value.slice(0, 8)})`, silenceId: r.value } : { ok: false, text: `${a.checkId}: not silenced: ${r.error.message}` };
}
