import { z } from 'zod';
import { parseDuration } from '../config/duration.js';
import { describeIssue, readYamlFile } from '../config/load.js';
import { ConfigError } from '../domain/errors.js';
import { TEMPLATE_ROOTS, templateVars } from './template.js';

// A runbook file (issue #16): a YAML document validated with the configuration's schema library,
// so a mistake is one line naming the file, the field and what was expected (exit 78), never a
// stack trace. What each field means is in README "Runbooks"; how a step becomes an engine step is
// src/runbooks/render.ts.

const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a name of lower-case letters, digits and "-"');
const duration = z.union([z.number().int().min(0), z.string()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined || ms > 3_600_000) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 500ms, 5s or 2m (at most 1h)' });
    return z.NEVER;
  }
  return ms;
});
const param = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())], { error: 'expected a text, a number, true/false or a list of texts' });
const actionRef = z.strictObject({ action: z.string().min(1), params: z.record(z.string(), param).default({}) });

const retry = z.strictObject({
  attempts: z.number().int().min(1).max(20),
  backoff: duration.default(1000),
  factor: z.number().min(1).max(10).default(2),
  cap: duration.default(60_000),
});

const onFailure = z.union([
  z.enum(['stop', 'rollback']),
  z.strictObject({ retry, then: z.enum(['stop', 'rollback']).default('stop') }),
], { error: 'expected stop, rollback, or { retry: { attempts, backoff }, then: stop | rollback }' });

const step = z
  .strictObject({
    id: name,
    title: z.string().min(1),
    /** One sentence a tired operator understands. */
    why: z.string().min(1, 'expected one sentence saying why this step is here'),
    action: z.string().min(1).optional(),
    params: z.record(z.string(), param).default({}),
    /** Shorthand for action exec: a list is one program and its arguments (no shell); a text needs `shell: true`. */
    exec: z.union([z.array(z.string()).min(1, 'expected the program and its arguments'), z.string().min(1)]).optional(),
    shell: z.boolean().default(false),
    timeout: duration.optional(),
    /** Ask before running (default: when the action changes something). */
    confirm: z.boolean().optional(),
    /** May be skipped with s (default true). */
    skippable: z.boolean().default(true),
    verify: actionRef.optional(),
    undo: actionRef.optional(),
    on_failure: onFailure.default('stop'),
  })
  .superRefine((s, ctx) => {
    if ((s.action === undefined) === (s.exec === undefined)) ctx.addIssue({ code: 'custom', path: ['action'], message: 'expected exactly one of action or exec' });
    if (typeof s.exec === 'string' && !s.shell) ctx.addIssue({ code: 'custom', path: ['exec'], message: 'expected a list of arguments (["/usr/bin/systemctl", "restart", "api"]); a text is run by /bin/sh only with shell: true' });
    if (Array.isArray(s.exec) && s.shell) ctx.addIssue({ code: 'custom', path: ['shell'], message: 'expected exec as one text with shell: true (a list is run without a shell)' });
  });

/** The schema of a runbook file. */
export const runbookSchema = z
  .strictObject({
    name,
    title: z.string().min(1),
    description: z.string().default(''),
    /** What it acts on: a configured service, database, Redis, endpoint, app (`apps`), a mount (host), or nothing. */
    target: z.enum(['service', 'database', 'redis', 'endpoint', 'host', 'app', 'none']),
    /** The restore (restore-database): the engine's restore runbook, with its own steps; `steps` must be empty. */
    builtin: z.literal('restore').optional(),
    steps: z.array(step).default([]),
  })
  .superRefine((r, ctx) => {
    if (r.builtin === undefined && r.steps.length === 0) ctx.addIssue({ code: 'custom', path: ['steps'], message: 'expected at least one step' });
    const seen = new Set<string>();
    r.steps.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step id ${JSON.stringify(s.id)} (each step needs its own: the journal resumes by id)` });
      seen.add(s.id);
      for (const v of templateVars(s)) {
        const root = v.split('.')[0] ?? '';
        const allowed = TEMPLATE_ROOTS[r.target];
        if (!(allowed as readonly string[]).includes(root)) ctx.addIssue({ code: 'custom', path: ['steps', i], message: `{{${v}}}: unknown value for a runbook whose target is ${r.target} (expected {{${allowed.join('.…}}, {{')}.…}})` });
      }
    });
  });

/** A validated runbook file. */
export type RunbookSpec = z.output<typeof runbookSchema>;
export type StepSpec = RunbookSpec['steps'][number];

/** Reads and validates a runbook file; a problem is a ConfigError naming the file and the field. */
export function parseRunbookFile(file: string): RunbookSpec {
  const raw = readYamlFile(file, 'runbook file');
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file}: (top level): expected a runbook (name, title, target, steps)`);
  const parsed = runbookSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${file}: ${describeIssue(parsed.error.issues[0], raw, new Map())}`);
  return parsed.data;
}
