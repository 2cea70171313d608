/** An error that ends a command with a specific exit code and a one-line message (never a stack trace). */
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
