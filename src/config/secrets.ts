/**
 * Secret redaction. Every value substituted from `${ENV}` and every password found in a URL is
 * registered here; everything opsdeck prints or stores passes through `redact()`.
 */
export class SecretRegistry {
  private readonly values = new Set<string>();

  /** Remembers a secret value (short values are ignored: redacting "1" would garble output). */
  add(value: string | undefined): void {
    if (value && value.length >= 4) this.values.add(value);
    if (value && value.length >= 4 && encodeURIComponent(value) !== value) this.values.add(encodeURIComponent(value));
  }

  /** Replaces every known secret, and any URL password, in a text by `***`. */
  redact(text: string): string {
    let out = redactUrlCredentials(text);
    // Longest first, so a secret that contains another is replaced whole.
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(v).join('***');
    return out;
  }
}

/** Replaces the password part of `scheme://user:password@host` URLs inside a text. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):([^\s@/]+)@/gi, '$1$2:***@');
}

/** A URL for display: credentials removed. */
export function displayUrl(url: string): string {
  return redactUrlCredentials(url);
}
