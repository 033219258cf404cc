/**
 * API keys and roles through the real server: every root operation (the list comes from the schema)
 * against every kind of caller, over HTTP, event streams and WebSocket; the plain routes; the key
 * life cycle; anonymous local use and its end; rate limits; the binding rule at start.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  type GraphQLField,
  type GraphQLInputType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApp } from '../../src/app.ts';
import { type RootTypeName, requiredRole } from '../../src/auth/operations.ts';
import { allows, ROLES, type Role } from '../../src/auth/roles.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { buildSchema } from '../../src/schema/index.ts';
import { PUBLIC, type Route } from '../../src/server/routes.ts';
import { createTestDatabase, TEST_DB } from '../helpers/database.ts';
import { GraphQLClient } from '../helpers/graphql.ts';
import { fixture } from '../helpers/images.ts';
import { spawnServer } from '../helpers/process.ts';
import { rowCounts } from '../helpers/row-counts.ts';
import { startTestServer, type TestServer, useTestServer } from '../helpers/server.ts';

const secret = (role: string) => `vgl_test_${role}_${randomBytes(16).toString('hex')}`;
const ADMIN = secret('admin');
const INVOKE = secret('invoke');
const READ = secret('read');
const WRONG = secret('wrong');
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const PNG = fixture('stop_like_octagon.png').toString('base64');

// ---- one representative operation per root field, generated from the schema ----------------------

/** a literal of the type: enough to pass validation; every string is "matrix", the fixtures' name */
function literal(type: GraphQLInputType): string {
  if (isNonNullType(type)) return literal(type.ofType);
  if (isListType(type)) return `[${literal(type.ofType)}]`;
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields());
    const chosen = type.isOneOf
      ? [fields.find((f) => getNamedType(f.type).name !== 'File')!]
      : fields.filter((f) => isNonNullType(f.type));
    return `{ ${chosen.map((f) => `${f.name}: ${literal(f.type)}`).join(', ')} }`;
  }
  switch (type.name) {
    case 'Int':
      return '1';
    case 'Float':
      return '0.5';
    case 'Boolean':
      return 'false';
    case 'DateTime':
      return '"2020-01-01T00:00:00.000Z"';
    case 'JSON':
      return '{}';
    default:
      return '"matrix"';
  }
}

interface Operation {
  rootType: RootTypeName;
  field: string;
  role: Role;
  document: string;
}

function representative(rootType: RootTypeName, field: GraphQLField<unknown, unknown>): Operation {
  const args = field.args
    .filter((a) => isNonNullType(a.type) && a.defaultValue === undefined)
    .map((a) => `${a.name}: ${literal(a.type)}`);
  const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
  const keyword = rootType === 'Query' ? 'query' : rootType.toLowerCase();
  return {
    rootType,
    field: field.name,
    role: requiredRole(rootType, field.name)!,
    document: `${keyword} { ${field.name}${args.length ? `(${args.join(', ')})` : ''}${selection} }`,
  };
}

function everyOperation(): Operation[] {
  const schema = buildSchema();
  const roots = [
    ['Query', schema.getQueryType()],
    ['Mutation', schema.getMutationType()],
    ['Subscription', schema.getSubscriptionType()],
  ] as const;
  return roots.flatMap(([name, type]) => Object.values(type!.getFields()).map((f) => representative(name, f)));
}

// ---- requests -------------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Headers;
  /** extensions.code of the top-level errors */
  codes: string[];
}

async function send(
  server: TestServer,
  operation: Pick<Operation, 'document' | 'rootType'>,
  headers: Record<string, string>,
): Promise<Answer> {
  const stream = operation.rootType === 'Subscription';
  const abort = new AbortController();
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/graphql-response+json',
      ...headers,
    },
    body: JSON.stringify({ query: operation.document }),
    signal: abort.signal,
  });
  // An admitted subscription streams until the client leaves; a refused one is a finished answer.
  if (stream && response.status === 200) {
    abort.abort();
    return { status: response.status, headers: response.headers, codes: [] };
  }
  const text = await response.text();
  const codes = [...text.matchAll(/"code":"([A-Z_]+)"/g)].map((m) => m[1]!);
  return { status: response.status, headers: response.headers, codes };
}

