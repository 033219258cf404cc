/**
 * One HTTP server, and Yoga is its request handler: /graphql (queries and mutations; subscriptions over
 * SSE), GraphiQL in development, /healthz, and as plugins authentication and rate limits (first), the
 * role check of every operation, the body-size limit, /readyz and the plain routes each domain
 * contributes. graphql-ws shares the port and the /graphql path, authenticated in connection_init.
 */
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Gate } from '../auth/gate.ts';
import type { Identity } from '../auth/roles.ts';
import { ValidationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { GraphQLContext } from '../context.ts';
import { callerOf, useAuthentication, type NodeServerContext } from './authentication.ts';
import { useAuthorization } from './authorization.ts';
import { useBodyLimit } from './body-limit.ts';
import { READINESS_PATH, useReadiness, type ReadinessCheck } from './health.ts';
import { errorBody, HTTP_STATUS, maskUnexpectedErrors, requestError } from './http-errors.ts';
import { KeyHoldings } from './key-holdings.ts';
import { queryLimitPlugins } from './limits.ts';
import { useRoutes, type Route } from './routes.ts';
import { useReadableVariableErrors } from '../schema/variable-errors.ts';

export type { NodeServerContext };

/** graphql-ws close codes of a refused connection (4400–4499 are the application's, like HTTP's 4xx) */
export const WS_UNAUTHORIZED = 4401;
export const WS_FORBIDDEN = 4403;

export interface ServerOptions {
  schema: GraphQLSchema;
  /** the GraphQL context of one request by this caller */
  context: (identity: Identity) => GraphQLContext;
  /** authentication and rate limits (src/auth/gate.ts) */
  gate: Gate;
  routes: readonly Route[];
  readiness: readonly ReadinessCheck[];
  logger: Logger;
  development: boolean;
  maxBodyBytes: number;
  maxQueryDepth: number;
  maxQueryCost: number;
}

export interface VigilServer {
  http: http.Server;
  yoga: YogaServerInstance<NodeServerContext, GraphQLContext>;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

export function createServer(options: ServerOptions): VigilServer {
  const { logger, gate } = options;
  const holdings = new KeyHoldings();
  const yoga = createYoga<NodeServerContext, GraphQLContext>({
    schema: options.schema,
    context: (initial) => {
      const caller = callerOf(initial);
      if (caller instanceof Error) throw requestError(caller);
      return options.context(caller);
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
    maskedErrors: { maskError: maskUnexpectedErrors(logger) },
    // useBodyLimit enforces MAX_BODY_BYTES with vigil's error instead
    maxRequestBodySize: false,
    plugins: [
      useAuthentication({ gate, graphqlEndpoint: '/graphql', openPaths: [READINESS_PATH], holdings, logger }),
      useAuthorization(),
      useBodyLimit(options.maxBodyBytes),
      useReadiness(options.readiness),
      useRoutes(options.routes, logger),
      ...queryLimitPlugins({ maxDepth: options.maxQueryDepth, maxCost: options.maxQueryCost }),
      useReadableVariableErrors(),
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

  // graphql-ws on the same path: Yoga's envelop (schema, context, validation, limits) runs each operation.
  // The caller is named once, in connection_init; each operation is then authorized and rate-limited
  // like an HTTP request, by the same plugins.
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  const wsCleanup = useServer<Record<string, unknown> | undefined, { identity: Identity; release: () => void }>(
    {
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      onConnect: async (ctx) => {
        const { socket, request } = ctx.extra;
        const identity = await gate.identify(connectionAuthorization(ctx.connectionParams) ?? request.headers.authorization, request.socket.remoteAddress ?? 'unknown');
        if (identity instanceof Error) {
          // graphql-ws answers `false` with 4403; a missing or invalid key is 4401, with the reason why
          socket.close(WS_UNAUTHORIZED, closeReason(`Unauthorized: ${identity.message}`));
          return false;
        }
        ctx.extra.identity = identity;
        if (identity.kind === 'key') {
          ctx.extra.release = holdings.hold(identity.keyName, () => socket.close(WS_FORBIDDEN, 'Forbidden: the API key was revoked'));
        }
        return true;
      },
      onClose: (ctx) => ctx.extra.release?.(),
      onSubscribe: async (ctx, _id, params) => {
        const identity = ctx.extra.identity;
        if (!identity) return [new GraphQLError('the connection is not authenticated', { extensions: { code: 'UNAUTHENTICATED' } })];
        const limited = gate.admit(identity);
        if (limited) return [requestError(limited)];
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          identity,
        });
        const args = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    wsServer,
  );
  const stopWatchingKeys = gate.onKeysReloaded((active) => holdings.closeAllBut(active));

  return {
    http: server,
    yoga,
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
      await wsCleanup.dispose();
      wsServer.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `authorization` of graphql-ws's connection_init payload (`Authorization` accepted too) */
function connectionAuthorization(params: Record<string, unknown> | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization;
  return typeof value === 'string' ? value : undefined;
}

/** a WebSocket close reason is at most 123 bytes */
function closeReason(text: string): string {
  return Buffer.byteLength(text) <= 123 ? text : `${text.slice(0, 119)}…`;
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
