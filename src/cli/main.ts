#!/usr/bin/env -S npx tsx
/**
 * `vigil <command> …` — the command-line entry point (`npm run -s vigil -- <command> …`).
 * Each command lives in its own file and is imported only when it runs; add one to COMMANDS. A command answers
 * `--help` itself (its options, what it prints, an example); the words before a subcommand (`capture`) are a group,
 * and `vigil capture` lists the group's commands.
 * Exit codes: the command's own; 2 for an unknown command or bad usage.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CliIo } from './capture-export.ts';

interface Command {
  /** one or more words, e.g. 'capture export' */
  name: string;
  summary: string;
  run: (args: string[], io: CliIo) => Promise<number>;
}

const COMMANDS: Command[] = [
  {
    name: 'predict',
    summary: 'classify images locally with a bundled model, one JSON line per image',
    run: async (args, io) => (await import('./predict.ts')).predictCommand(args, io),
  },
  {
    name: 'attack',
    summary: "make adversarial images toward a class with a bundled model's debug graph, one JSON line per image",
    run: async (args, io) => (await import('./attack.ts')).attackCommand(args, io),
  },
  {
    name: 'demo',
    summary: "the write-up end to end: clean and adversarial traffic, the monitor's alert, explanations, a report",
    run: async (args, io) => (await import('./demo.ts')).demoCommand(args, io),
  },
  {
    name: 'capture export',
    summary: "write an endpoint's captures as SageMaker data-capture JSON Lines",
    run: async (args, io) => (await import('./capture-export.ts')).captureExportCommand(args, io),
  },
];

const HELP_FLAGS = new Set(['--help', '-h', 'help']);

function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}   ${right}`);
}

/** `vigil help`: every command */
export function usage(): string {
  return [
    'usage: vigil <command> [options]        (in the repository: npm run -s vigil -- <command> [options])',
    '',
    'commands:',
    ...table([
      ...COMMANDS.map((c): [string, string] => [c.name, c.summary]),
      ['help [command]', "this message, or a command's help"],
    ]),
    '',
    "run 'vigil <command> --help' for a command's options, what it prints and an example",
  ].join('\n');
}

/** `vigil capture`: the commands of a group */
export function groupUsage(group: string): string {
  const members = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  return [
    `usage: vigil ${group} <command> [options]`,
    '',
    'commands:',
    ...table(members.map((c) => [c.name.slice(group.length + 1), c.summary])),
    '',
    `run 'vigil ${group} <command> --help' for a command's options, what it prints and an example`,
  ].join('\n');
}

/** the command whose words start `argv`; the longest wins ('capture export' before a hypothetical 'capture') */
function findCommand(argv: readonly string[]): Command | undefined {
  return [...COMMANDS]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((c) => c.name.split(' ').every((word, i) => argv[i] === word));
}

function isGroup(word: string | undefined): word is string {
  return word !== undefined && COMMANDS.some((c) => c.name.startsWith(`${word} `));
}

/** Dispatches `argv` (the arguments after `vigil`); resolves to the exit code. */
export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const first = argv[0];
  if (first !== undefined && HELP_FLAGS.has(first)) {
    // `vigil help predict` is `vigil predict --help`
    const topic = argv.slice(1);
    if (!topic.length) {
      io.stdout.write(`${usage()}\n`);
      return 0;
    }
    return main([...topic, '--help'], io);
  }
  const command = findCommand(argv);
  if (command) return command.run(argv.slice(command.name.split(' ').length), io);

  if (isGroup(first)) {
    const second = argv[1];
    if (second !== undefined && HELP_FLAGS.has(second)) {
      io.stdout.write(`${groupUsage(first)}\n`);
      return 0;
    }
    const what = second === undefined ? `vigil ${first}: no command given` : `unknown command: ${first} ${second}`;
    io.stderr.write(`${what}\n${groupUsage(first)}\n`);
    return 2;
  }
  const what = first === undefined ? 'no command given' : `unknown command: ${first}`;
  io.stderr.write(`${what}\n${usage()}\n`);
  return 2;
}

/**
 * A reader that goes away (`vigil predict … | head`) closes the pipe. What is left to print has nobody to read
 * it, so the command stops there, quietly and with status 0, where Node would otherwise die of an unhandled
 * EPIPE with a stack trace. Any other write error is still thrown.
 */
export function stopQuietlyWhenPipeCloses(stream: NodeJS.WritableStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) {
  stopQuietlyWhenPipeCloses(process.stdout);
  stopQuietlyWhenPipeCloses(process.stderr);
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