/** every row that a forbidden operation could have touched */
async function databaseState(server: TestServer): Promise<string> {
  // an endpoint an earlier test deleted is removed in the background: finish that first, so that only
  // what the request under test writes can change the state
  await server.app.retention.sweep();
  const p = server.app.database.prisma;
  const counts = await rowCounts(p);
  const rows = await Promise.all([
    p.endpoint.findMany({ orderBy: { name: 'asc' } }),
    p.monitoringSchedule.findMany({ orderBy: { name: 'asc' } }),
    p.baseline.findMany({ orderBy: { name: 'asc' } }),
    p.apiKey.findMany({ orderBy: { name: 'asc' }, select: { name: true, role: true, revokedAt: true } }),
    p.alertChannel.findMany({ orderBy: { name: 'asc' } }),
  ]);
  return JSON.stringify({ counts, rows });
}

function wsConnect(server: TestServer, payload?: Record<string, unknown>) {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  const messages: { type: string; id?: string; payload?: unknown }[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => {
      socket.send(JSON.stringify({ type: 'connection_init', ...(payload && { payload }) }));
      resolve();
    });
    socket.once('error', reject);
  });
  return {
    socket,
    messages,
    closed,
    opened,
    async acknowledged(): Promise<void> {
      await opened;
      await expect.poll(() => messages.some((m) => m.type === 'connection_ack'), { timeout: 5000 }).toBe(true);
    },
    subscribe(id: string, query: string) {
      socket.send(JSON.stringify({ type: 'subscribe', id, payload: { query } }));
    },
  };
}

async function adminData(server: TestServer, document: string, variables?: Record<string, unknown>) {
  return new GraphQLClient(server.graphqlUrl, bearer(ADMIN)).data(document, variables);
}

// ---- a server with keys -----------------------------------------------------------------------

