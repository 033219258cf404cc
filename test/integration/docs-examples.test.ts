/**
 * The documentation's examples, run as written against a real server (one per document, in
 * document order): every ```graphql block of README.md, docs/api.md, docs/monitoring.md and docs/debugger.md, and
 * every ```sh block made only of `curl …`, `npm run -s vigil -- …` and `NAME=$(…)` commands.
 * First every graphql block is parsed and validated against the schema, so a stale example fails
 * at once with its file and line.
 *
 * Conventions the documents follow (docs/api.md, "Reading the examples", says it for readers):
 * - A ```json block right after a ```graphql block (only blank lines between) holds its variables.
 * - Strings in the variables that start with `$` are placeholders:
 *     "$base64:PATH"  base64 of the file at PATH (relative to the repository root)
 *     "$npy:PATH"     base64 of that image's pixels as a uint8 H×W×3 .npy array
 *     "$field"        the value of `field` in the newest earlier result that has one (its first
 *                     occurrence there, depth first; nulls do not count)
 *     "$Type.field"   the same, among objects whose __typename is Type
 * - A shell block's `$field` references are exported as variables the same way; `localhost:4000`
 *   is the test server; curl runs with --fail-with-body, and each JSON line it prints is checked
 *   like a GraphQL response. Files the block writes land in a scratch folder.
 * - `# expect: SomeError` lines in a block: the result must hold errors of exactly those types;
 *   `# expect: CODE` (upper case): the response must be top-level errors with that extensions.code
 *   (GRAPHQL_VALIDATION_FAILED: the block is meant not to validate). Without one, an example must
 *   answer without top-level errors and without any VigilError anywhere in its result.
 * - Subscriptions start over graphql-ws and must be accepted and stay free of errors to the end of
 *   the document; with `# expect: CODE` they must end with that error instead.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type GraphQLInterfaceType, getOperationAST, Kind, parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/schema/index.ts';
import {
  type DocExample,
  fillPlaceholders,
  ResultHistory,
  readExamples,
  shellReferences,
  typenamesIn,
} from '../helpers/doc-examples.ts';
import { type GraphQLResponse, WsSubscription } from '../helpers/graphql.ts';
import { useTestServer } from '../helpers/server.ts';

const DOCUMENTS = ['README.md', 'docs/api.md', 'docs/monitoring.md', 'docs/debugger.md'];
const ROOT = process.cwd();
const SCHEMA = buildSchema();
const ERROR_TYPES = new Set(
  SCHEMA.getImplementations(SCHEMA.getType('VigilError') as GraphQLInterfaceType).objects.map((t) => t.name),
);
const VALIDATION_FAILED = 'GRAPHQL_VALIDATION_FAILED';
const HAS_SHELL = spawnSync('bash', ['-c', 'command -v curl'], { stdio: 'ignore' }).status === 0;
/** curl as the examples' reader would see problems: HTTP errors fail the command; one response per line */
const SHELL_PRELUDE = `set -euo pipefail\ncurl() { command curl -sS --fail-with-body -w '\\n' "$@"; }\n`;

const where = (e: DocExample) => `${e.file}:${e.line}`;
const isCode = (expectation: string) => expectation === expectation.toUpperCase();

function title(example: DocExample): string {
  if (example.kind === 'graphql') {
    try {
      const operation = getOperationAST(parse(example.code));
      const first = operation?.selectionSet.selections[0];
      if (operation?.name) return operation.name.value;
      if (operation && first?.kind === Kind.FIELD) return `${operation.operation} ${first.name.value}`;
    } catch {
      /* titled by its first line below */
    }
  }
  const first = example.code.split('\n').find((l) => l.trim() && !l.trim().startsWith('#')) ?? '';
  return first.trim().slice(0, 70);
}

/** why a graphql example does not parse or validate (empty when it does) */
function schemaProblems(example: DocExample): string[] {
  const problems: string[] = [];
  try {
    const errors = validate(SCHEMA, parse(example.code));
    const meantToFail = example.expect.includes(VALIDATION_FAILED);
    if (meantToFail && errors.length === 0) problems.push('is marked GRAPHQL_VALIDATION_FAILED but validates');
    if (!meantToFail) problems.push(...errors.map((e) => e.message));
  } catch (error) {
    problems.push((error as Error).message);
  }
  try {
    if (example.variables !== undefined) JSON.parse(example.variables);
  } catch (error) {
    problems.push(`variables: ${(error as Error).message}`);
  }
  return problems.map((p) => `${where(example)} (${title(example)}): ${p}`);
}

/** the repository's top-level entries as links in a scratch folder, so examples can write files */
function scratchCheckout(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-docs-'));
  for (const entry of fs.readdirSync(ROOT)) {
    if (entry === '.git' || entry === 'data') continue;
    fs.symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
  }
  return dir;
}

