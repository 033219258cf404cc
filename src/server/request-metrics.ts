/**
 * GraphQL serving metrics as one envelop plugin: operations by name and type, their latency, errors by
 * operation and code, executions in flight, and subscriptions open by transport. It runs on every
 * request, so the request path only adds to counters: an operation's series is found once per parsed
 * document (a WeakMap on its definition node, the document itself cached by the parse cache), and an
 * observation allocates nothing but the hook closure envelop requires.
 *
 * Codes: a top-level error's `extensions.code` (masked ones are INTERNAL_SERVER_ERROR), and the typed
 * errors a root field answers inside its result union (`NotFoundError` → NOT_FOUND), which never reach
 * `errors`: the root fields' resolvers are wrapped once, at start, to count them.
 *
 * Labels: the operation's name, or for an anonymous one its first root field (`predict`); client-chosen
 * names are bounded (MAX_OPERATION_LABELS, then `_other`) so that no client can grow the exposition.
 */

import { typeBrandKey } from '@pothos/core';
import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  getOperationAST,
  type OperationDefinitionNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { PayloadTooLargeError, UnavailableError, VigilError } from '../errors.ts';
import { Histogram, SECONDS_BUCKETS } from '../histogram.ts';
import { HTTP_STATUS } from './http-errors.ts';

export const MAX_OPERATION_LABELS = 200;
/** the label of errors before an operation is known (a syntax error, a failed validation) */
export const INVALID_OPERATION = '_invalid';
const OTHER = '_other';
const MAX_ERROR_SERIES = 5000;

export interface OperationSeries {
  readonly operation: string;
  readonly type: string;
  requests: number;
  readonly seconds: Histogram;
}

export interface ErrorSeries {
  readonly operation: string;
  readonly code: string;
  count: number;
}

export type Transport = 'websocket' | 'sse';

export class RequestMetrics {
  readonly #series = new Map<string, OperationSeries>();
  readonly #byOperation = new WeakMap<OperationDefinitionNode, OperationSeries>();
  readonly #errors = new Map<string, ErrorSeries>();
  /** where errors go once MAX_ERROR_SERIES series exist (operation labels are bounded, codes are the server's) */
  readonly #overflowErrors: ErrorSeries = { operation: OTHER, code: OTHER, count: 0 };
  /** per request context: an UNAVAILABLE a root field answered in its union, and its Retry-After */
  readonly #unavailable = new WeakMap<object, number>();
  /** operations executing now (queries and mutations, over HTTP and graphql-ws) */
  executing = 0;
  /** subscriptions open now, by transport */
  readonly subscriptions: Record<Transport, number> = { websocket: 0, sse: 0 };

  operations(): Iterable<OperationSeries> {
    return this.#series.values();
  }

  errors(): Iterable<ErrorSeries> {
    return this.#overflowErrors.count ? [...this.#errors.values(), this.#overflowErrors] : this.#errors.values();
  }

  /** the series of the operation a document and operation name select */
  seriesOf(document: DocumentNode, operationName: string | null | undefined): OperationSeries {
    const operation = getOperationAST(document, operationName);
    if (!operation) return this.#named(INVALID_OPERATION, 'unknown');
    let series = this.#byOperation.get(operation);
    if (!series) {
      series = this.#named(labelOf(operation), operation.operation);
      this.#byOperation.set(operation, series);
    }
    return series;
  }

  #named(operation: string, type: string): OperationSeries {
    const key = `${type} ${operation}`;
    let series = this.#series.get(key);
    if (!series) {
      // `_other` and `_invalid` (a few per operation type) are always allowed beyond the bound
      if (this.#series.size >= MAX_OPERATION_LABELS && operation !== INVALID_OPERATION && operation !== OTHER)
        return this.#named(OTHER, type);
      series = { operation, type, requests: 0, seconds: new Histogram(SECONDS_BUCKETS) };
      this.#series.set(key, series);
    }
    return series;
  }

  countError(operation: string, code: string): void {
    const key = `${operation} ${code}`;
    let series = this.#errors.get(key);
    if (!series) {
      if (this.#errors.size >= MAX_ERROR_SERIES) {
        this.#overflowErrors.count++;
        return;
      }
      series = { operation, code, count: 0 };
      this.#errors.set(key, series);
    }
    series.count++;
  }

  /** a root field's resolved value: counted when it is a typed error */
  resolvedRootField(value: unknown, context: unknown, operation: OperationDefinitionNode): void {
    const kind = typedErrorKind(value);
    if (!kind || typeof value !== 'object' || value === null || !('code' in value)) return;
    const series = this.#byOperation.get(operation);
    this.countError(series?.operation ?? labelOf(operation), String(value.code));
    if (kind === 'unavailable' && typeof context === 'object' && context !== null) {
      const retryAfter = 'retryAfterSeconds' in value ? Number(value.retryAfterSeconds) || 1 : 1;
      this.#unavailable.set(context, Math.max(retryAfter, this.#unavailable.get(context) ?? 0));
    }
  }

  /** the Retry-After of an UNAVAILABLE answered in a union during this request, if one was */
  unavailableIn(context: unknown): number | undefined {
    return typeof context === 'object' && context !== null ? this.#unavailable.get(context) : undefined;
  }
}

