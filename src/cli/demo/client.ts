/**
 * The demo's connection to a vigil server: typed GraphQL over HTTP (gql.tada documents), GET of the
 * figures and files the server serves, and one graphql-ws subscription, each with the API key when one
 * is given.
 */
import type { TadaDocumentNode } from 'gql.tada';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export class DemoClient {
  readonly #headers: Record<string, string>;
  #socket: Client | undefined;

  constructor(
    readonly baseUrl: string,
    private readonly key: string | undefined,
  ) {
    this.#headers = key ? { authorization: `Bearer ${key}` } : {};
  }

  async request<R, V>(document: TadaDocumentNode<R, V>, variables: V): Promise<R> {
    const response = await fetch(`${this.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.#headers },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const text = await response.text();
    let body: { data?: R; errors?: { message: string }[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`${response.status} from ${this.baseUrl}/graphql: ${text.slice(0, 200)}`);
    }
    if (body.errors?.length || !body.data)
      throw new Error(body.errors?.map((e) => e.message).join('; ') ?? `no data (HTTP ${response.status})`);
    return body.data;
  }

  /** the bytes at a server-relative path */
  async get(path: string): Promise<Buffer> {
    const response = await fetch(`${this.baseUrl}${path}`, { headers: this.#headers });
    const body = Buffer.from(await response.arrayBuffer());
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${body.toString('utf8', 0, 200)}`);
    return body;
  }

  /**
   * Subscribes over graphql-ws; resolves once the socket is connected and the subscription has had
   * time to start (graphql-ws does not acknowledge a subscription). Returns the unsubscribe function.
   */
  async subscribe<R, V>(
    document: TadaDocumentNode<R, V>,
    variables: V,
    onData: (data: R) => void,
    onError: (error: unknown) => void,
  ): Promise<() => void> {
    const url = `${this.baseUrl.replace(/^http/, 'ws')}/graphql`;
    let connected!: () => void;
    const ready = new Promise<void>((resolve) => (connected = resolve));
    this.#socket ??= createClient({
      url,
      webSocketImpl: WebSocket,
      lazy: false,
      connectionParams: this.key ? { authorization: `Bearer ${this.key}` } : {},
      on: { connected: () => connected() },
    });
    const stop = this.#socket.subscribe(
      { query: print(document), variables: variables as Record<string, unknown> },
      {
        next: (message) => {
          if (message.data) onData(message.data as R);
          else if (message.errors) onError(new Error(message.errors.map((e) => e.message).join('; ')));
        },
        error: onError,
        complete: () => {},
      },
    );
    await ready;
    await new Promise((resolve) => setTimeout(resolve, 250));
    return stop;
  }

  async close(): Promise<void> {
    await this.#socket?.dispose();
  }
}
