import { ExitError } from '../domain/errors.js';
import type { SecretRegistry } from '../config/secrets.js';
import { redactUrlCredentials } from '../config/secrets.js';

/** Options every command shares. */
export interface GlobalOptions {
  config?: string;
  json?: boolean;
  readOnly?: boolean;
  color?: boolean;
}

let activeSecrets: SecretRegistry | undefined;

/** Registers the secrets of the loaded config, so every later output line is redacted. */
export function useSecrets(secrets: SecretRegistry): void {
  activeSecrets = secrets;
}

/** Redacts secrets (known values and URL passwords) from a text meant for output. */
export function redact(text: string): string {
  return activeSecrets ? activeSecrets.redact(text) : redactUrlCredentials(text);
}

/** Writes a line to stdout, secrets redacted. */
export function out(text: string): void {
  process.stdout.write(`${redact(text)}\n`);
}

/** Writes a line to stderr, secrets redacted. */
export function err(text: string): void {
  process.stderr.write(`${redact(text)}\n`);
}

/** Prints one JSON document on stdout (the `--json` contract), secrets redacted. */
export function outJson(doc: unknown): void {
  process.stdout.write(`${redact(JSON.stringify(doc, null, 2))}\n`);
}

/**
 * Reports an error that ends the command: one line on stderr (or one JSON document on stdout under
 * `--json`), never a stack trace unless OPSDECK_DEBUG is set. Returns the exit code.
 */
export function reportError(e: unknown, json: boolean): number {
  const exitCode = e instanceof ExitError ? e.exitCode : 70;
  const code = e instanceof ExitError ? e.code : 'internal';
  const message = e instanceof ExitError ? e.message : `internal error: ${(e as Error)?.message ?? String(e)} (set OPSDECK_DEBUG=1 for details)`;
  if (json) outJson({ error: { code, message } });
  else err(`opsdeck: ${message}`);
  if (process.env.OPSDECK_DEBUG && e instanceof Error && e.stack) err(e.stack);
  return exitCode;
}
