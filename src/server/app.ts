/**
 * One HTTP server, and Yoga is its request handler: /graphql (queries and mutations; subscriptions over
 * SSE), GraphiQL in development, /healthz, and as plugins authentication and rate limits (first), the
 * role check of every operation, the body-size limit, cross-site protection (CORS, CSRF), the document
 * limits and cache, /readyz and the plain routes each domain contributes. graphql-ws shares the port and
 * the /graphql path (websocket.ts), authenticated in connection_init.
 */
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLSchema } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocket } from 'ws';
import type { Gate } from '../auth/gate.ts';
import type { Identity } from '../auth/roles.ts';
import type { Config } from '../config.ts';
import type { GraphQLContext } from '../context.ts';
import { ValidationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { SubscriberTransport } from '../pubsub/subscription.ts';
import { useReadableVariableErrors } from '../schema/variable-errors.ts';
import { callerOf, type NodeServerContext, useAuthentication } from './authentication.ts';
import { useAuthorization } from './authorization.ts';
import { useBodyLimit } from './body-limit.ts';
import { READINESS_PATH, type ReadinessCheck, useReadiness } from './health.ts';
import {
  errorBody,
  HTTP_STATUS,
  INTERNAL_ERROR_MESSAGE,
  maskUnexpectedErrors,
  requestError,
  useTypedRequestParseErrors,
} from './http-errors.ts';
import { KeyHoldings } from './key-holdings.ts';
import { queryLimitPlugins } from './limits.ts';
import { useNoNulStrings } from './nul-strings.ts';
import { corsOption, useCsrfPrevention } from './origins.ts';
import { DocumentCache, useBoundedParseCache } from './parse-cache.ts';
import { type Route, useRoutes } from './routes.ts';
import { httpTransport, webSocketTransport } from './subscriber-transports.ts';
import { attachWebSocket, type GraphQLWebSocket } from './websocket.ts';

export type { NodeServerContext };

/** the settings of the server: limits, cross-origin rules, development aids */
export type ServerSettings = Pick<
  Config,
  | 'development'
  | 'introspection'
  | 'corsOrigins'
  | 'maxBodyBytes'
  | 'maxQueryDepth'
  | 'maxQueryCost'
  | 'maxQueryTokens'
  | 'maxDocumentBytes'
  | 'parseCache'
  | 'webSocket'
>;

export interface ServerOptions extends ServerSettings {
  schema: GraphQLSchema;
  /**
   * the GraphQL context of one request by this caller; `transport`: the connection a subscription of
   * it would send its events on
   */
  context: (identity: Identity, transport: SubscriberTransport | undefined) => GraphQLContext;
  /** authentication and rate limits (src/auth/gate.ts) */
  gate: Gate;
  routes: readonly Route[];
  readiness: readonly ReadinessCheck[];
  logger: Logger;
}

export interface VigilServer {
  http: http.Server;
  yoga: YogaServerInstance<NodeServerContext, GraphQLContext>;
  webSocket: GraphQLWebSocket;
  /** parsed documents kept for reuse */
  documents: DocumentCache;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

export function createServer(options: ServerOptions): VigilServer {
  const { logger, gate } = options;
  const holdings = new KeyHoldings();
  const documents = new DocumentCache(options.parseCache);
  const yoga = createYoga<NodeServerContext, GraphQLContext>({
    schema: options.schema,
    context: (initial) => {
      const caller = callerOf(initial);
      if (caller instanceof Error) throw requestError(caller);
      return options.context(caller, subscriberTransportOf(initial));
    },
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    graphiql: options.development ? { subscriptionsProtocol: 'WS', title: 'vigil' } : false,
    logging: {
      debug: (...args) => logger.debug(String(args[0]), { args: args.slice(1) }),
      info: (...args) => logger.info(String(args[0])),
      warn: (...args) => logger.warn(String(args[0])),
      error: (...args) => logger.error(String(args[0]), { args: args.slice(1) }),
    },
    maskedErrors: { maskError: maskUnexpectedErrors(logger), errorMessage: INTERNAL_ERROR_MESSAGE },
    cors: corsOption(options.corsOrigins),
    // useBodyLimit enforces MAX_BODY_BYTES with vigil's error instead
    maxRequestBodySize: false,
    // useBoundedParseCache instead: bounded in bytes, and only documents that passed validation
    parserAndValidationCache: false,
    plugins: [
      useAuthentication({ gate, graphqlEndpoint: '/graphql', openPaths: [READINESS_PATH], holdings, logger }),
      useAuthorization(),
      useCsrfPrevention(),
      useBodyLimit(options.maxBodyBytes),
      useTypedRequestParseErrors(),
      useReadiness(options.readiness, logger),
      useRoutes(options.routes, logger),
      useBoundedParseCache(documents),
      ...queryLimitPlugins({
        maxDepth: options.maxQueryDepth,
        maxCost: options.maxQueryCost,
        maxTokens: options.maxQueryTokens,
        maxDocumentBytes: options.maxDocumentBytes,
        introspection: options.introspection,
      }),
      useReadableVariableErrors(),
      useNoNulStrings(),
    ],
  });

  const server = http.createServer((req, res) => {
    // Yoga builds the request's URL from these two; a pair that does not parse would fail outside
    // any handler. (A request line Node cannot parse never gets here: Node answers it 400 itself.)
    if (!URL.canParse(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`)) {
      refuse(res, new ValidationError('url', 'the request target and Host header do not form a valid URL'));
      return;
    }
    void yoga.requestListener(req, res);
  });

  // Longer than clients' keep-alive (undici: 4 s), so a client never reuses a socket the server is closing.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const webSocket = attachWebSocket({
    server,
    yoga,
    logger,
    gate,
    holdings,
    corsOrigins: options.corsOrigins,
    limits: { maxPayloadBytes: options.maxBodyBytes, ...options.webSocket },
  });
  const stopWatchingKeys = gate.onKeysReloaded((active) => holdings.closeAllBut(active));

  return {
    http: server,
    yoga,
    webSocket,
    documents,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    async close() {
      stopWatchingKeys();
      await webSocket.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The connection of an operation, from what Yoga's context starts with: graphql-ws operations carry
 * their socket (websocket.ts), HTTP requests Node's response.
 */
function subscriberTransportOf(initial: object): SubscriberTransport | undefined {
  if ('socket' in initial && initial.socket instanceof WebSocket) return webSocketTransport(initial.socket);
  if ('res' in initial && initial.res instanceof http.ServerResponse) return httpTransport(initial.res);
  return undefined;
}

/** a request refused before Yoga sees it: the mapped status, the route's JSON error body, connection closed */
function refuse(res: ServerResponse, error: ValidationError): void {
  const text = JSON.stringify(errorBody(error));
  res.writeHead(HTTP_STATUS[error.code], {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    connection: 'close',
  });
  res.end(text);
}
