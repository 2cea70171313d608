import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { consoleArgv } from '../../src/cli/console-argv.js';
import { buildProgram } from '../../src/cli/program.js';

// Issue #27 point 4: a console started with its global options alone skips commander
// (src/cli/start.ts). Whatever that fast path takes, commander must take the same way: the console
// (the root command's action) with the same global options. Everything else falls back to commander.

/** What commander does with a command line: the command whose action runs and its options, or its error code. */
async function commander(args: string[]): Promise<{ command: string; opts: unknown } | { error: string }> {
  const program = buildProgram();
  let ran: { command: string; opts: unknown } | undefined;
  const quiet = { writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined };
  for (const c of [program, ...program.commands]) {
    c.configureOutput(quiet).action((...a: unknown[]) => {
      ran = { command: c.name(), opts: (a.at(-1) as Command).optsWithGlobals() };
    });
  }
  try {
    await program.parseAsync(['node', 'opsdeck', ...args]);
  } catch (e) {
    return { error: (e as { code?: string }).code ?? String(e) };
  }
  return ran ?? { error: 'nothing ran' };
}

describe('consoleArgv (the console without commander)', () => {
  it.each([
    [[], { color: true }],
    [['--config', 'a.yaml'], { color: true, config: 'a.yaml' }],
    [['-c', 'a.yaml'], { color: true, config: 'a.yaml' }],
    [['--config=a.yaml'], { color: true, config: 'a.yaml' }],
    [['--read-only'], { color: true, readOnly: true }],
    [['--no-color', '-c', 'a.yaml', '--read-only'], { color: false, config: 'a.yaml', readOnly: true }],
    [['-c', 'a.yaml', '--config', 'b.yaml'], { color: true, config: 'b.yaml' }],
    [['-c', 'check'], { color: true, config: 'check' }],
  ])('%j opens the console with %j, as commander does', async (args, opts) => {
    expect(consoleArgv(args)).toEqual(opts);
    expect(await commander(args)).toEqual({ command: 'opsdeck', opts });
  });

  it.each([
    [['check']],
    [['-c', 'a.yaml', 'watch']],
    [['--help']],
    [['-h']],
    [['-V']],
    [['--version']],
    [['--json']],
    [['-c']],
    [['--config=']],
    [['-c', '-x']],
    [['-ca.yaml']],
    [['--color']],
    [['--read-only=1']],
    [['--']],
    [['bogus']],
  ])('%j goes to commander', (args) => {
    expect(consoleArgv(args)).toBeUndefined();
  });

  it('every command line of up to three words it takes, commander takes to the console with the same options', async () => {
    const words = ['-c', '--config', 'a.yaml', '--config=b.yaml', '-cx.yaml', '--read-only', '--no-color', '--read-only=1', '-x', '', '--config=', 'check', '--', '-V', '--help', '--json', '-', '-c=x'];
    let taken = 0;
    const lines: string[][] = [[]];
    for (const a of words) {
      lines.push([a]);
      for (const b of words) {
        lines.push([a, b]);
        for (const c of words) lines.push([a, b, c]);
      }
    }
    for (const args of lines) {
      const fast = consoleArgv(args);
      if (!fast) continue;
      taken++;
      expect({ args, ran: await commander(args) }).toEqual({ args, ran: { command: 'opsdeck', opts: fast } });
    }
    expect(taken).toBeGreaterThan(50);
  });
});
