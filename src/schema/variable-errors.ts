/**
 * Readable variable errors. graphql-js reports a variable that does not fit its type without a code, so
 * this plugin gives each such error `extensions.code: BAD_USER_INPUT`; and a multipart file mapped to a
 * variable that is not of type File (a String, say) fails with graphql-js's `inspect` of the upload
 * object, which means nothing to a client, so its message says what happened and where files go instead.
 */
import { type DocumentNode, type ExecutionResult, GraphQLError, Kind, print } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isUpload } from './scalars.ts';

const PREFIX = 'Variable "$';

export function useReadableVariableErrors(): Plugin {
  return {
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          if (!isResult(result) || !result.errors?.length) return;
          const variables = (args.variableValues ?? {}) as Record<string, unknown>;
          const errors = result.errors.map((error) => {
            if (!error.message.startsWith(PREFIX)) return error;
            const name = error.message.slice(PREFIX.length, error.message.indexOf('"', PREFIX.length));
            if (!containsFile(variables[name], 4)) {
              return new GraphQLError(error.message, {
                nodes: error.nodes,
                extensions: { ...error.extensions, code: 'BAD_USER_INPUT' },
              });
            }
            const type = variableType(args.document, name) ?? 'its type';
            return new GraphQLError(
              `Variable "$${name}" got a file upload, but ${type} does not take files: map uploads to a variable of type File (e.g. ImageInput.file)`,
              { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT' } },
            );
          });
          setResult({ ...result, errors });
        },
      };
    },
  };
}

function isResult(result: unknown): result is ExecutionResult {
  return typeof result === 'object' && result !== null && !(Symbol.asyncIterator in result);
}

/** whether a File sits anywhere in a JSON-like value, looking at most `depth` levels down */
function containsFile(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (isUpload(value)) return true;
  if (depth === 0) return false;
  return Object.values(value).some((v) => containsFile(v, depth - 1));
}

function variableType(document: DocumentNode, name: string): string | undefined {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const variable = definition.variableDefinitions?.find((v) => v.variable.name.value === name);
    if (variable) return print(variable.type);
  }
  return undefined;
}
