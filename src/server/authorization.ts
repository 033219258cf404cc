/**
 * Every root field an operation selects must be allowed to the caller's role (src/auth/operations.ts),
 * checked before anything executes, over HTTP, event streams and WebSocket alike. The operation's root
 * selection set is walked with its fragments; one forbidden field refuses the whole operation (code
 * FORBIDDEN, HTTP 403), so a mutation never runs in part.
 */
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  getOperationAST,
  Kind,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type RootTypeName, requiredRole } from '../auth/operations.ts';
import { allows, describeCaller, type Identity, type Role } from '../auth/roles.ts';
import type { GraphQLContext } from '../context.ts';
import { ForbiddenError } from '../errors.ts';
import { requestError } from './http-errors.ts';

const ROOT_TYPE: Readonly<Record<'query' | 'mutation' | 'subscription', RootTypeName>> = {
  query: 'Query',
  mutation: 'Mutation',
  subscription: 'Subscription',
};

export function useAuthorization(): Plugin<GraphQLContext> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refusal = refuse(args.document, args.operationName, args.contextValue.identity);
      if (refusal) setResultAndStopExecution({ errors: [refusal] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refusal = refuse(args.document, args.operationName, args.contextValue.identity);
      if (refusal) setResultAndStopExecution({ errors: [refusal] });
    },
  };
}

/** the error refusing the operation, or null when the caller may run all of it */
function refuse(
  document: DocumentNode,
  operationName: string | null | undefined,
  identity: Identity,
): GraphQLError | null {
  // No single operation: execution fails on its own without running a resolver.
  const operation = getOperationAST(document, operationName);
  if (!operation) return null;
  const rootType = ROOT_TYPE[operation.operation];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const denied: { field: string; role: Role }[] = [];
  for (const field of rootFields(operation.selectionSet, fragments)) {
    const role = requiredRole(rootType, field);
    if (role && !allows(identity, role)) denied.push({ field, role });
  }
  if (!denied.length) return null;
  const list = denied.map((d) => `${rootType}.${d.field} (needs ${d.role})`).join(', ');
  return requestError(new ForbiddenError(`${describeCaller(identity)} may not run ${list}`));
}

/** the names of the root fields a selection set selects, through inline fragments and fragment spreads */
export function rootFields(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): Set<string> {
  const names = new Set<string>();
  collectFields(selectionSet, fragments, names, new Set());
  return names;
}

// a function of its own, not a closure made per request: tsx wraps every closure it creates in a naming call
function collectFields(
  set: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  names: Set<string>,
  visited: Set<string>,
): void {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) names.add(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT) collectFields(selection.selectionSet, fragments, names, visited);
    else if (!visited.has(selection.name.value)) {
      // a spread of an unknown fragment fails validation before this runs
      visited.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) collectFields(fragment.selectionSet, fragments, names, visited);
    }
  }
}
