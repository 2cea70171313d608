import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

// The one protocol between a run driven in a child process (`opsdeck <runbook> … --protocol`) and
// the console that shows it (issue #14): the child writes one JSON line per message or question on
// stdout and reads one answer per line on stdin; its last stderr line is its error. Both sides use
// this module, so the two ends cannot drift apart.

/** An answer to a step's question: run it, stop the run here, or skip the step (where offered). */
export type Answer = 'y' | 'n' | 's';

/** One step as the console's wizard shows it (issue #16: the DR plan's recovery progress tracker). */
export interface ProgressStep {
  id: string;
  title: string;
  /** Why the step is there, one sentence. */
  why?: string;
  status: 'pending' | 'confirming' | 'running' | 'verifying' | 'done' | 'failed' | 'skipped';
  startedAt?: number;
  endedAt?: number;
  attempt?: number;
  /** Its result, error or skip reason (one line, redacted). */
  note?: string;
}

/** Where a run stands: sent after every journaled transition. */
export interface Progress {
  run: string;
  runbook: string;
  subject: string;
  cursor: number;
  steps: ProgressStep[];
}

/**
 * What a driven run says: a message, a question with the answers it takes (`yn`, or `yns` when the
 * step may be skipped), or its progress. A question with `confirm` (giving rows up) is answered by
 * typing that word: the answer line is the typed text, and only the word itself is a yes.
 */
export type ProtocolMessage = { say: string } | { ask: string; choices: 'yn' | 'yns'; confirm?: string } | { progress: Progress };

/** One message as a line. */
export function encodeMessage(m: ProtocolMessage): string {
  return `${JSON.stringify(m)}\n`;
}

/** A line from the child: a message, or plain text (a line that is not ours is shown as said). */
export function decodeMessage(line: string): ProtocolMessage | undefined {
  try {
    const m = JSON.parse(line) as { say?: unknown; ask?: unknown; choices?: unknown; confirm?: unknown; progress?: unknown };
    if (typeof m.say === 'string') return { say: m.say };
    if (m.progress && typeof m.progress === 'object' && Array.isArray((m.progress as Progress).steps)) return { progress: m.progress as Progress };
    if (typeof m.ask === 'string') return { ask: m.ask, choices: m.choices === 'yns' ? 'yns' : 'yn', ...(typeof m.confirm === 'string' ? { confirm: m.confirm } : {}) };
  } catch {
    // not JSON: below
  }
  return line.trim() ? { say: line } : undefined;
}

/** An answer line as typed by a person or sent by the console: anything but y/yes (and s/skip where offered) is n. */
export function parseAnswer(line: string, skip: boolean): Answer {
  const a = line.trim().toLowerCase();
  if (a === 'y' || a === 'yes') return 'y';
  if (skip && (a === 's' || a === 'skip')) return 's';
  return 'n';
}

/**
 * A typed answer to a question that wants a confirmation word (giving rows up): yes only when the
 * line is the word itself (surrounding blanks aside, case and all); anything else — `y` included —
 * is a skip where the step may be skipped, else n. A reflex `y` never gives rows up.
 */
export function parseConfirmation(line: string, word: string, skip: boolean): Answer {
  if (line.trim() === word) return 'y';
  return skip ? 's' : 'n';
}

/** What the console hears from a driven run. */
export interface RunListener {
  onSay(text: string): void;
  /** `confirm`: the word the question wants typed (answer it with `answerText`), absent for a y/n question. */
  onAsk(question: string, choices: string, confirm?: string): void;
  /** Where the run stands (runbook runs send it after every transition; restore does not yet). */
  onProgress?(p: Progress): void;
  onExit(code: number, error?: string): void;
}

/** The console's handle on a driven run. */
export interface DrivenRun {
  answer(a: Answer): void;
  /** Answers a question that wants a confirmation word with the text the person typed (the run decides; optional: test doubles that are never asked for a word leave it out). */
  answerText?(text: string): void;
}

/** Reads a child's stdout as protocol messages. */
export function listen(stdout: Readable, to: Pick<RunListener, 'onSay' | 'onAsk' | 'onProgress'>): void {
  createInterface({ input: stdout }).on('line', (line) => {
    const m = decodeMessage(line);
    if (!m) return;
    if ('say' in m) to.onSay(m.say);
    else if ('progress' in m) to.onProgress?.(m.progress);
    else if (m.confirm !== undefined) to.onAsk(m.ask, m.choices, m.confirm);
    else to.onAsk(m.ask, m.choices);
  });
}

/** Sends an answer to a child's stdin. */
export function sendAnswer(stdin: Writable, a: Answer): void {
  stdin.write(`${a}\n`);
}

/** Sends typed text to a child's stdin as one answer line (line breaks and control characters dropped). */
export function sendText(stdin: Writable, text: string): void {
  stdin.write(`${[...text].filter((c) => c >= ' ' && c !== '\x7f').join('')}\n`);
}

/** The driven runs still going (the console asks at quit: `endDriven`). */
const going = new Set<ChildProcess>();

/**
 * The console is quitting: each driven run still going has its stdin closed — it pauses journaled
 * at its next question, as at ctrl-c in a terminal — and is waited for, up to `ms`. Returns how
 * many were going, so the console can say what it left unfinished.
 */
export async function endDriven(ms: number): Promise<number> {
  const now = [...going];
  if (!now.length) return 0;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(now.map((c) => new Promise<void>((res) => {
      if (c.exitCode !== null || c.signalCode !== null) return res();
      c.once('close', () => res());
      c.stdin?.end();
    }))),
    new Promise<void>((res) => (timer = setTimeout(res, ms))),
  ]);
  clearTimeout(timer);
  return now.length;
}

/**
 * Runs `opsdeck ARGS --protocol` as a child process (the console's wizards): the copy, checks and
 * waits never block the console's event loop. Its one-line error (stderr) ends the wizard.
 */
export function spawnDriven(args: readonly string[], events: RunListener, opts: { cli?: string; configFile?: string; what?: string } = {}): DrivenRun {
  const cli = opts.cli ?? process.argv[1] ?? 'opsdeck';
  const what = opts.what ?? 'run';
  const child = spawn(process.execPath, [cli, ...(opts.configFile ? ['--config', opts.configFile] : []), ...args, '--protocol'], { stdio: ['pipe', 'pipe', 'pipe'] });
  going.add(child);
  child.on('close', () => going.delete(child));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined); // the child may end before an answer arrives
  listen(child.stdout, events);
  child.on('error', (e) => events.onExit(1, `could not start the ${what}: ${e.message}`));
  child.on('close', (code) => {
    const last = stderr.trim().split('\n').at(-1)?.replace(/^opsdeck: /, '');
    events.onExit(code ?? 1, code === 0 ? undefined : last || `the ${what} ended with exit code ${String(code)}`);
  });
  return { answer: (a) => sendAnswer(child.stdin, a), answerText: (text) => sendText(child.stdin, text) };
}
