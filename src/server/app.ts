/**
 * One HTTP server, and Yoga is its request handler: /graphql (queries and mutations; subscriptions over
 * SSE), GraphiQL in development, /healthz, and as plugins the body-size limit, /readyz and the plain
 * routes each domain contributes. graphql-ws shares the port and the /graphql path.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionArgs, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { GraphQLContext } from '../context.ts';
import { ValidationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { useReadableVariableErrors } from '../schema/variable-errors.ts';
import { useBodyLimit } from './body-limit.ts';
import { type ReadinessCheck, useReadiness } from './health.ts';
import { errorBody, HTTP_STATUS, maskUnexpectedErrors } from './http-errors.ts';
import { queryLimitPlugins } from './limits.ts';
import { type Route, useRoutes } from './routes.ts';

/** the functions Yoga's envelop makes for one operation */
type Enveloped = ReturnType<YogaServerInstance<NodeServerContext, GraphQLContext>['getEnveloped']>;

export interface ServerOptions {
  schema: GraphQLSchema;
  context: () => GraphQLContext;
  routes: readonly Route[];
  readiness: readonly ReadinessCheck[];
  logger: Logger;
  development: boolean;
  maxBodyBytes: number;
  maxQueryDepth: number;
  maxQueryCost: number;
}

/** what Yoga's Node request listener passes to every plugin */
export interface NodeServerContext {
  req: IncomingMessage;
  res: ServerResponse;
}

export interface VigilServer {
  http: http.Server;
  yoga: YogaServerInstance<NodeServerContext, GraphQLContext>;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

export function createServer(options: ServerOptions): VigilServer {
  const { logger } = options;
  const yoga = createYoga<NodeServerContext, GraphQLContext>({
    schema: options.schema,
    context: options.context,
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
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  // Each operation runs with the functions Yoga's envelop made for it, kept beside its arguments.
  const operations = new WeakMap<ExecutionArgs, Pick<Enveloped, 'execute' | 'subscribe'>>();
  const envelopedFor = (args: ExecutionArgs) => {
    const found = operations.get(args);
    if (!found) throw new Error('a graphql-ws operation ran without its envelop');
    return found;
  };
  const wsCleanup = useServer(
    {
      execute: (args) => envelopedFor(args).execute(args),
      subscribe: (args) => envelopedFor(args).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
        });
        const args: ExecutionArgs = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        operations.set(args, { execute, subscribe });
        return args;
      },
    },
    wsServer,
  );

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
      await wsCleanup.dispose();
      wsServer.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
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
