/** Alert channel test helpers: GraphQL documents, and an execution made to raise an alert. */
import { expect } from 'vitest';
import type { Db } from '../../src/db/prisma.ts';
import { graphql } from '../../src/graphql.ts';
import { expectTypename, type GraphQLClient } from './graphql.ts';
import { CREATE_SCHEDULE, captureRows, RUN, storeCaptures } from './monitor.ts';

export const CHANNEL_ERROR = graphql(`
  fragment AlertChannelError on VigilError { code message ... on ValidationError { field } }
`);

export const CREATE_CHANNEL = graphql(
  `
  mutation CreateAlertChannel($input: CreateAlertChannelInput!) {
    createAlertChannel(input: $input) {
      __typename
      ... on AlertChannel { name kind url secretHint endpoints createdAt updatedAt }
      ...AlertChannelError
    }
  }
`,
  [CHANNEL_ERROR],
);

export const UPDATE_CHANNEL = graphql(
  `
  mutation UpdateAlertChannel($name: String!, $input: UpdateAlertChannelInput!) {
    updateAlertChannel(name: $name, input: $input) {
      __typename
      ... on AlertChannel { name kind url secretHint endpoints }
      ...AlertChannelError
    }
  }
`,
  [CHANNEL_ERROR],
);

export const DELETE_CHANNEL = graphql(
  `
  mutation DeleteAlertChannel($name: String!) {
    deleteAlertChannel(name: $name) { __typename ... on AlertChannel { name } ...AlertChannelError }
  }
`,
  [CHANNEL_ERROR],
);

export const CHANNELS = graphql(`
  query AlertChannels { alertChannels { name kind url secretHint endpoints } }
`);

export const DELIVERY = graphql(`
  fragment AlertDeliveryFields on AlertDelivery {
    id kind status executionId endpoint attemptCount nextAttemptAt lastError createdAt finishedAt
    attempts { attempt at durationMs statusCode error }
  }
`);

export const TEST_CHANNEL = graphql(
  `
  mutation TestAlertChannel($name: String!) {
    testAlertChannel(name: $name) { __typename ...AlertDeliveryFields ...AlertChannelError }
  }
`,
  [DELIVERY, CHANNEL_ERROR],
);

export const DELIVERIES = graphql(
  `
  query AlertDeliveries($channel: String!, $status: AlertDeliveryStatus, $first: Int) {
    alertDeliveries(channel: $channel, status: $status, first: $first) {
      __typename
      ... on AlertDeliveryList { deliveries { ...AlertDeliveryFields } }
      ...AlertChannelError
    }
  }
`,
  [DELIVERY, CHANNEL_ERROR],
);

/** a channel, failing on an error result */
export async function createChannel(
  client: GraphQLClient,
  input: { name: string; kind?: 'WEBHOOK' | 'SLACK'; url: string; secret: string; endpoints?: string[] },
) {
  const { createAlertChannel } = await client.data(CREATE_CHANNEL, { input: { kind: 'WEBHOOK', ...input } });
  expectTypename(createAlertChannel, 'AlertChannel');
  return createAlertChannel;
}

/** a channel's deliveries, newest first, failing on an error result */
export async function deliveries(client: GraphQLClient, channel: string) {
  const { alertDeliveries } = await client.data(DELIVERIES, { channel });
  expectTypename(alertDeliveries, 'AlertDeliveryList');
  return alertDeliveries.deliveries;
}

/** an endpoint with a schedule whose class-share check any window of one class violates */
export async function alertingSchedule(client: GraphQLClient, endpoint: string): Promise<void> {
  const { createEndpoint } = await client.data(
    graphql(
      `mutation CreateAlertingEndpoint($name: String!) { createEndpoint(input: { name: $name }) { __typename } }`,
    ),
    { name: endpoint },
  );
  expect(createEndpoint.__typename).toBe('Endpoint');
  const { createMonitoringSchedule } = await client.data(CREATE_SCHEDULE, {
    input: {
      name: endpoint,
      endpoint,
      cron: '0 0 1 1 *',
      checks: { minSampleSize: 1, classShare: { threshold: 0.5 } },
    },
  });
  expectTypename(createMonitoringSchedule, 'MonitoringSchedule');
}

/** captures of one class, then a run of the endpoint's schedule: an execution with violations (its id) */
export async function raiseAlert(client: GraphQLClient, prisma: Db, endpoint: string): Promise<string> {
  const { id } = await prisma.endpoint.findUniqueOrThrow({ where: { name: endpoint } });
  // stamped now: after the previous window's end, before this run's cut-off
  const at = Date.now();
  await storeCaptures(
    prisma,
    captureRows(
      id,
      Array.from({ length: 20 }, () => ({ classId: 14, at })),
    ),
  );
  const { runMonitoringSchedule: execution } = await client.data(RUN, { name: endpoint });
  expectTypename(execution, 'MonitoringExecution');
  expect(execution.status).toBe('CompletedWithViolations');
  return execution.id;
}
