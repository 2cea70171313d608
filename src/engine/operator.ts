import { createInterface, type Interface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import wrapAnsi from 'wrap-ansi';
import { encodeMessage, parseAnswer, parseConfirmation, type Answer } from './protocol.js';

// Who answers a run's questions (issue #14): a person at a terminal, a person in the console (over
// the protocol), or a policy for unattended runs (`--yes` today; self-healing next), which may
// refuse past a budget. The driver asks every operator the same way.

/**
 * A question about one step. `skip`: s (skip this step) is offered besides y and n. `confirm`: the
 * one irreversible choice (giving rows up) is not a y — the person types this word (the database's
 * name); anything else is s where skip is offered, else n (`parseConfirmation`).
 */
export interface Question {
  text: string;
  skip: boolean;
  confirm?: string;
}

/** The answers a line prompt offers: "[y/s/N]", or "[type trading to confirm, anything else skips]". */
function choicesOf(q: Question): string {
  if (q.confirm === undefined) return q.skip ? 'y/s/N' : 'y/N';
  return `type ${q.confirm} to confirm, anything else ${q.skip ? 'skips' : 'is N'}`;
}

/** A line typed at a question: y/n/s, or for a confirmation question the word or not. */
function answerOf(q: Question, line: string): Answer {
  return q.confirm === undefined ? parseAnswer(line, q.skip) : parseConfirmation(line, q.confirm, q.skip);
}

/** What the policy decided about one dangerous step. */
export type PolicyDecision = { ok: true } | { ok: false; reason: string };

/** Answers a run's questions and hears what it says. */
export interface Operator {
  /** `person`: steps that want confirmation are asked; `policy`: `approve` decides, nothing is asked. */
  readonly kind: 'person' | 'policy';
  say(text: string): void;
  ask(q: Question): Promise<Answer>;
  /** A policy's decision on a dangerous step it would run unattended (a person's operators always approve). */
  approve(stepId: string, at: number): PolicyDecision;
  close(): void;
}

/**
 * A question's text in lines of at most `columns - 1` (words kept whole; a longer word, e.g. a path,
 * is cut), then its answers (`[y/N]`) kept whole: after the last line when they fit, else on their own.
 */
export function wrapQuestion(text: string, columns: number | undefined, answers = ''): string[] {
  const tail = (last: string) => (!answers ? [last] : !columns || last.length + 1 + answers.length <= columns - 1 ? [`${last} ${answers}`] : [last, answers]);
  if (!columns || columns < 20) return tail(text);
  const lines = wrapAnsi(text, columns - 1, { hard: true, trim: true }).split('\n');
  return [...lines.slice(0, -1), ...tail(lines.at(-1) ?? '')];
}

/** Line prompts on a terminal (on stderr when stdout carries one JSON document). */
export class TerminalOperator implements Operator {
  readonly kind = 'person';
  private rl?: Interface;

  private asking: AbortController | undefined;

  /** `onInterrupt`: Ctrl+C on the terminal (at a question or while a step runs): the question is answered n and the caller stops the run between steps. */
  constructor(
    private readonly write: (text: string) => void,
    private readonly opts: { input?: Readable; output?: Writable; prompt?: (text: string) => string; onInterrupt?: () => void } = {},
  ) {}

  say(text: string): void {
    this.write(text);
  }

  async ask(q: Question): Promise<Answer> {
    if (!this.rl) {
      const rl = createInterface({ input: this.opts.input ?? process.stdin, output: this.opts.output ?? process.stdout });
      const onInterrupt = this.opts.onInterrupt;
      if (onInterrupt) {
        rl.on('SIGINT', () => {
          onInterrupt();
          this.asking?.abort();
        });
      }
      this.rl = rl;
    }
    const text = this.opts.prompt ? this.opts.prompt(q.text) : q.text;
    const asking = new AbortController();
    this.asking = asking;
    // Wrapped at word boundaries to the terminal's width (the terminal itself cuts mid-word); the
    // last line is readline's prompt, the ones before it are written as they are.
    const out = (this.opts.output ?? process.stdout) as Writable & { columns?: number; isTTY?: boolean };
    const lines = wrapQuestion(text, out.isTTY ? out.columns : undefined, `[${choicesOf(q)}]`);
    if (lines.length > 1) out.write(`${lines.slice(0, -1).join('\n')}\n`);
    try {
      return answerOf(q, await this.rl.question(`${lines.at(-1) ?? ''} `, { signal: asking.signal }));
    } catch (e) {
      // Ctrl+C at the question (readline's AbortError): n — the run stops where it is, journaled.
      if (!this.opts.onInterrupt || (e as { code?: string }).code !== 'ABORT_ERR') throw e;
      this.write('');
      return 'n';
    } finally {
      this.asking = undefined;
    }
  }

  approve(): PolicyDecision {
    return { ok: true };
  }

  close(): void {
    this.rl?.close();
  }
}

/**
 * The console drives the run: one JSON line per message or question out, one answer per line in. A
 * closed console (end of input) answers n: the run stops where it is, it never skips.
 */
export class ProtocolOperator implements Operator {
  readonly kind = 'person';
  private rl?: ReturnType<typeof createInterface>;
  private lines?: AsyncIterator<string>;

  constructor(
    private readonly input: Readable = process.stdin,
    private readonly output: Writable = process.stdout,
    private readonly clean: (text: string) => string = (t) => t,
  ) {}

  say(text: string): void {
    this.output.write(encodeMessage({ say: this.clean(text) }));
  }

  async ask(q: Question): Promise<Answer> {
    this.output.write(encodeMessage({ ask: this.clean(q.text), choices: q.skip ? 'yns' : 'yn', ...(q.confirm !== undefined ? { confirm: q.confirm } : {}) }));
    this.rl ??= createInterface({ input: this.input });
    this.lines ??= this.rl[Symbol.asyncIterator]();
    const next = await this.lines.next();
    return next.done ? 'n' : answerOf(q, next.value);
  }

  approve(): PolicyDecision {
    return { ok: true };
  }

  close(): void {
    this.rl?.close();
  }
}

/** How many dangerous steps a policy may run on its own in a window (self-healing's budget). */
export interface Budget {
  limit: number;
  windowMs: number;
  /** Dangerous steps this policy already ran before `at` within the window (from the audit log); default: none. */
  spentBefore?: (at: number, windowMs: number) => number;
}

/**
 * Unattended: steps run without a question, as `--yes` asked. Steps only a person may answer (a
 * give-up of rows) are the driver's to skip or stop. With a budget, a dangerous step past it is
 * refused, and the run stops there for a person.
 */
export class PolicyOperator implements Operator {
  readonly kind = 'policy';
  private readonly ran: number[] = [];

  constructor(
    private readonly write: (text: string) => void,
    private readonly budget?: Budget,
  ) {}

  say(text: string): void {
    this.write(text);
  }

  ask(): Promise<Answer> {
    // Never reached for a policy (the driver does not ask it); a policy never says yes by accident.
    return Promise.resolve('n');
  }

  approve(stepId: string, at: number): PolicyDecision {
    if (this.budget) {
      const { limit, windowMs } = this.budget;
      const before = this.budget.spentBefore?.(at, windowMs) ?? 0;
      const mine = this.ran.filter((t) => at - t < windowMs).length;
      if (before + mine >= limit) return { ok: false, reason: `refused by policy: its budget of ${limit} dangerous steps per ${Math.round(windowMs / 1000)} s is spent (${stepId} needs a person)` };
    }
    this.ran.push(at);
    return { ok: true };
  }

  close(): void {
    // nothing held
  }
}
