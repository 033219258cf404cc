/** Alerts in GraphQL: the type and the `monitorAlerts` subscription. */
import { NotFoundError } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { topLevelError } from '../../schema/errors.ts';
import { ViolationRef } from '../checks/schema.ts';
import { ExecutionRef, ExecutionStatusEnum } from '../executions/schema.ts';
import { subscribeAlerts } from './publish.ts';
import type { MonitorAlert } from './types.ts';

const AlertRef = builder.objectRef<MonitorAlert>('MonitorAlert').implement({
  description: 'An execution that completed with violations',
  fields: (t) => ({
    endpoint: t.exposeString('endpoint'),
    schedule: t.exposeString('schedule'),
    executionId: t.exposeID('executionId'),
    status: t.field({ type: ExecutionStatusEnum, resolve: (a) => a.status }),
    message: t.string({ resolve: (a) => a.message ?? a.status }),
    windowStart: t.field({ type: 'DateTime', resolve: (a) => a.windowStart }),
    windowEnd: t.field({ type: 'DateTime', resolve: (a) => a.windowEnd }),
    recordCount: t.exposeInt('recordCount'),
    violations: t.field({ type: [ViolationRef], resolve: (a) => a.violations }),
    at: t.field({ type: 'DateTime', resolve: (a) => a.at }),
    execution: t.field({
      type: ExecutionRef,
      nullable: true,
      resolve: (a, _args, { loaders }) => loaders.execution.load(a.executionId),
    }),
  }),
});

builder.subscriptionFields((t) => ({
  monitorAlerts: t.field({
    type: AlertRef,
    description:
      "Executions that complete with violations, from any replica (one endpoint's, or all; an error with code NOT_FOUND for an unknown endpoint)",
    args: { endpoint: t.arg.string() },
    subscribe: async (_root, { endpoint }, { services }) => {
      if (endpoint && !(await services.endpoints.get(endpoint)))
        throw topLevelError(new NotFoundError('Endpoint', endpoint));
      return subscribeAlerts(services.pubsub, endpoint);
    },
    resolve: (alert) => alert,
  }),
}));
