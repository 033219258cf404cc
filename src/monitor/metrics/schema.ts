/** The metrics' GraphQL types and the `metrics` query (one metric of a schedule, for charts). */
import { NotFoundError } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import type { MetricPoint } from './types.ts';

export const MetricRef = builder.objectRef<MetricPoint>('MonitoringMetric').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    value: t.exposeFloat('value'),
    timestamp: t.field({
      type: 'DateTime',
      description: "the end of the execution's window",
      resolve: (m) => m.timestamp,
    }),
    executionId: t.exposeID('executionId'),
  }),
});

interface MetricSeries {
  schedule: string;
  name: string;
  points: MetricPoint[];
}
const MetricSeriesRef = builder.objectRef<MetricSeries>('MonitoringMetricSeries').implement({
  fields: (t) => ({
    schedule: t.exposeString('schedule'),
    name: t.exposeString('name'),
    points: t.field({ type: [MetricRef], description: 'oldest first', resolve: (s) => s.points }),
  }),
});

builder.queryFields((t) => ({
  metrics: t.field({
    type: MetricSeriesRef,
    description: 'One metric of a schedule over [from, to), for charts (e.g. class_count_14, max_class_share)',
    errors: { types: [NotFoundError] },
    args: {
      schedule: t.arg.string({ required: true }),
      name: t.arg.string({ required: true }),
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
    },
    resolve: async (_root, { schedule, name, from, to }, { services }) => ({
      schedule,
      name,
      points: await services.monitor.metrics.series(schedule, name, { from, to }),
    }),
  }),
}));
