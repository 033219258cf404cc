import { describe, expect, it } from 'vitest';
import { graphql } from '../../src/graphql.ts';
import { expectTypename } from '../helpers/graphql.ts';
import { useTestServer } from '../helpers/server.ts';

// Fragments on the object and on the error interface, not on a result union: they stay valid whatever the
// union of each mutation is named and whichever errors it lists.
const ENDPOINT = graphql(`
  fragment EndpointFields on Endpoint {
    id
    name
    model
    dataCapture { enabled samplingPercentage captureMode }
    debugHook { enabled includeRegex saveInterval collections }
  }
`);
const ERROR = graphql(`
  fragment ErrorFields on VigilError {
    code
    message
    ... on ValidationError { field }
    ... on NotFoundError { resource key }
  }
`);
const CREATE = graphql(
  `
  mutation CreateEndpoint($input: CreateEndpointInput!) {
    createEndpoint(input: $input) { __typename ...EndpointFields ...ErrorFields }
  }
`,
  [ENDPOINT, ERROR],
);
const UPDATE = graphql(
  `
  mutation UpdateEndpoint($name: String!, $input: UpdateEndpointInput!) {
    updateEndpoint(name: $name, input: $input) { __typename ...EndpointFields ...ErrorFields }
  }
`,
  [ENDPOINT, ERROR],
);
const DELETE = graphql(
  `
  mutation DeleteEndpoint($name: String!) {
    deleteEndpoint(name: $name) { __typename ...EndpointFields ...ErrorFields }
  }
`,
  [ENDPOINT, ERROR],
);
const ENDPOINT_NAMED = graphql(`query Endpoint($name: String!) { endpoint(name: $name) { name } }`);

