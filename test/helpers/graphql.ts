/**
 * Minimal GraphQL clients for tests: HTTP (JSON), graphql-ws and SSE subscriptions. Each takes a typed document
 * (`graphql()` from src/graphql.ts, or any TypedDocumentNode), whose result and variables types it infers, or a
 * plain query string, whose result is untyped.
 */
import type { DocumentDecoration } from 'gql.tada';
import { type DocumentNode, print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** gql.tada's `graphql()` result, or any `TypedDocumentNode<Result, Variables>` */
export type TypedDocument<Result, Variables> = DocumentNode & DocumentDecoration<Result, Variables>;

/** the variables argument: optional when the document declares none, or only optional ones */
export type VariablesArg<Variables> =
  Partial<Variables> extends Variables ? [variables?: Variables] : [variables: Variables];

/**
 * The data of a plain query string: untyped, as every test had it before typed documents. Kept while tests move
 * to `graphql()`; it goes when the last string query does.
 */
// biome-ignore lint/suspicious/noExplicitAny: untyped results of string queries, until they are typed documents
export type Untyped = any;

export interface GraphQLResponse<T = Untyped> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

type Variables = Record<string, unknown>;

function queryText(query: string | DocumentNode): string {
  return typeof query === 'string' ? query : print(query);
}

export class GraphQLClient {
  /** `headers` go with every request (e.g. `{ authorization: 'Bearer …' }`) */
  constructor(
    readonly url: string,
    readonly headers: Record<string, string> = {},
  ) {}

  request<R, V>(document: TypedDocument<R, V>, ...variables: VariablesArg<V>): Promise<GraphQLResponse<R>>;
  request<T = Untyped>(query: string, variables?: Variables): Promise<GraphQLResponse<T>>;
  async request(query: string | DocumentNode, variables?: unknown): Promise<GraphQLResponse> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...this.headers },
      body: JSON.stringify({ query: queryText(query), variables }),
    });
    return (await response.json()) as GraphQLResponse;
  }

  /** the data, or a thrown error listing the GraphQL errors */
  data<R, V>(document: TypedDocument<R, V>, ...variables: VariablesArg<V>): Promise<R>;
  data<T = Untyped>(query: string, variables?: Variables): Promise<T>;
  async data(query: string | DocumentNode, variables?: Variables): Promise<unknown> {
    const result = await this.request(queryText(query), variables);
    if (result.errors?.length || !result.data) {
      throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    }
    return result.data;
  }
}

/**
 * Narrows a result union to the member named `typename`, failing the test otherwise:
 * `expectTypename(createEndpoint, 'ConflictError'); createEndpoint.message …`
 */
export function expectTypename<T extends { __typename?: string }, N extends NonNullable<T['__typename']>>(
  value: T | null | undefined,
  typename: N,
): asserts value is Extract<T, { __typename?: N }> {
  if (value?.__typename !== typename) {
    throw new Error(`expected a ${typename}, got ${JSON.stringify(value)}`);
  }
}

/** Collects events of one subscription over graphql-ws. */
export class WsSubscription<T = Untyped, V = Variables> {
  readonly events: T[] = [];
  readonly errors: unknown[] = [];
  #client: Client;
  #waiters: (() => void)[] = [];
  #acknowledged: Promise<void>;

  constructor(wsUrl: string, document: TypedDocument<T, V>, ...variables: VariablesArg<V>);
  constructor(wsUrl: string, query: string, variables?: Variables);
  constructor(wsUrl: string, query: string | DocumentNode, variables?: Variables) {
    let ack!: () => void;
    this.#acknowledged = new Promise((resolve) => (ack = resolve));
    this.#client = createClient({ url: wsUrl, webSocketImpl: WebSocket, lazy: false, on: { connected: () => ack() } });
    this.#client.subscribe<T>(
      { query: queryText(query), variables },
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
      if (left <= 0)
        throw new Error(
          `timed out waiting for ${count} events, got ${this.events.length}: ${JSON.stringify(this.errors)}`,
        );
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
export class SseSubscription<T = Untyped, V = Variables> {
  readonly events: T[] = [];
  #abort = new AbortController();
  #opened: Promise<void>;

  constructor(url: string, document: TypedDocument<T, V>, ...variables: VariablesArg<V>);
  constructor(url: string, query: string, variables?: Variables);
  constructor(url: string, query: string | DocumentNode, variables?: Variables) {
    this.#opened = this.#run(url, queryText(query), variables);
  }

  async #run(url: string, query: string, variables?: Variables): Promise<void> {
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
          let split: number;
          while ((split = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, split);
            buffer = buffer.slice(split + 2);
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).trim())
              .join('\n');
            const event = block
              .split('\n')
              .find((l) => l.startsWith('event:'))
              ?.slice(6)
              .trim();
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
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${count} SSE events, got ${this.events.length}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.events;
  }

  close(): void {
    this.#abort.abort();
  }
}
