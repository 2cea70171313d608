import { describe, expect, it } from 'vitest';
import { Header } from '../../src/ui/console/Header.js';
import { renderApp } from '../helpers/render.js';

// Issue #27 point 4: the console's first frame does not wait for ICU's first date format — the
// header's clock joins in the next frame, and every header after that has it from its first frame.
// (Its own file: the clock's state is the process's, and this must be the first header drawn in it.)

const NOW = Date.UTC(2026, 11, 3, 20, 15, 30);
const header = () => <Header name="trading" hostname="box" now={NOW} checks={{ 'system:health': { id: 'system:health', kind: 'system', target: 'stack', status: 'ok', critical: false, value: 100, message: '' } }} readOnly={false} oldestFiring={undefined} />;

describe('the header’s clock', () => {
  it('is left out of the process’s first frame and drawn in the next one', async () => {
    const time = new Date(NOW).toLocaleTimeString();
    const r = renderApp(header(), { columns: 120, rows: 5 });
    try {
      const first = r.frames[0] ?? '';
      expect(first).toContain('trading');
      expect(first).toContain('box');
      expect(first).toContain('health 100%');
      expect(first).not.toContain(time);
      expect(await r.waitFor((f) => f.includes(time))).toContain(`box ${time}`);
    } finally {
      r.unmount();
    }
    // A header drawn later (another view, a reload) has it from its first frame.
    const again = renderApp(header(), { columns: 120, rows: 5 });
    try {
      expect(again.frames[0]).toContain(`box ${time}`);
    } finally {
      again.unmount();
    }
  });
});
