import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { controlReader } from '../../src/demo/api.js';

describe("the demo API's control file", () => {
  it('a half-written file is not taken (the last good mode holds) and is read again once complete', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'opsdeck-control-')), 'control.json');
    writeFileSync(file, '{"mode":"slow","delayMs":2500}\n');
    const read = controlReader(file);
    expect(read().mode).toBe('slow');
    writeFileSync(file, ''); // a writer caught between truncate and write
    expect(read().mode).toBe('slow');
    writeFileSync(file, '{"mode":"errors"}\n');
    expect(read().mode).toBe('errors');
  });
});
