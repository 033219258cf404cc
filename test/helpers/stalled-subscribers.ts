/**
 * Subscribers that stop reading: a graphql-ws client and an SSE client whose sockets the caller pauses
 * (`socket.pause()`), to show that the server bounds what waits for them and drops them with the reason.
 */
import net from 'node:net';
import WebSocket from 'ws';
import { until } from './wait.ts';

/** a graphql-ws client that subscribes (`operations` times, one id each), then stops reading when paused */
export class StalledWebSocket {
  readonly socket: net.Socket;
  closed: { code: number; reason: string } | undefined;
  readonly #ws: WebSocket;

  private constructor(ws: WebSocket, socket: net.Socket) {
    this.#ws = ws;
    this.socket = socket;
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => {});
  }

  static async open(url: string, query: string, operations = 1): Promise<StalledWebSocket> {
    const ws = new WebSocket(url, 'graphql-transport-ws');
    // the upgrade response's socket is the connection's
    let socket: net.Socket | undefined;
    ws.once('upgrade', (response) => (socket = response.socket));
    const messages: string[] = [];
    ws.on('message', (data) => messages.push(String(data)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'connection_init' }));
    await until('connection_ack', async () => messages.some((m) => m.includes('connection_ack')));
    for (let id = 1; id <= operations; id++)
      ws.send(JSON.stringify({ id: String(id), type: 'subscribe', payload: { query } }));
    return new StalledWebSocket(ws, socket!);
  }

  async waitForClose(timeoutMs: number): Promise<{ code: number; reason: string }> {
    return until('the stalled WebSocket closed', async () => this.closed, timeoutMs);
  }

  destroy(): void {
    this.#ws.terminate();
  }
}

/** an SSE client that reads the response head, then stops reading when paused */
export class StalledEventStream {
  readonly socket: net.Socket;
  received = '';
  ended = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (data) => (this.received += data.toString()));
    socket.on('close', () => (this.ended = true));
    socket.on('error', () => {});
  }

  static async open(port: number, query: string): Promise<StalledEventStream> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const stream = new StalledEventStream(socket);
    const body = JSON.stringify({ query });
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\naccept: text/event-stream\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await until('the SSE response head', async () => stream.received.includes('text/event-stream'));
    return stream;
  }

  /** the server ended the stream: its last chunk came, or the socket was cut */
  get finished(): boolean {
    return this.ended || this.received.endsWith('\r\n0\r\n\r\n');
  }
}
