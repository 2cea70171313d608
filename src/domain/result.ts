/** Kinds of failure an adapter can report; the UI and alerts switch on these, never on messages. */
export type ErrorKind = 'unavailable' | 'timeout' | 'auth' | 'not-found' | 'invalid' | 'unknown';

/** An error a person can act on: what failed (`source`) and what to do about it (`message`). */
export interface ServiceError {
  kind: ErrorKind;
  source: string;
  message: string;
}

/** Typed outcome of every adapter call: adapters never throw into the caller. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ServiceError };

/** Wraps a value in a successful result. */
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

/** Builds a failed result. */
export const fail = <T = never>(kind: ErrorKind, source: string, message: string): Result<T> => ({
  ok: false,
  error: { kind, source, message },
});
