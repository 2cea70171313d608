// `alertmanager:` (issue #25): the console shows the alerts of a Prometheus Alertmanager beside its
// own. `url` is the Alertmanager's base URL (a route prefix included: `http://am:9093/alertmanager`);
// it may carry basic auth (`https://user:pass@am.example`), so it is a secret as a whole (never
// printed: the `alertmanager:<host>` check names only its host and port).

import { z } from 'zod';
import { duration, httpUrl, MINUTE, SECOND } from './fields.js';
import type { SecretRegistry } from './secrets.js';

const fields = z.strictObject({
  /** The Alertmanager's base URL; `/api/v2/alerts` and `/api/v2/silences` are read under it. */
  url: httpUrl,
  /** How long one request may take before the Alertmanager counts as unreachable. */
  timeout: duration(5 * SECOND, { min: 100, max: 1 * MINUTE, why: 'how long one request to the Alertmanager may take' }),
  /** How often the console reads its alerts and silences. */
  interval: duration(15 * SECOND, { min: 1 * SECOND, max: 1 * MINUTE * 60, why: 'how often the console reads the Alertmanager' }),
});

/** The `alertmanager:` section (optional: absent, the console reads no Alertmanager). */
export const alertmanagerSchema = fields.optional();

export type AlertmanagerConfig = z.output<typeof fields>;

/** Registers the Alertmanager URL as a secret (a whole URL, and its password alone). */
export function alertmanagerSecrets(am: AlertmanagerConfig | undefined, secrets: SecretRegistry): void {
  if (!am) return;
  secrets.add(am.url);
  try {
    secrets.add(decodeURIComponent(new URL(am.url).password));
  } catch {
    // the schema already refused a URL that does not parse
  }
}
