import { describe, expect, it } from 'vitest';
import { registerSecrets, SecretRegistry } from '../../src/config/secrets.js';
import sanitizeAnsi from '../../src/ui/ink/sanitize-ansi.js';

// The console's frame filter (scripts/build.mjs swaps it in for Ink's sanitize-ansi.js, issue #12).

describe('sanitizeAnsi (every text of the console frame)', () => {
  it('redacts secrets, keeps colours, removes OSC', () => {
    const r = new SecretRegistry();
    r.add('frame-secret-1');
    registerSecrets(r);
    expect(sanitizeAnsi('\x1b[31mredis://:frame-secret-1@h refused\x1b[39m \x1b]0;title\x07')).toBe('\x1b[31mredis://:***@h refused\x1b[39m ');
  });

  it('a secret registered later (a configuration reload) is redacted in a text shown before', () => {
    const text = 'token late-secret-22 in a message';
    expect(sanitizeAnsi(text)).toBe(text);
    const r = new SecretRegistry();
    r.add('late-secret-22');
    registerSecrets(r);
    expect(sanitizeAnsi(text)).toBe('token *** in a message');
  });
});