function runBash(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

for (const file of DOCUMENTS) {
  const examples = readExamples(file);

  describe(file, () => {
    // docs/monitoring.md's alert channel sends to a receiver on this host; its external check is the
    // example script of docs/examples/checks
    const server = useTestServer({
      env: { INFERENCE_DEVICE: 'cpu', ALERT_URL_ALLOWLIST: '127.0.0.1', CHECKS_DIR: 'docs/examples/checks' },
    });
    const history = new ResultHistory();
    const open: { example: DocExample; subscription: WsSubscription }[] = [];
    let scratch = '';

    beforeAll(() => {
      scratch = scratchCheckout();
    });
    afterAll(async () => {
      await Promise.all(open.map((o) => o.subscription.close()));
      fs.rmSync(scratch, { recursive: true, force: true });
    });

    /** the result holds errors of exactly the expected types (none when none is expected) */
    function checkResult(example: DocExample, data: unknown): void {
      const expected = example.expect.filter((e) => !isCode(e));
      const found = typenamesIn(data, ERROR_TYPES);
      expect([...new Set(found)].sort(), `${where(example)}: errors in the result: ${JSON.stringify(data)}`).toEqual(
        [...new Set(expected)].sort(),
      );
    }

    function checkTopLevel(example: DocExample, response: GraphQLResponse): boolean {
      const codes = example.expect.filter(isCode);
      if (codes.length === 0) {
        expect(response.errors, `${where(example)}: ${JSON.stringify(response.errors)}`).toBeUndefined();
        return false;
      }
      const answered = (response.errors ?? []).map((e) => e.extensions?.code);
      expect(answered, `${where(example)}: ${JSON.stringify(response)}`).toEqual(expect.arrayContaining(codes));
      return true;
    }

    async function runGraphQL(example: DocExample): Promise<void> {
      let variables: Record<string, unknown> | undefined;
      try {
        if (example.variables !== undefined) {
          variables = (await fillPlaceholders(JSON.parse(example.variables), history, ROOT)) as Record<string, unknown>;
        }
      } catch (error) {
        throw new Error(`${where(example)}: variables: ${(error as Error).message}`);
      }
      const operation = getOperationAST(parse(example.code));
      if (operation?.operation === 'subscription') return runSubscription(example, variables);
      const response = await server.client.request(example.code, variables);
      if (checkTopLevel(example, response)) return;
      history.add(response.data);
      checkResult(example, response.data);
    }

    async function runSubscription(example: DocExample, variables: Record<string, unknown> | undefined): Promise<void> {
      const subscription = new WsSubscription(server.wsUrl, example.code, variables);
      await subscription.ready(0);
      const codes = example.expect.filter(isCode);
      if (codes.length === 0) {
        await new Promise((r) => setTimeout(r, 200));
        expect(subscription.errors, `${where(example)}: ${JSON.stringify(subscription.errors)}`).toEqual([]);
        open.push({ example, subscription });
        return;
      }
      const deadline = Date.now() + 3000;
      while (subscription.errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await subscription.close();
      for (const code of codes) expect(JSON.stringify(subscription.errors), where(example)).toContain(code);
    }

    async function runShell(example: DocExample): Promise<void> {
      const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: server.database.url };
      for (const name of shellReferences(example.code)) {
        const value = history.find(name);
        if (value !== undefined) env[name] = typeof value === 'string' ? value : JSON.stringify(value);
      }
      const hostPort = server.url.slice('http://'.length);
      const script = SHELL_PRELUDE + example.code.split('localhost:4000').join(hostPort);
      const { code, stdout, stderr } = await runBash(script, scratch, env);
      expect(code, `${where(example)} exited with ${code}\n${stderr}\n${stdout.slice(0, 2000)}`).toBe(0);
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        let json: GraphQLResponse;
        try {
          json = JSON.parse(line) as GraphQLResponse;
        } catch {
          continue;
        }
        if (checkTopLevel(example, json)) continue;
        if (json.data === undefined) continue;
        history.add(json.data);
        checkResult(example, json.data);
      }
    }

    it('has examples, each parsing and validating against the schema', () => {
      expect(examples.length).toBeGreaterThan(0);
      const problems = examples.filter((e) => e.kind === 'graphql').flatMap(schemaProblems);
      expect(problems, problems.join('\n')).toEqual([]);
    });

    for (const example of examples) {
      const run = example.kind === 'sh' ? it.skipIf(!HAS_SHELL) : it;
      run(`${where(example)} ${title(example)}`, async () => {
        if (example.kind === 'graphql') await runGraphQL(example);
        else await runShell(example);
      });
    }

    it('kept every subscription it started free of errors', () => {
      for (const { example, subscription } of open) {
        expect(subscription.errors, `${where(example)}: ${JSON.stringify(subscription.errors)}`).toEqual([]);
      }
    });
  });
}