/** the metrics each request's context counts into, registered when its execution starts */
const countedBy = new WeakMap<object, RequestMetrics>();
const instrumented = new WeakSet<GraphQLSchema>();

/**
 * Counts the typed errors root fields answer in their result unions: wraps each Query and Mutation
 * field's resolver, once per schema (the schema is built once per process and may serve several
 * servers: each request reports to the metrics of the server that executes it).
 */
export function countTypedErrors(schema: GraphQLSchema): void {
  if (instrumented.has(schema)) return;
  instrumented.add(schema);
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve;
      if (!resolve) continue;
      const counted: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
        const value: unknown = resolve(source, args, context, info);
        if (value instanceof Promise) {
          return value.then((resolved: unknown) => {
            report(resolved, context, info.operation);
            return resolved;
          });
        }
        report(value, context, info.operation);
        return value;
      };
      field.resolve = counted;
    }
  }
}

function report(value: unknown, context: unknown, operation: OperationDefinitionNode): void {
  if (typeof context === 'object' && context !== null)
    countedBy.get(context)?.resolvedRootField(value, context, operation);
}

export function useRequestMetrics(metrics: RequestMetrics): Plugin {
  // created once: envelop's parse and validate hooks then allocate nothing per request
  const parsed = ({ result }: { result: unknown }) => {
    if (result instanceof Error) metrics.countError(INVALID_OPERATION, 'GRAPHQL_PARSE_FAILED');
  };
  const validated = ({ valid }: { valid: boolean }) => {
    if (!valid) metrics.countError(INVALID_OPERATION, 'GRAPHQL_VALIDATION_FAILED');
  };
  return {
    onParse: () => parsed,
    onValidate: () => validated,
    onExecute({ args }) {
      const context: unknown = args.contextValue;
      if (typeof context === 'object' && context !== null) countedBy.set(context, metrics);
      const series = metrics.seriesOf(args.document, args.operationName);
      series.requests++;
      metrics.executing++;
      const started = performance.now();
      return {
        onExecuteDone({ result, setResult }) {
          metrics.executing--;
          series.seconds.observe((performance.now() - started) / 1000);
          if (isAsyncIterable(result)) return;
          if (result.errors) for (const error of result.errors) metrics.countError(series.operation, codeOf(error));
          const retryAfter = metrics.unavailableIn(args.contextValue);
          if (retryAfter !== undefined) setResult(withUnavailableStatus(result, retryAfter));
        },
      };
    },
    onSubscribe({ args }) {
      const series = metrics.seriesOf(args.document, args.operationName);
      series.requests++;
      const transport: Transport = isWebSocketContext(args.contextValue) ? 'websocket' : 'sse';
      return {
        onSubscribeResult({ result }) {
          if (!isAsyncIterable(result)) {
            for (const error of result.errors ?? []) metrics.countError(series.operation, codeOf(error));
            return;
          }
          metrics.subscriptions[transport]++;
          return {
            onEnd() {
              metrics.subscriptions[transport]--;
            },
          };
        },
        onSubscribeError({ error }) {
          metrics.countError(series.operation, error instanceof GraphQLError ? codeOf(error) : 'INTERNAL_SERVER_ERROR');
        },
      };
    },
  };
}

/**
 * Whether a resolver answered a typed error (and whether UNAVAILABLE). The Pothos errors plugin hands a
 * union's error member over as a proxy that is no `instanceof` its class (so that graphql-js does not
 * throw it), and brands it with the class under `typeBrandKey`.
 */
function typedErrorKind(value: unknown): 'unavailable' | 'other' | undefined {
  if (value instanceof UnavailableError) return 'unavailable';
  if (value instanceof VigilError) return 'other';
  if (typeof value !== 'object' || value === null) return undefined;
  // read through the proxy's get trap (it has no `has` trap: `typeBrandKey in value` is false)
  const brand: unknown = Reflect.get(value, typeBrandKey);
  if (brand === UnavailableError) return 'unavailable';
  return typeof brand === 'function' && brand.prototype instanceof VigilError ? 'other' : undefined;
}

/** an operation's label: its name, or its first root field's */
function labelOf(operation: OperationDefinitionNode): string {
  if (operation.name) return operation.name.value;
  const first = operation.selectionSet.selections[0];
  return first?.kind === 'Field' ? first.name.value : 'anonymous';
}

/** a top-level error's code: an expected failure's own, else what the error carries, else INTERNAL_SERVER_ERROR */
function codeOf(error: GraphQLError): string {
  const original = error.originalError;
  if (
    original instanceof VigilError ||
    original instanceof UnavailableError ||
    original instanceof PayloadTooLargeError
  )
    return original.code;
  if (original instanceof Error && original.name === 'AbortError') return 'CANCELLED';
  const code = error.extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}

/** a result one of whose root fields answered UNAVAILABLE in its union: HTTP 503 with Retry-After */
function withUnavailableStatus(result: ExecutionResult, retryAfter: number): ExecutionResult {
  return {
    ...result,
    extensions: {
      ...result.extensions,
      http: { status: HTTP_STATUS.UNAVAILABLE, headers: { 'retry-after': String(retryAfter) } },
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** graphql-ws operations run with the socket in their context (websocket.ts); SSE ones with the request */
function isWebSocketContext(context: unknown): boolean {
  return typeof context === 'object' && context !== null && 'socket' in context;
}
