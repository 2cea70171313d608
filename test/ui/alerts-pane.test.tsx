import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/domain/alerts.js';
import { AlertsPane } from '../../src/ui/panes/AlertsPane.js';
import { renderApp } from '../helpers/render.js';

// An alert keeps the worst status seen while it fires (no CRITICAL ↔ WARNING flapping), so after a
// merge that kept conflicts the row read CRITICAL while the header said WARNING (operator trial): the
// row now says what the check is now, first.
describe('the alerts pane', () => {
  it('a CRITICAL alert whose check eased to WARNING reads "now WARNING:" before its message', async () => {
    const now = Date.UTC(2026, 11, 3, 3, 0, 0);
    const alert: Alert = { checkId: 'sqlite:trading:rows', state: 'firing', failStreak: 9, passStreak: 0, status: 'critical', current: 'warning', message: 'merge conflicts kept for review: 3 rows of trades', since: now - 60_000, firedAt: now - 57_000 };
    const r = renderApp(<AlertsPane alerts={[alert]} acks={() => ({ acknowledged: false })} selected={0} focused width={160} height={6} now={now} />, { columns: 160, rows: 10 });
    try {
      const f = await r.waitFor((f) => /sqlite:trading:rows/.test(f));
      expect(f).toMatch(/CRITICAL\s+sqlite:trading:rows\s+.*now WARNING: merge conflicts kept/);
    } finally {
      r.unmount();
    }
  });
});
