/**
 * One HTTP server, and Yoga is its request handler: /graphql (queries and mutations; subscriptions over
 * SSE), GraphiQL in development (from bundled assets: graphiql.ts), /healthz, and as plugins
 * authentication and rate limits (first), the role check of every operation, the body-size limit,
 * cross-site protection (CORS, CSRF), the document limits and cache, /readyz and the plain routes each
 * domain contributes. graphql-ws shares the port and the /graphql path (websocket.ts), authenticated in
 * connection_init.
 *
 * Shutting down (`close`) drains: /readyz answers 503 and the listening socket closes at once (new
 * connections are refused), subscriptions complete (shutdown.ts), requests in flight run to their
 * answer and their keep-alive connections close after it, then graphql-ws sockets close with 1001
 * "Going away". Whatever still runs at the deadline (a client that never finishes sending its body) is
 * cut off.
 */
import http, { type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
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
import { bundledGraphiQL } from './graphiql.ts';
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
import { countTypedErrors, RequestMetrics, useRequestMetrics } from './request-metrics.ts';
import { publicPaths, type Route, useRoutes } from './routes.ts';
import { settlesBefore, useEndSubscriptionsOnShutdown } from './shutdown.ts';
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
   * it would send its events on; `signal`: aborted when an HTTP request's client disconnects
   */
  context: (
    identity: Identity,
    transport: SubscriberTransport | undefined,
    signal: AbortSignal | undefined,
  ) => GraphQLContext;
  /** authentication and rate limits (src/auth/gate.ts) */
  gate: Gate;
  routes: readonly Route[];
  readiness: readonly ReadinessCheck[];
  logger: Logger;
  /** where GraphQL request metrics are counted (default: a fresh set) */
  metrics?: RequestMetrics;
}

export interface VigilServer {
  http: http.Server;
  yoga: YogaServerInstance<NodeServerContext, GraphQLContext>;
  webSocket: GraphQLWebSocket;
  /** parsed documents kept for reuse */
  documents: DocumentCache;
  /** GraphQL operations, errors, latency and subscriptions, for /metrics */
  metrics: RequestMetrics;
  /** the plain routes beside /graphql, each with the role it requires */
  routes: readonly Route[];
  /** HTTP requests in progress (an SSE stream counts until it ends) */
  readonly requestsInFlight: number;
  /** true once `close` has begun */
  readonly draining: boolean;
  listen(port: number, host?: string): Promise<number>;
  /**
   * Drains (above) and resolves when every connection has closed; at `deadline` (a performance.now()
   * time; default: at once) what remains is cut off.
   */
  close(options?: { deadline?: number }): Promise<void>;
}

