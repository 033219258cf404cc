/** Minimal GraphQL clients for tests: HTTP (JSON), graphql-ws and SSE subscriptions. */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResponse<T = any> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export class GraphQLClient {
  constructor(readonly url: string) {}

  async request<T = any>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse<T>;
  }

  /** the data, or a thrown error listing the GraphQL errors */
  async data<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const result = await this.request<T>(query, variables);
    if (result.errors?.length || !result.data) {
      throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    }
    return result.data;
  }
}

/** Collects events of one subscription over graphql-ws. */
export class WsSubscription<T = any> {
  readonly events: T[] = [];
  readonly errors: unknown[] = [];
  #client: Client;
  #waiters: (() => void)[] = [];
  #acknowledged: Promise<void>;

  constructor(wsUrl: string, query: string, variables?: Record<string, unknown>) {
    let ack!: () => void;
    this.#acknowledged = new Promise((resolve) => (ack = resolve));
    this.#client = createClient({ url: wsUrl, webSocketImpl: WebSocket, lazy: false, on: { connected: () => ack() } });
    this.#client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) this.errors.push(value.errors);
          if (value.data) this.events.push(value.data as T);
          this.#waiters.splice(0).forEach((w) => w());
        },
        error: (error) => this.errors.push(error),
        complete: () => {},
      },
    );
  }

  /** resolves once the socket is connected (the subscription itself starts right after) */
  async ready(settleMs = 150): Promise<void> {
    await this.#acknowledged;
    await new Promise((r) => setTimeout(r, settleMs));
  }

  async waitFor(count: number, timeoutMs = 5000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} events, got ${this.events.length}: ${JSON.stringify(this.errors)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.events;
  }

  async close(): Promise<void> {
    await this.#client.dispose();
  }
}

/** Collects events of one subscription over Server-Sent Events (Yoga's `text/event-stream`). */
export class SseSubscription<T = any> {
  readonly events: T[] = [];
  #abort = new AbortController();
  #opened: Promise<void>;

  constructor(url: string, query: string, variables?: Record<string, unknown>) {
    this.#opened = this.#run(url, query, variables);
  }

  async #run(url: string, query: string, variables?: Record<string, unknown>): Promise<void> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query, variables }),
      signal: this.#abort.signal,
    });
    if (!response.ok || !response.body) throw new Error(`SSE request failed: ${response.status}`);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += decoder.decode(value, { stream: true });
          let split;
          while ((split = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, split);
            buffer = buffer.slice(split + 2);
            const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
            const event = block.split('\n').find((l) => l.startsWith('event:'))?.slice(6).trim();
            if (data && event !== 'complete') {
              const payload = JSON.parse(data) as { data?: T };
              if (payload.data) this.events.push(payload.data);
            }
          }
        }
      } catch {
        /* aborted */
      }
    })();
  }

  async ready(settleMs = 150): Promise<void> {
    await this.#opened;
    await new Promise((r) => setTimeout(r, settleMs));
  }

  async waitFor(count: number, timeoutMs = 5000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} SSE events, got ${this.events.length}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.events;
  }

  close(): void {
    this.#abort.abort();
  }
}
