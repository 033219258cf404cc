#!/usr/bin/env -S npx tsx
/**
 * `vigil <command> …` — the command-line entry point (`npm run -s vigil -- <command> …`).
 * Each command lives in its own file and is imported only when it runs; add one to COMMANDS.
 * Exit codes: the command's own; 2 for an unknown command or bad usage.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CliIo } from './capture-export.ts';

interface Command {
  /** one or more words, e.g. 'capture export' */
  name: string;
  usage: string;
  summary: string;
  run: (args: string[], io: CliIo) => Promise<number>;
}

const COMMANDS: Command[] = [
  {
    name: 'predict',
    usage: 'vigil predict <image files or directories…> [--files-from FILE|-] [--batch N] [--model NAME] [--top K]',
    summary: 'classify images locally with a bundled model, one JSON line per image',
    run: async (args, io) => (await import('./predict.ts')).predictCommand(args, io),
  },
  {
    name: 'capture export',
    usage: 'vigil capture export --endpoint NAME [--from ISO] [--to ISO] [--out FILE]',
    summary: "write an endpoint's captures as SageMaker data-capture JSON Lines",
    run: async (args, io) => (await import('./capture-export.ts')).captureExportCommand(args, io),
  },
];

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  return [
    'usage: vigil <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    `  ${'vigil help'.padEnd(width)}  this message`,
    '',
    "run 'vigil <command> --help' for a command's options",
  ].join('\n');
}

/** Dispatches `argv` (the arguments after `vigil`); resolves to the exit code. */
export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const first = argv[0];
  if (first === 'help' || first === '--help' || first === '-h') {
    io.stdout.write(`${usage()}\n`);
    return 0;
  }
  // the longest matching name wins ('capture export' before a hypothetical 'capture')
  const command = [...COMMANDS]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((c) => {
      const words = c.name.split(' ');
      return words.every((word, i) => argv[i] === word);
    });
  if (!command) {
    const what = first === undefined ? 'no command given' : `unknown command: ${first}`;
    io.stderr.write(`${what}\n${usage()}\n`);
    return 2;
  }
  return command.run(argv.slice(command.name.split(' ').length), io);
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
