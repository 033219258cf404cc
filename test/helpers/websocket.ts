/** Raw WebSocket helpers for tests of the upgrade and the graphql-ws protocol's edges. */
import WebSocket from 'ws';

/** what the server answered an upgrade with: 101 (opened, then closed again here) or the refusal's status and body */
export function upgrade(url: string, options: { origin?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', options.origin ? { origin: options.origin } : {});
    socket.once('open', () => {
      socket.close();
      resolve({ status: 101, body: '' });
    });
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.once('error', (error) => reject(error));
  });
}

/** a graphql-ws connection driven message by message */
export class RawGraphQLSocket {
  readonly messages: Record<string, unknown>[] = [];
  closed: { code: number; reason: string } | undefined;
  readonly #socket: WebSocket;
  readonly #opened: Promise<void>;
  #waiters: (() => void)[] = [];

  constructor(url: string, options: { origin?: string } = {}) {
    this.#socket = new WebSocket(url, 'graphql-transport-ws', options.origin ? { origin: options.origin } : {});
    this.#opened = new Promise((resolve, reject) => {
      this.#socket.once('open', () => resolve());
      this.#socket.once('error', reject);
    });
    this.#socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as Record<string, unknown>);
      this.#wake();
    });
    this.#socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
  }

  /** opens the socket and completes connection_init (with `payload`, e.g. an authorization) / connection_ack */
  async init(payload?: Record<string, unknown>): Promise<void> {
    await this.#opened;
    this.send({ type: 'connection_init', ...(payload ? { payload } : {}) });
    await this.waitFor((m) => m.type === 'connection_ack');
  }

  send(message: unknown): void {
    this.#socket.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer): void {
    this.#socket.send(data);
  }

  subscribe(id: string, query: string, variables?: Record<string, unknown>): void {
    this.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  async waitFor(
    match: (message: Record<string, unknown>) => boolean,
    timeoutMs = 5000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (this.closed)
        throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) before the message came`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async waitForClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the socket stayed open');
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.closed;
  }

  close(): void {
    this.#socket.close();
  }

  #wake(): void {
    this.#waiters.splice(0).forEach((w) => w());
  }
}