describe('a server with API keys', () => {
  const server = useTestServer({
    env: {
      API_KEYS: `admin:${ADMIN},invoke:${INVOKE},read:${READ}`,
      SCHEDULER_INTERVAL_MS: '3600000',
      ALERT_URL_ALLOWLIST: '127.0.0.1',
    },
  });
  let revoked: string;

  beforeAll(async () => {
    await adminData(
      server,
      `mutation { createEndpoint(input: { name: "matrix", dataCapture: { enabled: true, samplingPercentage: 100 } }) { __typename } }`,
    );
    const { predict } = await new GraphQLClient(server.graphqlUrl, bearer(INVOKE)).data(
      `mutation($b: String!) { predict(endpoint: "matrix", image: { base64: $b }) { __typename } }`,
      { b: PNG },
    );
    expect(predict.__typename).toBe('Prediction');
    const { createBaseline } = await adminData(
      server,
      `mutation { createBaseline(input: { endpoint: "matrix", name: "matrix" }) { __typename ... on VigilError { message } } }`,
    );
    expect(createBaseline.__typename, JSON.stringify(createBaseline)).toBe('Baseline');
    await adminData(
      server,
      `mutation { createMonitoringSchedule(input: { name: "matrix", endpoint: "matrix", cron: "0 0 1 1 *" }) { __typename } }`,
    );
    const { createApiKey } = await adminData(
      server,
      `mutation { createApiKey(input: { name: "retired", role: READ }) { ... on CreatedApiKey { secret } } }`,
    );
    revoked = createApiKey.secret;
    const { createAlertChannel } = await adminData(
      server,
      `mutation { createAlertChannel(input: { name: "matrix", kind: WEBHOOK, url: "http://127.0.0.1:9/", secret: "0123456789abcdef" }) { __typename } }`,
    );
    expect(createAlertChannel.__typename).toBe('AlertChannel');
    await adminData(server, `mutation { revokeApiKey(name: "retired") { __typename } }`);
  });

  describe('every root operation against every caller', () => {
    const operations = everyOperation();
    // Refusals first: admin's turn runs the mutations for real (deleting the fixtures).
    const callers: [string, () => Record<string, string>, Role | 'nobody'][] = [
      ['no key', () => ({}), 'nobody'],
      ['a wrong key', () => bearer(WRONG), 'nobody'],
      ['a malformed header', () => ({ authorization: `Basic ${ADMIN}` }), 'nobody'],
      ['a revoked key', () => bearer(revoked), 'nobody'],
      ['a read key', () => bearer(READ), 'read'],
      ['an invoke key', () => bearer(INVOKE), 'invoke'],
      ['an admin key', () => bearer(ADMIN), 'admin'],
    ];

    it('covers every root field of the schema', () => {
      expect(operations.length).toBeGreaterThanOrEqual(30);
      expect(operations.map((o) => `${o.rootType}.${o.field}`)).toContain('Mutation.revokeApiKey');
    });

    for (const [caller, headers, role] of callers) {
      it(`${caller}: ${role === 'nobody' ? '401 for every operation' : role === 'admin' ? 'allowed everything' : `allowed the ${role} operations, 403 for the others`}, and a refusal writes nothing`, async () => {
        const wrong: string[] = [];
        for (const operation of operations) {
          const allowed = role === 'admin' || role === operation.role;
          const before = allowed ? '' : await databaseState(server);
          const answer = await send(server, operation, headers());
          const name = `${operation.rootType}.${operation.field}`;
          if (role === 'nobody') {
            if (
              answer.status !== 401 ||
              !answer.codes.includes('UNAUTHENTICATED') ||
              answer.headers.get('www-authenticate') !== 'Bearer realm="vigil"'
            ) {
              wrong.push(`${name}: ${answer.status} ${answer.codes}`);
            }
          } else if (allowed) {
            const refusal = ['FORBIDDEN', 'UNAUTHENTICATED', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED'];
            if ([401, 403].includes(answer.status) || answer.codes.some((c) => refusal.includes(c)))
              wrong.push(`${name}: refused ${answer.status} ${answer.codes}`);
          } else if (answer.status !== 403 || !answer.codes.includes('FORBIDDEN')) {
            wrong.push(`${name}: expected 403, got ${answer.status} ${answer.codes}`);
          }
          if (!allowed && (await databaseState(server)) !== before) wrong.push(`${name}: the database changed`);
        }
        expect(wrong).toEqual([]);
      });
    }
  });

  it('refuses a whole operation when one of its fields is forbidden, running none of it', async () => {
    const before = await databaseState(server);
    const answer = await send(
      server,
      {
        rootType: 'Mutation',
        document: `mutation { predict(endpoint: "x", image: { base64: "${PNG}" }) { __typename } ...D } fragment D on Mutation { deleteEndpoint(name: "matrix") { __typename } }`,
      },
      bearer(INVOKE),
    );
    expect(answer.status).toBe(403);
    expect(answer.codes).toEqual(['FORBIDDEN']);
    expect(await databaseState(server)).toBe(before);
  });

  it('authorizes every plain route by its role; /healthz is open, /readyz details go to admins', async () => {
    const routes = [
      '/metrics',
      '/captures/export?endpoint=matrix',
      '/baselines/x/statistics.json',
      '/executions/x/classes.png',
      '/saliency/x/heatmap.png',
      '/steps/matrix/0/heatmap.png',
    ];
    for (const route of routes) {
      const get = (headers: Record<string, string>) => fetch(`${server.url}${route}`, { headers });
      const none = await get({});
      expect(none.status, route).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="vigil"');
      expect(await none.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect((await get(bearer(WRONG))).status, route).toBe(401);
      const invoke = await get(bearer(INVOKE));
      expect(invoke.status, route).toBe(403);
      expect(await invoke.json()).toMatchObject({ code: 'FORBIDDEN' });
      for (const key of [READ, ADMIN]) expect([401, 403], route).not.toContain((await get(bearer(key))).status);
    }
    expect((await fetch(`${server.url}/metrics`, { headers: bearer(READ) })).status).toBe(200);
    // labels come from the application that predicted: invoke (and admin), not read
    const postLabels = (headers: Record<string, string>) =>
      fetch(`${server.url}/ground-truth`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', ...headers },
        body: '{"groundTruthData":{"data":"14","encoding":"CSV"},"eventMetadata":{"eventId":"none"},"eventVersion":"0"}\n',
      });
    expect((await postLabels({})).status).toBe(401);
    const readLabels = await postLabels(bearer(READ));
    expect(readLabels.status).toBe(403);
    expect(await readLabels.json()).toMatchObject({ code: 'FORBIDDEN' });
    for (const key of [INVOKE, ADMIN]) {
      const answer = await postLabels(bearer(key));
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({
        lines: 1,
        stored: 0,
        failed: 1,
        failures: [{ line: 1, code: 'NOT_FOUND' }],
      });
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready' });
    expect(await (await fetch(`${server.url}/readyz`, { headers: bearer(READ) })).json()).toEqual({ status: 'ready' });
    const admin = await (await fetch(`${server.url}/readyz`, { headers: bearer(ADMIN) })).json();
    expect(admin.checks.map((c: { name: string }) => c.name)).toEqual(['database', 'migrations', 'eventBus', 'models']);
    expect((await fetch(`${server.url}/no-such-path`)).status).toBe(401);
  });

  it('refuses every plain route the server has to callers without its role, and a refusal writes nothing', async () => {
    // the routes come from the server itself: a route added later is in this matrix without an edit here
    const routes = server.app.server.routes.filter((r): r is Route & { role: Role } => r.role !== PUBLIC);
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(['GET /adversarial/', 'POST /endpoints/', 'POST /ground-truth', 'GET /metrics']),
    );
    const keys: Record<Role, string> = { admin: ADMIN, invoke: INVOKE, read: READ };
    const wrong: string[] = [];
    for (const route of routes) {
      const target = `${server.url}${route.path.endsWith('/') ? `${route.path}matrix/x` : route.path}`;
      const call = (headers: Record<string, string>) =>
        fetch(target, {
          method: route.method,
          headers: { 'content-type': 'application/json', ...headers },
          ...(route.method === 'POST' && { body: '' }),
        });
      const name = `${route.method} ${route.path} (${route.role})`;
      const refused: [string, Record<string, string>, number, string][] = [
        ['no key', {}, 401, 'UNAUTHENTICATED'],
        ['a wrong key', bearer(WRONG), 401, 'UNAUTHENTICATED'],
        ...ROLES.filter((r) => !allows({ kind: 'key', keyName: r, role: r }, route.role)).map(
          (r): [string, Record<string, string>, number, string] => [`a ${r} key`, bearer(keys[r]), 403, 'FORBIDDEN'],
        ),
      ];
      for (const [caller, headers, status, code] of refused) {
        const before = await databaseState(server);
        const answer = await call(headers);
        const body = await answer.text();
        if (answer.status !== status || !body.includes(`"code":"${code}"`))
          wrong.push(`${name}, ${caller}: expected ${status} ${code}, got ${answer.status} ${body.slice(0, 120)}`);
        if ((await databaseState(server)) !== before) wrong.push(`${name}, ${caller}: the database changed`);
      }
      for (const role of ROLES.filter((r) => allows({ kind: 'key', keyName: r, role: r }, route.role))) {
        const answer = await call(bearer(keys[role]));
        await answer.body?.cancel();
        if ([401, 403].includes(answer.status)) wrong.push(`${name}, a ${role} key: refused ${answer.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('authenticates graphql-ws connections in connection_init, and authorizes each operation', async () => {
    for (const payload of [undefined, { authorization: `Bearer ${WRONG}` }, { authorization: 'nonsense' }]) {
      const ws = wsConnect(server, payload);
      const { code, reason } = await ws.closed;
      expect(code).toBe(4401);
      expect(reason).toMatch(/^Unauthorized: /);
    }

    const reader = wsConnect(server, { authorization: `Bearer ${READ}` });
    await reader.acknowledged();
    reader.subscribe('1', 'subscription { endpointChanged { kind name } }');
    const invoker = wsConnect(server, { authorization: `Bearer ${INVOKE}` });
    await invoker.acknowledged();
    invoker.subscribe('1', 'subscription { endpointChanged { kind name } }');
    await expect.poll(() => JSON.stringify(invoker.messages), { timeout: 5000 }).toContain('FORBIDDEN');
    await new Promise((r) => setTimeout(r, 150));
    await adminData(server, `mutation { createEndpoint(input: { name: "ws-event" }) { __typename } }`);
    await expect.poll(() => JSON.stringify(reader.messages), { timeout: 5000 }).toContain('ws-event');
    expect(JSON.stringify(invoker.messages)).not.toContain('ws-event');
    reader.socket.close();
    invoker.socket.close();
  });

  it('authenticates event streams (SSE) like any request', async () => {
    const subscription = { rootType: 'Subscription' as const, document: 'subscription { endpointChanged { name } }' };
    expect((await send(server, subscription, {})).status).toBe(401);
    expect((await send(server, subscription, bearer(INVOKE))).status).toBe(403);
    expect((await send(server, subscription, bearer(READ))).status).toBe(200);
  });

  it('creates a key whose secret is shown once, lists keys without secrets, and revokes it everywhere it is in use', async () => {
    const { createApiKey } = await adminData(
      server,
      `mutation { createApiKey(input: { name: "dashboard", role: READ }) { __typename ... on CreatedApiKey { secret key { name role source createdAt revokedAt } } } }`,
    );
    expect(createApiKey.__typename).toBe('CreatedApiKey');
    const key: string = createApiKey.secret;
    expect(key).toMatch(/^vgl_[\w-]{43}$/);
    expect(createApiKey.key).toMatchObject({ name: 'dashboard', role: 'READ', source: 'STORED', revokedAt: null });

    const listing = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(ADMIN) },
      body: JSON.stringify({ query: '{ apiKeys { name role source revokedAt } }' }),
    }).then((r) => r.text());
    expect(listing).not.toContain(key);
    const { apiKeys } = JSON.parse(listing).data;
    expect(apiKeys.slice(0, 3)).toEqual([
      { name: 'env-1', role: 'ADMIN', source: 'ENVIRONMENT', revokedAt: null },
      { name: 'env-2', role: 'INVOKE', source: 'ENVIRONMENT', revokedAt: null },
      { name: 'env-3', role: 'READ', source: 'ENVIRONMENT', revokedAt: null },
    ]);
    expect(apiKeys.find((k: { name: string }) => k.name === 'dashboard')).toMatchObject({
      role: 'READ',
      source: 'STORED',
      revokedAt: null,
    });
    expect(apiKeys.find((k: { name: string }) => k.name === 'retired').revokedAt).not.toBeNull();
    const rows = await server.app.database.prisma.apiKey.findMany();
    expect(JSON.stringify(rows)).not.toContain(key);

    const client = new GraphQLClient(server.graphqlUrl, bearer(key));
    expect((await client.data('{ endpoints { name } }')).endpoints).toBeInstanceOf(Array);
    // what the key holds open when it is revoked: a WebSocket and an event stream
    const ws = wsConnect(server, { authorization: `Bearer ${key}` });
    await ws.acknowledged();
    const stream = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...bearer(key) },
      body: JSON.stringify({ query: 'subscription { endpointChanged { name } }' }),
    });
    expect(stream.status).toBe(200);
    const streamEnded = (async () => {
      const reader = stream.body!.getReader();
      try {
        while (!(await reader.read()).done);
      } catch {
        /* the server cut it */
      }
    })();

    const { revokeApiKey } = await adminData(
      server,
      `mutation { revokeApiKey(name: "dashboard") { ... on ApiKey { name revokedAt } } }`,
    );
    expect(revokeApiKey.revokedAt).not.toBeNull();
    const refused = await client.request('{ endpoints { name } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await ws.closed).toEqual({ code: 4403, reason: 'Forbidden: the API key was revoked' });
    await streamEnded;

    const again = await adminData(
      server,
      `mutation { createApiKey(input: { name: "dashboard", role: READ }) { __typename ... on VigilError { message } } }`,
    );
    expect(again.createApiKey.__typename).toBe('ConflictError');
    const env = await adminData(server, `mutation { revokeApiKey(name: "env-1") { __typename } }`);
    expect(env.revokeApiKey.__typename).toBe('ValidationError');
  });
});

// ---- anonymous local use, its end, rate limits ---------------------------------------------------

describe('a server started without keys', () => {
  const server = useTestServer({ env: { RATE_LIMIT_ADMIN: '3/m', SCHEDULER_INTERVAL_MS: '3600000' } });

  it('serves anonymous callers until the first key is created, and not again when it is revoked', async () => {
    expect((await server.client.data('{ endpoints { name } }')).endpoints).toEqual([]);
    const { createApiKey } = await server.client.data(
      `mutation { createApiKey(input: { name: "first", role: ADMIN }) { ... on CreatedApiKey { secret } } }`,
    );
    const anonymous = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ endpoints { name } }' }),
    });
    expect(anonymous.status).toBe(401);
    const ws = wsConnect(server);
    expect((await ws.closed).code).toBe(4401);

    // the key's rate limit: 3 a minute, the first of them taken here
    const admin = new GraphQLClient(server.graphqlUrl, bearer(createApiKey.secret));
    expect((await admin.data('{ endpoints { name } }')).endpoints).toEqual([]);
    await admin.data('{ endpoints { name } }');
    const before = await databaseState(server);
    await admin.data('{ endpoints { name } }');
    const limited = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(createApiKey.secret) },
      body: JSON.stringify({ query: 'mutation { createEndpoint(input: { name: "late" }) { __typename } }' }),
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ errors: [{ extensions: { code: 'RATE_LIMITED' } }] });
    expect(await databaseState(server)).toBe(before);
    const route = await fetch(`${server.url}/metrics`, { headers: bearer(createApiKey.secret) });
    expect(route.status).toBe(429);
    expect(await route.json()).toMatchObject({ code: 'RATE_LIMITED' });

    // revoking the last key does not reopen anonymous access
    await server.app.services.apiKeys.revoke('first');
    const after = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ endpoints { name } }' }),
    });
    expect(after.status).toBe(401);
  });
});

describe('binding', () => {
  it('refuses to start on a non-loopback address without a key, before listening', async () => {
    const database = await createTestDatabase();
    try {
      const config = {
        ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'error', DATABASE_URL: database.url, PORT: '0' }),
        host: '0.0.0.0',
      };
      await expect(createApp(config, createLogger('error'))).rejects.toThrow(ConfigError);
      await expect(createApp(config, createLogger('error'))).rejects.toThrow(/HOST=0\.0\.0\.0 with no API key/);
    } finally {
      await database.drop();
    }
  });

  it('stops `npm start` with status 2 and the reason (HOST=0.0.0.0, no API_KEYS)', async () => {
    const database = await createTestDatabase();
    try {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: {
          ...process.env,
          HOST: '0.0.0.0',
          API_KEYS: '',
          ALLOW_ANONYMOUS: '',
          DATABASE_URL: database.url,
          PORT: '0',
          LOG_LEVEL: 'error',
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toContain('vigil: invalid configuration: HOST=0.0.0.0 with no API key');
      expect(result.stderr).toContain('ALLOW_ANONYMOUS=true');
    } finally {
      await database.drop();
    }
  });

  it('serves `npm start` without a key anonymously on 127.0.0.1, warning that it does', async () => {
    const database = await createTestDatabase();
    const server = await spawnServer({ DATABASE_URL: database.url, API_KEYS: '', ALLOW_ANONYMOUS: '' });
    try {
      expect(server.output()).toContain(
        'no API key is configured: every request is anonymous and may do everything (served on 127.0.0.1 only)',
      );
      expect(server.output()).toMatch(/listening on http:\/\/localhost:\d+\/graphql/);
      const client = new GraphQLClient(`${server.url}/graphql`);
      expect((await client.data('{ viewer { anonymous role } }')).viewer).toEqual({ anonymous: true, role: 'ADMIN' });
    } finally {
      await server.kill('SIGKILL');
      await database.drop();
    }
  }, 120_000);
});

// ---- replicas -------------------------------------------------------------------------------------

// replicas share PostgreSQL (two processes migrating one SQLite file at once wait on its lock)
const redisUrl = process.env.VIGIL_TEST_REDIS;

describe.skipIf(!redisUrl || TEST_DB !== 'postgres')('two replicas on one PostgreSQL and one Redis', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const env = { API_KEYS: `admin:${ADMIN}`, REDIS_URL: redisUrl!, SCHEDULER_INTERVAL_MS: '3600000' };
    a = await startTestServer({ env });
    b = await startTestServer({ env, database: a.database });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('stops accepting a key on every replica as soon as one revokes it', async () => {
    const { createApiKey } = await adminData(
      a,
      `mutation { createApiKey(input: { name: "roaming", role: READ }) { ... on CreatedApiKey { secret } } }`,
    );
    const onB = new GraphQLClient(b.graphqlUrl, bearer(createApiKey.secret));
    await expect
      .poll(async () => (await onB.request('{ endpoints { name } }')).errors, { timeout: 3000 })
      .toBeUndefined();
    await adminData(a, `mutation { revokeApiKey(name: "roaming") { __typename } }`);
    // well before the 30 s reload backstop: the event did it
    await expect
      .poll(async () => (await onB.request('{ endpoints { name } }')).errors?.[0]?.extensions?.code, { timeout: 3000 })
      .toBe('UNAUTHENTICATED');
  });
});
