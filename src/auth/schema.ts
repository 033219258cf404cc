/** GraphQL types and operations of API keys (all but `viewer` require the admin role: operations.ts). */
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { builder } from '../schema/builder.ts';
import type { Identity } from './roles.ts';
import type { ApiKeyView } from './service.ts';

const ApiKeyRoleEnum = builder.enumType('ApiKeyRole', {
  description:
    'ADMIN: everything; INVOKE: predict and predictBatch only; READ: every query, subscription and download, no change',
  values: {
    ADMIN: { value: 'admin' as const },
    INVOKE: { value: 'invoke' as const },
    READ: { value: 'read' as const },
  },
});

const ApiKeySourceEnum = builder.enumType('ApiKeySource', {
  description: 'ENVIRONMENT: from the API_KEYS variable (named env-<position>); STORED: created with createApiKey',
  values: {
    ENVIRONMENT: { value: 'environment' as const },
    STORED: { value: 'stored' as const },
  },
});

const ApiKeyRef = builder.objectRef<ApiKeyView>('ApiKey').implement({
  description: 'An API key, without its secret (shown once, by createApiKey)',
  fields: (t) => ({
    name: t.exposeString('name'),
    role: t.field({ type: ApiKeyRoleEnum, resolve: (k) => k.role }),
    source: t.field({ type: ApiKeySourceEnum, resolve: (k) => k.source }),
    createdAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'null for keys of API_KEYS',
      resolve: (k) => k.createdAt,
    }),
    lastUsedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'to the minute; not recorded for keys of API_KEYS',
      resolve: (k) => k.lastUsedAt,
    }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.revokedAt }),
  }),
});

const CreatedApiKeyRef = builder.objectRef<{ key: ApiKeyView; secret: string }>('CreatedApiKey').implement({
  fields: (t) => ({
    key: t.field({ type: ApiKeyRef, resolve: (c) => c.key }),
    secret: t.exposeString('secret', {
      description: 'send as `Authorization: Bearer <secret>`; shown this once, stored only as a digest',
    }),
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({
      required: true,
      description: "1–64 letters, digits, '.', '_' and '-'; unique, never reused; not starting with env-",
    }),
    role: t.field({ type: ApiKeyRoleEnum, required: true }),
  }),
});

const ViewerRef = builder.objectRef<Identity>('Viewer').implement({
  description: 'The caller of this request, as the server identified it (never the secret)',
  fields: (t) => ({
    anonymous: t.boolean({
      description: 'true while no key exists (local use): every permission',
      resolve: (i) => i.kind === 'anonymous',
    }),
    keyName: t.string({ nullable: true, resolve: (i) => (i.kind === 'key' ? i.keyName : null) }),
    role: t.field({
      type: ApiKeyRoleEnum,
      description: "the key's role; ADMIN for an anonymous caller, who holds every permission",
      resolve: (i) => (i.kind === 'key' ? i.role : 'admin'),
    }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    description: 'Who is calling: what a user interface needs to show only what the caller may do',
    resolve: (_root, _args, { identity }) => identity,
  }),
  apiKeys: t.field({
    type: [ApiKeyRef],
    description: 'Every key: those of API_KEYS, then stored ones, oldest first, revoked ones included',
    resolve: (_root, _args, { services }) => services.apiKeys.list(),
  }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKeyRef,
    description: 'Creates a key and returns its secret, this once. The first key ends anonymous access',
    errors: { types: [ValidationError, ConflictError] },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, { services }) => services.apiKeys.create(input),
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    description:
      'Revokes a stored key on every replica, closing its open subscriptions; keys of API_KEYS are removed from the variable instead',
    errors: { types: [NotFoundError, ValidationError] },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.apiKeys.revoke(name),
  }),
}));
