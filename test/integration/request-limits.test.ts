/**
 * Bounds on what one request or connection can make the server hold or do: the document's size and
 * tokens before and while it is parsed, the parsed-document cache (only valid documents, bounded in
 * entries and bytes), and graphql-ws's message size, operations per connection and connections per
 * address. After each refusal the server keeps answering.
 */
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../helpers/server.ts';
import { RawGraphQLSocket, upgrade } from '../helpers/websocket.ts';

describe('GraphQL document limits and the parse cache', () => {
  const server = useTestServer({
    env: { MAX_DOCUMENT_BYTES: '4096', MAX_QUERY_TOKENS: '300', PARSE_CACHE_ENTRIES: '5', PARSE_CACHE_BYTES: '200000' },
  });
  const cache = () => server.app.server.documents;

  it('refuses a document over MAX_DOCUMENT_BYTES before parsing it, and one over MAX_QUERY_TOKENS while parsing', async () => {
    const big = await server.client.request(`{ __typename ${' '.repeat(5000)} }`);
    expect(big.data).toBeUndefined();
    expect(big.errors?.[0]?.message).toMatch(/over the limit of 4096 \(MAX_DOCUMENT_BYTES\)/);
    const tokens = await server.client.request(
      `{ ${Array.from({ length: 400 }, (_, i) => `a${i}: __typename`).join(' ')} }`.slice(0, 4000),
    );
    expect(tokens.data).toBeUndefined();
    expect(tokens.errors?.[0]?.message).toMatch(/Token limit of 300 exceeded/);
    expect((await server.client.data('{ __typename }')).__typename).toBe('Query');
  });

  it('caches only documents that passed validation and the limits', async () => {
    const before = cache().size;
    // each fails validation (an unknown field) or a limit: none may stay in memory
    for (let i = 0; i < 20; i++) {
      expect((await server.client.request(`{ nope${i} }`)).errors).toBeDefined();
      expect(
        (
          await server.client.request(
            `{ ${Array.from({ length: 31 }, (_, j) => `a${j}x${i}: endpoints { name }`).join(' ')} }`,
          )
        ).errors,
      ).toBeDefined();
    }
    expect(cache().size).toBe(before);
    await server.client.data('{ endpoints { name } }');
    expect(cache().size).toBe(before + 1);
    // the same document again is served from the cache: no new entry
    await server.client.data('{ endpoints { name } }');
    expect(cache().size).toBe(before + 1);
  });

  it('holds at most PARSE_CACHE_ENTRIES documents and PARSE_CACHE_BYTES of them', async () => {
    for (let i = 0; i < 30; i++) await server.client.data(`{ a${i}: __typename }`);
    expect(cache().size).toBeLessThanOrEqual(5);
    for (let i = 0; i < 30; i++)
      await server.client.data(`{ ${Array.from({ length: 25 }, (_, j) => `b${i}x${j}: __typename`).join(' ')} }`);
    expect(cache().bytes).toBeLessThanOrEqual(200_000);
    expect(cache().size).toBeGreaterThan(0);
  });
});

