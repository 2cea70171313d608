import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoveryConfig, loadConfigFile } from '../../src/config/load.js';
import { redactUrlCredentials, SecretRegistry } from '../../src/config/secrets.js';
import { ConfigError } from '../../src/domain/errors.js';
import { basicAuth } from '../../src/services/http.js';

// Secrets (issue #12): redaction rules, and configuration errors that name the field, never the value.

function tmpConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'opsdeck-sec-'));
  const file = join(dir, 'opsdeck.yaml');
  writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('redaction rules', () => {
  it.each([
    ['a URL password', 'redis://:pw@10.0.0.1:6379 refused', 'redis://:***@10.0.0.1:6379 refused'],
    ['user and password', 'http://admin:s3cr3t@h/health', 'http://admin:***@h/health'],
    ['a token in the query', 'http://h/x?token=abc123&ms=5 answered 500', 'http://h/x?token=***&ms=5 answered 500'],
    ['api_key and signature in the query', 'https://h/x?a=1&api_key=K1&sig=zz', 'https://h/x?a=1&api_key=***&sig=***'],
    ['an ordinary query value stays', 'http://h/slow?ms=2300', 'http://h/slow?ms=2300'],
  ])('%s', (_n, text, expected) => {
    expect(redactUrlCredentials(text)).toBe(expected);
  });

  it('a secret in a URL query (from ${VAR}) is redacted in every spelling: raw, percent-encoded, inside JSON', () => {
    const file = tmpConfig('endpoints:\n  - name: api\n    url: "http://127.0.0.1:1/x?t=${TOK}"\n');
    const { secrets } = loadConfigFile(file, { TOK: 'a b"c/d' });
    const text = `http://127.0.0.1:1/x?t=a%20b%22c%2Fd ${JSON.stringify({ m: 'a b"c/d' })} a b"c/d`;
    expect(secrets.redact(text)).toBe('http://127.0.0.1:1/x?t=*** {"m":"***"} ***');
  });

  it('a credential in a URL fragment (#access_token=…) is redacted too', () => {
    expect(redactUrlCredentials('http://127.0.0.1:1/cb#access_token=fragtoken&state=x')).toBe('http://127.0.0.1:1/cb#access_token=***&state=x');
  });

  it('a literal credential in a config URL query is registered like a password', () => {
    const { secrets } = loadConfigFile(tmpConfig('endpoints:\n  - name: api\n    url: "http://127.0.0.1:1/x?access_token=Lit3ralTok"\n'), {});
    expect(secrets.redact('token was Lit3ralTok')).toBe('token was ***');
  });

  it('a webhook URL given as a secret is redacted whole, also after its password was hidden or it was normalised', () => {
    const r = new SecretRegistry();
    r.add('https://hooks.example/services/T000/B000/XyZ');
    r.add('https://bot:pw99@chat.example');
    expect(r.redact('POST https://hooks.example/services/T000/B000/XyZ failed')).toBe('POST *** failed');
    expect(r.redact('GET https://bot:***@chat.example timed out')).toBe('GET *** timed out');
    expect(r.redact('GET https://chat.example/ and https://bot:pw99@chat.example/')).not.toContain('pw99');
  });

  it('longest secret first: one that contains another is replaced whole', () => {
    const r = new SecretRegistry();
    r.add('abcd');
    r.add('xxabcdxx');
    expect(r.redact('xxabcdxx abcd')).toBe('*** ***');
  });
});

describe('configuration errors name the field and the variable, never the value', () => {
  const PW = 'Sup3r-S3cret-PW';

  it.each([
    ['a duration', 'interval: ${REDIS_PW}\n', /^.*opsdeck\.yaml: interval: expected a duration such as 30, "500ms", "30s", "5m", got "\$\{REDIS_PW\}" \(from the environment; its value is not shown\)$/],
    ['a boolean', 'services:\n  - name: a\n    critical: ${REDIS_PW}\n', /services\[0\]\.critical: expected boolean, got "\$\{REDIS_PW\}" \(from the environment; its value is not shown\)$/],
    ['a URL', 'redis:\n  - name: r\n    url: "http://:${REDIS_PW}@x"\n', /redis\[0\]\.url: expected a redis:\/\/ or rediss:\/\/ URL$/],
    ['a backup schedule', 'backup:\n  schedule: ${REDIS_PW}\n', /backup\.schedule: expected a backup schedule such as "15m", "1h" or off, got "\$\{REDIS_PW\}" \(from the environment; its value is not shown\)$/],
    ['a number', 'failure_threshold: ${REDIS_PW}\n', /failure_threshold: expected number, got "\$\{REDIS_PW\}"/],
  ])('%s', (_n, text, pattern) => {
    const msg = configError(() => loadConfigFile(tmpConfig(text), { REDIS_PW: PW }));
    expect(msg).not.toContain(PW);
    expect(msg).toMatch(pattern);
  });

  it('a short value from the environment is not shown either', () => {
    const msg = configError(() => loadConfigFile(tmpConfig('interval: ${X}\n'), { X: 'pw' }));
    expect(msg).toMatch(/interval: .*got "\$\{X\}" \(from the environment; its value is not shown\)$/);
    expect(msg).not.toMatch(/"pw"/);
  });

  it('a malformed REDIS_URL is named, not echoed with its password', () => {
    for (const url of ['http://:hunter2pass@10.0.0.1:6379', 'redis//:hunter2pass@10.0.0.1', ':hunter2pass@x']) {
      const msg = configError(() => discoveryConfig({ REDIS_URL: url }));
      expect(msg).toBe('REDIS_URL: expected a redis:// or rediss:// URL (its value is not shown: it may hold a password)');
    }
  });
});

describe('health_url with credentials (issue #12 point 6)', () => {
  it('is sent as a Basic Authorization header on the URL without them', () => {
    expect(basicAuth('http://ops%40x:p%3Ass@127.0.0.1:8080/health?x=1')).toEqual({
      url: 'http://127.0.0.1:8080/health?x=1',
      authorization: `Basic ${Buffer.from('ops@x:p:ss').toString('base64')}`,
    });
    expect(basicAuth('http://127.0.0.1:8080/health')).toEqual({ url: 'http://127.0.0.1:8080/health' });
  });
});