export function createServer(options: ServerOptions): VigilServer {
  const { logger, gate } = options;
  const holdings = new KeyHoldings();
  const documents = new DocumentCache(options.parseCache);
  const metrics = options.metrics ?? new RequestMetrics();
  countTypedErrors(options.schema);
  const shutdown = new AbortController();
  let draining = false;
  /** responses not yet closed: the drain waits for them */
  const responses = new Set<ServerResponse>();
  /** kept-alive connections between two requests: closed at once when the drain begins */
  const idleKeptAlive = new Set<Socket>();
  const isPublicPath = publicPaths(options.routes);
  const yoga = createYoga<NodeServerContext, GraphQLContext>({
    schema: options.schema,
    context: (initial) => {
      const caller = callerOf(initial);
      if (caller instanceof Error) throw requestError(caller);
      return options.context(caller, subscriberTransportOf(initial), requestSignalOf(initial));
    },
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    graphiql: options.development ? { subscriptionsProtocol: 'WS', title: 'vigil' } : false,
    renderGraphiQL: bundledGraphiQL(),
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
      useAuthentication({
        gate,
        graphqlEndpoint: '/graphql',
        isOpenPath: (pathname) => pathname === READINESS_PATH || isPublicPath(pathname),
        holdings,
        logger,
      }),
      useAuthorization(),
      useRequestMetrics(metrics),
      useEndSubscriptionsOnShutdown(shutdown.signal),
      useCsrfPrevention(),
      useBodyLimit(options.maxBodyBytes),
      useTypedRequestParseErrors(),
      useReadiness(options.readiness, logger, { draining: () => draining }),
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
    const socket = req.socket;
    idleKeptAlive.delete(socket);
    responses.add(res);
    res.once('close', () => {
      responses.delete(res);
      if (socket.destroyed) return;
      // while draining, a connection closes after its answer (headers sent before the drain said keep-alive)
      if (draining) socket.end();
      else idleKeptAlive.add(socket);
    });
    // a request arriving while draining: answered, then its connection closes
    if (draining) res.setHeader('connection', 'close');
    // Yoga builds the request's URL from these two; a pair that does not parse would fail outside
    // any handler. (A request line Node cannot parse never gets here: Node answers it 400 itself.)
    if (!URL.canParse(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`)) {
      refuse(res, new ValidationError('url', 'the request target and Host header do not form a valid URL'));
      return;
    }
    void yoga.requestListener(req, res);
  });

  server.on('connection', (socket: Socket) => socket.once('close', () => idleKeptAlive.delete(socket)));
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

  let closed: Promise<void> | undefined;
  function beginDrain(): Promise<void> {
    draining = true;
    // The listening socket closes now: new connections are refused. Not through http.Server#close,
    // which also destroys every connection idle at this instant, among them those accepted but whose
    // request is not parsed yet (onnxruntime runs on this thread: under load a request can wait a few
    // runs to be read). Those are answered; connections idle between two requests close now.
    const stopped = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
    for (const socket of idleKeptAlive) socket.destroy();
    idleKeptAlive.clear();
    for (const res of responses) if (!res.headersSent) res.setHeader('connection', 'close');
    shutdown.abort();
    return stopped;
  }

  /** nothing in flight twice in a row, 20 ms apart: a request still on its way would have been parsed */
  async function quiescent(deadline: number): Promise<void> {
    const idle = () => responses.size === 0 && metrics.executing === 0;
    while (performance.now() < deadline) {
      if (idle()) {
        await sleep(20);
        if (idle()) return;
      }
      await sleep(10);
    }
  }

  async function drain(deadline: number): Promise<void> {
    const stopped = beginDrain();
    // requests (and graphql-ws operations) in flight run to their answer
    await quiescent(deadline);
    // connections that never sent a request
    server.closeIdleConnections();
    await webSocket.close();
    if (!(await settlesBefore(stopped, deadline))) {
      logger.warn('shutdown: cutting off connections still open at the deadline', {
        requests: responses.size,
        webSockets: webSocket.connections,
      });
      server.closeAllConnections();
      webSocket.terminate();
      await stopped;
    }
  }

  return {
    http: server,
    yoga,
    webSocket,
    documents,
    metrics,
    routes: options.routes,
    get requestsInFlight() {
      return responses.size;
    },
    get draining() {
      return draining;
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close(closeOptions = {}) {
      closed ??= (async () => {
        stopWatchingKeys();
        await drain(closeOptions.deadline ?? performance.now());
      })();
      return closed;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The connection of an operation, from what Yoga's context starts with: graphql-ws operations carry
 * their socket (websocket.ts), HTTP requests Node's response.
 */
function subscriberTransportOf(initial: object): SubscriberTransport | undefined {
  if ('socket' in initial && initial.socket instanceof WebSocket) return webSocketTransport(initial.socket);
  if ('res' in initial && initial.res instanceof http.ServerResponse) return httpTransport(initial.res);
  return undefined;
}

/**
 * The signal of an HTTP request's Fetch Request, aborted when its client disconnects (graphql-ws
 * operations have none: a closed socket completes them).
 */
function requestSignalOf(initial: object): AbortSignal | undefined {
  if (!('request' in initial) || typeof initial.request !== 'object' || initial.request === null) return undefined;
  const { request } = initial;
  return 'signal' in request && request.signal instanceof AbortSignal ? request.signal : undefined;
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
