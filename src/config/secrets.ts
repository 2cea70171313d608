import { printable } from '../domain/printable.js';

/**
 * Secret redaction. Every value substituted from `${ENV}` and every password found in a URL is
 * registered here; everything opsdeck prints or stores passes through `redact()`.
 */
export class SecretRegistry {
  private readonly values = new Set<string>();
  private sorted: string[] | undefined;

  /** Remembers a secret value (short values are ignored: redacting "1" would garble output). */
  add(value: string | undefined): void {
    if (!value || value.length < 4) return;
    for (const v of spellings(value)) if (v.length >= 4) this.values.add(v);
    this.sorted = undefined;
  }

  /** Remembers every secret of another registry too; says whether one was new. */
  merge(other: SecretRegistry): boolean {
    const before = this.values.size;
    for (const v of other.values) this.values.add(v);
    this.sorted = undefined;
    return this.values.size !== before;
  }

  /** Replaces every known secret, any URL password and any credential in a URL's query by `***`. */
  redact(text: string): string {
    let out = text;
    // Known values first, longest first: a secret that contains another (a whole webhook URL given
    // as a secret, issue #12) is replaced whole, before the URL rules below change its spelling.
    this.sorted ??= [...this.values].sort((a, b) => b.length - a.length);
    for (const v of this.sorted) if (out.includes(v)) out = out.split(v).join('***');
    return redactUrlCredentials(out);
  }
}

/**
 * The ways a secret can be spelled in what opsdeck prints or stores: as it is, percent-encoded (in a
 * URL), escaped inside a JSON string, with its control characters escaped (printable), and, for a
 * URL, as the URL parser normalises it and as displayUrl shows it.
 */
function spellings(value: string): string[] {
  const out = [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), printable(value)];
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    out.push(redactUrlCredentials(value));
    try {
      const href = new URL(value).href;
      out.push(href, redactUrlCredentials(href));
    } catch {
      // not a URL after all
    }
  }
  return out;
}

// Query parameters whose value is a credential by their name: ?token=, ?access_token=, ?api_key=,
// ?apikey=, ?key=, ?secret=, ?password=, ?pwd=, ?sig=, ?signature=, ?auth=, ?credential=, ?session=.
// Also in a fragment (`#access_token=…`, OAuth's implicit flow; seen unredacted in an operator's trial of issue #25).
const CREDENTIAL_PARAM = /([?&;#](?:[\w.-]*?(?:token|secret|passw|pwd|key|auth|sig|credential|session)[\w.-]*)=)([^&#;\s"'<>]+)/gi;

/**
 * Replaces the password part of `scheme://user:password@host` URLs inside a text, and the value of a
 * query parameter named like a credential (`?token=…`, issue #12: redacted like the password).
 */
export function redactUrlCredentials(text: string): string {
  let out = text.includes('@') ? text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):([^\s@/]+)@/gi, '$1$2:***@') : text;
  if (out.includes('=') && (out.includes('?') || out.includes('&') || out.includes(';') || out.includes('#'))) out = out.replace(CREDENTIAL_PARAM, (_m, name: string, v: string) => (v === '***' ? `${name}${v}` : `${name}***`));
  return out;
}

/** The query parameters of a URL whose names say they are credentials (registered as secrets). */
export function credentialParams(url: URL): string[] {
  const out: string[] = [];
  for (const [name, value] of url.searchParams) if (new RegExp(CREDENTIAL_PARAM.source, 'i').test(`?${name}=x`)) out.push(value);
  return out;
}

/** A URL for display: credentials removed. */
export function displayUrl(url: string): string {
  return redactUrlCredentials(url);
}

/**
 * The secrets of every configuration this process loaded (a reload adds its own; a secret once
 * known stays redacted). Output, the state database, backup manifests and the console's frame all
 * redact through it.
 */
const active = new SecretRegistry();
let generation = 0;

/** Registers a loaded configuration's secrets process-wide. */
export function registerSecrets(secrets: SecretRegistry): void {
  if (active.merge(secrets)) generation++;
}

/** Changes whenever a new secret is registered (for caches of redacted text). */
export function secretsGeneration(): number {
  return generation;
}

/** Redacts every secret known to this process from a text. */
export function redactSecrets(text: string): string {
  return active.redact(text);
}

/**
 * A copy of a JSON-like value with every string value redacted; keys (structure: table names, ids),
 * numbers and the rest unchanged. For output; what opsdeck reads back redacts only its text fields.
 */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return active.redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}
