import { Failure } from '../domain/errors.js';

// Values from the configuration in runbook steps (issue #16): `{{service.name}}`, `{{redis.name}}`,
// `{{param.prefix}}`. A value is put into one argv element or one parameter as it is — never
// spliced into shell text, so `; touch /tmp/x`, `$(…)`, backticks and newlines stay literal. In a
// `shell: true` step it is single-quoted (the only quoting /bin/sh leaves alone), so it stays one
// literal word there too; the preview shows the exact line.

/** The values a runbook may use, by its target kind; `target`, `check` and `param` always. */
export const TEMPLATE_ROOTS = {
  service: ['service', 'target', 'check', 'param'],
  database: ['database', 'target', 'check', 'param'],
  redis: ['redis', 'target', 'check', 'param'],
  endpoint: ['endpoint', 'target', 'check', 'param'],
  host: ['host', 'target', 'check', 'param'],
  app: ['app', 'target', 'check', 'param'],
  none: ['target', 'check', 'param'],
} as const satisfies Record<string, readonly string[]>;

// `{{name}}`, or `{{name | default}}`: the default when the name has no value (`{{param.revision | head}}`).
const VAR = /\{\{\s*([A-Za-z0-9_.-]+)\s*(?:\|\s*([^{}]*?)\s*)?\}\}/g;

/** The names used in a text (`service.name`). */
export function varsIn(text: string): string[] {
  return [...text.matchAll(VAR)].map((m) => m[1] as string);
}

/** Every `{{…}}` in a step: title, why, exec, params, verify and undo parameters. */
export function templateVars(step: { title: string; why: string; exec?: string | string[] | undefined; params: Record<string, unknown>; verify?: { params: Record<string, unknown> } | undefined; undo?: { params: Record<string, unknown> } | undefined }): string[] {
  const texts: string[] = [step.title, step.why];
  const add = (v: unknown) => {
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) for (const x of v) add(x);
  };
  add(step.exec);
  for (const p of [step.params, step.verify?.params ?? {}, step.undo?.params ?? {}]) for (const v of Object.values(p)) add(v);
  return texts.flatMap(varsIn);
}

/** A text for /bin/sh as one literal word: single-quoted, a `'` written as `'\''`. */
export const shellQuote = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;

/**
 * Fills the `{{…}}` of a text from `vars`. `shell`: each value single-quoted. A name without a
 * value is a `params` failure naming it and where it would come from.
 */
export function fill(text: string, vars: ReadonlyMap<string, string>, where: string, shell = false): string {
  return text.replace(VAR, (_m, name: string, dflt: string | undefined) => {
    const v = vars.get(name) ?? dflt;
    if (v === undefined) throw new Failure('params', `${where}: {{${name}}} has no value${hintFor(name)}`);
    return shell ? shellQuote(v) : v;
  });
}

function hintFor(name: string): string {
  if (name.startsWith('param.')) return ` (pass it with --param ${name.slice(6)}=VALUE)`;
  if (name === 'check.id') return ' (this target has no check of its own: pass --check ID)';
  const [root, field] = name.split('.');
  return root && field ? ` (the target's configuration has no ${field}: set ${root === 'service' ? 'services' : root === 'database' ? 'databases' : root === 'endpoint' ? 'endpoints' : root === 'app' ? 'apps' : root}[].${field})` : '';
}
