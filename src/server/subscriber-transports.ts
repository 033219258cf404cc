/**
 * How the bus disconnects a subscriber that fell behind (pubsub/subscription.ts), per transport. The
 * bus has already ended the subscription with SUBSCRIBER_TOO_SLOW and freed its queue; what is left is
 * the connection, whose client may be reading slowly (it gets the reason after what is on its way) or
 * not at all (its socket is cut after DISCONNECT_GRACE_MS, so its buffers are freed too).
 * - graphql-ws: the socket closes with 1013 "Try Again Later" and the reason (graphql-ws clients
 *   reconnect after it); every operation of the connection ends, since they share the stalled socket.
 * - HTTP (SSE, or multipart): Yoga writes the SUBSCRIBER_TOO_SLOW error as the stream's last event and
 *   ends the response.
 */
import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { SubscriberTransport } from '../pubsub/subscription.ts';

/** how long a client that fell behind has to read the reason before its socket is cut */
export const DISCONNECT_GRACE_MS = 5000;

/** WebSocket close code 1013, "Try Again Later": the server cannot keep up with this client now */
export const SUBSCRIBER_TOO_SLOW_CLOSE_CODE = 1013;

const webSockets = new WeakMap<WebSocket, SubscriberTransport>();

export function webSocketTransport(socket: WebSocket): SubscriberTransport {
  let transport = webSockets.get(socket);
  if (!transport) {
    transport = {
      kind: 'websocket',
      disconnect(reason) {
        if (socket.readyState === socket.OPEN) socket.close(SUBSCRIBER_TOO_SLOW_CLOSE_CODE, reason);
        setTimeout(() => socket.terminate(), DISCONNECT_GRACE_MS).unref();
      },
    };
    webSockets.set(socket, transport);
  }
  return transport;
}

export function httpTransport(res: ServerResponse): SubscriberTransport {
  return {
    kind: 'http',
    disconnect() {
      setTimeout(() => {
        if (!res.writableFinished) res.destroy();
      }, DISCONNECT_GRACE_MS).unref();
    },
  };
}
