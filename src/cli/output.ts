import { errorCodeOf, exitCodeOf, isKnown } from './exit-codes.js';
import { printable } from '../domain/printable.js';
import type { SecretRegistry } from '../config/secrets.js';
import { redactDeep, redactSecrets, registerSecrets } from '../config/secrets.js';

/** Options every command shares. */
export interface GlobalOptions {
  config?: string;
  json?: boolean;
  readOnly?: boolean;
  color?: boolean;
}

/**
 * Registers the secrets of a loaded config, so every later output line is redacted. (Loading a
 * config registers them already; this stays for callers that build a registry themselves.)
 */
export function useSecrets(secrets: SecretRegistry): void {
  registerSecrets(secrets);
}

/** Redacts secrets (known values, URL passwords, credentials in URL queries) from a text meant for output. */
export function redact(text: string): string {
  return redactSecrets(text);
}

/**
 * Writes a line to stdout: secrets redacted, control characters shown escaped (a value holding an
 * escape sequence must not act on the terminal: issue #12). Newlines stay.
 */
export function out(text: string): void {
  process.stdout.write(`${printable(redact(text), { keepNewlines: true })}\n`);
}

/**
 * Writes a text coloured by opsdeck itself (`check`'s table): as `out`, but its colour codes stay.
 * Every value in it must have been escaped with `printable` already.
 */
export function outStyled(text: string): void {
  process.stdout.write(`${printable(redact(text), { keepNewlines: true, keepSgr: true })}\n`);
}

/** Writes a line to stderr, secrets redacted and control characters escaped. */
export function err(text: string): void {
  process.stderr.write(`${printable(redact(text), { keepNewlines: true })}\n`);
}

/**
 * JSON text for a terminal: JSON.stringify escapes C0 control characters but not DEL and C1
 * (U+007F–U+009F, which some terminals obey as 8-bit CSI and OSC); these become \u escapes too.
 */
function jsonText(doc: unknown, indent?: number): string {
  return JSON.stringify(redactDeep(doc), null, indent).replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Prints one JSON document on stdout (the `--json` contract), secrets redacted. */
export function outJson(doc: unknown): void {
  process.stdout.write(`${jsonText(doc, 2)}\n`);
}

/** Prints one JSON document as one line (`watch --json`: one object per line, always), secrets redacted. */
export function outJsonLine(doc: unknown): void {
  process.stdout.write(`${jsonText(doc)}\n`);
}

/** The `{error: {code, message}}` document of an error. */
export function errorDoc(e: unknown): { error: { code: string; message: string } } {
  const code = errorCodeOf(e);
  const message = isKnown(e) ? e.message : `internal error: ${(e as Error)?.message ?? String(e)} (set OPSDECK_DEBUG=1 for details)`;
  return { error: { code, message } };
}

/**
 * Reports an error that ends the command: one line on stderr (or one JSON document on stdout under
 * `--json`, on one line: `watch --json` promises one object per line), never a stack trace unless
 * OPSDECK_DEBUG is set. Returns the exit code.
 */
export function reportError(e: unknown, json: boolean): number {
  const exitCode = exitCodeOf(e);
  const doc = errorDoc(e);
  // An error may carry the document its command would have printed (a failed runbook run: its steps).
  const carried = e instanceof Error && 'json' in e && typeof e.json === 'object' && e.json !== null ? e.json : undefined;
  if (json) outJsonLine(carried ? { ...carried, ...doc } : doc);
  else err(`opsdeck: ${doc.error.message}`);
  if (process.env.OPSDECK_DEBUG && e instanceof Error && e.stack) err(e.stack);
  return exitCode;
}
