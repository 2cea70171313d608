import { describe, expect, it } from 'vitest';
import { errorCodeOf, exitCodeOf } from '../../src/cli/exit-codes.js';
import { ConfigError, ExitError, Failure, FAILURE_KINDS, UsageError } from '../../src/domain/errors.js';

// One failure model (issue #15): failures carry a kind; the CLI maps kinds to exit codes in one place.

describe('exit codes', () => {
  it('a corrupt backup is 2, every other failure kind 1; usage 64, config 78; anything else is an internal error, 70', () => {
    expect(exitCodeOf(new Failure('corrupt', 'x'))).toBe(2);
    for (const k of FAILURE_KINDS.filter((x) => x !== 'corrupt')) expect([k, exitCodeOf(new Failure(k, 'x'))]).toEqual([k, 1]);
    expect(exitCodeOf(new UsageError('x'))).toBe(64);
    expect(exitCodeOf(new ConfigError('x'))).toBe(78);
    expect(exitCodeOf(new ExitError(1, 'read-only', 'x'))).toBe(1);
    expect(exitCodeOf(new Error('boom'))).toBe(70);
  });

  it('the error code of a JSON error document is the failure kind', () => {
    expect(errorCodeOf(new Failure('not-found', 'x'))).toBe('not-found');
    expect(errorCodeOf(new UsageError('x'))).toBe('usage');
    expect(errorCodeOf(new TypeError('x'))).toBe('internal');
  });
});
