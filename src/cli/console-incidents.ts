import type BetterSqlite3 from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import type { EventBus } from '../engine/events.js';
import { actor, recordAudit } from '../state/acks.js';
import { incidentBanner } from '../state/incident-report.js';
import { incidentRulesRunner } from '../state/incident-rules.js';
import { IncidentStore } from '../state/incidents.js';
import type { Source } from '../state/sources.js';
import type { AppStore } from '../state/store.js';
import type { ConsoleActions } from '../ui/App.js';

/** How often the header's incident banner is read again (the RPO status reads the backup folders). */
const BANNER_MS = 5000;

/**
 * The console's incidents (issue #18): the rules (while this console holds the `incident-rules`
 * lease; never under --read-only), the header's banner of the open incident kept in the store, and
 * the I / N actions — refused and audited under --read-only, as every change the console makes.
 */
export function consoleIncidents(o: { db: BetterSqlite3.Database; bus: EventBus; store: AppStore; readOnly: boolean; config: () => Config }): {
  sources: () => Source[];
  actions: Pick<ConsoleActions, 'declareIncident' | 'noteIncident'>;
  stop: () => void;
} {
  const incidents = new IncidentStore(o.db);
  const rules = o.readOnly ? undefined : incidentRulesRunner({ bus: o.bus, stateDb: o.db, owner: 'console', config: o.config });
  let shown = '';
  const refresh = () => {
    try {
      const banner = incidentBanner(o.config(), incidents, Date.now());
      const text = JSON.stringify(banner ?? null);
      if (text === shown) return;
      shown = text;
      o.store.getState().actions.setIncident(banner);
    } catch {
      // A busy state database: the banner stays as it was until the next read.
    }
  };
  refresh();
  const timer = setInterval(refresh, BANNER_MS);
  timer.unref();
  // An incident the rules opened or joined shows at once, not at the next read (after the rules' own listener).
  const offs = (['alert.fired', 'alert.resolved'] as const).map((t) => o.bus.subscribe(t, () => void setImmediate(refresh)));
  const refused = (action: string, target: string) => {
    recordAudit(o.db, { action, target, outcome: 'refused', detail: '--read-only' });
    return { ok: false, text: `${action}: refused — opsdeck runs in --read-only mode` };
  };
  return {
    sources: () => (rules ? [rules.source()] : []),
    actions: {
      declareIncident: (severity, title) => {
        if (o.readOnly) return refused('incident.declare', '-');
        try {
          const r = incidents.declare({ severity, title, actor: actor(), at: Date.now() });
          recordAudit(o.db, { action: 'incident.declare', target: r.incident.id, outcome: 'ok', detail: `${severity}: ${title}${r.created ? '' : ' (already open: noted)'}` });
          refresh();
          return { ok: true, text: r.created ? `${r.incident.id} declared (${severity}): its RTO clock runs` : `${r.incident.id} is already open${r.raisedFrom ? `: raised from ${r.raisedFrom} to ${r.incident.severity}` : ''}; your title is noted` };
        } catch (e) {
          return { ok: false, text: `declare failed: state database: ${(e as Error).message}` };
        }
      },
      noteIncident: (id, text) => {
        if (o.readOnly) return refused('incident.note', id);
        try {
          const i = incidents.note(id, text, actor(), Date.now());
          if (!i) return { ok: false, text: `note: no incident ${id}` };
          recordAudit(o.db, { action: 'incident.note', target: id, outcome: 'ok', detail: text });
          return { ok: true, text: `note added to ${id}` };
        } catch (e) {
          return { ok: false, text: `note failed: state database: ${(e as Error).message}` };
        }
      },
    },
    stop: () => {
      clearInterval(timer);
      for (const off of offs) off();
      rules?.off();
    },
  };
}
