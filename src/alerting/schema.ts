/**
 * Alert channels in GraphQL. Every operation requires the admin role (auth/operations.ts): a channel's
 * URL can be a credential itself (a Slack incoming webhook's is), and its secret is never returned.
 */
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { builder } from '../schema/builder.ts';
import {
  type AttemptView,
  CHANNEL_KINDS,
  type ChannelInput,
  type ChannelUpdate,
  type ChannelView,
  DELIVERY_KINDS,
  DELIVERY_STATUSES,
  type DeliveryView,
} from './types.ts';

const ChannelKindEnum = builder.enumType('AlertChannelKind', {
  description: "WEBHOOK: vigil's JSON alert; SLACK: Slack's message format (text and blocks), for an incoming webhook",
  values: CHANNEL_KINDS,
});
const DeliveryStatusEnum = builder.enumType('AlertDeliveryStatus', {
  description: 'PENDING: queued or waiting for its next attempt; DELIVERED: a 2xx came back; FAILED: given up',
  values: DELIVERY_STATUSES,
});
const DeliveryKindEnum = builder.enumType('AlertDeliveryKind', {
  description: 'ALERT: an execution with violations; TEST: sent by testAlertChannel (tried once)',
  values: DELIVERY_KINDS,
});

const ChannelRef = builder.objectRef<ChannelView>('AlertChannel').implement({
  description: 'Where alerts are sent; its secret is write-only',
  fields: (t) => ({
    name: t.exposeString('name'),
    kind: t.field({ type: ChannelKindEnum, resolve: (c) => c.kind }),
    url: t.exposeString('url'),
    secretHint: t.exposeString('secretHint', {
      description: "the secret's last 4 characters, to tell which one is set (the secret is never returned)",
    }),
    endpoints: t.exposeStringList('endpoints', {
      description: 'the endpoints whose alerts it receives; empty: every endpoint',
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (c) => c.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (c) => c.updatedAt }),
  }),
});

const AttemptRef = builder.objectRef<AttemptView>('AlertDeliveryAttempt').implement({
  description: 'One HTTP request of a delivery',
  fields: (t) => ({
    attempt: t.exposeInt('attempt', { description: '1 for the first' }),
    at: t.field({ type: 'DateTime', resolve: (a) => a.at }),
    durationMs: t.exposeInt('durationMs'),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'null when no response came' }),
    error: t.exposeString('error', {
      nullable: true,
      description: 'why it failed: no answer (connection refused, timed out), a refused URL, or a non-2xx status',
    }),
  }),
});

const DeliveryRef = builder.objectRef<DeliveryView>('AlertDelivery').implement({
  description: 'One alert (or test) for one channel, with every attempt to send it',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'sent as X-Vigil-Delivery, the same on every attempt' }),
    kind: t.field({ type: DeliveryKindEnum, resolve: (d) => d.kind }),
    status: t.field({ type: DeliveryStatusEnum, resolve: (d) => d.status }),
    executionId: t.exposeID('executionId', { nullable: true, description: 'the execution that raised the alert' }),
    endpoint: t.exposeString('endpoint', { nullable: true }),
    attemptCount: t.exposeInt('attemptCount'),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'while PENDING: when it is tried next',
      resolve: (d) => d.nextAttemptAt,
    }),
    lastError: t.exposeString('lastError', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.createdAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.finishedAt }),
    attempts: t.field({ type: [AttemptRef], description: 'oldest first', resolve: (d) => d.attempts }),
  }),
});

const CreateInput = builder.inputRef<ChannelInput>('CreateAlertChannelInput').implement({
  fields: (t) => ({
    name: t.string({ required: true, description: '1–63 letters, digits and hyphens' }),
    kind: t.field({ type: ChannelKindEnum, required: true }),
    url: t.string({
      required: true,
      description:
        'https:// (http:// only to a host in ALERT_URL_ALLOWLIST), at most 2048 characters; refused when its host resolves to a private or loopback address it does not list',
    }),
    secret: t.string({
      required: true,
      description:
        'the HMAC-SHA256 key of X-Vigil-Signature: 16–256 printable ASCII characters without spaces; write-only',
    }),
    endpoints: t.stringList({ description: 'at most 100 endpoint names; absent or empty: every endpoint' }),
  }),
});

const UpdateInput = builder.inputRef<ChannelUpdate>('UpdateAlertChannelInput').implement({
  description: 'absent or null fields keep their value',
  fields: (t) => ({
    kind: t.field({ type: ChannelKindEnum }),
    url: t.string(),
    secret: t.string({ description: 'a new secret; the next attempt of every pending delivery is signed with it' }),
    endpoints: t.stringList({ description: 'replaces the list; empty: every endpoint' }),
  }),
});

builder.queryFields((t) => ({
  alertChannels: t.field({
    type: [ChannelRef],
    description: 'Every alert channel, by name (admin only: URLs can be credentials)',
    resolve: (_root, _args, { services }) => services.alerting.channels.list(),
  }),
  alertDeliveries: t.field({
    type: [DeliveryRef],
    description: "A channel's deliveries, newest first, each with its attempts (first: 1–500, default 20)",
    errors: {
      types: [NotFoundError, ValidationError],
      result: { name: 'AlertDeliveryList' },
      dataField: { name: 'deliveries' },
    },
    args: {
      channel: t.arg.string({ required: true }),
      status: t.arg({ type: DeliveryStatusEnum }),
      first: t.arg.int(),
    },
    resolve: (_root, { channel, ...options }, { services }) => services.alerting.channels.deliveries(channel, options),
  }),
}));

builder.mutationFields((t) => ({
  createAlertChannel: t.field({
    type: ChannelRef,
    description:
      'ValidationError for a refused URL (field input.url), name or secret; NotFoundError for an unknown endpoint; ConflictError when the name is taken',
    errors: { types: [ValidationError, NotFoundError, ConflictError] },
    args: { input: t.arg({ type: CreateInput, required: true }) },
    resolve: (_root, { input }, { services }) => services.alerting.channels.create(input),
  }),
  updateAlertChannel: t.field({
    type: ChannelRef,
    errors: { types: [ValidationError, NotFoundError] },
    args: { name: t.arg.string({ required: true }), input: t.arg({ type: UpdateInput, required: true }) },
    resolve: (_root, { name, input }, { services }) => services.alerting.channels.update(name, input),
  }),
  deleteAlertChannel: t.field({
    type: ChannelRef,
    description: 'Deletes the channel with its deliveries (pending ones are not sent); returns what was deleted',
    errors: { types: [NotFoundError] },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.alerting.channels.delete(name),
  }),
  testAlertChannel: t.field({
    type: DeliveryRef,
    description: 'Sends a test message now, once, signed like an alert; answers the delivery and its attempt',
    errors: { types: [NotFoundError] },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, { services }) => services.alerting.channels.test(name),
  }),
}));
