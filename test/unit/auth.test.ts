import { type FragmentDefinitionNode, Kind, type OperationDefinitionNode, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { anonymousPermitted, checkBinding, isLoopbackHost } from '../../src/auth/binding.ts';
import { OPERATION_ROLES, type RootTypeName, requiredRole } from '../../src/auth/operations.ts';
import { parseRateLimit, RateLimiter } from '../../src/auth/rate-limit.ts';
import { allows, type Identity } from '../../src/auth/roles.ts';
import { digestOf, generateSecret, parseApiKeys, parseBearer, sameDigest } from '../../src/auth/secrets.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { RateLimitedError } from '../../src/errors.ts';
import { buildSchema } from '../../src/schema/index.ts';
import { rootFields } from '../../src/server/authorization.ts';

describe('the role of every operation', () => {
  const schema = buildSchema();
  const roots: [RootTypeName, ReturnType<typeof schema.getQueryType>][] = [
    ['Query', schema.getQueryType()],
    ['Mutation', schema.getMutationType()],
    ['Subscription', schema.getSubscriptionType()],
  ];

  it('is in the table for every root field of the schema, and the table names no field the schema lacks', () => {
    const missing: string[] = [];
    const stale: string[] = [];
    for (const [name, type] of roots) {
      const fields = Object.keys(type?.getFields() ?? {});
      for (const field of fields) if (!Object.hasOwn(OPERATION_ROLES[name], field)) missing.push(`${name}.${field}`);
      for (const field of Object.keys(OPERATION_ROLES[name]))
        if (!fields.includes(field)) stale.push(`${name}.${field}`);
    }
    expect(missing, `root fields without a role in src/auth/operations.ts:\n  ${missing.join('\n  ')}`).toEqual([]);
    expect(stale, `roles for fields the schema does not have:\n  ${stale.join('\n  ')}`).toEqual([]);
  });

  it('is admin for a field the table does not know, read for introspection, none for __typename', () => {
    expect(requiredRole('Mutation', 'somethingNew')).toBe('admin');
    expect(requiredRole('Query', 'constructor')).toBe('admin');
    expect(requiredRole('Query', '__schema')).toBe('read');
    expect(requiredRole('Query', '__typename')).toBeNull();
  });

  it('gives admin every permission, invoke and read only their own, anonymous callers all', () => {
    const key = (role: 'admin' | 'invoke' | 'read'): Identity => ({ kind: 'key', keyName: 'k', role });
    expect(['admin', 'invoke', 'read'].map((r) => allows(key('admin'), r as 'read'))).toEqual([true, true, true]);
    expect(['admin', 'invoke', 'read'].map((r) => allows(key('invoke'), r as 'read'))).toEqual([false, true, false]);
    expect(['admin', 'invoke', 'read'].map((r) => allows(key('read'), r as 'read'))).toEqual([false, false, true]);
    expect(allows({ kind: 'anonymous', address: '127.0.0.1' }, 'admin')).toBe(true);
  });

  it('sees the root fields of an operation through inline fragments and fragment spreads', () => {
    const document = parse(`
      mutation { ...A ... on Mutation { predict(endpoint: "e", image: { base64: "" }) { __typename } } __typename }
      fragment A on Mutation { ...B deleteEndpoint(name: "e") { __typename } }
      fragment B on Mutation { ...A createApiKey(input: { name: "n", role: READ }) { __typename } }`);
    const operation = document.definitions[0] as OperationDefinitionNode;
    const fragments = new Map(
      document.definitions
        .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((d) => [d.name.value, d]),
    );
    expect([...rootFields(operation.selectionSet, fragments)].sort()).toEqual([
      '__typename',
      'createApiKey',
      'deleteEndpoint',
      'predict',
    ]);
  });
});

describe('API_KEYS', () => {
  const secret = 'abcdefghijklmnop-1';

  it('reads role:secret pairs, naming them env-<position>', () => {
    expect(parseApiKeys(`admin:${secret}, read:${secret}x,`)).toEqual([
      { name: 'env-1', role: 'admin', secret },
      { name: 'env-2', role: 'read', secret: `${secret}x` },
    ]);
    expect(parseApiKeys(undefined)).toEqual([]);
    expect(parseApiKeys('  ')).toEqual([]);
  });

  it.each([
    ['admin', /entry 1: expected role:secret/],
    [`root:${secret}`, /entry 1: unknown role 'root'/],
    [`read:${secret},invoke:short`, /entry 2 \(invoke\): the secret has 5 characters, at least 16/],
    [`read:${secret},admin:${secret}`, /entries 1 and 2 have the same secret/],
    [`read:${secret} with space`, /visible ASCII/],
  ])('refuses %s with a message naming the entry and never the secret', (raw, message) => {
    expect(() => parseApiKeys(raw)).toThrow(message);
    expect(() => loadConfig({ API_KEYS: raw })).toThrow(ConfigError);
    try {
      parseApiKeys(raw);
    } catch (error) {
      expect(String(error)).not.toContain(secret);
      expect(String(error)).not.toContain('short');
    }
  });
});

describe('secrets', () => {
  it('are generated with 256 random bits, prefixed, and compared by digest', () => {
    const a = generateSecret();
    expect(a).toMatch(/^vgl_[\w-]{43}$/);
    expect(generateSecret()).not.toBe(a);
    expect(sameDigest(digestOf(a), digestOf(a))).toBe(true);
    expect(sameDigest(digestOf(a), digestOf(`${a}x`))).toBe(false);
  });

  it('come as Bearer tokens', () => {
    expect(parseBearer(undefined)).toEqual({ kind: 'none' });
    expect(parseBearer('Bearer vgl_abc')).toEqual({ kind: 'token', secret: 'vgl_abc' });
    expect(parseBearer('bearer   vgl_abc ')).toEqual({ kind: 'token', secret: 'vgl_abc' });
    expect(parseBearer('Basic dXNlcjpwYXNz')).toEqual({ kind: 'malformed' });
    expect(parseBearer('Bearer')).toEqual({ kind: 'malformed' });
    expect(parseBearer('Bearer a b')).toEqual({ kind: 'malformed' });
    expect(parseBearer(`Bearer ${'x'.repeat(1000)}`)).toEqual({ kind: 'malformed' });
  });
});

describe('rate limits', () => {
  it('parse <count>/<unit>[,burst=<count>] and off', () => {
    expect(parseRateLimit('200/s')).toEqual({ perSecond: 200, burst: 200 });
    expect(parseRateLimit('200/s,burst=400')).toEqual({ perSecond: 200, burst: 400 });
    expect(parseRateLimit(' 120/m , burst=5 ')).toEqual({ perSecond: 2, burst: 5 });
    expect(parseRateLimit('3600/h')).toEqual({ perSecond: 1, burst: 3600 });
    expect(parseRateLimit('off')).toBeNull();
    for (const bad of [
      '',
      '200',
      '200/d',
      '0/s',
      '-1/s',
      '1.5/s',
      '200/s,burst',
      '200/s,bust=3',
      '200/s,burst=0',
      '1/s,burst=2,x',
      '1/constructor',
    ]) {
      expect(() => parseRateLimit(bad), bad).toThrow(/expected <count>\/<s\|m\|h>/);
    }
  });

  it('are configured per role, with defaults, and a bad one names its variable', () => {
    const config = loadConfig({ RATE_LIMIT_INVOKE: '10/s,burst=20', RATE_LIMIT_READ: 'off' });
    expect(config.rateLimits.invoke).toEqual({ perSecond: 10, burst: 20 });
    expect(config.rateLimits.read).toBeNull();
    expect(config.rateLimits.admin).toEqual({ perSecond: 50, burst: 100 });
    expect(() => loadConfig({ RATE_LIMIT_ADMIN: 'lots' })).toThrow(
      new ConfigError('RATE_LIMIT_ADMIN=lots: expected <count>/<s|m|h>[,burst=<count>] (e.g. 200/s,burst=400) or off'),
    );
  });

  it('admit a burst, then one request per refill, and say how long to wait', () => {
    let now = 0;
    const limiter = new RateLimiter(
      { admin: null, invoke: { perSecond: 0.5, burst: 2 }, read: null, anonymous: null },
      { now: () => now },
    );
    const key: Identity = { kind: 'key', keyName: 'k', role: 'invoke' };
    expect(limiter.take(key)).toBeNull();
    expect(limiter.take(key)).toBeNull();
    const refused = limiter.take(key);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused?.retryAfterSeconds).toBe(2);
    now += 2000;
    expect(limiter.take(key)).toBeNull();
    expect(limiter.take(key)).toBeInstanceOf(RateLimitedError);
    // another key, and a role without a limit, are not affected
    expect(limiter.take({ kind: 'key', keyName: 'other', role: 'invoke' })).toBeNull();
    for (let i = 0; i < 100; i++) expect(limiter.take({ kind: 'key', keyName: 'a', role: 'admin' })).toBeNull();
  });

  it('keep anonymous callers apart by address, in a bounded map', () => {
    const limiter = new RateLimiter(
      { admin: null, invoke: null, read: null, anonymous: { perSecond: 1, burst: 1 } },
      { maxBuckets: 100, now: () => 0 },
    );
    expect(limiter.take({ kind: 'anonymous', address: '10.0.0.1' })).toBeNull();
    expect(limiter.take({ kind: 'anonymous', address: '10.0.0.1' })).toBeInstanceOf(RateLimitedError);
    expect(limiter.take({ kind: 'anonymous', address: '10.0.0.2' })).toBeNull();
    for (let i = 0; i < 10_000; i++) limiter.take({ kind: 'anonymous', address: `a${i}` });
    expect(limiter.size).toBeLessThanOrEqual(100);
  });
});

describe('binding', () => {
  it('defaults to 127.0.0.1', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', ''])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  it('refuses a reachable address without a key, unless ALLOW_ANONYMOUS=true', () => {
    expect(() => checkBinding({ host: '0.0.0.0', allowAnonymous: false }, false)).toThrow(
      /HOST=0\.0\.0\.0 with no API key: .*API_KEYS=admin:<secret>.*ALLOW_ANONYMOUS=true/,
    );
    expect(() => checkBinding({ host: '0.0.0.0', allowAnonymous: false }, true)).not.toThrow();
    expect(() => checkBinding({ host: '0.0.0.0', allowAnonymous: true }, false)).not.toThrow();
    expect(() => checkBinding({ host: '127.0.0.1', allowAnonymous: false }, false)).not.toThrow();
    expect(anonymousPermitted(loadConfig({ HOST: '0.0.0.0', ALLOW_ANONYMOUS: 'true' }))).toBe(true);
    expect(() => loadConfig({ ALLOW_ANONYMOUS: 'yes' })).toThrow(/ALLOW_ANONYMOUS=yes/);
  });
});
