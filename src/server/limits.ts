/**
 * Limits on a GraphQL document, so one request cannot ask for unbounded work: its size before it is
 * parsed, its tokens while it is parsed (GraphQL Armor's max-tokens), then as validation rules its
 * depth, cost and aliases (GraphQL Armor), and schema introspection where it is off (production, unless
 * INTROSPECTION=true).
 */

import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
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
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, exposeLimits: true }),
    costLimitPlugin({ maxCost: limits.maxCost, exposeLimits: true, ignoreIntrospection: true }),
    maxAliasesPlugin({ n: 30, exposeLimits: true }),
  ] as Plugin[];
  if (!limits.introspection) plugins.push(useNoIntrospection());
  return plugins;
}

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

/** `__schema` and `__type` are refused (`__typename` stays) */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
