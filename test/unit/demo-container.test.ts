import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startContainer, type DemoState } from '../../src/demo/workspace.js';

// The demo runs without a container when it cannot have one, and says why; drills read `started`,
// never the note's text (issue #15).

describe('startContainer without an engine', () => {
  it('is not started, with the reason as its note, and leaves the demo without a container', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsdeck-demo-ct-'));
    const s: DemoState = { dir, config: join(dir, 'opsdeck.yaml'), db: join(dir, 'trading.db'), startedAt: 0, apiPort: 1, notes: [], interval: '5s', drills: [] };
    const r = await startContainer(s, { DOCKER_HOST: `unix://${join(dir, 'no.sock')}` });
    expect(r).toEqual({ started: false, note: `no container: no Docker engine socket at unix://${join(dir, 'no.sock')} (is dockerd running?)` });
    expect(s.container).toBeUndefined();
  });
});
