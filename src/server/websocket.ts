/**
 * graphql-ws on the HTTP server's /graphql path, with Yoga's envelop (schema, context, parsing limits,
 * validation, masking) running each operation. Before a socket is accepted: the path, the Origin
 * (origins.ts) and the connection limits, in all and per remote address, each refused with an HTTP
 * status. After: messages up to MAX_BODY_BYTES (the HTTP limit), a bounded number of operations at
 * once per connection, and failures answered as the operation's errors with an error id, never with
 * exception text (nor as a close reason, which graphql-ws writes from the exception outside production).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { Gate } from '../auth/gate.ts';
import type { Identity } from '../auth/roles.ts';
import type { GraphQLContext } from '../context.ts';
import { type Logger, logUnexpected } from '../logger.ts';
import type { NodeServerContext } from './app.ts';
import { maskUnexpectedErrors, requestError } from './http-errors.ts';
import type { KeyHoldings } from './key-holdings.ts';
import { isAllowedOrigin } from './origins.ts';

export interface WebSocketLimits {
  maxPayloadBytes: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxOperationsPerConnection: number;
}

export interface WebSocketOptions {
  server: Server;
  yoga: YogaServerInstance<NodeServerContext, GraphQLContext>;
  logger: Logger;
  corsOrigins: readonly string[];
  limits: WebSocketLimits;
  /** authentication and rate limits: the caller is named once, in connection_init */
  gate: Gate;
  /** the sockets each API key holds, closed when the key is revoked */
  holdings: KeyHoldings;
}

/** graphql-ws close codes of a refused connection (4400–4499 are the application's, like HTTP's 4xx) */
export const WS_UNAUTHORIZED = 4401;
export const WS_FORBIDDEN = 4403;
/** graphql-ws's InternalServerError */
export const WS_INTERNAL_ERROR = 4500;

/** what the enveloped execute and subscribe are carried in, from onSubscribe to graphql-ws's execute */
interface EnvelopedRoot {
  execute: NonNullable<ServerOptions['execute']>;
  subscribe: NonNullable<ServerOptions['subscribe']>;
}

function envelopedRoot(args: ExecutionArgs): EnvelopedRoot {
  const root: unknown = args.rootValue;
  if (typeof root === 'object' && root !== null && 'execute' in root && 'subscribe' in root)
    return root as EnvelopedRoot;
  throw new Error('graphql-ws ran an operation that onSubscribe did not prepare');
}

export interface GraphQLWebSocket {
  /** connections open now, in all */
  readonly connections: number;
  /** closes every socket with 1001 "Going away" and accepts no more */
  close(): Promise<void>;
  /** ends the sockets that have not finished closing */
  terminate(): void;
}

