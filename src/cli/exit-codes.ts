import { ExitError, Failure, type FailureKind } from '../domain/errors.js';

// The one place where failures become exit codes (issue #15; README "Exit codes"): 2 when a backup
// is corrupt, 1 for every other failure; a CLI ExitError carries its own (64 usage, 78 config); 70
// an internal error (a bug). Codes 0 and 3 (finished with a step skipped) are results, not failures.

const BY_KIND: Partial<Record<FailureKind, number>> = { corrupt: 2 };

/** The exit code of an error that ends a command. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof ExitError) return e.exitCode;
  if (e instanceof Failure) return BY_KIND[e.kind] ?? 1;
  return 70;
}

/** The `code` an `{error}` document names: a failure's kind, an ExitError's code, else `internal`. */
export function errorCodeOf(e: unknown): string {
  return e instanceof Failure || e instanceof ExitError ? e.code : 'internal';
}

/** Whether an error is one opsdeck raised on purpose (its message is for people as it is). */
export const isKnown = (e: unknown): e is Failure | ExitError => e instanceof Failure || e instanceof ExitError;
