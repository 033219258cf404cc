/** Query depth, cost and alias limits (GraphQL Armor), so one request cannot ask for unbounded work. */

import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import type { Plugin } from 'graphql-yoga';

export function queryLimitPlugins(limits: { maxDepth: number; maxCost: number }): Plugin[] {
  return [
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, exposeLimits: true }),
    costLimitPlugin({ maxCost: limits.maxCost, exposeLimits: true, ignoreIntrospection: true }),
    maxAliasesPlugin({ n: 30, exposeLimits: true }),
  ] as Plugin[];
}
