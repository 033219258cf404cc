/**
 * The runnable examples of a Markdown document, and the placeholders their variables use
 * (test/integration/docs-examples.test.ts describes the conventions).
 */
import fs from 'node:fs';
import path from 'node:path';
import { asNpy } from './images.ts';

export interface DocExample {
  file: string;
  /** 1-based line of the opening fence */
  line: number;
  kind: 'graphql' | 'sh';
  code: string;
  /** the ```json block right after a graphql block */
  variables?: string;
  /** `# expect: X` lines: error type names (NotFoundError) or top-level error codes (NOT_FOUND) */
  expect: string[];
}

const FENCE = '```';
const EXPECT = '# expect:';

/** Fenced blocks (``` fences, indented or not); a ```json block after a graphql block (blank lines between) is its variables. */
export function extractExamples(file: string, markdown: string): DocExample[] {
  const lines = markdown.split('\n');
  const examples: DocExample[] = [];
  let previous: DocExample | undefined;
  let onlyBlankSince = false;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const fence = text.trimStart();
    if (!fence.startsWith(FENCE)) {
      if (text.trim() !== '') onlyBlankSince = false;
      continue;
    }
    // a block inside a list item is indented; its lines lose that indentation
    const indent = text.length - fence.length;
    const lang = fence.slice(FENCE.length).trim();
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.trimStart().startsWith(FENCE); i++)
      body.push(lines[i]!.slice(Math.min(indent, leadingSpaces(lines[i]!))));
    const code = body.join('\n');
    if (lang === 'json' && previous?.kind === 'graphql' && onlyBlankSince && previous.variables === undefined) {
      previous.variables = code;
    } else if (lang === 'graphql') {
      previous = { file, line: start + 1, kind: 'graphql', code, expect: expectations(code) };
      examples.push(previous);
    } else if ((lang === 'sh' || lang === 'bash') && isRunnableShell(code)) {
      previous = { file, line: start + 1, kind: 'sh', code, expect: expectations(code) };
      examples.push(previous);
    } else {
      previous = undefined;
    }
    onlyBlankSince = true;
  }
  return examples;
}

export function readExamples(file: string): DocExample[] {
  return extractExamples(file, fs.readFileSync(file, 'utf8'));
}

function leadingSpaces(line: string): number {
  return line.length - line.trimStart().length;
}

function expectations(code: string): string[] {
  return code
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(EXPECT))
    .map((l) => l.slice(EXPECT.length).trim());
}

/** the commands of a shell block: continuation lines joined, comments and blank lines left out */
export function shellCommands(code: string): string[] {
  const commands: string[] = [];
  let current = '';
  for (const line of code.split('\n')) {
    if (current === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    commands.push(current + line);
    current = '';
  }
  if (current) commands.push(current);
  return commands;
}

const ALLOWED_COMMANDS = ['curl ', 'npm run -s vigil -- '];

/**
 * Shell blocks run only when every command talks to the server or is vigil's CLI (or captures a
 * command's output in a variable): `npm ci && npm start` and the like are instructions, not examples.
 */
export function isRunnableShell(code: string): boolean {
  const commands = shellCommands(code);
  return (
    commands.length > 0 &&
    commands.every((c) => ALLOWED_COMMANDS.some((p) => c.trimStart().startsWith(p)) || isCommandSubstitution(c))
  );
}

/** NAME=$(…) */
function isCommandSubstitution(command: string): boolean {
  const eq = command.indexOf('=$(');
  return eq > 0 && isIdentifier(command.slice(0, eq));
}

function isIdentifierChar(c: number, first: boolean): boolean {
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  return letter || (!first && c >= 48 && c <= 57);
}

export function isIdentifier(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isIdentifierChar(text.charCodeAt(i), i === 0)) return false;
  return true;
}

/** `$name` and `${name}` references in a shell block */
export function shellReferences(code: string): string[] {
  const names = new Set<string>();
  for (let i = code.indexOf('$'); i >= 0; i = code.indexOf('$', i + 1)) {
    const start = code[i + 1] === '{' ? i + 2 : i + 1;
    let end = start;
    while (end < code.length && isIdentifierChar(code.charCodeAt(end), end === start)) end++;
    if (end > start) names.add(code.slice(start, end));
  }
  return [...names];
}

/**
 * Earlier results, newest last; `find` answers a placeholder from the newest result that holds the
 * field (its first occurrence there, depth first), optionally only among objects of one __typename.
 */
export class ResultHistory {
  readonly results: unknown[] = [];

  add(result: unknown): void {
    this.results.push(result);
  }

  find(reference: string): unknown {
    const dot = reference.indexOf('.');
    const typename = dot >= 0 ? reference.slice(0, dot) : undefined;
    const field = dot >= 0 ? reference.slice(dot + 1) : reference;
    for (let i = this.results.length - 1; i >= 0; i--) {
      const found = firstField(this.results[i], field, typename);
      if (found !== undefined) return found;
    }
    return undefined;
  }
}

function firstField(value: unknown, field: string, typename: string | undefined): unknown {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = firstField(item, field, typename);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  const own = record[field];
  if (own !== undefined && own !== null && (typename === undefined || record.__typename === typename)) return own;
  for (const child of Object.values(record)) {
    const found = firstField(child, field, typename);
    if (found !== undefined) return found;
  }
  return undefined;
}

const BASE64 = '$base64:';
const NPY = '$npy:';

/** The variables with their placeholders filled in; throws naming a placeholder nothing answers. */
export async function fillPlaceholders(value: unknown, history: ResultHistory, root: string): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v) => fillPlaceholders(v, history, root)));
  if (value !== null && typeof value === 'object') {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await fillPlaceholders(v, history, root)] as const),
    );
    return Object.fromEntries(entries);
  }
  if (typeof value !== 'string' || !value.startsWith('$')) return value;
  if (value.startsWith(BASE64))
    return fs.readFileSync(path.resolve(root, value.slice(BASE64.length))).toString('base64');
  if (value.startsWith(NPY))
    return (await asNpy(fs.readFileSync(path.resolve(root, value.slice(NPY.length))))).toString('base64');
  const reference = value.slice(1);
  const found = history.find(reference);
  if (found === undefined) throw new Error(`placeholder "${value}": no earlier result has a field ${reference}`);
  return found;
}

/** every __typename in a result that names one of `types` */
export function typenamesIn(value: unknown, types: ReadonlySet<string>, into: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) typenamesIn(item, types, into);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.__typename === 'string' && types.has(record.__typename)) into.push(record.__typename);
    for (const child of Object.values(record)) typenamesIn(child, types, into);
  }
  return into;
}
