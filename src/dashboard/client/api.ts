/**
 * The dashboard's GraphQL client: the public API and nothing else, as a user's own dashboard would use
 * it. Queries and mutations go over fetch, subscriptions over one graphql-ws connection (reconnecting),
 * both with the session's API key.
 */
import { print } from '@0no-co/graphql.web';
import type { TadaDocumentNode } from 'gql.tada';
import { type Client, createClient } from 'graphql-ws/client';

const KEY_STORAGE = 'vigil.apiKey';

/** the key entered on this tab, kept for the browser session only (never in localStorage) */
export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function storeKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** a request the server refused as a whole (authentication, role, rate limit, validation) */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly status: number,
  ) {
    super(message);
  }
}

interface GraphQLBody<R> {
  data?: R | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export class Api {
  #socket: Client | undefined;

  constructor(readonly key: string | null) {}

  async request<R, V>(document: TadaDocumentNode<R, V>, variables?: V): Promise<R> {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(this.key ? { authorization: `Bearer ${this.key}` } : {}),
      },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await response.json()) as GraphQLBody<R>;
    const error = body.errors?.[0];
    if (error || !body.data) {
      throw new RequestError(error?.message ?? `HTTP ${response.status}`, error?.extensions?.code, response.status);
    }
    return body.data;
  }

  /** events until the returned function is called; the connection is shared and comes back by itself */
  subscribe<R, V>(document: TadaDocumentNode<R, V>, variables: V, onData: (data: R) => void): () => void {
    this.#socket ??= createClient({
      url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
      connectionParams: this.key ? { authorization: `Bearer ${this.key}` } : {},
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
    });
    return this.#socket.subscribe<R>(
      { query: print(document), variables: variables as Record<string, unknown> },
      {
        next: (event) => {
          if (event.data) onData(event.data);
        },
        error: (error) => console.warn('subscription ended', error),
        complete: () => {},
      },
    );
  }

  close(): void {
    void this.#socket?.dispose();
  }
}
