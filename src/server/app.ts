/**
 * One HTTP server: /graphql (queries and mutations; subscriptions over SSE and, on the same path,
 * graphql-ws), GraphiQL in development, and the plain routes each domain contributes.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from '../logger.ts';
import type { GraphQLContext } from '../context.ts';
import { BodyTooLargeError, readBody } from './body.ts';
import { queryLimitPlugins } from './limits.ts';
import { useReadableVariableErrors } from '../schema/variable-errors.ts';
import { findRoute, sendGraphQLError, sendJson, type Route } from './routes.ts';

export interface ServerOptions {
  schema: GraphQLSchema;
  context: () => GraphQLContext;
  routes: readonly Route[];
  logger: Logger;
  development: boolean;
  maxBodyBytes: number;
  maxQueryDepth: number;
  maxQueryCost: number;
}

export interface VigilServer {
  http: http.Server;
  yoga: YogaServerInstance<Record<string, never>, GraphQLContext>;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

export function createServer(options: ServerOptions): VigilServer {
  const { logger } = options;
  const yoga = createYoga<Record<string, never>, GraphQLContext>({
    schema: options.schema,
    context: options.context,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: options.development ? { subscriptionsProtocol: 'WS', title: 'vigil' } : false,
    logging: {
      debug: (...args) => logger.debug(String(args[0]), { args: args.slice(1) }),
      info: (...args) => logger.info(String(args[0])),
      warn: (...args) => logger.warn(String(args[0])),
      error: (...args) => logger.error(String(args[0]), { args: args.slice(1) }),
    },
    maskedErrors: {
      // Unexpected errors are logged whole and reach clients as a generic message.
      maskError(error, message) {
        const original = error instanceof GraphQLError ? error.originalError : error;
        // errors GraphQL itself raises (syntax, validation, limits) are meant for the client
        if (error instanceof GraphQLError && (!original || original instanceof GraphQLError || isClientError(error))) return error;
        logger.error('unexpected error in a resolver', { error: original ?? error });
        return new GraphQLError(message, { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    plugins: [...queryLimitPlugins({ maxDepth: options.maxQueryDepth, maxCost: options.maxQueryCost }), useReadableVariableErrors()],
  });

  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    let body: Buffer | undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      try {
        body = await readBody(req, options.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          sendGraphQLError(res, 413, 'PAYLOAD_TOO_LARGE', error.message);
          req.destroy();
          return;
        }
        throw error;
      }
    }
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const response = await yoga.fetch(url, { method: req.method, headers, body: body as unknown as BodyInit | undefined, signal: abort.signal });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        if (res.destroyed) break;
        res.write(chunk);
      }
    }
    res.end();
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const handle = async () => {
      if (url.pathname === yoga.graphqlEndpoint) return handleGraphQL(req, res, url);
      const route = findRoute(options.routes, req.method ?? 'GET', url.pathname);
      if (!route) return sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
      return route.handle(req, res, url);
    };
    handle().catch((error: unknown) => {
      logger.error('request failed', { path: url.pathname, error });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });

  // Longer than clients' keep-alive (undici: 4 s), so a client never reuses a socket the server is closing.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  // graphql-ws on the same path: Yoga's envelop (schema, context, validation, limits) runs each operation.
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  const wsCleanup = useServer(
    {
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
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

function isClientError(error: GraphQLError): boolean {
  const status = (error.extensions?.http as { status?: number } | undefined)?.status;
  return status !== undefined && status >= 400 && status < 500;
}