describe('endpoint registry over HTTP', () => {
  const server = useTestServer();

  it('creates an endpoint with the bundled model and both configurations off by default', async () => {
    const { createEndpoint } = await server.client.data(CREATE, { input: { name: 'traffic-signs' } });
    expect(createEndpoint).toMatchObject({
      __typename: 'Endpoint',
      name: 'traffic-signs',
      model: 'gtsrb-resnet18',
      dataCapture: { enabled: false, samplingPercentage: 0, captureMode: 'BOTH' },
      debugHook: { enabled: false, includeRegex: null, saveInterval: 1, collections: [] },
    });
    const { endpoint, endpoints, missing } = await server.client.data(
      graphql(
        `{ endpoint(name: "traffic-signs") { name } endpoints { name } missing: endpoint(name: "nope") { name } }`,
      ),
    );
    expect(endpoint?.name).toBe('traffic-signs');
    expect(endpoints.map((e) => e.name)).toContain('traffic-signs');
    expect(missing).toBeNull();
  });

  it('rejects a duplicate name with a CONFLICT error', async () => {
    await server.client.data(CREATE, { input: { name: 'dup' } });
    const { createEndpoint } = await server.client.data(CREATE, { input: { name: 'dup' } });
    expectTypename(createEndpoint, 'ConflictError');
    expect(createEndpoint.code).toBe('CONFLICT');
    expect(createEndpoint.message).toContain("'dup' already exists");
  });

  it.each([
    [{ name: 'bad name!' }, 'name', /invalid/],
    [
      { name: 'p1', dataCapture: { enabled: true, samplingPercentage: 100.5 } },
      'dataCapture.samplingPercentage',
      /between 0 and 100/,
    ],
    [{ name: 'p2', dataCapture: { samplingPercentage: -1 } }, 'dataCapture.samplingPercentage', /between 0 and 100/],
    [{ name: 'r1', debugHook: { enabled: true, includeRegex: '.*bn(' } }, 'debugHook.includeRegex', /Invalid regex/],
    [{ name: 's1', debugHook: { saveInterval: 0 } }, 'debugHook.saveInterval', /saveInterval/],
    [
      { name: 'c1', debugHook: { collections: ['nope'] } },
      'debugHook.collections',
      /Unknown collection 'nope'.*fullgrad/,
    ],
  ])('rejects %j with a VALIDATION error on %s and writes nothing', async (input, field, message) => {
    const { createEndpoint } = await server.client.data(CREATE, { input });
    expectTypename(createEndpoint, 'ValidationError');
    expect(createEndpoint).toMatchObject({ code: 'VALIDATION', field });
    expect(createEndpoint.message).toMatch(message);
    const { endpoint } = await server.client.data(ENDPOINT_NAMED, { name: input.name });
    expect(endpoint).toBeNull();
  });

  it('answers an unknown model with a NotFoundError naming the available ones, and writes nothing', async () => {
    const { createEndpoint } = await server.client.data(CREATE, { input: { name: 'm1', model: 'no-such-model' } });
    expectTypename(createEndpoint, 'NotFoundError');
    expect(createEndpoint).toMatchObject({ code: 'NOT_FOUND', resource: 'Model', key: 'no-such-model' });
    expect(createEndpoint.message).toMatch(/available models are .*gtsrb-resnet18/);
    expect((await server.client.data(ENDPOINT_NAMED, { name: 'm1' })).endpoint).toBeNull();
  });

  it('updates configurations partially and keeps what is not mentioned', async () => {
    await server.client.data(CREATE, {
      input: { name: 'upd', dataCapture: { enabled: true, samplingPercentage: 50 } },
    });
    const { updateEndpoint } = await server.client.data(UPDATE, {
      name: 'upd',
      input: {
        debugHook: { enabled: true, includeRegex: '.*bn|.*bias|.*downsample|.*ResNet_input|.*image', saveInterval: 3 },
      },
    });
    expect(updateEndpoint).toMatchObject({
      __typename: 'Endpoint',
      dataCapture: { enabled: true, samplingPercentage: 50, captureMode: 'BOTH' },
      debugHook: { enabled: true, includeRegex: '.*bn|.*bias|.*downsample|.*ResNet_input|.*image', saveInterval: 3 },
    });
    const cleared = await server.client.data(UPDATE, {
      name: 'upd',
      input: { debugHook: { enabled: false, includeRegex: '' } },
    });
    expectTypename(cleared.updateEndpoint, 'Endpoint');
    expect(cleared.updateEndpoint.debugHook).toMatchObject({ enabled: false, includeRegex: null, saveInterval: 3 });
    const invalid = await server.client.data(UPDATE, {
      name: 'upd',
      input: { dataCapture: { samplingPercentage: 101 } },
    });
    expect(invalid.updateEndpoint).toMatchObject({
      __typename: 'ValidationError',
      field: 'dataCapture.samplingPercentage',
    });
    const { endpoint } = await server.client.data(
      graphql(`{ endpoint(name: "upd") { dataCapture { samplingPercentage } } }`),
    );
    expect(endpoint?.dataCapture.samplingPercentage).toBe(50);
  });

  it('reports unknown endpoints as NOT_FOUND on update and delete', async () => {
    const upd = await server.client.data(UPDATE, { name: 'ghost', input: { model: 'gtsrb-resnet18' } });
    expect(upd.updateEndpoint).toMatchObject({
      __typename: 'NotFoundError',
      code: 'NOT_FOUND',
      resource: 'Endpoint',
      key: 'ghost',
    });
    const del = await server.client.data(DELETE, { name: 'ghost' });
    expect(del.deleteEndpoint).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });

  it('deletes an endpoint', async () => {
    await server.client.data(CREATE, { input: { name: 'gone' } });
    const { deleteEndpoint } = await server.client.data(DELETE, { name: 'gone' });
    expect(deleteEndpoint).toMatchObject({ __typename: 'Endpoint', name: 'gone' });
    const { endpoint } = await server.client.data(ENDPOINT_NAMED, { name: 'gone' });
    expect(endpoint).toBeNull();
  });
});