describe('graphql-ws limits', () => {
  const server = useTestServer({
    env: {
      MAX_BODY_BYTES: String(64 * 1024),
      WS_MAX_OPERATIONS_PER_CONNECTION: '2',
      WS_MAX_CONNECTIONS_PER_ADDRESS: '3',
    },
  });

  it('closes a connection whose message is over MAX_BODY_BYTES (1009) and keeps serving', async () => {
    const socket = new RawGraphQLSocket(server.wsUrl);
    await socket.init();
    socket.sendRaw(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: '{ __typename }', variables: { pad: 'x'.repeat(100 * 1024) } },
      }),
    );
    expect((await socket.waitForClose()).code).toBe(1009);
    expect((await server.client.data('{ __typename }')).__typename).toBe('Query');
  });

  it('answers a syntax error as the operation’s error and keeps the connection', async () => {
    const socket = new RawGraphQLSocket(server.wsUrl);
    try {
      await socket.init();
      socket.subscribe('bad', '{ __typename');
      const error = await socket.waitFor((m) => m.id === 'bad');
      expect(error.type).toBe('error');
      expect(JSON.stringify(error.payload)).toMatch(/Syntax Error/);
      socket.subscribe('good', '{ __typename }');
      expect(await socket.waitFor((m) => m.id === 'good' && m.type === 'next')).toMatchObject({
        payload: { data: { __typename: 'Query' } },
      });
      expect(socket.closed).toBeUndefined();
    } finally {
      socket.close();
    }
  });

  it('runs at most WS_MAX_OPERATIONS_PER_CONNECTION operations at once on a connection', async () => {
    await server.client.data('mutation { createEndpoint(input: { name: "watched" }) { __typename } }');
    const socket = new RawGraphQLSocket(server.wsUrl);
    try {
      await socket.init();
      const live = 'subscription { predictions(endpoint: "watched") { label } }';
      socket.subscribe('1', live);
      socket.subscribe('2', live);
      socket.subscribe('3', live);
      const refused = await socket.waitFor((m) => m.id === '3');
      expect(refused).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'TOO_MANY_OPERATIONS' } }] });
      // completing one makes room for another
      socket.send({ id: '1', type: 'complete' });
      await new Promise((r) => setTimeout(r, 100));
      socket.subscribe('4', '{ __typename }');
      expect(await socket.waitFor((m) => m.id === '4' && m.type === 'next')).toMatchObject({
        payload: { data: { __typename: 'Query' } },
      });
      expect(socket.closed).toBeUndefined();
    } finally {
      socket.close();
    }
  });

  it('refuses a connection past WS_MAX_CONNECTIONS_PER_ADDRESS with 429, and takes one again when another closes', async () => {
    await new Promise((r) => setTimeout(r, 100)); // the sockets of earlier tests are closed
    const sockets = [
      new RawGraphQLSocket(server.wsUrl),
      new RawGraphQLSocket(server.wsUrl),
      new RawGraphQLSocket(server.wsUrl),
    ];
    try {
      await Promise.all(sockets.map((s) => s.init()));
      const refused = await upgrade(server.wsUrl);
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body)).toMatchObject({ code: 'TOO_MANY_CONNECTIONS' });
      sockets[0]!.close();
      await sockets[0]!.waitForClose();
      await new Promise((r) => setTimeout(r, 100));
      expect((await upgrade(server.wsUrl)).status).toBe(101);
    } finally {
      sockets.forEach((s) => s.close());
    }
    expect((await server.client.data('{ __typename }')).__typename).toBe('Query');
  });
});

describe('graphql-ws connections per API key', () => {
  const keys = { a: 'read-key-a-0123456789abcdef', b: 'read-key-b-0123456789abcdef' };
  const server = useTestServer({
    env: { API_KEYS: `read:${keys.a},read:${keys.b}`, WS_MAX_CONNECTIONS_PER_KEY: '2' },
  });
  const connect = (key: string) => {
    const socket = new RawGraphQLSocket(server.wsUrl);
    return { socket, ready: socket.init({ authorization: `Bearer ${key}` }) };
  };

  it('closes a connection past WS_MAX_CONNECTIONS_PER_KEY with 4429, counts each key apart, and takes one again when another closes', async () => {
    const held = [connect(keys.a), connect(keys.a)];
    const others: RawGraphQLSocket[] = [];
    try {
      await Promise.all(held.map((c) => c.ready));
      const third = connect(keys.a);
      others.push(third.socket);
      await expect(third.ready).rejects.toThrow(/4429 Too many connections.*WS_MAX_CONNECTIONS_PER_KEY/);
      // another key is not held to the first one's count
      const other = connect(keys.b);
      others.push(other.socket);
      await other.ready;
      held[0]!.socket.close();
      await held[0]!.socket.waitForClose();
      await new Promise((r) => setTimeout(r, 100));
      const again = connect(keys.a);
      others.push(again.socket);
      await again.ready;
      expect(again.socket.closed).toBeUndefined();
    } finally {
      for (const s of [...held.map((c) => c.socket), ...others]) s.close();
    }
  });
});
