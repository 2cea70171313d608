/**
 * The one failure model (issue #15): what can go wrong, by kind. Services, the engine and runbooks
 * fail with a `Failure` of one of these kinds (or return a `Result` with an error kind,
 * src/domain/result.ts); only the CLI turns a kind into an exit code (src/cli/exit-codes.ts).
 * Nothing decides on a message's text.
 */
export const FAILURE_KINDS = [
  // the input or the world is not as expected
  'not-found', 'invalid', 'corrupt', 'mismatch', 'integrity', 'foreign-keys', 'no-key', 'params', 'schema',
  // the environment refused
  'read-only', 'read-only-fs', 'no-space', 'permission', 'busy', 'writers-running', 'unfinished', 'rolling-back', 'redacted', 'state', 'no-safety-copy',
  // a dependency failed
  'docker', 'writer', 'unhealthy', 'http', 'exec', 'check', 'redis', 'disk',
  // a run ended without finishing
  'cancelled', 'paused', 'step', 'backup', 'restore', 'rollback',
  // a bug in opsdeck
  'internal',
] as const;

/** One kind of failure. */
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** A failure of a kind, with a one-line message for people (never a stack trace). */
export class Failure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'Failure';
  }

  /** The kind, as `{"error": {"code"}}` documents name it. */
  get code(): string {
    return this.kind;
  }
}

/**
 * A failure of the command line itself, with its exit code: usage (64), configuration (78), and the
 * CLI's own refusals. Services, the engine and runbooks never throw it (they throw `Failure`).
 */
export class ExitError extends Error {
  constructor(
    readonly exitCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ExitError';
  }
}

/** Exit code 64 (EX_USAGE): the command line was wrong. */
export class UsageError extends ExitError {
  constructor(message: string) {
    super(64, 'usage', message);
    this.name = 'UsageError';
  }
}

/** Exit code 78 (EX_CONFIG): the configuration file is missing, unreadable or invalid. */
export class ConfigError extends ExitError {
  constructor(message: string) {
    super(78, 'config', message);
    this.name = 'ConfigError';
  }
}
