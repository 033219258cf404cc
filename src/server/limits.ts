/**
 * Limits on a GraphQL document, so one request cannot ask for unbounded work: its size before it is
 * parsed, its tokens while it is parsed (GraphQL Armor's max-tokens), then as validation rules its
 * depth, cost and aliases (GraphQL Armor), and schema introspection where it is off (production, unless
 * INTROSPECTION=true). A document over depth, cost or aliases fails validation like any invalid
 * document (HTTP 400) with code QUERY_TOO_COMPLEX: Armor's own rejection is thrown out of validation,
 * which reached clients as a 200 without a code and with a misleading "Syntax Error" prefix.
 */

import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
  maxTokens: number;
  maxDocumentBytes: number;
  introspection: boolean;
}

export function queryLimitPlugins(limits: QueryLimits): Plugin[] {
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: limits.maxTokens, exposeLimits: true }),
    // after max-tokens: an oversized document is refused instead of being lexed
    useDocumentSizeLimit(limits.maxDocumentBytes),
    // last of the parse hooks: it wraps the parser the others chose
    useParseDepthGuard(),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, exposeLimits: true, ...reportedAsInvalid }),
    costLimitPlugin({ maxCost: limits.maxCost, exposeLimits: true, ignoreIntrospection: true, ...reportedAsInvalid }),
    maxAliasesPlugin({ n: 30, exposeLimits: true, ...reportedAsInvalid }),
  ] as Plugin[];
  if (!limits.introspection) plugins.push(useNoIntrospection());
  return plugins;
}

/** the code of a document refused for its depth, cost or aliases */
export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

/** Armor's rejection reported as a validation error with a code, instead of thrown out of validation */
const reportedAsInvalid = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) => {
      // the three rules always pass their validation context; without one, refuse as before
      if (!context) throw error;
      const message = error.message.startsWith('Syntax Error: ')
        ? error.message.slice('Syntax Error: '.length)
        : error.message;
      context.reportError(new GraphQLError(message, { extensions: { code: QUERY_TOO_COMPLEX } }));
    },
  ],
};

/** a document of more UTF-8 bytes than `limit` is refused without being parsed */
export function useDocumentSizeLimit(limit: number): Plugin {
  return {
    onParse({ params, setParseFn }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      // a string's UTF-8 length is at most 3 per UTF-16 unit: most documents need no count
      if (source.length * 3 <= limit) return;
      const bytes = Buffer.byteLength(source);
      if (bytes <= limit) return;
      setParseFn(() => {
        throw new GraphQLError(
          `Syntax Error: the document is ${bytes} bytes, over the limit of ${limit} (MAX_DOCUMENT_BYTES); send large values as variables`,
          {
            extensions: { code: 'DOCUMENT_TOO_LARGE' },
          },
        );
      });
    },
  };
}

/**
 * graphql-js parses recursively: a document nested a couple of thousand levels deep (`[[[…]]]`, fewer
 * tokens than MAX_QUERY_TOKENS) overflows the stack. That is the client's syntax error, not an internal one.
 */
export function useParseDepthGuard(): Plugin {
  return {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        try {
          return parseFn(source, options);
        } catch (error) {
          if (!(error instanceof RangeError)) throw error;
          throw new GraphQLError('Syntax Error: the document is nested too deeply to be parsed', {
            extensions: { code: 'GRAPHQL_PARSE_FAILED' },
          });
        }
      });
    },
  };
}

/** `__schema` and `__type` are refused (`__typename` stays) */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
