import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/domain/format.js';

describe('formatBytes', () => {
  it('rounds rates below 1 KiB to whole bytes (a per-second rate is rarely an integer)', () => {
    expect(formatBytes(955.0898203592814)).toBe('955 B');
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(200 * 1024 * 1024)).toBe('200 MiB');
    expect(formatBytes(Number.NaN)).toBe('?');
  });
});
