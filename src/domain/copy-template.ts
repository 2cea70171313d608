// Off-host copies of backups (issue #17): `backup.copy_command` and `backup.copy_verify_command` are
// argv lists run without a shell; each element may name the stored backup with `{{backup.path}}`,
// `{{backup.file}}`, `{{backup.id}}`, `{{backup.sha256}}` and `{{backup.database}}`. A value is put
// into its element as it is (never spliced into shell text), as runbook templates do.

/** The values a copy command may use. */
export const COPY_VALUES = ['backup.path', 'backup.file', 'backup.id', 'backup.sha256', 'backup.database'] as const;

/** One of `COPY_VALUES`. */
export type CopyValue = (typeof COPY_VALUES)[number];

const VAR = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The `{{…}}` names in an argv element that are not copy values (for the config's one-line error). */
export function unknownCopyValues(arg: string): string[] {
  return [...arg.matchAll(VAR)].map((m) => m[1] ?? '').filter((n) => !(COPY_VALUES as readonly string[]).includes(n));
}

/** The argv with every `{{backup.…}}` filled: each element stays one element, whatever a value holds. */
export function fillCopyArgv(argv: readonly string[], values: Readonly<Record<CopyValue, string>>): string[] {
  return argv.map((a) => a.replace(VAR, (whole, name: string) => ((COPY_VALUES as readonly string[]).includes(name) ? values[name as CopyValue] : whole)));
}

/** What is known about a backup's off-host copy; saved in its manifest as `offHost`. */
export interface OffHostCopy {
  /** When the copy (and its check) ended. */
  at: string;
  /** The copy command succeeded and no check found a difference. */
  ok: boolean;
  /** The copy's content was checked: its sha256 equals the backup's. */
  verified: boolean;
  /** One line: what was done or what failed (redacted in the manifest). */
  message: string;
  /** The copy's local path when the copy command printed one that was re-read. */
  where?: string;
  /** The sha256 of what was copied when it is not the backup's own: a files set's tar archive. */
  sha256?: string;
}

/** How `backup list` shows a backup's off-host copy. */
export type OffHostStatus = 'verified' | 'unverified' | 'FAILED' | 'none';

/** The off-host status of a backup from its manifest's `offHost`. */
export function offHostStatus(c: OffHostCopy | undefined): OffHostStatus {
  if (!c) return 'none';
  if (!c.ok) return 'FAILED';
  return c.verified ? 'verified' : 'unverified';
}
