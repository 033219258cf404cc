/**
 * No string a client sends may hold U+0000 (NUL). PostgreSQL can neither store nor compare one: an
 * argument holding it failed its query, which reached the client as an internal error (a name looked
 * up, an id, a regular expression saved). No vigil input needs it (names, ids, cron, base64; a regular
 * expression says `\x00`), so it is refused before execution, over HTTP, SSE and WebSocket alike, with
 * code BAD_USER_INPUT (HTTP 400), whichever database is behind.
 *
 * Both the variables and the document's string literals (`"\u0000"`) are read. The variables are the
 * client's JSON as sent, nested as deep as the body allows: they are walked with a stack, not by
 * recursion. Uploaded files are not strings and are not read.
 */
import { type DocumentNode, GraphQLError, Kind, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export function useNoNulStrings(): Plugin {
  const check = (document: DocumentNode, variables: unknown): GraphQLError | undefined => {
    const where = nulInVariables(variables) ?? nulInLiterals(document);
    if (!where) return undefined;
    return new GraphQLError(
      `${where} holds the character U+0000 (NUL), which no argument accepts: remove it (PostgreSQL cannot store it)`,
      { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } },
    );
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = check(args.document, args.variableValues);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = check(args.document, args.variableValues);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}

/** where the first string holding NUL is among the variables (`$name.key[2]`), or undefined */
export function nulInVariables(variables: unknown): string | undefined {
  if (!isPlainObject(variables)) return undefined;
  const stack: [value: unknown, path: string][] = Object.entries(variables).map(([k, v]) => [v, `$${k}`]);
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [value, path] = item;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return `the variable ${path}`;
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) stack.push([value[i], `${path}[${i}]`]);
    } else if (isPlainObject(value)) {
      for (const [key, inner] of Object.entries(value)) {
        if (key.includes('\u0000')) return `a key of the variable ${path}`;
        stack.push([inner, `${path}.${key}`]);
      }
    }
  }
  return undefined;
}

function nulInLiterals(document: DocumentNode): string | undefined {
  let found: string | undefined;
  visit(document, {
    [Kind.STRING]: (node) => {
      if (found === undefined && node.value.includes('\u0000')) {
        found = node.loc
          ? `the string literal at line ${node.loc.startToken.line}, column ${node.loc.startToken.column}`
          : 'a string literal';
      }
    },
  });
  return found;
}

/** JSON objects only: an uploaded File (or any other class) is not walked */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