export function attachWebSocket(options: WebSocketOptions): GraphQLWebSocket {
  const { server, yoga, logger, limits, gate, holdings } = options;
  const mask = maskUnexpectedErrors(logger);
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes });
  const perAddress = new Map<string, number>();
  let connections = 0;

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node leaves an upgraded socket without an error listener: a reset while refusing or handshaking
    // would otherwise end the process
    socket.on('error', (error) => logger.debug('WebSocket upgrade socket error', { error: error.message }));
    try {
      accept(request, socket, head);
    } catch (error) {
      logger.warn('WebSocket upgrade failed', { error });
      socket.destroy();
    }
  });

  function accept(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refusal = refusalOf(request);
    if (refusal) {
      refuseUpgrade(socket, refusal.status, refusal.message);
      return;
    }
    // counted from here until the TCP socket closes, whether or not the handshake completes
    const address = request.socket.remoteAddress ?? 'unknown';
    connections++;
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    socket.once('close', () => {
      connections--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
    wsServer.handleUpgrade(request, socket, head, (ws) => {
      wsServer.emit('connection', ws, request);
      // A socket error is the client's (a frame over maxPayload, a bad frame): ws closes the socket itself
      // (1009, 1002). graphql-ws would print each to the console; one line at debug level is enough.
      ws.removeAllListeners('error');
      ws.on('error', (error) =>
        logger.debug('WebSocket closed on a protocol error', { address, error: error.message }),
      );
    });
  }

  function refusalOf(request: IncomingMessage): { status: number; message: string } | undefined {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path !== yoga.graphqlEndpoint)
      return { status: 404, message: `no WebSocket at ${path}: use ${yoga.graphqlEndpoint}` };
    if (!isAllowedOrigin(request.headers.origin, request.headers.host, options.corsOrigins)) {
      return { status: 403, message: 'this origin may not open the WebSocket (CORS_ORIGINS lists those that may)' };
    }
    if (connections >= limits.maxConnections)
      return {
        status: 503,
        message: `the server holds its limit of ${limits.maxConnections} WebSocket connections (WS_MAX_CONNECTIONS)`,
      };
    const address = request.socket.remoteAddress ?? 'unknown';
    if ((perAddress.get(address) ?? 0) >= limits.maxConnectionsPerAddress) {
      return {
        status: 429,
        message: `this address holds its limit of ${limits.maxConnectionsPerAddress} WebSocket connections (WS_MAX_CONNECTIONS_PER_ADDRESS)`,
      };
    }
    return undefined;
  }

  const cleanup = useServer<Record<string, unknown> | undefined, { identity?: Identity; release?: () => void }>(
    {
      // close reasons say "Internal server error", never the exception's text
      isProd: true,
      execute: (args: ExecutionArgs) => envelopedRoot(args).execute(args),
      subscribe: (args: ExecutionArgs) => envelopedRoot(args).subscribe(args),
      onConnect: async (ctx) => {
        const { socket, request } = ctx.extra;
        let identity: Awaited<ReturnType<Gate['identify']>>;
        try {
          identity = await gate.identify(
            connectionAuthorization(ctx.connectionParams) ?? request.headers.authorization,
            request.socket.remoteAddress ?? 'unknown',
          );
        } catch (error) {
          // the close reason gives the id of the log line that holds the exception
          const errorId = logUnexpected(logger, 'WebSocket connection failed', error);
          socket.close(WS_INTERNAL_ERROR, `Internal server error (error id ${errorId})`);
          return false;
        }
        if (identity instanceof Error) {
          // graphql-ws answers `false` with 4403; a missing or invalid key is 4401, with the reason why
          socket.close(WS_UNAUTHORIZED, closeReason(`Unauthorized: ${identity.message}`));
          return false;
        }
        ctx.extra.identity = identity;
        if (identity.kind === 'key') {
          ctx.extra.release = holdings.hold(identity.keyName, () =>
            socket.close(WS_FORBIDDEN, 'Forbidden: the API key was revoked'),
          );
        }
        return true;
      },
      onClose: (ctx) => ctx.extra.release?.(),
      onSubscribe: async (ctx, _id, params) => {
        // each operation is authorized and rate-limited like an HTTP request, by the same plugins
        const identity = ctx.extra.identity;
        if (!identity) {
          return [new GraphQLError('the connection is not authenticated', { extensions: { code: 'UNAUTHENTICATED' } })];
        }
        const limited = gate.admit(identity);
        if (limited) return [requestError(limited)];
        // graphql-ws has already counted this operation
        if (Object.keys(ctx.subscriptions).length > limits.maxOperationsPerConnection) {
          return [
            new GraphQLError(
              `This connection already runs ${limits.maxOperationsPerConnection} operations (WS_MAX_OPERATIONS_PER_CONNECTION): complete one first`,
              {
                extensions: { code: 'TOO_MANY_OPERATIONS' },
              },
            ),
          ];
        }
        try {
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
            rootValue: { execute, subscribe } satisfies EnvelopedRoot,
          };
          const errors = validate(args.schema, args.document);
          if (errors.length) return errors;
          return args;
        } catch (error) {
          // a syntax error or a limit is the operation's error, not the connection's end
          return [mask(error)];
        }
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => mask(error).toJSON()),
    },
    wsServer,
  );

  return {
    get connections() {
      return connections;
    },
    async close() {
      await cleanup.dispose();
    },
    terminate() {
      for (const client of wsServer.clients) client.terminate();
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

/** an HTTP answer on a socket that asked to upgrade, then the end of it */
function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({
    error: message,
    code: status === 429 || status === 503 ? 'TOO_MANY_CONNECTIONS' : status === 403 ? 'FORBIDDEN_ORIGIN' : 'NOT_FOUND',
  });
  const reason =
    { 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' }[status] ??
    'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.once('finish', () => socket.destroy());
}
